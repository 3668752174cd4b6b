#!/usr/bin/env bash
# A virtual environment for benchmarks/generation_anchors.py: inseq beside this checkout's Python (torch, transformers,
# captum and reportgen come from it), installed without dependencies, since inseq 0.7.1's own requirements would
# pull CUDA wheels and pin versions it does not import.
#   bash benchmarks/inseq_env.sh [FOLDER]     # default: inseq-env beside the checkout
set -euo pipefail
env_dir=${1:-$(cd "$(dirname "$0")/../.." && pwd)/inseq-env}
python -m venv --system-site-packages "$env_dir"
"$env_dir/bin/pip" install -q --no-deps inseq==0.7.1 jaxtyping==0.3.11 wadler_lindig==0.1.8 treescope==0.1.10 \
    typeguard==2.13.3 protobuf sentencepiece
"$env_dir/bin/python" -c "import inseq, torch; assert torch.__version__.endswith('+cpu') or torch.cuda.is_available()"
echo "$env_dir/bin/python benchmarks/generation_anchors.py"
