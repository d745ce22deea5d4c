#!/usr/bin/env bash
# Throughput on a quiet machine and beside one other CPU-bound process, for two abn-hitl binaries
# alternating in one session: BEFORE (e.g. a build from before the executable set its OpenMP wait
# policy) and AFTER (default: this checkout's release build). Neither gets OMP_WAIT_POLICY from the
# environment: what each does by itself is what is measured. Prints the median training and inference
# img/s per binary and condition, and the share of the quiet throughput kept under load.
#   BEFORE=/tmp/old-abn-hitl bash bench/under-load.sh
# Settings: BEFORE (required), AFTER, ROUNDS (default 3), STEPS (default 20), ARCH, BATCH.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${BEFORE:?set BEFORE to the binary to compare against}
AFTER=${AFTER:-.build/release/abn-hitl}
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-20}
ARCH=${ARCH:-cifar-resnet20}
BATCH=${BATCH:-64}
out=$(mktemp)
trap 'rm -f "$out"; [ -z "${hog:-}" ] || kill "$hog" 2>/dev/null || true' EXIT

measure() {  # binary condition
  env -u OMP_WAIT_POLICY "$1" bench --arch "$ARCH" --batch-size "$BATCH" --steps "$STEPS" --json 2>/dev/null |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print(sys.argv[1], sys.argv[2], r["train_images_per_second"], r["inference_images_per_second"])' "$3" "$2" >> "$out"
}
for round in $(seq "$ROUNDS"); do
  for condition in quiet loaded; do
    hog=""
    if [ "$condition" = loaded ]; then sh -c 'while :; do :; done' & hog=$!; fi
    measure "$BEFORE" "$condition" before
    measure "$AFTER" "$condition" after
    if [ -n "$hog" ]; then kill "$hog"; wait "$hog" 2>/dev/null || true; hog=""; fi
  done
  echo "round $round of $ROUNDS done" >&2
done
python3 - "$out" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for who in ("before", "after"):
    for cond in ("quiet", "loaded"):
        sel = [r for r in rows if r[0] == who and r[1] == cond]
        med[who, cond] = (statistics.median(float(r[2]) for r in sel), statistics.median(float(r[3]) for r in sel))
print("| binary | training img/s quiet | loaded | kept | inference img/s quiet | loaded | kept |")
print("|---|---|---|---|---|---|---|")
for who in ("before", "after"):
    (tq, iq), (tl, il) = med[who, "quiet"], med[who, "loaded"]
    print(f"| {who} | {tq:.0f} | {tl:.0f} | {100*tl/tq:.0f}% | {iq:.0f} | {il:.0f} | {100*il/iq:.0f}% |")
print(f"after/before, quiet: training {med['after','quiet'][0]/med['before','quiet'][0]:.2f}x, inference {med['after','quiet'][1]/med['before','quiet'][1]:.2f}x")
EOF
