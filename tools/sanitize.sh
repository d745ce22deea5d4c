#!/usr/bin/env bash
# Builds everything — the Swift modules, the C shims (libpng/libjpeg, curses, oneDNN) and the executables
# the end-to-end tests start — with AddressSanitizer, the C shims also with UndefinedBehaviorSanitizer
# (Swift has no -sanitize=undefined on Linux; its own overflow and bounds checks play that part, so the
# engine is built here without -Ounchecked, see Package.swift), in a separate build folder
# (.build/sanitize, the normal build is untouched), then runs the test suite there. Any sanitizer
# report or Swift runtime check stops the process that made it, so it fails the test that ran it.
# Usage: bash tools/sanitize.sh [swift test arguments, e.g. --filter SessionTests]
# Takes about as long again as tools/test.sh for the build, and two to three times as long for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --packages-only
ABN_TORCH_PYTHON=${ABN_TORCH_PYTHON:-$(bash tools/torch-env.sh)}
export ABN_TORCH_PYTHON

export ABN_CHECKED=1
# The test process loads libgomp before any of our code runs, so the passive wait policy abn-hitl sets
# for itself (main.swift) must come from here: spinning OpenMP threads slowed by the sanitizers and
# sharing two cores with a child process made one training test take over an hour.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
config=(-c release -Xswiftc -enable-testing --sanitize address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined
        --scratch-path .build/sanitize)
swift build "${config[@]}" --build-tests >&2

# Reports go to files, one per process, so a report from a child process (an end-to-end test's abn-hitl
# or review host, whose stderr the test captures) cannot pass unseen, and exit code 99 keeps it apart
# from the exit 1 a bad-input test expects. detect_leaks=0: SQLite, GRDB, curses and oneDNN keep
# process-wide caches for the life of the process, which LeakSanitizer reports at exit although nothing
# grows. UBSan halts at its first report: its default is to print and carry on.
reports=$PWD/.build/sanitize/reports
rm -rf "$reports" && mkdir -p "$reports"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1:exitcode=99:log_path=$reports/asan}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:exitcode=99:log_path=$reports/ubsan}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
swift test "${config[@]}" --disable-swift-testing --skip-build "$@" 2>&1 | tee "$log" || status=$?
if [ -n "$(ls -A "$reports")" ]; then
  echo "sanitize: reports in $reports:" >&2
  for f in "$reports"/*; do echo "== $f" >&2; head -40 "$f" >&2; done
  status=1
fi
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with" "$log" | tail -1 || true)
[ -n "$summary" ] && echo "sanitize: $summary"
exit $status
