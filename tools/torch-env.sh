#!/usr/bin/env bash
# Makes (once) the Python environment the PyTorch side of this project uses: PyTorch CPU, safetensors,
# numpy and Pillow, for the interop tests, the fixture scripts and the benchmarks. Prints its python.
#   python=$(bash tools/torch-env.sh)          # default folder: $ABN_TORCH_ENV or /tmp/abn-torch-env
#   bash tools/torch-env.sh --extra onnxruntime # also install PyPI packages a benchmark or peer needs
# PyTorch comes from a local CPU wheel (/opt/wheels, as the machine image ships it) when there is one,
# else from Debian's python3-torch; the rest from PyPI. Every script and test that needs it reads the
# python from ABN_TORCH_PYTHON, which tools/test.sh sets from this script.
set -euo pipefail
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --extra) extra+=("$2"); shift 2 ;;
    -h|--help) sed -n 2,8p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "torch-env: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
dir=${ABN_TORCH_ENV:-/tmp/abn-torch-env}
py="$dir/bin/python"
if [ ! -x "$py" ] || ! "$py" -c 'import torch, safetensors, numpy, PIL' 2>/dev/null; then
  echo "torch-env: making $dir" >&2
  wheel=$(ls /opt/wheels/torch-*.whl 2>/dev/null | head -1 || true)
  if [ -n "$wheel" ]; then
    python3 -m venv "$dir" >&2
    "$py" -m pip install -q "$wheel" >&2
  else
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch python3-venv >&2
    /usr/bin/python3 -m venv --system-site-packages "$dir" >&2
  fi
  "$py" -m pip install -q safetensors numpy pillow >&2
fi
# pip leaves a package that is already there alone.
[ ${#extra[@]} -eq 0 ] || "$py" -m pip install -q "${extra[@]}" >&2
echo "$py"
