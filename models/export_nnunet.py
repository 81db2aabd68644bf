#!/usr/bin/env python3
"""Export an nnU-Net v2 results folder for Nephro3D.

Turns each fold_N/checkpoint_final.pth of a trained nnU-Net v2 model into a
TorchScript network fold_N/model.pt, traced on the CPU at the configuration's
patch size, and writes fold_N/inference.json (mirroring axes, trainer,
configuration). plans.json and dataset.json are copied when --out differs from
the model folder. Each trace is checked against the eager network on a random
input before it is written.

Run it inside the Python environment the model was trained with (it imports
nnunetv2), e.g.:

    python export_nnunet.py ~/nnUNet_results/Dataset123_Kidney/nnUNetTrainer__nnUNetPlans__3d_fullres \
        --out ~/nephro3d-models/kidney --folds 0 1 2 3 4
"""
import argparse
import json
import os
import shutil
import sys


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", help="nnU-Net results folder (holds plans.json, dataset.json, fold_N/)")
    ap.add_argument("--out", help="output folder (default: write into model_dir)")
    ap.add_argument("--folds", nargs="*", default=None, help="folds to export (default: every fold_N with the checkpoint)")
    ap.add_argument("--checkpoint", default="checkpoint_final.pth")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="largest allowed |trace - eager| relative to max |eager|")
    return ap.parse_args()


def main():
    args = parse_args()
    try:
        import torch
        from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    except ImportError as e:
        sys.exit("export_nnunet.py: error: needs torch and nnunetv2 in this Python environment (%s)" % e)

    model_dir = os.path.abspath(args.model_dir)
    out_dir = os.path.abspath(args.out or model_dir)
    for name in ("plans.json", "dataset.json"):
        if not os.path.isfile(os.path.join(model_dir, name)):
            sys.exit("export_nnunet.py: error: %s: %s is missing" % (model_dir, name))
    folds = args.folds
    if folds is None:
        folds = sorted(d[5:] for d in os.listdir(model_dir)
                       if d.startswith("fold_") and d != "fold_all"
                       and os.path.isfile(os.path.join(model_dir, d, args.checkpoint)))
    if not folds:
        sys.exit("export_nnunet.py: error: %s: no fold_N/%s found" % (model_dir, args.checkpoint))
    folds = [f if f == "all" else int(f) for f in folds]

    os.makedirs(out_dir, exist_ok=True)
    if out_dir != model_dir:
        for name in ("plans.json", "dataset.json"):
            shutil.copyfile(os.path.join(model_dir, name), os.path.join(out_dir, name))

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for fold in folds:
        ckpt_path = os.path.join(model_dir, "fold_%s" % fold, args.checkpoint)
        checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=False) \
            if "weights_only" in torch.load.__code__.co_varnames else torch.load(ckpt_path, map_location="cpu")
        predictor = nnUNetPredictor(device=torch.device("cpu"), perform_everything_on_device=False, verbose=False)
        predictor.initialize_from_trained_model_folder(model_dir, use_folds=(fold,), checkpoint_name=args.checkpoint)
        net = predictor.network
        net.load_state_dict(predictor.list_of_parameters[0])
        net.eval()
        if hasattr(net, "decoder") and hasattr(net.decoder, "deep_supervision"):
            net.decoder.deep_supervision = False
        patch = list(predictor.configuration_manager.patch_size)
        from nnunetv2.utilities.label_handling.label_handling import determine_num_input_channels
        channels = determine_num_input_channels(predictor.plans_manager, predictor.configuration_manager,
                                                predictor.dataset_json)
        example = torch.randn(1, channels, *patch)
        with torch.no_grad():
            traced = torch.jit.trace(net, example, check_trace=False)
            probe = torch.randn(1, channels, *patch)
            eager = net(probe)
            scripted = traced(probe)
        scale = float(eager.abs().max()) or 1.0
        diff = float((eager - scripted).abs().max()) / scale
        heads = predictor.label_manager.num_segmentation_heads
        if tuple(scripted.shape) != (1, heads, *patch):
            sys.exit("export_nnunet.py: error: fold %s: traced output %s, expected %s"
                     % (fold, tuple(scripted.shape), (1, heads, *patch)))
        if diff > args.tolerance:
            sys.exit("export_nnunet.py: error: fold %s: trace differs from the eager network by %.3g (relative)"
                     % (fold, diff))
        fold_out = os.path.join(out_dir, "fold_%s" % fold)
        os.makedirs(fold_out, exist_ok=True)
        tmp = os.path.join(fold_out, ".model.pt.partial")
        traced.save(tmp)
        os.replace(tmp, os.path.join(fold_out, "model.pt"))
        axes = checkpoint.get("inference_allowed_mirroring_axes")
        info = {"trainer_name": checkpoint.get("trainer_name"),
                "configuration": checkpoint.get("init_args", {}).get("configuration"),
                "inference_allowed_mirroring_axes": list(axes) if axes is not None else None,
                "patch_size": patch, "input_channels": channels, "segmentation_heads": heads,
                "torch_version": torch.__version__, "trace_max_relative_difference": diff}
        with open(os.path.join(fold_out, "inference.json"), "w") as f:
            json.dump(info, f, indent=1)
        print("fold %s: %s (patch %s, %d channel(s), %d output(s), trace vs eager %.2g)"
              % (fold, os.path.join(fold_out, "model.pt"), patch, channels, heads, diff))


if __name__ == "__main__":
    main()
