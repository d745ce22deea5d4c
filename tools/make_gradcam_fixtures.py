"""Fixtures for the CAM / Grad-CAM / Grad-CAM++ parity tests, from pytorch-grad-cam (the `grad-cam`
package on PyPI) run on the reference architecture (tools/abn_torch.py) with hashed weights
(make_fixtures.hashed_state). Run it in its own environment:
  python3 -m venv /tmp/abn-gradcam-env && /tmp/abn-gradcam-env/bin/pip install grad-cam safetensors
  /tmp/abn-gradcam-env/bin/python tools/make_gradcam_fixtures.py [--out DIR]
(not `tools/torch-env.sh --extra grad-cam`: grad-cam needs torchvision, and PyPI's torchvision replaces
the environment's CPU torch wheel with PyPI's CUDA build; the committed files were made with grad-cam
1.5.7 and PyPI's torch 2.15.0, recorded in their metadata). --out DIR writes all four files to DIR,
to check a rerun: the tensor bytes are identical (the order of the metadata keys is the
safetensors library's and may differ).
Writes
  Tests/HITLTests/Fixtures/gradcam/cifar-resnet8.safetensors   the model, as an abn-hitl model file
  Tests/HITLTests/Fixtures/gradcam/cifar-resnet8-cams.safetensors
  Tests/HITLTests/Fixtures/gradcam/imagenet-resnet18-cams.safetensors
  Tests/ABNTests/Fixtures/gradcam-imagenet-resnet18.safetensors
For each input i (normalised, [1, 3, H, W]) and target j (the prediction, then another class):
`input.i`, `target.i.j`, the target layer's activation `activations.i` and gradient `gradients.i.j`
as pytorch-grad-cam's ActivationsAndGradients saw them, its GradCAM and GradCAMPlusPlus outputs
`gradcam.i.j`, `gradcam++.i.j` (at the input size, normalised as it does), and `cam.i.j` =
Σ_k fc.weight[c, k]·A_k (CAM; pytorch-grad-cam has no fc-weight CAM, so numpy computes it here).
The target layer is the perception branch's last stage, `layer3` (CIFAR) / `layer4` (ImageNet),
whose output is what the official ResNet-ABN global-average-pools into fc; the target is the
perception logit (ClassifierOutputTarget). The ImageNet model is too large to store: the ABN test
rebuilds it from the same hash (HashValues.state)."""
import argparse
import importlib.metadata
import json
import os
import sys
import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from abn_torch import ABN
from make_fixtures import hash_values, hashed_state

from pytorch_grad_cam import GradCAM, GradCAMPlusPlus
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES = ["circle", "cross", "square", "triangle"]


class PerceptionLogits(torch.nn.Module):
    """The ABN as pytorch-grad-cam expects a classifier: input → the perception branch's logits."""

    def __init__(self, abn):
        super().__init__()
        self.abn = abn

    def forward(self, x):
        return self.abn(x)[1]


def cams(abn, stage, inputs):
    abn.eval()
    wrapped = PerceptionLogits(abn).eval()
    out = {}
    for i, x in enumerate(inputs):
        with torch.no_grad():
            logits = wrapped(x)[0]
        predicted = int(logits.argmax())
        other = (predicted + 1 + i) % logits.numel()
        out[f"input.{i}"] = x.contiguous()
        for j, target in enumerate([predicted, other]):
            out[f"target.{i}.{j}"] = torch.tensor([target], dtype=torch.int64)
            for name, method in [("gradcam", GradCAM), ("gradcam++", GradCAMPlusPlus)]:
                with method(model=wrapped, target_layers=[stage]) as cam:
                    grey = cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])
                    activations = cam.activations_and_grads.activations[0].detach().clone()
                    gradients = cam.activations_and_grads.gradients[0].detach().clone()
                out[f"{name}.{i}.{j}"] = torch.from_numpy(np.ascontiguousarray(grey[0], dtype=np.float32))
                assert grey.max() > 0.5, f"{name} map of input {i} target {target} is degenerate"
            out[f"activations.{i}"] = activations[0].contiguous()
            out[f"gradients.{i}.{j}"] = gradients[0].contiguous()
            a = activations[0].double().numpy()
            w = abn.fc.weight.detach().double().numpy()[target]
            out[f"cam.{i}.{j}"] = torch.from_numpy(np.tensordot(w, a, axes=1).astype(np.float32))
    return out


def inputs(name, count, size):
    return [torch.from_numpy(hash_values(f"{name}:input{i}", 3 * size * size).reshape(1, 3, size, size) * 2) for i in range(count)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=None, help="write everything into this folder instead of the test fixture folders")
    a = p.parse_args()
    hitl = a.out or os.path.join(ROOT, "Tests/HITLTests/Fixtures/gradcam")
    abn_dir = a.out or os.path.join(ROOT, "Tests/ABNTests/Fixtures")
    os.makedirs(hitl, exist_ok=True)
    meta = {"grad-cam": importlib.metadata.version("grad-cam"), "torch": torch.__version__}

    torch.manual_seed(0)
    cifar = ABN("cifar", 8, len(CLASSES), attention="residual")
    state = hashed_state(cifar, float32_scale=True)
    cifar.load_state_dict(state, strict=True)
    model_meta = {"abn.arch": "cifar-resnet8", "abn.classes": json.dumps(CLASSES), "abn.input": "3x32x32",
                  "abn.mean": "[0.5, 0.5, 0.5]", "abn.std": "[0.25, 0.25, 0.25]", "abn.attention": "residual"}
    save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(hitl, "cifar-resnet8.safetensors"), metadata=model_meta)
    save_file(cams(cifar, cifar.layer3, inputs("gradcam-cifar", 2, 32)),
              os.path.join(hitl, "cifar-resnet8-cams.safetensors"), metadata=meta)

    imagenet = ABN("imagenet", 18, 5, attention="multiply")
    imagenet.load_state_dict(hashed_state(imagenet, float32_scale=True), strict=True)
    out = cams(imagenet, imagenet.layer4, inputs("gradcam-imagenet", 1, 128))
    save_file(out, os.path.join(hitl, "imagenet-resnet18-cams.safetensors"), metadata=meta)
    engine = {k: v for k, v in out.items() if k.split(".")[0] in ("input", "target", "activations", "gradients")}
    save_file(engine, os.path.join(abn_dir, "gradcam-imagenet-resnet18.safetensors"), metadata=meta)
    print(f"wrote {hitl} and {abn_dir} (grad-cam {meta['grad-cam']}, torch {meta['torch']})")


if __name__ == "__main__":
    main()
