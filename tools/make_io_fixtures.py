"""Writes small safetensors files with the reference `safetensors` package, so the Swift reader is
tested against files it did not write. Values follow formulas the Swift tests recompute.
Run: $(bash tools/torch-env.sh) tools/make_io_fixtures.py"""
import os
import numpy as np
import torch
from safetensors.torch import save_file

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "ABNTests", "Fixtures", "io")
os.makedirs(out, exist_ok=True)

# a[i] = (i - 5) / 4 exactly representable in every float width used here.
a = torch.tensor([(i - 5) / 4 for i in range(24)], dtype=torch.float32).reshape(2, 3, 4)
tensors = {
    "layer1.0.conv1.weight": a,
    "bn1.num_batches_tracked": torch.tensor(7, dtype=torch.int64),
    "half": a.to(torch.float16).reshape(6, 4),
    "bfloat": a.to(torch.bfloat16).reshape(24),
    "double": a.to(torch.float64).reshape(4, 6),
    "empty": torch.zeros(0, 3, dtype=torch.float32),
}
save_file(tensors, os.path.join(out, "reference.safetensors"),
          metadata={"abn.arch": "cifar-resnet20", "note": "written by safetensors.torch"})
print("wrote", os.path.join(out, "reference.safetensors"))
