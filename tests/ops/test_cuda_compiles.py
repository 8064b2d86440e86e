"""The CUDA kernels compile with plain nvcc for sm_80 and sm_90, even on a machine
without a GPU: a broken kernel fails here, not first on a GPU. Also without a GPU:
the piece arithmetic of the hub-balanced kernels, compiled from its CUDA header into
a host program, agrees with the Python planner; every op the CUDA sources define has
a CUDA kernel and a caller."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from graphbias.ops import _compiled
from graphbias.ops._balanced import SplitKernels, piece_bounds, plan_rows

ROOT = Path(__file__).resolve().parents[2]
CUDA_DIR = ROOT / "cuda_ext" / "cuda"
NVCC = pytest.mark.skipif(
    shutil.which("nvcc") is None and os.environ.get("GRAPHBIAS_REQUIRE_NVCC") != "1",
    reason="nvcc not installed")


@NVCC
def test_cuda_kernels_compile_for_sm80_and_sm90():
    result = subprocess.run(["bash", str(CUDA_DIR / "compile_check.sh")],
                            cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHON": sys.executable})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("OK ") == len(list(CUDA_DIR.glob("*.cu")))


def _plan_line(indptr: torch.Tensor, chunk: int) -> tuple[str, list[int]]:
    """One input line of pieces_host.cu and the pieces piece_bounds gives."""
    plan = plan_rows(indptr, chunk)
    fields = [chunk, indptr.numel() - 1, plan.split_row.numel(), plan.num_pieces]
    for t in (indptr, *plan[1:]):
        fields += t.tolist()
    row, lo, hi = piece_bounds(indptr, plan)
    return " ".join(map(str, fields)), torch.stack([row, lo, hi], 1).view(-1).tolist()


@NVCC
def test_kernel_piece_arithmetic_matches_the_planner(tmp_path):
    exe = tmp_path / "pieces_host"
    build = subprocess.run(["nvcc", "-std=c++17", f"-I{ROOT / 'cuda_ext'}", "-o", str(exe),
                            str(Path(__file__).with_name("pieces_host.cu"))],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    gen = torch.Generator().manual_seed(0)
    cases = []
    for chunk in (1, 2, 3, 7, 32):
        for _ in range(5):
            deg = torch.randint(0, 3 * chunk + 2, (int(torch.randint(1, 40, (1,), generator=gen)),),
                                generator=gen)
            deg[0] = 2 * chunk + 1  # at least one split row
            indptr = torch.cat([torch.zeros(1, dtype=torch.long), deg.cumsum(0)])
            cases.append(_plan_line(indptr, chunk))
    run = subprocess.run([str(exe)], input="\n".join(line for line, _ in cases) + "\n",
                         capture_output=True, text=True, check=True)
    got = [list(map(int, line.split())) for line in run.stdout.splitlines()]
    assert got == [want for _, want in cases]


def test_every_cuda_op_has_a_cuda_kernel_and_a_caller():
    source = "\n".join(p.read_text() for p in CUDA_DIR.glob("*.cu"))
    defined = set(re.findall(r'm\.def\("(\w+)\(', source))
    implemented = set(re.findall(r'm\.impl\("(\w+)"', source))
    assert defined == {name + "_split" for name in _compiled.SPLIT_OPS}
    assert defined <= implemented
    assert SplitKernels._fields == tuple(name.lstrip("_") for name in _compiled.SPLIT_OPS)
