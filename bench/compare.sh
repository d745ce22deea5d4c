#!/usr/bin/env bash
# Side by side in one run: `abn-hitl bench` and the same measurement in PyTorch (official
# architecture, tools/abn_torch.py), same threads and batch. Prints both and their ratios.
# Usage: bench/compare.sh [--arch cifar-resnet20] [--batch-size 64] [--steps 20] [--threads 2]
# Needs the PyTorch reference (../shared/scripts/torch-reference-env) or TORCH_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")
python=${TORCH_PYTHON:-$(../shared/scripts/torch-reference-env)}
bin=$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/abn-hitl
[ -x "$bin" ] || swift build -c release -Xswiftc -enable-testing >&2
swift_json=$("$bin" bench --json "${args[@]}")
torch_json=$("$python" bench/torch_bench.py "${args[@]}")
python3 - "$swift_json" "$torch_json" <<'PY'
import json, sys
s, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{s['arch']}, batch {s['batch_size']}, {s['threads']} threads (PyTorch {t.get('torch', '?')})")
print(f"{'':24}{'abn-hitl':>12}{'PyTorch':>12}{'ratio':>8}")
for key, name in [("train_images_per_second", "training img/s"), ("inference_images_per_second", "inference img/s")]:
    print(f"{name:24}{s[key]:12.1f}{t[key]:12.1f}{s[key] / t[key]:8.2f}")
print(f"{'peak RSS MB':24}{s['peak_rss_bytes'] / 1e6:12.0f}{t['peak_rss_bytes'] / 1e6:12.0f}{s['peak_rss_bytes'] / t['peak_rss_bytes']:8.2f}")
PY
