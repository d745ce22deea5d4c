#!/usr/bin/env bash
# The model zoo at the official sizes (WRN-28-10, ResNeXt-29 8×64d, ResNet-110, ImageNet ResNet-50 at
# 224²; DenseNet-BC-100-12 and SE-ResNet-50 as they land) through real PyTorch, as
# ModelZooInteropTests does with small members in CI: an official-format checkpoint of the reference
# → convert_official_checkpoint.py → abn-hitl's evaluation outputs within 1e-4 of PyTorch's, and
# abn-hitl's file loading into PyTorch strictly with identical outputs. A few minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export ABN_TORCH_PYTHON=${ABN_TORCH_PYTHON:-$(bash tools/torch-env.sh)}
swift build -c release -Xswiftc -enable-testing --build-tests >&2
ABN_ZOO_FULL_SIZE=1 swift test -c release -Xswiftc -enable-testing --disable-swift-testing --skip-build \
  --filter ModelZooInteropTests
