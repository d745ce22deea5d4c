#!/usr/bin/env bash
# Sets up (apt packages, build, the PyTorch environment) and runs every test: unit, parity with PyTorch (committed
# fixtures, no PyTorch needed), end-to-end tests of the built executable, including tmux, and (with no
# arguments) each fuzz harness for ABN_FUZZ_SECONDS (default 10).
# Ends with one summary line: "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
# The PyTorch side (safetensors, torch) for the interop tests; made once, about a minute.
ABN_TORCH_PYTHON=${ABN_TORCH_PYTHON:-$(bash tools/torch-env.sh)}
export ABN_TORCH_PYTHON
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
swift test -c release -Xswiftc -enable-testing --disable-swift-testing "$@" 2>&1 | tee "$log" || status=$?
# The fuzz harnesses briefly (tools/fuzz.sh; docs/reliability.md has the long run), unless only some tests were asked for.
if [ $# -eq 0 ]; then bash tools/fuzz.sh "${ABN_FUZZ_SECONDS:-10}" || status=1; fi
# The docs' screenshot renderer (tools/screenshot.py) against its hand-made captures.
if [ $# -eq 0 ]; then "$ABN_TORCH_PYTHON" tools/screenshot.py --self-test || status=1; fi
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with" "$log" | tail -1 || true)
if [ -n "$summary" ]; then
  total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
  failed=$(sed -E 's/.* ([0-9]+) failures?.*/\1/' <<<"$summary")
  skipped=$(grep -oE "[0-9]+ tests? skipped" <<<"$summary" | grep -oE "^[0-9]+" || echo 0)
  echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit $status
