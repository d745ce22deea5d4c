#!/usr/bin/env bash
# Side by side in one run: `abn-hitl bench` and the same measurement by its peers on the official
# architecture (tools/abn_torch.py, bench/torch_bench.py), same model, batch and threads. Prints every
# round and the median ratio against each peer.
# Usage: bench/compare.sh [--peers] [--arch cifar-resnet20] [--batch-size 64] [--steps 20] [--threads 2] [--precision fp32|bf16]
#   --peers   besides PyTorch eager, also torch.compile and onnxruntime (an ONNX export of the same
#             model, inference only); without it, PyTorch eager alone.
#   --precision bf16  inference in bfloat16 on both sides (abn-hitl --precision bf16, PyTorch under CPU
#             autocast; onnxruntime has no figure); training stays fp32. Needs AVX512_BF16.
# ROUNDS=N (default 3) alternates all of them N times, so a noisy machine hits each alike. Needs the
# PyTorch reference: ABN_TORCH_PYTHON, else tools/torch-env.sh makes it (with onnxruntime for --peers).
set -euo pipefail
cd "$(dirname "$0")/.."
peers=(eager)
args=()
for arg in "$@"; do
  if [ "$arg" = --peers ]; then peers=(eager compile onnxruntime); else args+=("$arg"); fi
done
rounds=${ROUNDS:-3}
extra=(); [ ${#peers[@]} -gt 1 ] && extra=(--extra onnxruntime --extra onnx)
python=${ABN_TORCH_PYTHON:-$(bash tools/torch-env.sh "${extra[@]}")}
bin=$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/abn-hitl
[ -x "$bin" ] || swift build -c release -Xswiftc -enable-testing >&2
# Which processor kind the figures belong to (both have been seen on these machines).
if grep -qw avx512f /proc/cpuinfo; then kind="AVX-512"; else kind="AVX2"; fi
# The family and model tell the generations apart (AMD Zen 4 is family 25, Zen 5 family 26).
kind="$kind, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' '))"
results=()
for ((round = 1; round <= rounds; round++)); do
  echo "round $round/$rounds ..." >&2
  results+=("$("$bin" bench --json "${args[@]}")")
  for peer in "${peers[@]}"; do
    results+=("$("$python" bench/torch_bench.py --peer "$peer" "${args[@]}")")
  done
done
python3 - "$kind" "${#peers[@]}" "${results[@]}" <<'PY'
import json, statistics, sys
kind, width = sys.argv[1], int(sys.argv[2]) + 1
runs = [json.loads(a) for a in sys.argv[3:]]
rounds = [runs[i:i + width] for i in range(0, len(runs), width)]
ours, peers = rounds[0][0], [r["peer"] for r in rounds[0][1:]]
print(f"{ours['arch']}, batch {ours['batch_size']}, {ours['threads']} threads, {len(rounds)} rounds, {kind}, "
      f"inference in {ours.get('precision', 'fp32')} (training fp32)")
print("peers: " + ", ".join(f"{r['peer']} (PyTorch {r['torch']}" + (f", onnxruntime {r['onnxruntime']})" if "onnxruntime" in r else ")")
                            for r in rounds[0][1:]))
rows = [("train_images_per_second", "training img/s", 1), ("inference_images_per_second", "inference img/s", 1),
        ("peak_rss_bytes", "peak RSS MB", 1e6)]
print(f"{'round':7}{'':17}{'abn-hitl':>10}" + "".join(f"{p:>13}" for p in peers))
for i, r in enumerate(rounds, 1):
    for key, name, scale in rows:
        cells = "".join(f"{x[key] / scale:13.1f}" if x[key] is not None else f"{'-':>13}" for x in r[1:])
        print(f"{i:<7}{name:17}{r[0][key] / scale:10.1f}{cells}")
print("median ratio, abn-hitl / peer (min-max over rounds):")
for key, name, _ in rows:
    cells = []
    for j, peer in enumerate(peers, 1):
        ratios = [r[0][key] / r[j][key] for r in rounds if r[j][key]]
        cells.append(f"{peer} {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})" if ratios else f"{peer} -")
    print(f"  {name:17}" + "   ".join(cells))
PY
