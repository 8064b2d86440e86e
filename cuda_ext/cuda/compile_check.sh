#!/usr/bin/env bash
# Compiles every cuda_ext/cuda/*.cu for sm_80 and sm_90 against the headers of the
# active Python's torch (a CPU wheel will do), one line per file; exits 1 on any
# error, and on any kernel that spills registers to local memory (ptxas
# -warn-spills -Werror: these kernels are memory-bound, a spill is a slowdown found
# without a GPU). Run from the repository root with the virtual environment active.
# Without nvcc it exits 0 with a message, unless GRAPHBIAS_REQUIRE_NVCC=1.
set -u

if ! command -v nvcc >/dev/null 2>&1; then
  if [ "${GRAPHBIAS_REQUIRE_NVCC:-0}" = "1" ]; then
    echo "compile_check: nvcc not found and GRAPHBIAS_REQUIRE_NVCC=1" >&2
    exit 1
  fi
  echo "compile_check: nvcc not found, CUDA kernels not checked"
  exit 0
fi

PY=${PYTHON:-python}
TI=$("$PY" -c "import torch.utils.cpp_extension as c; print(' '.join('-I'+p for p in c.include_paths()))") || exit 1
PYI=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['include'])") || exit 1
ABI=$("$PY" -c "import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))") || exit 1
TORCH_INC=$("$PY" -c "import torch.utils.cpp_extension as c; print(c.include_paths()[0])") || exit 1

# CPU wheels of torch lack the generated c10/cuda/impl/cuda_cmake_macros.h; its one
# macro (C10_CUDA_BUILD_SHARED_LIBS) only matters on Windows, so skip the include.
EXTRA=()
if [ ! -f "$TORCH_INC/c10/cuda/impl/cuda_cmake_macros.h" ]; then
  EXTRA+=(-DC10_CUDA_NO_CMAKE_CONFIGURE_FILE)
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# One nvcc per file, in parallel; results printed in file order.
files=(cuda_ext/cuda/*.cu)
pids=()
for i in "${!files[@]}"; do
  f=${files[$i]}
  # shellcheck disable=SC2086  # TI holds several -I flags
  nvcc -c -std=c++17 -O3 --expt-relaxed-constexpr -Xptxas -warn-spills,-Werror \
    -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
    $TI -I"$PYI" -Icuda_ext -D_GLIBCXX_USE_CXX11_ABI="$ABI" -DTORCH_EXTENSION_NAME=_C \
    "${EXTRA[@]}" -o "$TMP/$i.o" "$f" >"$TMP/$i.log" 2>&1 &
  pids+=($!)
done

status=0
for i in "${!files[@]}"; do
  if wait "${pids[$i]}"; then
    echo "OK   ${files[$i]} (sm_80, sm_90)"
  else
    echo "FAIL ${files[$i]} (sm_80, sm_90)"
    cat "$TMP/$i.log"
    status=1
  fi
done
exit $status
