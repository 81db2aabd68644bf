#!/usr/bin/python3
"""Independent Python implementation of nnU-Net v2 inference, used to check the
C++ predictor voxel for voxel. It follows nnU-Net's own code path with the same
libraries nnU-Net uses (numpy, scipy.ndimage, skimage.transform.resize, torch):

  make-model  writes a tiny nnU-Net results folder (plans.json, dataset.json,
              fold_N/model.pt traced TorchScript) for the tests
  predict     runs the reference prediction on NIfTI images and writes the
              fold-averaged fp16 logits and the exported mask as raw arrays

Runs under Debian's /usr/bin/python3 (python3-torch, -scipy, -skimage, -nibabel).
"""
import argparse
import itertools
import json
import os
import sys

import nibabel as nib
import numpy as np
import torch
from scipy.ndimage import binary_fill_holes, gaussian_filter, map_coordinates
from skimage.transform import resize

ANISO_THRESHOLD = 3


# ----------------------------------------------------------------------------- tiny networks
class TinyUNet(torch.nn.Module):
    """A two-level PlainConvUNet-like network: conv-norm-LeakyReLU blocks, one
    strided stage, a transposed convolution, skip concatenation, 1x1 head."""

    def __init__(self, in_channels, heads, features=6):
        super().__init__()
        def block(cin, cout, stride=1):
            return torch.nn.Sequential(
                torch.nn.Conv3d(cin, cout, 3, stride=stride, padding=1, bias=True),
                torch.nn.InstanceNorm3d(cout, eps=1e-5, affine=True),
                torch.nn.LeakyReLU(0.01, inplace=True))
        self.enc0 = block(in_channels, features)
        self.enc1 = block(features, 2 * features, stride=2)
        self.up = torch.nn.ConvTranspose3d(2 * features, features, 2, stride=2, bias=True)
        self.dec0 = block(2 * features, features)
        self.head = torch.nn.Conv3d(features, heads, 1, bias=True)

    def forward(self, x):
        s0 = self.enc0(x)
        s1 = self.enc1(s0)
        u = self.up(s1)
        return self.head(self.dec0(torch.cat((u, s0), 1)))


def make_model(args):
    os.makedirs(args.out, exist_ok=True)
    patch = [int(v) for v in args.patch.split(',')]
    spacing = [float(v) for v in args.spacing.split(',')]
    transpose = [int(v) for v in args.transpose.split(',')]
    backward = [int(i) for i in np.argsort(transpose)]
    schemes = args.schemes.split(',')
    channels = len(schemes)
    props = {}
    for c in range(channels):
        props[str(c)] = {"mean": 40.5 + 10 * c, "std": 120.25, "percentile_00_5": -150.0,
                         "percentile_99_5": 310.0, "min": -1000.0, "max": 2000.0, "median": 45.0}
    config = {"patch_size": patch, "spacing": spacing, "normalization_schemes": schemes,
              "use_mask_for_norm": [s == "ZScoreNormalization" for s in schemes],
              "resampling_fn_data": "resample_data_or_seg_to_shape",
              "resampling_fn_data_kwargs": {"is_seg": False, "order": 3, "order_z": 0, "force_separate_z": None},
              "resampling_fn_probabilities": "resample_data_or_seg_to_shape",
              "resampling_fn_probabilities_kwargs": {"is_seg": False, "order": 1, "order_z": 0, "force_separate_z": None},
              "batch_size": 2}
    if args.old_plans:
        config.update({"UNet_class_name": "PlainConvUNet", "UNet_base_num_features": 32,
                       "n_conv_per_stage_encoder": [2, 2], "n_conv_per_stage_decoder": [2],
                       "pool_op_kernel_sizes": [[1, 1, 1], [2, 2, 2]], "conv_kernel_sizes": [[3, 3, 3]] * 2,
                       "unet_max_num_features": 320})
        props_key = "foreground_intensity_properties_by_modality"
        configs = {"3d_fullres": config}
    else:
        config["architecture"] = {"network_class_name": "dynamic_network_architectures.architectures.unet.PlainConvUNet",
                                  "arch_kwargs": {}, "_kw_requires_import": []}
        props_key = "foreground_intensity_properties_per_channel"
        # A second configuration inheriting from the first exercises inherits_from.
        configs = {"3d_fullres": config, "3d_lowres_copy": {"inherits_from": "3d_fullres", "patch_size": patch}}
    plans = {"dataset_name": "Dataset900_Test", "plans_name": "nnUNetPlans", "image_reader_writer": "SimpleITKIO",
             "transpose_forward": transpose, "transpose_backward": backward, props_key: props,
             "configurations": configs}
    if args.regions:
        # Listed neither alphabetically nor by value: the network's outputs follow the file's order.
        labels = {"background": 0, "inner": 3, "whole": [1, 2, 3], "core": [2, 3]}
        heads = 3
        dataset = {"channel_names": {str(c): ("CT" if s == "CTNormalization" else "MR") for c, s in enumerate(schemes)},
                   "labels": labels, "regions_class_order": [3, 1, 2], "file_ending": ".nii.gz"}
    else:
        heads = args.labels
        labels = {"background": 0}
        labels.update({"label%d" % i: i for i in range(1, heads)})
        dataset = {"channel_names": {str(c): ("CT" if s == "CTNormalization" else "MR") for c, s in enumerate(schemes)},
                   "labels": labels, "file_ending": ".nii.gz"}
    with open(os.path.join(args.out, "plans.json"), "w") as f:
        json.dump(plans, f, indent=1)
    with open(os.path.join(args.out, "dataset.json"), "w") as f:
        json.dump(dataset, f, indent=1)
    torch.set_num_threads(1)
    for fold in range(args.folds):
        torch.manual_seed(1000 * args.seed + fold)
        net = TinyUNet(channels, heads).eval()
        with torch.no_grad():
            # Spread the head's biases so that every label wins somewhere.
            net.head.bias.copy_(torch.linspace(-0.3, 0.3, heads))
            traced = torch.jit.trace(net, torch.randn(1, channels, *patch))
        d = os.path.join(args.out, "fold_%d" % fold)
        os.makedirs(d, exist_ok=True)
        traced.save(os.path.join(d, "model.pt"))
        info = {"configuration": "3d_fullres", "trainer_name": "nnUNetTrainer",
                "inference_allowed_mirroring_axes": None if args.no_mirror_axes else [0, 1, 2]}
        with open(os.path.join(d, "inference.json"), "w") as f:
            json.dump(info, f)


# ----------------------------------------------------------------------------- nnU-Net steps
def get_do_separate_z(spacing, threshold=ANISO_THRESHOLD):
    return (np.max(spacing) / np.min(spacing)) > threshold


def get_lowres_axis(new_spacing):
    return np.where(max(new_spacing) / np.array(new_spacing) == 1)[0]


def determine_do_sep_z_and_axis(force_separate_z, current_spacing, new_spacing):
    if force_separate_z is not None:
        do_separate_z = force_separate_z
        axis = get_lowres_axis(current_spacing) if force_separate_z else None
    elif get_do_separate_z(current_spacing):
        do_separate_z, axis = True, get_lowres_axis(current_spacing)
    elif get_do_separate_z(new_spacing):
        do_separate_z, axis = True, get_lowres_axis(new_spacing)
    else:
        do_separate_z, axis = False, None
    if axis is not None:
        if len(axis) in (2, 3):
            do_separate_z, axis = False, None
        else:
            axis = axis[0]
    return do_separate_z, axis


def resample_data_or_seg(data, new_shape, axis=None, order=3, do_separate_z=False, order_z=0):
    kwargs = {'mode': 'edge', 'anti_aliasing': False}
    shape = np.array(data[0].shape)
    new_shape = np.array(new_shape)
    reshaped_final = np.zeros((data.shape[0], *new_shape), dtype=data.dtype)
    if not np.any(shape != new_shape):
        return data
    data = data.astype(float, copy=False)
    if do_separate_z:
        new_shape_2d = np.delete(new_shape, axis)
        for c in range(data.shape[0]):
            tmp = new_shape.copy()
            tmp[axis] = shape[axis]
            reshaped_here = np.zeros(tmp)
            for slice_id in range(shape[axis]):
                sl = [slice(None)] * 3
                sl[axis] = slice_id
                reshaped_here[tuple(sl)] = resize(data[c][tuple(sl)], new_shape_2d, order, **kwargs)
            if shape[axis] != new_shape[axis]:
                rows, cols, dim = new_shape
                orig_rows, orig_cols, orig_dim = reshaped_here.shape
                row_scale = float(orig_rows) / rows
                col_scale = float(orig_cols) / cols
                dim_scale = float(orig_dim) / dim
                map_rows, map_cols, map_dims = np.mgrid[:rows, :cols, :dim]
                map_rows = row_scale * (map_rows + 0.5) - 0.5
                map_cols = col_scale * (map_cols + 0.5) - 0.5
                map_dims = dim_scale * (map_dims + 0.5) - 0.5
                coord_map = np.array([map_rows, map_cols, map_dims])
                reshaped_final[c] = map_coordinates(reshaped_here, coord_map, order=order_z, mode='nearest')
            else:
                reshaped_final[c] = reshaped_here
    else:
        for c in range(data.shape[0]):
            reshaped_final[c] = resize(data[c], new_shape, order, **kwargs)
    return reshaped_final


def resample_to_shape(data, new_shape, current_spacing, new_spacing, kw):
    do_sep, axis = determine_do_sep_z_and_axis(kw.get('force_separate_z'), current_spacing, new_spacing)
    return resample_data_or_seg(data, new_shape, axis, kw.get('order', 3), do_sep, kw.get('order_z', 0))


def compute_steps(image_size, tile_size, step):
    target = [i * step for i in tile_size]
    num_steps = [int(np.ceil((i - k) / j)) + 1 for i, j, k in zip(image_size, target, tile_size)]
    steps = []
    for dim in range(len(tile_size)):
        max_step = image_size[dim] - tile_size[dim]
        actual = max_step / (num_steps[dim] - 1) if num_steps[dim] > 1 else 99999999999
        steps.append([int(np.round(actual * i)) for i in range(num_steps[dim])])
    return steps


def compute_gaussian(tile_size, sigma_scale=1. / 8, value_scaling_factor=10):
    tmp = np.zeros(tile_size)
    tmp[tuple(i // 2 for i in tile_size)] = 1
    g = gaussian_filter(tmp, [i * sigma_scale for i in tile_size], 0, mode='constant', cval=0)
    g = torch.from_numpy(g)
    g /= (torch.max(g) / value_scaling_factor)
    g = g.to(dtype=torch.float16)
    mask = g == 0
    g[mask] = torch.min(g[~mask])
    return g


def predict(args):
    plans = json.load(open(os.path.join(args.model, "plans.json")))
    dataset = json.load(open(os.path.join(args.model, "dataset.json")))
    configs = plans["configurations"]
    cfg = dict(configs["3d_fullres"])
    props = plans.get("foreground_intensity_properties_per_channel",
                      plans.get("foreground_intensity_properties_by_modality"))
    tf, tb = plans["transpose_forward"], plans["transpose_backward"]

    # Reading (SimpleITK order: a C-order (z, y, x) array per channel).
    arrays, spacing = [], None
    for path in args.images:
        img = nib.load(path)
        arrays.append(np.asarray(img.dataobj).transpose(2, 1, 0)[None])
        spacing = [abs(float(s)) for s in img.header.get_zooms()[:3]][::-1]
    data = np.vstack(arrays).astype(np.float32)

    # Preprocessing.
    data = data.transpose([0, *[i + 1 for i in tf]])
    original_spacing = [spacing[i] for i in tf]
    shape_before_cropping = data.shape[1:]
    nonzero = data[0] != 0
    for c in range(1, data.shape[0]):
        nonzero |= data[c] != 0
    nonzero = binary_fill_holes(nonzero)
    where = np.argwhere(nonzero)
    if len(where) == 0:
        bbox = [[0, s] for s in nonzero.shape]
    else:
        bbox = [[int(where[:, i].min()), int(where[:, i].max()) + 1] for i in range(3)]
    slicer = tuple(slice(*b) for b in bbox)
    data = data[(slice(None), *slicer)]
    seg = np.where(nonzero[slicer][None], np.int8(0), np.int8(-1))
    shape_after_cropping = data.shape[1:]
    target_spacing = cfg["spacing"]
    new_shape = np.array([int(round(i / j * k)) for i, j, k in zip(original_spacing, target_spacing, data.shape[1:])])
    for c in range(data.shape[0]):
        scheme = cfg["normalization_schemes"][c]
        image = data[c].astype(np.float32, copy=False)
        if scheme == "CTNormalization":
            p = props[str(c)]
            np.clip(image, p["percentile_00_5"], p["percentile_99_5"], out=image)
            image -= p["mean"]
            image /= max(p["std"], 1e-8)
        elif scheme == "ZScoreNormalization":
            if cfg["use_mask_for_norm"][c]:
                mask = seg[0] >= 0
                mean = image[mask].mean()
                std = image[mask].std()
                image[mask] = (image[mask] - mean) / (max(std, 1e-8))
            else:
                mean, std = image.mean(), image.std()
                image -= mean
                image /= max(std, 1e-8)
        data[c] = image
    data = resample_to_shape(data, new_shape, original_spacing, target_spacing, cfg["resampling_fn_data_kwargs"])
    data = torch.from_numpy(np.ascontiguousarray(data)).float().contiguous()

    # Sliding window.
    patch = cfg["patch_size"]
    heads = len(dataset["regions_class_order"]) if "regions_class_order" in dataset else len(dataset["labels"])
    folds = [int(f) for f in args.folds.split(',')]
    torch.set_num_threads(max(1, min(8, torch.get_num_threads())))
    prediction = None
    for fold in folds:
        fdir = os.path.join(args.model, "fold_%d" % fold)
        net = torch.jit.load(os.path.join(fdir, "model.pt")).eval()
        info = json.load(open(os.path.join(fdir, "inference.json")))
        mirror_axes = info["inference_allowed_mirroring_axes"] if not args.no_mirroring else None
        with torch.no_grad():
            logits = sliding_window(net, data, patch, heads, args.step, mirror_axes).cpu()
        prediction = logits if prediction is None else prediction + logits
    if len(folds) > 1:
        prediction /= len(folds)
    logits = prediction.numpy()  # float16
    logits.astype(np.float16).tofile(args.out_logits)

    # Export.
    current_spacing = cfg["spacing"]
    logits = resample_to_shape(logits, shape_after_cropping, current_spacing, original_spacing,
                               cfg["resampling_fn_probabilities_kwargs"])
    if "regions_class_order" in dataset:
        probs = torch.sigmoid(torch.from_numpy(logits).float()).numpy()
        segmentation = np.zeros(probs.shape[1:], dtype=np.uint16)
        for i, c in enumerate(dataset["regions_class_order"]):
            segmentation[probs[i] > 0.5] = c
    else:
        segmentation = np.argmax(logits, axis=0)
    full = np.zeros(shape_before_cropping, dtype=np.uint8)
    full[slicer] = segmentation
    full = full.transpose(tb)
    np.ascontiguousarray(full).astype(np.uint8).tofile(args.out_seg)
    json.dump({"logit_shape": [heads, *[int(s) for s in new_shape]], "seg_shape": list(full.shape),
               "bbox": bbox}, open(args.out_seg + ".json", "w"))


def sliding_window(net, data, patch, heads, step, mirror_axes):
    # pad_nd_image: centred zero padding of axes smaller than the patch
    shape = data.shape[1:]
    pads = []
    for s, p in zip(shape, patch):
        d = max(0, p - s)
        pads.append((d // 2, d // 2 + d % 2))
    padded = torch.nn.functional.pad(data, [v for pr in reversed(pads) for v in pr], mode='constant', value=0)
    steps = compute_steps(padded.shape[1:], patch, step)
    slicers = []
    for sx in steps[0]:
        for sy in steps[1]:
            for sz in steps[2]:
                slicers.append(tuple([slice(None), *[slice(si, si + ti) for si, ti in zip((sx, sy, sz), patch)]]))
    predicted = torch.zeros((heads, *padded.shape[1:]), dtype=torch.half)
    n_pred = torch.zeros(padded.shape[1:], dtype=torch.half)
    gaussian = compute_gaussian(tuple(patch))
    for sl in slicers:
        workon = padded[sl][None]
        p = net(workon)
        if mirror_axes is not None:
            axes = [m + 2 for m in mirror_axes]
            combos = [c for i in range(len(axes)) for c in itertools.combinations(axes, i + 1)]
            for a in combos:
                p += torch.flip(net(torch.flip(workon, a)), a)
            p /= (len(combos) + 1)
        p = p[0]
        p *= gaussian
        predicted[sl] += p
        n_pred[sl[1:]] += gaussian
    torch.div(predicted, n_pred, out=predicted)
    revert = tuple([slice(None)] + [slice(b, b + s) for (b, _), s in zip(pads, shape)])
    return predicted[revert]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-model")
    m.add_argument("--out", required=True)
    m.add_argument("--patch", default="16,16,16")
    m.add_argument("--spacing", default="1,1,1")
    m.add_argument("--transpose", default="0,1,2")
    m.add_argument("--schemes", default="CTNormalization")
    m.add_argument("--labels", type=int, default=3)
    m.add_argument("--regions", action="store_true")
    m.add_argument("--folds", type=int, default=1)
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--old-plans", action="store_true")
    m.add_argument("--no-mirror-axes", action="store_true")
    p = sub.add_parser("predict")
    p.add_argument("--model", required=True)
    p.add_argument("--images", nargs="+", required=True)
    p.add_argument("--folds", default="0")
    p.add_argument("--step", type=float, default=0.5)
    p.add_argument("--no-mirroring", action="store_true")
    p.add_argument("--out-logits", required=True)
    p.add_argument("--out-seg", required=True)
    args = ap.parse_args()
    if args.cmd == "make-model":
        make_model(args)
    else:
        predict(args)


if __name__ == "__main__":
    sys.exit(main())
