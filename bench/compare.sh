#!/usr/bin/env bash
# Side by side in one run: `abn-hitl bench` and the same measurement in PyTorch (official
# architecture, tools/abn_torch.py), same threads and batch. Prints both and their ratios.
# Usage: bench/compare.sh [--arch cifar-resnet20] [--batch-size 64] [--steps 20] [--threads 2]
# ROUNDS=N (default 3) alternates the two N times, so a noisy machine hits both alike, and prints
# every round and the median ratio. Needs the PyTorch reference: ABN_TORCH_PYTHON, else tools/torch-env.sh
# makes it.
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")
rounds=${ROUNDS:-3}
python=${ABN_TORCH_PYTHON:-$(bash tools/torch-env.sh)}
bin=$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/abn-hitl
[ -x "$bin" ] || swift build -c release -Xswiftc -enable-testing >&2
results=()
for ((round = 1; round <= rounds; round++)); do
  echo "round $round/$rounds ..." >&2
  results+=("$("$bin" bench --json "${args[@]}")" "$("$python" bench/torch_bench.py "${args[@]}")")
done
python3 - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(a) for a in sys.argv[1:]]
pairs = list(zip(runs[0::2], runs[1::2]))
s0, t0 = pairs[0]
print(f"{s0['arch']}, batch {s0['batch_size']}, {s0['threads']} threads (PyTorch {t0.get('torch', '?')}), {len(pairs)} rounds")
rows = [("train_images_per_second", "training img/s", 1), ("inference_images_per_second", "inference img/s", 1),
        ("peak_rss_bytes", "peak RSS MB", 1e6)]
print(f"{'round':8}{'':18}{'abn-hitl':>10}{'PyTorch':>10}{'ratio':>8}")
for i, (s, t) in enumerate(pairs, 1):
    for key, name, scale in rows:
        print(f"{i:<8}{name:18}{s[key] / scale:10.1f}{t[key] / scale:10.1f}{s[key] / t[key]:8.2f}")
print("median ratio (abn-hitl / PyTorch):")
for key, name, _ in rows:
    ratios = [s[key] / t[key] for s, t in pairs]
    print(f"  {name:18}{statistics.median(ratios):6.2f}   (min {min(ratios):.2f}, max {max(ratios):.2f})")
PY
