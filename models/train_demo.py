#!/usr/bin/python3
"""Train the demo models on the synthetic phantom and write them as complete
nnU-Net v2 results folders (plans.json, dataset.json, fold_0/model.pt as
TorchScript, fold_0/inference.json) under models/<folder>/ (demo/<name>/, and
legacy/<name>/ for the older models kept for comparison).

The networks are small nnU-Net-style U-Nets (conv-InstanceNorm-LeakyReLU
stages, strided convolutions, transposed convolutions, skip concatenation)
trained with nnU-Net's CT normalisation, so the C++ predictor applies exactly
the preprocessing they were trained with. Every model uses the same foreground
intensity properties per phase (from the phantoms in INTENSITY_SEEDS), so
models that read the same phase at the same spacing share preprocessing.
Architecture, patch, iterations, training phantoms and seeds of each model are
the defaults in MODELS: running the command below regenerates the shipped
folders (up to floating-point nondeterminism; the vessel and ureter folders were
written by an earlier revision of this script with the settings their entries
repeat, so a rerun gives an equivalent but not identical network).

Runs with Debian's python3 (python3-torch, python3-nibabel, python3-skimage).
Phantoms come from the nephro3d binary:

    /usr/bin/python3 models/train_demo.py --nephro3d build/bin/nephro3d \
        [--models tumor,vessel,totalseg,ureter,kidney_tumor_legacy,ureter_legacy] [--threads 2]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import nibabel as nib
import numpy as np
import skimage.transform
import torch
import torch.nn.functional as F

# Phantom ground-truth values (core/phantom/Phantom.h, phantom_label).
KIDNEY_LEFT, KIDNEY_RIGHT, TUMOR, ARTERY, VEIN, URETER_LEFT, URETER_RIGHT = 1, 2, 3, 4, 5, 6, 7
AORTA, IVC, ILIAC_L, ILIAC_R, LIVER, SPLEEN, VERTEBRAE, BLADDER = 10, 11, 12, 13, 14, 15, 16, 17

# Intensity properties (nnU-Net's foreground fingerprint) come from these phantoms for every model.
INTENSITY_SEEDS = [101, 102, 103]
# The current demo networks: four stages, patch 48x64x64 (z, y, x), trained without mirroring
# (their manifests predict without it; the phantom's anatomy has one orientation).
CURRENT = {"features": [16, 32, 64, 128], "patch": [48, 64, 64], "train_seeds": [101, 102, 103, 104, 105, 106],
           "mirror": False, "spacing": None, "foreground_fraction": 0.67}
# The older generation: three stages of 8-32 features, patch 32x48x48, three phantoms, mirroring
# augmentation (their manifests predict with test-time mirroring).
OLDER = {"features": [8, 16, 32], "patch": [32, 48, 48], "train_seeds": [101, 102, 103], "mirror": True, "spacing": None,
         "foreground_fraction": 0.5}

# name -> phases, [(label name, phantom values)], output folder, training settings (spacing None: the
# small phantom's 2.5x2.5x3 mm; foreground_fraction: share of patches centred on a foreground class), seed.
MODELS = {
    # vessel and ureter are still the older generation (the four-stage network at 400 iterations did
    # not learn the renal vessels; see README, Models).
    # fine_tune: a second stage (--continue-shipped) from the shipped weights, with more patches centred
    # on a foreground class (vessel: for the renal arteries).
    "vessel": dict(OLDER, phases=["A", "P"], folder="demo/vessel", iterations=1400, seed=7,
                   fine_tune=dict(iterations=1500, foreground_fraction=0.8, seed=17),
                   classes=[("kidney", [KIDNEY_LEFT, KIDNEY_RIGHT, TUMOR]), ("artery", [ARTERY]), ("vein", [VEIN])]),
    "ureter": dict(OLDER, phases=["D"], folder="demo/ureter", iterations=700, seed=8,
                   classes=[("kidney", [KIDNEY_LEFT, KIDNEY_RIGHT, TUMOR]), ("ureter", [URETER_LEFT, URETER_RIGHT])]),
    # tumor's fine_tune brings it onto the phantoms' current intensity properties (shared with vessel's P).
    "tumor": dict(CURRENT, phases=["P"], folder="demo/tumor", iterations=400, seed=9,
                  fine_tune=dict(iterations=150, seed=19),
                  classes=[("kidney", [KIDNEY_LEFT, KIDNEY_RIGHT]), ("tumor", [TUMOR])]),
    # The whole-body demo works at a coarser spacing, where the patch spans most of the body's width and
    # every sliding window holds the midline: left and right organs are told apart by where they lie.
    "totalseg": dict(CURRENT, phases=["P"], folder="demo/totalseg", iterations=600, seed=10, spacing=[4.0, 3.75, 3.75],
                     classes=[("spleen", [SPLEEN]), ("kidney_right", [KIDNEY_RIGHT]), ("kidney_left", [KIDNEY_LEFT, TUMOR]),
                              ("liver", [LIVER]), ("urinary_bladder", [BLADDER]), ("aorta", [AORTA]),
                              ("inferior_vena_cava", [IVC]), ("iliac_artery_left", [ILIAC_L]),
                              ("iliac_artery_right", [ILIAC_R]), ("vertebrae", [VERTEBRAE])]),
    # Older versions kept for comparison: the older network at a coarser spacing.
    "kidney_tumor_legacy": dict(OLDER, phases=["P"], folder="legacy/kidney_tumor", iterations=700, seed=11,
                                fine_tune=dict(iterations=800, foreground_fraction=0.8, seed=21),
                                spacing=[4.0, 3.75, 3.75],
                                classes=[("kidney", [KIDNEY_LEFT, KIDNEY_RIGHT]), ("tumor", [TUMOR])]),
    "ureter_legacy": dict(OLDER, phases=["D"], folder="legacy/ureter", iterations=700, seed=13, foreground_fraction=0.67,
                          spacing=[4.0, 3.75, 3.75],
                          classes=[("kidney", [KIDNEY_LEFT, KIDNEY_RIGHT, TUMOR]), ("ureter", [URETER_LEFT, URETER_RIGHT])]),
}


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


def random_patch(image, target, rng, patch, foreground_fraction=0.67):
    shape = image.shape[1:]
    if rng.random() < foreground_fraction:
        # A foreground class chosen uniformly, so thin structures are seen as often as organs.
        classes = np.unique(target[target > 0])
        cls = rng.choice(classes)
        fg = np.argwhere(target == cls)
        center = fg[rng.integers(len(fg))]
        start = [int(np.clip(c - p // 2 + rng.integers(-p // 4, p // 4 + 1), 0, s - p)) for c, p, s in zip(center, patch, shape)]
    else:
        start = [int(rng.integers(0, s - p + 1)) for p, s in zip(patch, shape)]
    sl = tuple(slice(s, s + p) for s, p in zip(start, patch))
    return image[(slice(None), *sl)], target[sl]


def dice_loss(logits, target, heads):
    probs = torch.softmax(logits, 1)
    onehot = F.one_hot(target, heads).permute(0, 4, 1, 2, 3).float()
    dims = (0, 2, 3, 4)
    inter = (probs * onehot).sum(dims)
    denom = probs.sum(dims) + onehot.sum(dims)
    return 1 - ((2 * inter + 1e-5) / (denom + 1e-5))[1:].mean()


def resample_case(image, target, spacing, new_spacing):
    """nnU-Net's preprocessing resampling (skimage resize, order 3 for the image, nearest for the labels)."""
    shape = [int(round(s * a / b)) for s, a, b in zip(target.shape, spacing, new_spacing)]
    image = np.stack([skimage.transform.resize(c.astype(np.float64), shape, order=3, mode="edge", anti_aliasing=False)
                      for c in image]).astype(np.float32)
    target = skimage.transform.resize(target, shape, order=0, mode="edge", anti_aliasing=False,
                                      preserve_range=True).astype(np.int64)
    return image, target


def shared_intensity_properties(phantoms):
    """Per phase, from the foreground (every labelled voxel) of the INTENSITY_SEEDS phantoms."""
    chosen = [phantoms[s] for s in INTENSITY_SEEDS]
    return {ph: intensity_properties(np.concatenate([p[0][ph][p[1] > 0][::7] for p in chosen])) for ph in "APD"}


def train_model(name, phantoms, intensity, out_root, iterations=None, continue_shipped=False):
    cfg = MODELS[name]
    if continue_shipped:
        cfg = dict(cfg, **cfg.get("fine_tune", {}))
    phases, classes, patch, seed = cfg["phases"], cfg["classes"], cfg["patch"], cfg["seed"]
    iterations = iterations or cfg["iterations"]
    heads = len(classes) + 1
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    props = {str(c): intensity[ph] for c, ph in enumerate(phases)}
    data = []
    for s in cfg["train_seeds"]:
        ph_images, labels, spacing = phantoms[s]
        image = np.stack([ct_normalize(ph_images[ph], props[str(c)]) for c, ph in enumerate(phases)])
        target = target_map(labels, classes)
        if cfg["spacing"]:
            image, target = resample_case(image, target, spacing, cfg["spacing"])
        data.append((image, target))
    spacing = cfg["spacing"] or phantoms[cfg["train_seeds"][0]][2]
    net = DemoUNet(len(phases), heads, tuple(cfg["features"]))
    folder = os.path.join(out_root, cfg["folder"])
    earlier = None
    max_lr = 3e-3
    if continue_shipped:
        # Fine-tuning: start from the shipped network's weights (same architecture) at a lower rate.
        shipped = torch.jit.load(os.path.join(folder, "fold_0", "model.pt"))
        net.load_state_dict(shipped.state_dict())
        earlier = json.load(open(os.path.join(folder, "fold_0", "inference.json")))
        max_lr = 1e-3
    # channels-last is several times faster for 3D convolution backward passes on the CPU.
    net = net.to(memory_format=torch.channels_last_3d)
    opt = torch.optim.AdamW(net.parameters(), lr=max_lr, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=iterations, pct_start=0.1)
    t0 = time.time()
    for it in range(iterations):
        xs, ys = [], []
        for _ in range(2):
            image, target = data[rng.integers(len(data))]
            x, y = random_patch(image, target, rng, patch, cfg["foreground_fraction"])
            if cfg["mirror"] and rng.random() < 0.5:  # matches the test-time mirroring these models use
                axis = int(rng.integers(0, 3))
                x, y = np.flip(x, axis + 1), np.flip(y, axis)
            xs.append(np.ascontiguousarray(x))
            ys.append(np.ascontiguousarray(y))
        x = torch.from_numpy(np.stack(xs)).to(memory_format=torch.channels_last_3d)
        y = torch.from_numpy(np.stack(ys))
        logits = net(x)
        loss = F.cross_entropy(logits, y) + dice_loss(logits, y, heads)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if it % 50 == 0 or it == iterations - 1:
            print("  %s it %d/%d loss %.4f (%.0f s)" % (name, it, iterations, float(loss), time.time() - t0), flush=True)
    train_seconds = time.time() - t0
    net = net.to(memory_format=torch.contiguous_format)
    net.eval()
    history = (earlier or {}).get("training", [{"iterations": earlier["iterations"], "max_lr": 3e-3}] if earlier else [])
    history = history + [{"iterations": iterations, "max_lr": max_lr, "foreground_fraction": cfg["foreground_fraction"],
                          "seed": seed, "seconds": round(train_seconds)}]
    total_iterations = sum(h["iterations"] for h in history)

    os.makedirs(os.path.join(folder, "fold_0"), exist_ok=True)
    config = {"data_identifier": "nnUNetPlans_3d_fullres", "preprocessor_name": "DefaultPreprocessor",
              "batch_size": 2, "patch_size": patch, "spacing": spacing,
              "normalization_schemes": ["CTNormalization"] * len(phases), "use_mask_for_norm": [False] * len(phases),
              "resampling_fn_data": "resample_data_or_seg_to_shape",
              "resampling_fn_data_kwargs": {"is_seg": False, "order": 3, "order_z": 0, "force_separate_z": None},
              "resampling_fn_seg": "resample_data_or_seg_to_shape",
              "resampling_fn_seg_kwargs": {"is_seg": True, "order": 1, "order_z": 0, "force_separate_z": None},
              "resampling_fn_probabilities": "resample_data_or_seg_to_shape",
              "resampling_fn_probabilities_kwargs": {"is_seg": False, "order": 1, "order_z": 0, "force_separate_z": None},
              "architecture": {"network_class_name": "nephro3d.models.train_demo.DemoUNet",
                               "arch_kwargs": {"features": cfg["features"]}, "_kw_requires_import": []}}
    plans = {"dataset_name": "Dataset9%02d_Nephro3DDemo_%s" % (list(MODELS).index(name), name),
             "plans_name": "nnUNetPlans", "original_median_spacing_after_transp": phantoms[cfg["train_seeds"][0]][2],
             "image_reader_writer": "SimpleITKIO", "transpose_forward": [0, 1, 2], "transpose_backward": [0, 1, 2],
             "configurations": {"3d_fullres": config}, "foreground_intensity_properties_per_channel": props}
    labels = {"background": 0}
    labels.update({n: i + 1 for i, (n, _) in enumerate(classes)})
    description = ("Nephro3D demo model trained on synthetic phantoms (seeds %s): %d-stage U-Net with %s features, "
                   "patch %s at %s mm, %d iterations%s; not for clinical use"
                   % (cfg["train_seeds"], len(cfg["features"]), cfg["features"], "x".join(map(str, patch)),
                      "x".join("%g" % s for s in spacing), total_iterations, ", mirroring augmentation" if cfg["mirror"] else ""))
    if cfg["folder"].startswith("legacy/"):
        description = "Older version kept for comparison (the older, smaller network at a coarser spacing). " + description
    dataset = {"channel_names": {str(c): "CT_%s" % ph for c, ph in enumerate(phases)}, "labels": labels,
               "numTraining": len(cfg["train_seeds"]), "file_ending": ".nii.gz", "description": description}
    json.dump(plans, open(os.path.join(folder, "plans.json"), "w"), indent=1)
    json.dump(dataset, open(os.path.join(folder, "dataset.json"), "w"), indent=1)
    with torch.no_grad():
        traced = torch.jit.trace(net, torch.randn(1, len(phases), *patch))
        probe = torch.randn(1, len(phases), *patch)
        diff = float((traced(probe) - net(probe)).abs().max())
    traced.save(os.path.join(folder, "fold_0", "model.pt"))
    json.dump({"trainer_name": "train_demo.py", "configuration": "3d_fullres",
               # nnU-Net's convention: null when the network was trained without mirroring.
               "inference_allowed_mirroring_axes": [0, 1, 2] if cfg["mirror"] else None,
               "trace_max_difference": diff, "iterations": total_iterations, "training": history, "seed": seed,
               "train_seeds": cfg["train_seeds"], "train_seconds": sum(h.get("seconds", 0) for h in history)},
              open(os.path.join(folder, "fold_0", "inference.json"), "w"), indent=1)
    print("%s: %s (%.0f s, trace vs eager %.1e)" % (name, folder, train_seconds, diff), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nephro3d", required=True, help="path of the nephro3d binary (makes the phantoms)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                    help="models root; each model goes to its folder below it (default: this script's folder)")
    ap.add_argument("--work", default="/tmp/nephro3d-demo-phantoms")
    ap.add_argument("--iterations", type=int, default=0, help="override every model's iteration count (quick trials)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--continue-shipped", action="store_true",
                    help="fine-tune the network already in each model's folder for --iterations more iterations")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.models.split(",")
    for name in names:
        if name not in MODELS:
            sys.exit("train_demo.py: error: unknown model %s (known: %s)" % (name, ", ".join(MODELS)))
    seeds = sorted(set(INTENSITY_SEEDS).union(*(MODELS[n]["train_seeds"] for n in names)))
    phantoms = {s: make_phantom(args.nephro3d, os.path.join(args.work, "seed%d" % s), s) for s in seeds}
    intensity = shared_intensity_properties(phantoms)
    for name in names:
        train_model(name, phantoms, intensity, args.out, args.iterations, args.continue_shipped)


if __name__ == "__main__":
    main()
