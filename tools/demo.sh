#!/usr/bin/env bash
# Sets up (apt packages, build) and runs the demo: the whole human-in-the-loop cycle on a
# built-in dataset. Extra arguments go to `abn-hitl demo` (e.g. --auto).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
exec "$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/abn-hitl" demo "$@"
