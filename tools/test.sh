#!/usr/bin/env bash
# Sets up (apt packages, build, the PyTorch environment) and runs every test: unit, parity with PyTorch (committed
# fixtures, no PyTorch needed), and end-to-end tests of the built executable, including tmux.
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
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with" "$log" | tail -1 || true)
if [ -n "$summary" ]; then
  total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
  failed=$(sed -E 's/.* ([0-9]+) failures?.*/\1/' <<<"$summary")
  skipped=$(grep -oE "[0-9]+ tests? skipped" <<<"$summary" | grep -oE "^[0-9]+" || echo 0)
  echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit $status
