#!/usr/bin/env bash
# The GPU check: one short run, from the repository root on a machine with a CUDA GPU
# and a CUDA build of torch, that builds graphbias._C with its CUDA kernels, runs the
# CUDA tests, and measures the kernels and the methods on the GPU.
#
#   bash benchmarks/gpu_check.sh              # about 10 minutes
#   bash benchmarks/gpu_check.sh --dry-run    # print the steps and their limits, run nothing
#
# Steps, in order, each under its own time limit and all under a total budget, so
# that one slow step cannot eat the rest (a step left with under 15 s is skipped, and
# everything after a failed build):
#   build     setup.py build_ext --inplace for this GPU's architecture, then a probe
#             that the CUDA kernels (one-pass and split) are registered
#   ops       pytest tests/ops -k cuda: kernels and hub-balanced path on the GPU
#   contract  pytest tests/test_contract.py -k cuda: every torch estimator on CUDA
#   kernels   benchmarks/gpu/kernels.py        -> benchmarks/results/kernels_cuda/
#   gcn lagcn forecast rlearner compiled
#             benchmarks/gpu/methods.py --only <step> -> benchmarks/results/methods_cuda/
# Logs and summary.md go to benchmarks/results/gpu_check_cuda/.
#
# Exit status: 0 every step passed; 1 the build or a CUDA test failed (or did not
# run); 3 only measuring steps failed, ran out of time or were skipped; 2 no CUDA GPU
# (nothing is run); 64 bad usage.
#
# Environment: PYTHON (python3), DATA (../shared/data: planetoid/ and traffic/; Cora
# falls back to an SBM of its size, Los-loop steps fail without it), BUDGET_S (720),
# and per step <STEP>_TIMEOUT_S, e.g. KERNELS_TIMEOUT_S=200.
set -u

usage() {
  sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'
}

DRY_RUN=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_check: unknown argument '$arg'" >&2; usage >&2; exit 64 ;;
  esac
done

PY=${PYTHON:-python3}
DATA=${DATA:-../shared/data}
BUDGET_S=${BUDGET_S:-720}
RESULTS=benchmarks/results
LOGS=$RESULTS/gpu_check_cuda
PYTEST="$PY -m pytest -q -rs -p no:cacheprovider -o addopts=--import-mode=importlib"
QDATA=$(printf %q "$DATA")
METHODS="$PY benchmarks/gpu/methods.py --device cuda --data $QDATA --out $RESULTS/methods_cuda"

# name | kind (test: its failure fails the check; measure) | default limit (s) | command
STEPS=(
  "build|test|240|$PY setup.py -q build_ext --inplace && $PY -c 'from graphbias.ops import _balanced, _compiled; assert \"cuda\" in _compiled.DEVICE_TYPES and _balanced.KERNELS is not None, \"CUDA kernels not built\"; print(\"CUDA kernels registered\")'"
  "ops|test|90|$PYTEST tests/ops -k 'cuda and not sm80'"
  "contract|test|120|$PYTEST tests/test_contract.py -k cuda"
  "kernels|measure|90|$PY benchmarks/gpu/kernels.py --device cuda --data $QDATA --out $RESULTS/kernels_cuda"
  "gcn|measure|30|$METHODS --only gcn"
  "lagcn|measure|45|$METHODS --only lagcn"
  "forecast|measure|60|$METHODS --only forecast"
  "rlearner|measure|30|$METHODS --only rlearner"
  "compiled|measure|45|$METHODS --only compiled"
)

limit_of() {  # the step's limit: <NAME>_TIMEOUT_S or its default
  local var
  var="$(echo "$1" | tr '[:lower:]' '[:upper:]')_TIMEOUT_S"
  echo "${!var:-$2}"
}

if [ "$DRY_RUN" = 1 ]; then
  echo "gpu_check: dry run, total budget ${BUDGET_S}s; steps:"
  for step in "${STEPS[@]}"; do
    IFS='|' read -r name kind limit cmd <<<"$step"
    printf '  %-9s %-8s %4ss  %s\n' "$name" "$kind" "$(limit_of "$name" "$limit")" "$cmd"
  done
  exit 0
fi

if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  torch_says=$("$PY" -c "import torch; print(f'torch {torch.__version__}, CUDA build {torch.version.cuda}')" 2>&1 | tail -n 1)
  echo "gpu_check: no CUDA GPU visible to torch ($torch_says); nothing run." >&2
  echo "gpu_check: run it on a machine with a CUDA GPU and a CUDA build of torch (--dry-run lists the steps)." >&2
  exit 2
fi

ARCH=$("$PY" -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$ARCH}
export MAX_JOBS=${MAX_JOBS:-$(nproc)}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
mkdir -p "$LOGS" "$RESULTS/methods_cuda"
rm -f "$RESULTS/methods_cuda/results.jsonl"  # this run's records only
"$PY" -c "import torch; print(f'gpu_check: {torch.cuda.get_device_name()}, torch {torch.__version__}, arch $ARCH')" | tee "$LOGS/device.txt"

START=$SECONDS
declare -a SUMMARY
test_failed=0
measure_failed=0
build_failed=0
for step in "${STEPS[@]}"; do
  IFS='|' read -r name kind limit cmd <<<"$step"
  limit=$(limit_of "$name" "$limit")
  left=$((BUDGET_S - (SECONDS - START)))
  [ "$left" -lt "$limit" ] && limit=$left
  took=0
  rc=1
  if [ "$build_failed" = 1 ]; then
    status="skipped (no CUDA kernels)"
  elif [ "$limit" -lt 15 ]; then
    status="skipped (budget)"
  else
    echo "== $name (limit ${limit}s): $cmd"
    t0=$SECONDS
    timeout --kill-after=10 "$limit" bash -c "$cmd" >"$LOGS/$name.log" 2>&1
    rc=$?
    took=$((SECONDS - t0))
    case $rc in
      0) status="ok" ;;
      124|137) status="TIMEOUT after ${limit}s" ;;
      *) status="FAILED (exit $rc)" ;;
    esac
    tail -n 15 "$LOGS/$name.log"
  fi
  if [ "$rc" != 0 ]; then
    if [ "$kind" = test ]; then test_failed=1; else measure_failed=1; fi
    [ "$name" = build ] && build_failed=1
  fi
  SUMMARY+=("| $name | $kind | $status | $took |")
  echo "-- $name: $status (${took}s)"
done

{
  echo "GPU check, $(cat "$LOGS/device.txt"), $(date -u +%Y-%m-%dT%H:%MZ), $((SECONDS - START)) s."
  echo
  echo "| step | kind | status | seconds |"
  echo "|---|---|---|---|"
  printf '%s\n' "${SUMMARY[@]}"
} >"$LOGS/summary.md"
cat "$LOGS/summary.md"

if [ "$test_failed" = 1 ]; then
  echo "gpu_check: FAILED: the build or a CUDA test failed (logs in $LOGS)" >&2
  exit 1
fi
if [ "$measure_failed" = 1 ]; then
  echo "gpu_check: a measuring step failed, timed out or was skipped (logs in $LOGS)" >&2
  exit 3
fi
echo "gpu_check: all steps passed"
