#!/usr/bin/env bash
# Makes Tests/ABNTests/Fixtures/io/converted-official.safetensors and official-outputs.safetensors:
# an official-style checkpoint (module. prefixes, no num_batches_tracked) of a PyTorch ABN, converted
# with tools/convert_official_checkpoint.py, and that model's PyTorch outputs on a fixed input.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${ABN_TORCH_PYTHON:-$(bash tools/torch-env.sh)}
tmp=$(mktemp -d)
"$py" - "$tmp" <<'PY'
import sys, torch
sys.path.insert(0, "tools")
from abn_torch import ABN
from safetensors.torch import save_file
tmp = sys.argv[1]
torch.manual_seed(1)
m = ABN("cifar", 20, 10)
sd = {"module." + k: v for k, v in m.state_dict().items() if not k.endswith("num_batches_tracked")}
torch.save({"epoch": 300, "arch": "resnet", "state_dict": sd, "best_acc": 95.0}, f"{tmp}/official.pth.tar")
x = torch.randn(2, 3, 32, 32)
m.eval()
with torch.no_grad():
    a, p, mp = m(x)
save_file({"input": x, "perception_logits": p, "attention_logits": a, "map": mp.contiguous()},
          "Tests/ABNTests/Fixtures/io/official-outputs.safetensors")
PY
"$py" tools/convert_official_checkpoint.py "$tmp/official.pth.tar" --classes 10 --out Tests/ABNTests/Fixtures/io/converted-official.safetensors
rm -rf "$tmp"
