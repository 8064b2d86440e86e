"""The CUDA kernels compile with plain nvcc for sm_80 and sm_90, even on a machine
without a GPU: a broken kernel fails here, not first on a GPU."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("nvcc") is None and os.environ.get("GRAPHBIAS_REQUIRE_NVCC") != "1",
                    reason="nvcc not installed")
def test_cuda_kernels_compile_for_sm80_and_sm90():
    result = subprocess.run(["bash", str(ROOT / "cuda_ext" / "cuda" / "compile_check.sh")],
                            cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHON": sys.executable})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("OK ") == len(list((ROOT / "cuda_ext" / "cuda").glob("*.cu")))
