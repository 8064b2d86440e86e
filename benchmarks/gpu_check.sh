#!/usr/bin/env bash
# GPU check, run from the repository root on a machine with a CUDA build of torch:
# builds graphbias._C with its CUDA kernels, runs the kernel tests (CUDA cases
# included), then the kernel benchmark on the GPU against cuSPARSE
# (torch.sparse.mm), torch's index_add_ / scatter_reduce, PyG and torch-scatter
# when installed. Writes results to ${OUT:-benchmarks/results/ops_cuda}.
set -euo pipefail
OUT_DIR=${OUT:-benchmarks/results/ops_cuda}
PY=${PYTHON:-python3}
export MAX_JOBS=${MAX_JOBS:-16} PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-"8.0;9.0"}
echo "== build"; date
"$PY" setup.py -q build_ext --inplace
"$PY" -c "import torch, graphbias.ops as o; print('backend', o.backend(), 'torch', torch.__version__, torch.cuda.get_device_name())"
echo "== tests"; date
"$PY" -m pytest tests/ops -q -p no:cacheprovider -o addopts="" -x
echo "== benchmark"; date
"$PY" benchmarks/ops.py --device cuda --out "$OUT_DIR" --headline
timeout 240 "$PY" benchmarks/ops.py --device cuda --out "$OUT_DIR/large" --repeats 5 \
  | tail -n 60 || true
date
