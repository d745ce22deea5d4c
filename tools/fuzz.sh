#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, with AddressSanitizer) of the parts that read untrusted bytes.
# Each harness in fuzz/harness/ is compiled with the product's own source files (swiftc
# -sanitize=fuzzer,address; the C shim with clang -fsanitize=address,fuzzer-no-link), starts from its
# committed seed corpus in fuzz/corpus/<harness>/ and runs for SECONDS. Prints executions and crashes
# per harness; exits 1 if any harness crashed, leaked or hung (its input is kept under
# .build/fuzz/crashes/<harness>/ to become a regression test).
#   bash tools/fuzz.sh            # 60 s per harness
#   bash tools/fuzz.sh 600        # the 10-minute run docs/reliability.md records
#   HARNESSES="image mask" bash tools/fuzz.sh 30
# Harnesses: safetensors (header, tensor table, model metadata), image (PNG/JPEG header and decode
# through libpng/libjpeg), mask (mask decode, area averaging onto the map, upsampling back).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
HARNESSES=${HARNESSES:-"safetensors image mask"}
out=.build/fuzz
mkdir -p "$out/modules/CImageIO"

# The product files each harness is built from (one module with the harness, so it may call internal
# helpers such as unitTensor exactly as the product does).
sources() {
  case "$1" in
    safetensors) echo Sources/ABN/IO/SafeTensors.swift Sources/ABN/IO/AtomicFiles.swift Sources/ABN/IO/HeaderJSON.swift Sources/ABN/IO/ModelMetadata.swift \
                      Sources/ABN/Core/Types.swift Sources/ABN/Engine/Backbones.swift Sources/ABN/Engine/NetworkDescription.swift ;;
    image) echo Sources/ABNData/ImageIO.swift Sources/ABNData/Image.swift ;;
    mask) echo Sources/ABNData/ImageIO.swift Sources/ABNData/Image.swift Sources/ABNData/ImageOps.swift \
               Sources/ABNData/Preprocessing.swift Sources/ABNData/ImageFolder.swift Sources/HITL/Maps/MapResampling.swift ;;
    *) echo "fuzz: unknown harness '$1' (safetensors, image, mask)" >&2; exit 2 ;;
  esac
}
needs_shim() { [ "$1" != safetensors ]; }

cat > "$out/modules/CImageIO/module.modulemap" <<EOF
module CImageIO { header "$PWD/Sources/CImageIO/include/CImageIO.h"
  export * }
EOF
clang -O1 -g -fsanitize=address,fuzzer-no-link -I Sources/CImageIO/include -c Sources/CImageIO/imageio.c -o "$out/imageio.o"

failed=0
for h in $HARNESSES; do
  extra=()
  needs_shim "$h" && extra=(-I "$out/modules/CImageIO" "$out/imageio.o" -lpng -ljpeg)
  # shellcheck disable=SC2046
  swiftc -O -g -sanitize=fuzzer,address -parse-as-library "fuzz/harness/$h.swift" $(sources "$h") "${extra[@]}" -o "$out/$h" 2> "$out/$h.build.log" ||
    { cat "$out/$h.build.log" >&2; echo "fuzz: $h did not build" >&2; exit 1; }
  corpus="$out/corpus/$h" crashes="$out/crashes/$h"
  mkdir -p "$corpus" "$crashes"
  cp -n fuzz/corpus/"$h"/* "$corpus"/ 2>/dev/null || true
  log="$out/$h.log"
  status=0
  "./$out/$h" -max_total_time="$SECONDS_EACH" -max_len=16384 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" fuzz/corpus/"$h" > "$log" 2>&1 || status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  found=$(find "$crashes" -type f | wc -l)
  if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
    failed=1
    echo "$h: $runs executions in ${SECONDS_EACH}s, CRASH (exit $status; inputs in $crashes; log $log)"
    grep -m 3 -E 'ERROR|SUMMARY|Fatal error' "$log" | sed 's/^/  /' || true
  else
    echo "$h: $runs executions in ${SECONDS_EACH}s, 0 crashes, corpus $(ls "$corpus" | wc -l) inputs"
  fi
done
exit "$failed"
