#!/usr/bin/env bash
# The fine-tuning grid of docs/benchmarks.md ("Counterexamples against the paper's recipe"): for each
# shortcut kind and seed, train an ABN on the shortcut dataset and a control on the same images with the
# cue made random (synth --shortcut 0); collect N samples, let the object masks play the annotator
# (import-maps), fine-tune with each recipe, and evaluate on the test split (where the cue is random).
# Prints one row per run and mean ± sample standard deviation per (kind, recipe, N). Everything goes
# under $OUT (default runs/grid); rerunning reuses finished steps, so an interrupted grid resumes.
#
#   bash tools/hitl_grid.sh                                  # the full grid
#   KINDS=patch SEEDS=0 EDITS=500 bash tools/hitl_grid.sh    # one cell
#
# Settings (environment): KINDS, SEEDS, EDITS (samples collected and edited), RECIPES (names below),
# TRAIN, TEST (images), EPOCHS (base training), ARCH, OUT, BIN.
# Recipes: paper = `finetune --counterexamples 0` (Mitsuhara et al.: L_map, no counterexamples, no hold-out);
#          counterexamples = `finetune --counterexamples 2` (augmentation, hold-out validation, best epoch kept);
#          default = `finetune` with its defaults (the 2026-12-02 grid's "default" rows had --counterexamples 2 as default).
set -euo pipefail
cd "$(dirname "$0")/.."

KINDS=${KINDS:-"patch background stamp"}
SEEDS=${SEEDS:-"0 1 2"}
EDITS=${EDITS:-"500 100 1000"}
RECIPES=${RECIPES:-"paper counterexamples"}
TRAIN=${TRAIN:-2000}
TEST=${TEST:-500}
EPOCHS=${EPOCHS:-6}
ARCH=${ARCH:-cifar-resnet20}
OUT=${OUT:-runs/grid}
BIN=${BIN:-.build/release/abn-hitl}

[ -x "$BIN" ] || swift build -c release -Xswiftc -enable-testing >&2   # the configuration tools/setup.sh builds

recipe_args() {
  case "$1" in
    paper) echo "--counterexamples 0" ;;
    counterexamples) echo "--counterexamples 2" ;;
    default) echo "" ;;
    *) echo "$1" | tr '_' ' ' ;;   # e.g. "--counterexamples_2" for a custom recipe
  esac
}

# Test accuracy, decoy mass and mass in mask of an eval report.
metrics() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); a=r.get("attention", {})
print("\t".join(str(x) for x in (r["accuracy"], a.get("decoy_mass", "nan"), a.get("mass_in_mask", "nan"))))' "$1"; }

RESULTS="$OUT/results.tsv"
mkdir -p "$OUT"
printf 'kind\tseed\trecipe\tedits\ttest_acc\tdecoy_mass\tmass_in_mask\n' > "$RESULTS"
# Edits outermost, so the most telling column (500) is complete first when time is short.
for n in $EDITS; do
  for kind in $KINDS; do
    data="$OUT/$kind/data" control_data="$OUT/$kind/control-data"
    [ -d "$data/train" ] || "$BIN" synth --out "$data" --train "$TRAIN" --test "$TEST" --seed 0 --shortcut-kind "$kind" >&2
    [ -d "$control_data/train" ] || "$BIN" synth --out "$control_data" --train "$TRAIN" --test "$TEST" --seed 0 --shortcut-kind "$kind" --shortcut 0 >&2
    for seed in $SEEDS; do
      run="$OUT/$kind/seed$seed"
      mkdir -p "$run"
      model="$run/model.safetensors" control="$run/control.safetensors"
      [ -f "$model" ] || "$BIN" train --data "$data" --out "$model" --arch "$ARCH" --epochs "$EPOCHS" --seed "$seed" >&2
      [ -f "$control" ] || "$BIN" train --data "$control_data" --out "$control" --arch "$ARCH" --epochs "$EPOCHS" --seed "$seed" >&2
      # Both are measured on the shortcut dataset's test split, where the cue is random.
      [ -f "$run/before.json" ] || "$BIN" eval --model "$model" --data "$data" --split test --json > "$run/before.json"
      [ -f "$run/control.json" ] || "$BIN" eval --model "$control" --data "$data" --split test --json > "$run/control.json"
      session="$run/session$n"
      if [ ! -f "$session/session.sqlite" ]; then
        "$BIN" collect --model "$model" --data "$data" --session "$session" --select all --limit "$n" >&2
        "$BIN" import-maps --session "$session" --masks "$data/masks" --annotator masks >&2
      fi
      for recipe in $RECIPES; do
        tuned="$run/ft-$recipe-$n.safetensors"
        # shellcheck disable=SC2046
        [ -f "$tuned" ] || "$BIN" finetune --session "$session" --out "$tuned" --seed "$seed" $(recipe_args "$recipe") >&2
        [ -f "$run/after-$recipe-$n.json" ] || "$BIN" eval --model "$tuned" --data "$data" --split test --json > "$run/after-$recipe-$n.json"
      done
    done
  done
done

# The table: every finished run (so a partial grid still reports what it has).
for kind in $KINDS; do
  for seed in $SEEDS; do
    run="$OUT/$kind/seed$seed"
    [ -f "$run/before.json" ] && printf '%s\t%s\tbefore\t0\t%s\n' "$kind" "$seed" "$(metrics "$run/before.json")" >> "$RESULTS"
    [ -f "$run/control.json" ] && printf '%s\t%s\tcontrol\t0\t%s\n' "$kind" "$seed" "$(metrics "$run/control.json")" >> "$RESULTS"
    for n in $EDITS; do
      for recipe in $RECIPES; do
        [ -f "$run/after-$recipe-$n.json" ] && printf '%s\t%s\t%s\t%s\t%s\n' "$kind" "$seed" "$recipe" "$n" "$(metrics "$run/after-$recipe-$n.json")" >> "$RESULTS"
      done
    done
  done
done

python3 - "$RESULTS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def ms(xs, scale=1, digits=1):
    xs = [scale * x for x in xs]
    return f"{statistics.mean(xs):.{digits}f} ± {statistics.stdev(xs):.{digits}f}" if len(xs) > 1 else f"{xs[0]:.{digits}f}"
groups = {}
for r in rows:
    groups.setdefault((r["kind"], r["recipe"], int(r["edits"])), []).append(r)
print("| kind | recipe | edits | seeds | test accuracy (%) | decoy mass | mass in mask |")
print("|---|---|---|---|---|---|---|")
order = {"before": 0, "control": 1, "paper": 2, "counterexamples": 3, "default": 4}
for (kind, recipe, n), rs in sorted(groups.items(), key=lambda g: (g[0][0], g[0][2], order.get(g[0][1], 9), g[0][1])):
    col = lambda k: [float(r[k]) for r in rs]
    print(f"| {kind} | {recipe} | {n or '–'} | {len(rs)} | {ms(col('test_acc'), 100)} | {ms(col('decoy_mass'), 1, 3)} | {ms(col('mass_in_mask'), 1, 3)} |")
EOF
