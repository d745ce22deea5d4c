"""Load a model file written by abn-hitl into the official ABN architecture in PyTorch
(tools/abn_torch.py) with strict=True, and print its predictions.

  # image tensors: a safetensors file with 'input' [N, C, H, W], already normalised
  python tools/check_torch_roundtrip.py MODEL.safetensors --tensors inputs.safetensors

  # images of the model's input size, preprocessed as abn-hitl does (scale to [0, 1], normalise
  # with the model's mean/std); compared with `abn-hitl explain --json` unless --no-compare
  python tools/check_torch_roundtrip.py MODEL.safetensors IMAGE... [--abn-hitl .build/release/abn-hitl]

With the comparison, exits 1 if a probability or an attention map value differs by more than
--tolerance (default 1e-4). Any failure is one line on stderr."""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from abn_torch import build  # noqa: E402


class CheckError(Exception):
    pass


def load_model(path):
    """The reference network with the file's tensors, strictly; and the parsed metadata."""
    try:
        with safe_open(path, "pt") as f:
            meta = f.metadata() or {}
        tensors = load_file(path)
    except Exception as e:  # noqa: BLE001
        raise CheckError(f"{path}: cannot read: {' '.join(str(e).split())}")
    missing = [k for k in ("abn.arch", "abn.classes", "abn.input", "abn.mean", "abn.std", "abn.attention") if k not in meta]
    if missing:
        raise CheckError(f"{path}: metadata {', '.join(missing)} missing (not an abn-hitl model file?)")
    classes = json.loads(meta["abn.classes"])
    c, h, w = (int(v) for v in meta["abn.input"].split("x"))
    # Any architecture name abn-hitl writes (ResNet, Wide ResNet, ResNeXt, DenseNet-BC).
    model = build(meta["abn.arch"], len(classes), in_channels=c, attention=meta["abn.attention"])
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        raise CheckError(f"{path}: strict load into {meta['abn.arch']} failed: {' '.join(str(e).split())}")
    model.eval()
    info = {"classes": classes, "input": (c, h, w), "mean": np.array(json.loads(meta["abn.mean"])),
            "std": np.array(json.loads(meta["abn.std"])), "arch": meta["abn.arch"]}
    return model, info


def predict(model, x):
    with torch.no_grad():
        att_logits, per_logits, att_map = model(x)
    return torch.softmax(per_logits, 1).numpy(), torch.softmax(att_logits, 1).numpy(), att_map[:, 0].numpy()


def image_tensor(path, info):
    from PIL import Image
    c, h, w = info["input"]
    img = Image.open(path).convert("RGB" if c == 3 else "L")
    if img.size != (w, h):
        raise CheckError(f"{path}: image is {img.size[0]}x{img.size[1]}, the model takes {w}x{h} (resize it first)")
    a = np.asarray(img, dtype=np.float64).reshape(h, w, c).transpose(2, 0, 1) / 255
    return torch.tensor((a - info["mean"][:, None, None]) / info["std"][:, None, None], dtype=torch.float32)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model file written by abn-hitl (.safetensors)")
    p.add_argument("images", nargs="*", help="images of the model's input size")
    p.add_argument("--tensors", help="safetensors file with 'input' [N, C, H, W] (normalised)")
    p.add_argument("--abn-hitl", default=".build/release/abn-hitl", help="the abn-hitl executable to compare with")
    p.add_argument("--no-compare", action="store_true", help="only print PyTorch's predictions for the images")
    p.add_argument("--tolerance", type=float, default=1e-4, help="largest accepted difference (default 1e-4)")
    a = p.parse_args(argv)
    if not a.images and not a.tensors:
        p.error("give images or --tensors")
    try:
        model, info = load_model(a.model)
        print(f"{a.model}: strict load into {info['arch']} OK ({len(info['classes'])} classes, input {'x'.join(map(str, info['input']))})")
        classes = info["classes"]
        if a.tensors:
            try:
                x = load_file(a.tensors)["input"].float()
            except Exception as e:  # noqa: BLE001
                raise CheckError(f"{a.tensors}: no readable 'input' tensor: {' '.join(str(e).split())}")
            if tuple(x.shape[1:]) != info["input"]:
                raise CheckError(f"{a.tensors}: input is {list(x.shape)}, the model takes [N, {', '.join(map(str, info['input']))}]")
            probs, att_probs, maps = predict(model, x)
            for i in range(len(probs)):
                k = int(probs[i].argmax())
                print(f"input[{i}]: {classes[k]} (p {probs[i, k]:.4f}; attention branch {classes[int(att_probs[i].argmax())]}; "
                      f"map mean {maps[i].mean():.4f})")
        if not a.images:
            return 0
        x = torch.stack([image_tensor(path, info) for path in a.images])
        probs, att_probs, maps = predict(model, x)
        theirs = None
        if not a.no_compare:
            run = subprocess.run([a.abn_hitl, "explain", "--model", a.model, "--json", *a.images], capture_output=True, text=True)
            if run.returncode != 0:
                raise CheckError(f"{a.abn_hitl} explain failed: {run.stderr.strip()}")
            theirs = json.loads(run.stdout)["results"]
        worst = 0.0
        for i, path in enumerate(a.images):
            k = int(probs[i].argmax())
            line = f"{path}: {classes[k]} (p {probs[i, k]:.4f})"
            if theirs is not None:
                r = theirs[i]
                diff = max(float(np.abs(probs[i] - np.array(r["probabilities"])).max()),
                           float(np.abs(att_probs[i] - np.array(r["attention_probabilities"])).max()))
                mdiff = float(np.abs(maps[i] - np.array(r["attention_map"])).max())
                worst = max(worst, diff, mdiff)
                line += f" / abn-hitl {r['predicted']}, max |Δp| {diff:.2e}, max |ΔM| {mdiff:.2e}"
            print(line)
        if theirs is not None:
            print(f"worst difference {worst:.2e} (tolerance {a.tolerance:g})")
            return 0 if worst <= a.tolerance else 1
        return 0
    except CheckError as e:
        print(f"check_torch_roundtrip: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
