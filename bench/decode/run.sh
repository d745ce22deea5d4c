#!/usr/bin/env bash
# Decode + augment throughput, ABNData (libpng, Swift) against Pillow + numpy, in the same run,
# one thread each, on the built-in shortcut dataset (4000 train images, 32x32 RGB PNG).
# Work per image on both sides: read file, decode PNG, to float in [0, 1], CHW, 4 px zero
# padding + random 32x32 crop + random horizontal flip, normalise, batch of 64. No caching.
#
# Usage: bench/decode/run.sh [DATA_DIR]   (default /tmp/abn-decode-bench; generated if absent)
# Environment: BENCH_SECONDS (default 5), ABN_TORCH_PYTHON (python with numpy and Pillow; default: tools/torch-env.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/abn-decode-bench}
seconds=${BENCH_SECONDS:-5}
python=${ABN_TORCH_PYTHON:-$(bash tools/torch-env.sh)}

bin=$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/abn-hitl
[ -x "$bin" ] || swift build -c release -Xswiftc -enable-testing >&2
swift_line=$("$bin" bench --decode "$dir" --seconds "$seconds" --json)
pillow_line=$("$python" bench/decode/pillow_decode.py "$dir" --seconds "$seconds")
echo "swift:  $swift_line"
echo "pillow: $pillow_line"
"$python" - "$swift_line" "$pillow_line" <<'PY'
import json, sys
s, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ratio = s["swift_images_per_second"] / p["pillow_images_per_second"]
print(json.dumps({"swift_images_per_second": round(s["swift_images_per_second"]),
                  "pillow_images_per_second": round(p["pillow_images_per_second"]),
                  "ratio": round(ratio, 2), "generate_seconds": round(s["generate_seconds"], 2)}))
PY
