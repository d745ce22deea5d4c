#!/usr/bin/env bash
# Installs the Debian packages abn-hitl builds against (only those missing), then builds it.
# Usage: bash tools/setup.sh [--packages-only]   (run as root, or with sudo available)
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(libncursesw5-dev ncurses-term libpng-dev libjpeg-dev libsqlite3-dev sqlite3 libdnnl-dev tmux pkg-config fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >&2
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
[ "${1:-}" = --packages-only ] && exit 0
# One build configuration for the tool, its tests and the demo, so nothing is compiled twice.
swift build -c release -Xswiftc -enable-testing >&2
