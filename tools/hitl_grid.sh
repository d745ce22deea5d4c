#!/usr/bin/env bash
# The human-in-the-loop experiment grid of docs/benchmarks.md ("The cycle on the shortcut dataset"):
# for each seed and attention mechanism, train on the shortcut dataset, collect, let the object
# masks play the annotator (import-maps), fine-tune with each --branches choice, and evaluate on
# the shortcut-free test split. Prints one row per run and the mean ± sample standard deviation of
# the changes. Everything goes under $OUT (default runs/grid); rerunning reuses finished steps.
#
#   bash tools/hitl_grid.sh                     # the full grid (3 seeds × 2 mechanisms × 2 branch choices)
#   SEEDS="0" MECHANISMS=multiply bash tools/hitl_grid.sh
#
# Settings (environment): SEEDS, MECHANISMS, BRANCHES, TRAIN (images), TEST, EPOCHS, ARCH, LIMIT
# (samples collected), SELECT (all|misclassified), SHORTCUT (synth --shortcut), FINETUNE_ARGS (extra finetune options).
set -euo pipefail
cd "$(dirname "$0")/.."

SEEDS=${SEEDS:-"0 1 2"}
MECHANISMS=${MECHANISMS:-"residual multiply"}
BRANCHES=${BRANCHES:-"attention+perception attention"}
TRAIN=${TRAIN:-2000}
TEST=${TEST:-500}
EPOCHS=${EPOCHS:-6}
ARCH=${ARCH:-cifar-resnet20}
LIMIT=${LIMIT:-500}
SELECT=${SELECT:-all}
SHORTCUT=${SHORTCUT:-0.9}
FINETUNE_ARGS=${FINETUNE_ARGS:-}
OUT=${OUT:-runs/grid}
BIN=${BIN:-.build/release/abn-hitl}

[ -x "$BIN" ] || swift build -c release -Xswiftc -enable-testing >&2   # the configuration tools/setup.sh builds
mkdir -p "$OUT"
DATA="$OUT/data"
[ -d "$DATA/train" ] || "$BIN" synth --out "$DATA" --train "$TRAIN" --test "$TEST" --seed 0 --shortcut "$SHORTCUT" >&2

# One JSON field of an eval report: acc, or an attention metric.
metric() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); k=sys.argv[2]
v = r["accuracy"] if k == "acc" else r.get("attention", {}).get(k)
print("nan" if v is None else v)' "$1" "$2"; }

RESULTS="$OUT/results.tsv"
printf 'seed\tmechanism\tbranches\ttrain_acc\ttest_before\ttest_after\tdecoy_before\tdecoy_after\tmask_before\tmask_after\n' > "$RESULTS"
for seed in $SEEDS; do
  for mech in $MECHANISMS; do
    run="$OUT/$mech-seed$seed"
    mkdir -p "$run"
    model="$run/model.safetensors"
    [ -f "$model" ] || "$BIN" train --data "$DATA" --out "$model" --arch "$ARCH" --epochs "$EPOCHS" \
        --attention "$mech" --seed "$seed" >&2
    [ -f "$run/before.json" ] || "$BIN" eval --model "$model" --data "$DATA" --split test --json > "$run/before.json"
    [ -f "$run/train.json" ] || "$BIN" eval --model "$model" --data "$DATA" --split train --json > "$run/train.json"
    if [ ! -f "$run/session/session.sqlite" ]; then
      "$BIN" collect --model "$model" --data "$DATA" --session "$run/session" --select "$SELECT" --limit "$LIMIT" >&2
      "$BIN" import-maps --session "$run/session" --masks "$DATA/masks/train" --annotator masks >&2
    fi
    for branches in $BRANCHES; do
      tag=${branches//+/-}
      tuned="$run/finetuned-$tag.safetensors"
      # shellcheck disable=SC2086
      [ -f "$tuned" ] || "$BIN" finetune --session "$run/session" --out "$tuned" --branches "$branches" --seed "$seed" $FINETUNE_ARGS >&2
      [ -f "$run/after-$tag.json" ] || "$BIN" eval --model "$tuned" --data "$DATA" --split test --json > "$run/after-$tag.json"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$seed" "$mech" "$branches" \
        "$(metric "$run/train.json" acc)" "$(metric "$run/before.json" acc)" "$(metric "$run/after-$tag.json" acc)" \
        "$(metric "$run/before.json" decoy_mass)" "$(metric "$run/after-$tag.json" decoy_mass)" \
        "$(metric "$run/before.json" mass_in_mask)" "$(metric "$run/after-$tag.json" mass_in_mask)" >> "$RESULTS"
    done
  done
done

python3 - "$RESULTS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def ms(xs):
    return f"{statistics.mean(xs):+.3f} ± {statistics.stdev(xs):.3f}" if len(xs) > 1 else f"{xs[0]:+.3f}"
print("seed mechanism branches              train  test before→after   decoy mass before→after   mass in mask before→after")
for r in rows:
    f = {k: float(v) for k, v in r.items() if k not in ("seed", "mechanism", "branches")}
    print(f"{r['seed']:>4} {r['mechanism']:9} {r['branches']:22} {f['train_acc']:.3f}  {f['test_before']:.3f} → {f['test_after']:.3f}"
          f"      {f['decoy_before']:.3f} → {f['decoy_after']:.3f}            {f['mask_before']:.3f} → {f['mask_after']:.3f}")
print("\nmean ± sd of the change (after − before) over seeds")
groups = {}
for r in rows:
    groups.setdefault((r["mechanism"], r["branches"]), []).append(r)
for (mech, br), rs in groups.items():
    d = lambda a, b: [float(r[b]) - float(r[a]) for r in rs]
    print(f"{mech:9} {br:22} n={len(rs)}  test accuracy {ms(d('test_before', 'test_after'))}"
          f"  decoy mass {ms(d('decoy_before', 'decoy_after'))}  mass in mask {ms(d('mask_before', 'mask_after'))}")
EOF
