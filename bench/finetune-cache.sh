#!/usr/bin/env bash
# Times fine-tuning with the feature extractor frozen, the feature cache off (ABN_FEATURE_CACHE=0,
# OFF_EPOCHS epochs: every epoch costs the same) and on (the default budget, ON_EPOCHS epochs: the
# first fills the cache), alternating, on the same session: EDITS edited samples of the shortcut
# dataset upscaled to 224², ResNet-50-ABN, FINETUNE_ARGS (default: no counterexamples, no augmentation,
# no replay, the extractor frozen: every input cacheable). Prints each run's per-epoch seconds. The
# model's weights do not matter for timing: it is trained for one epoch on 8 images.
#   ROUNDS=2 OFF_EPOCHS=1 ON_EPOCHS=2 EDITS=500 bash bench/finetune-cache.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/abn-hitl"
W=${1:-/tmp/abn-finetune-cache}
ROUNDS=${ROUNDS:-2}; OFF_EPOCHS=${OFF_EPOCHS:-1}; ON_EPOCHS=${ON_EPOCHS:-2}; EDITS=${EDITS:-500}; ARCH=${ARCH:-imagenet-resnet50}; SIZE=${SIZE:-224}
if [ ! -f "$W/ready" ]; then
    rm -rf "$W"; mkdir -p "$W"
    "$BIN" synth --out "$W/data" --train $((EDITS + 100)) --test 1 --seed 0
    rm -rf "$W/data/test"   # no before/after evaluation: only the fine-tuning is timed
    "$BIN" synth --out "$W/tiny" --train 8 --test 1 --seed 1
    "$BIN" train --data "$W/tiny" --arch "$ARCH" --input "3x${SIZE}x${SIZE}" --epochs 1 --batch-size 8 --out "$W/model.safetensors"
    "$BIN" collect --model "$W/model.safetensors" --data "$W/data" --session "$W/s" --select all --limit "$EDITS"
    "$BIN" import-maps --session "$W/s" --masks "$W/data/masks/train"
    touch "$W/ready"
fi
grep -q avx512 /proc/cpuinfo && cpu=AVX-512 || cpu=AVX2
ARGS=${FINETUNE_ARGS:---counterexamples 0 --replay 0 --branches attention+perception}
echo "$ARCH at ${SIZE}², $EDITS edits, finetune $ARGS, $(nproc) cores, $cpu"
for r in $(seq 1 "$ROUNDS"); do
    for budget in 0 2048; do
        [ "$budget" = 0 ] && epochs=$OFF_EPOCHS || epochs=$ON_EPOCHS
        echo "round $r, ABN_FEATURE_CACHE=$budget, $epochs epochs ($(date -u +%H:%M:%S) UTC, load $(cut -d" " -f1-3 /proc/loadavg))"
        # shellcheck disable=SC2086
        ABN_FEATURE_CACHE=$budget "$BIN" finetune --session "$W/s" --out "$W/ft-$budget.safetensors" $ARGS \
            --epochs "$epochs" 2>&1 | grep -E "epochs took|feature cache|fine-tuned"
    done
done
