#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, with AddressSanitizer) of the parts that read untrusted bytes.
# Each harness in fuzz/harness/ is compiled with the product's own source files (swiftc
# -sanitize=fuzzer,address; the C shim with clang -fsanitize=address,fuzzer-no-link), starts from its
# committed seed corpus in fuzz/corpus/<harness>/ and what earlier runs added to .build/fuzz/corpus/<harness>/,
# and runs for SECONDS. Prints executions and crashes
# per harness; exits 1 if any harness crashed, leaked or hung (its input is kept under
# .build/fuzz/crashes/<harness>/ to become a regression test; that folder is emptied when the harness
# next runs, so only this run's findings count). Harnesses run with SWIFT_BACKTRACE=enable=no: Swift's
# own crash handler would otherwise take Swift traps (SIGILL) and aborts before libFuzzer, and under
# AddressSanitizer it fails in its own memory reads, losing the stack and sometimes the input.
#   bash tools/fuzz.sh            # 60 s per harness
#   bash tools/fuzz.sh 600        # the 10-minute run docs/reliability.md records
#   HARNESSES="image mask" bash tools/fuzz.sh 30
# Harnesses: safetensors (header, tensor table, model metadata), image (PNG/JPEG header and decode
# through libpng/libjpeg), mask (mask decode, area averaging onto the map, upsampling back), session
# (bytes as session.sqlite, opened as export and as review open it, every table read), input (bytes
# as a terminal sends them, through a real curses decoder, into review's actions, state and frames).
# session and input import the modules they do not fuzz (GRDB, ABN, HITL, ...) from the package's
# release build, made first if needed; the files they fuzz are compiled here with the sanitizers.
# Their corpora are made by fuzz/make_corpus.py. Leak checking is off for those two: SQLite, GRDB and
# curses keep process-wide caches that grow across inputs, which LeakSanitizer would otherwise
# rescan after every input (two inputs a second instead of tens).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
HARNESSES=${HARNESSES:-"safetensors image mask session input"}
out=.build/fuzz
mkdir -p "$out/modules/CImageIO" "$out/modules/CTerminal"
release=.build/release

# The product files each harness is built from (one module with the harness, so it may call internal
# helpers such as unitTensor exactly as the product does).
sources() {
  case "$1" in
    safetensors) echo Sources/ABN/IO/SafeTensors.swift Sources/ABN/IO/AtomicFiles.swift Sources/ABN/IO/HeaderJSON.swift Sources/ABN/IO/ModelMetadata.swift \
                      Sources/ABN/Core/Types.swift Sources/ABN/Engine/Backbones.swift Sources/ABN/Engine/NetworkDescription.swift ;;
    image) echo Sources/ABNData/ImageIO.swift Sources/ABNData/Image.swift ;;
    mask) echo Sources/ABNData/ImageIO.swift Sources/ABNData/Image.swift Sources/ABNData/ImageOps.swift \
               Sources/ABNData/Preprocessing.swift Sources/ABNData/ImageFolder.swift Sources/HITL/Maps/MapResampling.swift ;;
    session) echo Sources/HITL/Session/*.swift ;;
    input) echo Sources/ReviewUI/*.swift ;;
    *) echo "fuzz: unknown harness '$1' (safetensors, image, mask, session, input)" >&2; exit 2 ;;
  esac
}
# Built modules a harness imports without fuzzing them (their objects are linked as built).
prebuilt() {
  case "$1" in
    session) echo GRDB ABN ABNData CDNNL CImageIO ;;
    input) echo HITL GRDB ABN ABNData CDNNL CImageIO ;;
  esac
}
needs_shim() { [ "$1" = image ] || [ "$1" = mask ]; }
max_len() { case "$1" in session) echo 65536 ;; input) echo 4096 ;; *) echo 16384 ;; esac; }
leaks() { case "$1" in session|input) echo 0 ;; *) echo 1 ;; esac; }

cat > "$out/modules/CImageIO/module.modulemap" <<EOF
module CImageIO { header "$PWD/Sources/CImageIO/include/CImageIO.h"
  export * }
EOF
clang -O1 -g -fsanitize=address,fuzzer-no-link -I Sources/CImageIO/include -c Sources/CImageIO/imageio.c -o "$out/imageio.o"
cat > "$out/modules/CTerminal/module.modulemap" <<EOF
module CTerminal { header "$PWD/Sources/CTerminal/include/CTerminal.h"
  export * }
EOF
clang -O1 -g -fsanitize=address,fuzzer-no-link -I Sources/CTerminal/include -c Sources/CTerminal/shim.c -o "$out/terminal.o"
for h in $HARNESSES; do
  if [ -n "$(prebuilt "$h")" ]; then
    # The configuration tools/setup.sh builds; a no-op when it is up to date.
    swift build -c release -Xswiftc -enable-testing --product abn-hitl > "$out/package-build.log" 2>&1 ||
      { tail -20 "$out/package-build.log" >&2; echo "fuzz: the package did not build" >&2; exit 1; }
    break
  fi
done

failed=0
for h in $HARNESSES; do
  extra=()
  needs_shim "$h" && extra=(-I "$out/modules/CImageIO" "$out/imageio.o" -lpng -ljpeg)
  if [ -n "$(prebuilt "$h")" ]; then
    extra+=(-I "$release/Modules" -Xcc "-fmodule-map-file=$release/CDNNL.build/module.modulemap"
            -Xcc "-fmodule-map-file=$release/CImageIO.build/module.modulemap"
            -Xcc "-fmodule-map-file=$PWD/.build/checkouts/GRDB.swift/Sources/GRDBSQLite/module.modulemap")
    for m in $(prebuilt "$h"); do extra+=("$release/$m.build/"*.o); done
    extra+=(-lsqlite3 -ldnnl -lgomp -lpng -ljpeg)
  fi
  if [ "$h" = input ]; then extra+=(-I "$out/modules/CTerminal" "$out/terminal.o" -lncursesw); fi
  # shellcheck disable=SC2046
  swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name "Fuzz_$h" "fuzz/harness/$h.swift" $(sources "$h") "${extra[@]}" -o "$out/$h" 2> "$out/$h.build.log" ||
    { cat "$out/$h.build.log" >&2; echo "fuzz: $h did not build" >&2; exit 1; }
  corpus="$out/corpus/$h" crashes="$out/crashes/$h"
  # A file left by an earlier run would count as a crash of this one.
  rm -rf "$crashes"
  mkdir -p "$corpus" "$crashes"
  cp -n fuzz/corpus/"$h"/* "$corpus"/ 2>/dev/null || true
  log="$out/$h.log"
  status=0
  # Without Swift's backtracer, libFuzzer's handler reports a trap as a deadly signal, with its stack,
  # and saves the input.
  SWIFT_BACKTRACE=enable=no "./$out/$h" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$h")" -detect_leaks="$(leaks "$h")" -rss_limit_mb=2048 -timeout=10 \
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
