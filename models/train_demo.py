#!/usr/bin/python3
"""Train the demo models on the synthetic phantom and write them as complete
nnU-Net v2 results folders (plans.json, dataset.json, fold_0/model.pt as
TorchScript, fold_0/inference.json) under models/demo/<name>/.

The networks are small nnU-Net-style U-Nets (conv-InstanceNorm-LeakyReLU
stages, strided convolutions, transposed convolutions, skip concatenation),
trained at the small phantom's spacing with nnU-Net's CT normalisation, so the
C++ predictor applies exactly the preprocessing they were trained with.

Runs with Debian's python3 (python3-torch, python3-nibabel). Phantoms come from
the nephro3d binary:

    /usr/bin/python3 models/train_demo.py --nephro3d build/bin/nephro3d [--models vessel,ureter,tumor,totalseg]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F

# Phantom ground-truth values (core/phantom/Phantom.h, phantom_label).
KIDNEY_LEFT, KIDNEY_RIGHT, TUMOR, ARTERY, VEIN, URETER_LEFT, URETER_RIGHT = 1, 2, 3, 4, 5, 6, 7
AORTA, IVC, ILIAC_L, ILIAC_R, LIVER, SPLEEN, VERTEBRAE, BLADDER = 10, 11, 12, 13, 14, 15, 16, 17

# name -> (input phases, [(label name, phantom values)])
MODELS = {
    "vessel": (["A", "P"], [("kidney", [KIDNEY_LEFT, KIDNEY_RIGHT, TUMOR]), ("artery", [ARTERY]), ("vein", [VEIN])]),
    "ureter": (["D"], [("kidney", [KIDNEY_LEFT, KIDNEY_RIGHT, TUMOR]), ("ureter", [URETER_LEFT, URETER_RIGHT])]),
    "tumor": (["P"], [("kidney", [KIDNEY_LEFT, KIDNEY_RIGHT]), ("tumor", [TUMOR])]),
    "totalseg": (["P"], [("spleen", [SPLEEN]), ("kidney_right", [KIDNEY_RIGHT]), ("kidney_left", [KIDNEY_LEFT, TUMOR]),
                         ("liver", [LIVER]), ("urinary_bladder", [BLADDER]), ("aorta", [AORTA]),
                         ("inferior_vena_cava", [IVC]), ("iliac_artery_left", [ILIAC_L]),
                         ("iliac_artery_right", [ILIAC_R]), ("vertebrae", [VERTEBRAE])]),
}
TRAIN_SEEDS = [101, 102, 103, 104]
PATCH = [32, 48, 48]  # z, y, x (small: the demo trains on two shared CPU cores)


class DemoUNet(torch.nn.Module):
    def __init__(self, in_channels, heads, features=(8, 16, 32)):
        super().__init__()
        def stage(cin, cout, stride):
            return torch.nn.Sequential(
                torch.nn.Conv3d(cin, cout, 3, stride=stride, padding=1), torch.nn.InstanceNorm3d(cout, affine=True),
                torch.nn.LeakyReLU(0.01, inplace=True),
                torch.nn.Conv3d(cout, cout, 3, padding=1), torch.nn.InstanceNorm3d(cout, affine=True),
                torch.nn.LeakyReLU(0.01, inplace=True))
        self.encoder = torch.nn.ModuleList()
        cin = in_channels
        for i, f in enumerate(features):
            self.encoder.append(stage(cin, f, 1 if i == 0 else 2))
            cin = f
        self.up = torch.nn.ModuleList()
        self.decoder = torch.nn.ModuleList()
        for i in range(len(features) - 1, 0, -1):
            self.up.append(torch.nn.ConvTranspose3d(features[i], features[i - 1], 2, stride=2))
            self.decoder.append(stage(2 * features[i - 1], features[i - 1], 1))
        self.head = torch.nn.Conv3d(features[0], heads, 1)

    def forward(self, x):
        skips = []
        for s in self.encoder:
            x = s(x)
            skips.append(x)
        x = skips[-1]
        for i, (up, dec) in enumerate(zip(self.up, self.decoder)):
            x = dec(torch.cat((up(x), skips[-2 - i]), 1))
        return self.head(x)


def make_phantom(nephro3d, folder, seed):
    if not os.path.isfile(os.path.join(folder, "phantom_labels.nii.gz")):
        subprocess.run([nephro3d, "phantom", "--out", folder, "--seed", str(seed), "--size", "small", "--quiet"], check=True)
    def zyx(name):
        img = nib.load(os.path.join(folder, name))
        return np.asarray(img.dataobj).transpose(2, 1, 0), [float(s) for s in img.header.get_zooms()[:3]][::-1]
    phases = {p: zyx("phantom_%s.nii.gz" % p)[0].astype(np.float32) for p in "APD"}
    labels, spacing = zyx("phantom_labels.nii.gz")
    return phases, labels.astype(np.uint8), spacing


def intensity_properties(values):
    v = values.astype(np.float64)
    return {"mean": float(v.mean()), "std": float(v.std()), "percentile_00_5": float(np.percentile(v, 0.5)),
            "percentile_99_5": float(np.percentile(v, 99.5)), "min": float(v.min()), "max": float(v.max()),
            "median": float(np.median(v))}


def ct_normalize(x, p):
    x = np.clip(x, p["percentile_00_5"], p["percentile_99_5"]).astype(np.float32)
    x -= np.float32(p["mean"])
    x /= np.float32(max(p["std"], 1e-8))
    return x


def target_map(labels, classes):
    t = np.zeros(labels.shape, dtype=np.int64)
    for i, (_, values) in enumerate(classes):
        t[np.isin(labels, values)] = i + 1
    return t


def random_patch(image, target, rng, foreground_fraction=0.5):
    shape = image.shape[1:]
    if rng.random() < foreground_fraction:
        # A foreground class chosen uniformly, so thin structures are seen as often as organs.
        classes = np.unique(target[target > 0])
        cls = rng.choice(classes)
        fg = np.argwhere(target == cls)
        center = fg[rng.integers(len(fg))]
        start = [int(np.clip(c - p // 2 + rng.integers(-p // 4, p // 4 + 1), 0, s - p)) for c, p, s in zip(center, PATCH, shape)]
    else:
        start = [int(rng.integers(0, s - p + 1)) for p, s in zip(PATCH, shape)]
    sl = tuple(slice(s, s + p) for s, p in zip(start, PATCH))
    return image[(slice(None), *sl)], target[sl]


def dice_loss(logits, target, heads):
    probs = torch.softmax(logits, 1)
    onehot = F.one_hot(target, heads).permute(0, 4, 1, 2, 3).float()
    dims = (0, 2, 3, 4)
    inter = (probs * onehot).sum(dims)
    denom = probs.sum(dims) + onehot.sum(dims)
    return 1 - ((2 * inter + 1e-5) / (denom + 1e-5))[1:].mean()


def train_model(name, phantoms, out_root, iterations, seed):
    phases, classes = MODELS[name]
    heads = len(classes) + 1
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    # Intensity properties from foreground voxels, as nnU-Net's fingerprint does.
    props = {}
    for c, ph in enumerate(phases):
        vals = np.concatenate([p[0][ph][p[1] > 0][::7] for p in phantoms])
        props[str(c)] = intensity_properties(vals)
    data = []
    for ph_images, labels, spacing in phantoms:
        image = np.stack([ct_normalize(ph_images[ph], props[str(c)]) for c, ph in enumerate(phases)])
        data.append((image, target_map(labels, classes)))
    spacing = phantoms[0][2]
    net = DemoUNet(len(phases), heads)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=iterations, pct_start=0.1)
    weights = torch.ones(heads)
    t0 = time.time()
    for it in range(iterations):
        xs, ys = [], []
        for _ in range(2):
            image, target = data[rng.integers(len(data))]
            x, y = random_patch(image, target, rng)
            if rng.random() < 0.5:  # mirroring augmentation matches test-time mirroring
                axis = int(rng.integers(0, 3))
                x, y = np.flip(x, axis + 1), np.flip(y, axis)
            xs.append(np.ascontiguousarray(x))
            ys.append(np.ascontiguousarray(y))
        x = torch.from_numpy(np.stack(xs))
        y = torch.from_numpy(np.stack(ys))
        logits = net(x)
        loss = F.cross_entropy(logits, y, weight=weights) + dice_loss(logits, y, heads)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if it % 50 == 0 or it == iterations - 1:
            print("  %s it %d/%d loss %.4f (%.0f s)" % (name, it, iterations, float(loss), time.time() - t0), flush=True)
    net.eval()

    folder = os.path.join(out_root, name)
    os.makedirs(os.path.join(folder, "fold_0"), exist_ok=True)
    config = {"data_identifier": "nnUNetPlans_3d_fullres", "preprocessor_name": "DefaultPreprocessor",
              "batch_size": 2, "patch_size": PATCH, "spacing": spacing,
              "normalization_schemes": ["CTNormalization"] * len(phases), "use_mask_for_norm": [False] * len(phases),
              "resampling_fn_data": "resample_data_or_seg_to_shape",
              "resampling_fn_data_kwargs": {"is_seg": False, "order": 3, "order_z": 0, "force_separate_z": None},
              "resampling_fn_seg": "resample_data_or_seg_to_shape",
              "resampling_fn_seg_kwargs": {"is_seg": True, "order": 1, "order_z": 0, "force_separate_z": None},
              "resampling_fn_probabilities": "resample_data_or_seg_to_shape",
              "resampling_fn_probabilities_kwargs": {"is_seg": False, "order": 1, "order_z": 0, "force_separate_z": None},
              "architecture": {"network_class_name": "nephro3d.models.train_demo.DemoUNet",
                               "arch_kwargs": {"features": [8, 16, 32]}, "_kw_requires_import": []}}
    plans = {"dataset_name": "Dataset9%02d_Nephro3DDemo_%s" % (list(MODELS).index(name), name),
             "plans_name": "nnUNetPlans", "original_median_spacing_after_transp": spacing,
             "image_reader_writer": "SimpleITKIO", "transpose_forward": [0, 1, 2], "transpose_backward": [0, 1, 2],
             "configurations": {"3d_fullres": config}, "foreground_intensity_properties_per_channel": props}
    labels = {"background": 0}
    labels.update({n: i + 1 for i, (n, _) in enumerate(classes)})
    dataset = {"channel_names": {str(c): "CT_%s" % ph for c, ph in enumerate(phases)}, "labels": labels,
               "numTraining": len(phantoms), "file_ending": ".nii.gz",
               "description": "Nephro3D demo model trained on synthetic phantoms (seeds %s); not for clinical use"
                              % TRAIN_SEEDS[:len(phantoms)]}
    json.dump(plans, open(os.path.join(folder, "plans.json"), "w"), indent=1)
    json.dump(dataset, open(os.path.join(folder, "dataset.json"), "w"), indent=1)
    with torch.no_grad():
        traced = torch.jit.trace(net, torch.randn(1, len(phases), *PATCH))
        probe = torch.randn(1, len(phases), *PATCH)
        diff = float((traced(probe) - net(probe)).abs().max())
    traced.save(os.path.join(folder, "fold_0", "model.pt"))
    json.dump({"trainer_name": "train_demo.py", "configuration": "3d_fullres",
               "inference_allowed_mirroring_axes": [0, 1, 2], "trace_max_difference": diff,
               "iterations": iterations, "seed": seed, "train_seeds": TRAIN_SEEDS[:len(phantoms)]},
              open(os.path.join(folder, "fold_0", "inference.json"), "w"), indent=1)
    print("%s: %s (%.0f s, trace vs eager %.1e)" % (name, folder, time.time() - t0, diff), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nephro3d", required=True, help="path of the nephro3d binary (makes the phantoms)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo"))
    ap.add_argument("--work", default="/tmp/nephro3d-demo-phantoms")
    ap.add_argument("--iterations", type=int, default=700)
    ap.add_argument("--phantoms", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=7, help="the i-th model of --models trains with seed + i")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    phantoms = [make_phantom(args.nephro3d, os.path.join(args.work, "seed%d" % s), s) for s in TRAIN_SEEDS[:args.phantoms]]
    for i, name in enumerate(args.models.split(",")):
        if name not in MODELS:
            sys.exit("train_demo.py: error: unknown model %s (known: %s)" % (name, ", ".join(MODELS)))
        train_model(name, phantoms, args.out, args.iterations, seed=args.seed + i)


if __name__ == "__main__":
    main()
