#!/usr/bin/env bash
# Makes the review screen captures that README.md and docs/guide.md show: a small real session
# (synth, train one epoch, collect), `abn-hitl review` in a private tmux server, keys sent as a person
# would, and each screen saved as text (NAME.txt, capture-pane -p) and with colours (NAME.ans,
# capture-pane -e -p); NAME.png too where a Python with Pillow is at hand (tools/screenshot.py).
# Usage: bash tools/doc_captures.sh [OUT_DIR]    (default /tmp/abn-hitl-captures; needs the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/abn-hitl-captures}
bin="$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/abn-hitl"
python=${ABN_TORCH_PYTHON:-$(bash tools/torch-env.sh)}
work=$(mktemp -d)
socket="abn-hitl-doc-captures-$$"
cleanup() { tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$out"

"$bin" synth --out "$work/data" --train 40 --test 10 --seed 1 >/dev/null
"$bin" train --data "$work/data" --out "$work/model.safetensors" --epochs 1 --batch-size 20 --threads 2 >/dev/null
"$bin" collect --model "$work/model.safetensors" --data "$work/data" --session "$work/session" --select all --limit 12 >/dev/null

# start COLUMNS ROWS: review in a fresh pane of that size (truecolour, as a modern terminal offers).
start() {
  tmux -L "$socket" kill-server 2>/dev/null || true
  tmux -L "$socket" -f /dev/null new-session -d -s review -x "$1" -y "$2" \
    "exec env TERM=xterm-256color COLORTERM=truecolor LANG=C.UTF-8 LC_ALL=C.UTF-8 '$bin' review '$work/session' --annotator docs"
  wait_for "?:help"
}
keys() { tmux -L "$socket" send-keys -t review -l "$1"; }
# wait_for TEXT: until the screen shows TEXT (10 s at most), then a moment for the colours that follow.
wait_for() {
  for _ in $(seq 200); do
    tmux -L "$socket" capture-pane -p -t review | grep -qF -- "$1" && { sleep 0.3; return 0; }
    sleep 0.05
  done
  echo "doc_captures: timed out waiting for '$1'" >&2
  tmux -L "$socket" capture-pane -p -t review >&2
  exit 1
}
# shot NAME: the screen as text (trailing blanks trimmed) and with colours, and as a PNG.
shot() {
  tmux -L "$socket" capture-pane -p -t review | sed 's/[[:space:]]*$//' > "$out/$1.txt"
  # -N keeps trailing blanks, whose background colour (the status bar's) is part of the picture.
  tmux -L "$socket" capture-pane -e -N -p -t review > "$out/$1.ans"
  local size; size=$(tmux -L "$socket" display-message -p -t review '#{pane_width} #{pane_height}')
  "$python" tools/screenshot.py "$out/$1.ans" "$out/$1.png" --columns "${size% *}" --rows "${size#* }"
  echo "$out/$1.txt"
}
quit() { keys q; sleep 0.3; }

# Some review done first, so the list shows each mark: the first sample accepted, one dab on the
# second, the third flagged with a note, the fourth excluded.
start 120 40
keys a; wait_for "Samples 2/12"
keys " "; wait_for "what-if (edited map)"
keys n; wait_for "Samples 3/12"
keys f; wait_for "flag note:"
keys "patch, not shape"; tmux -L "$socket" send-keys -t review Enter; wait_for "flagged"
keys n; wait_for "Samples 4/12"
keys x; wait_for "1x"
quit

# The list narrowed by a filter (typed, then kept with Enter) and sorted by confidence.
start 100 30
keys "/circle"; sleep 0.3; tmux -L "$socket" send-keys -t review Enter; wait_for "/circle"
keys s; wait_for "· by confid"
shot filter-100x30
quit

# Side by side: image | map | blend.
start 120 30
keys v; wait_for "[image | map | blend]"
shot side-by-side-120x30
quit

# Zoomed ×3 at the brush, which then moved right (the view follows).
start 100 30
keys zz; wait_for "zoom ×3"
tmux -L "$socket" send-keys -t review Tab; keys LLL; sleep 0.5
shot zoom-100x30
quit

# 80×24: the main view and the help's two pages.
start 80 24
shot review-80x24
keys "?"; wait_for "Keys 1/2"
shot help-1-80x24
keys " "; wait_for "Keys 2/2"
shot help-2-80x24
quit
