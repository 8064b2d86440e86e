"""benchmarks/gpu_check.sh and the GPU benchmarks it runs, on a machine without a GPU:
the script lists its steps (--dry-run), refuses to run without a GPU and says why,
and the benchmarks run on the CPU and report their goals correctly."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"
NO_GPU = pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"gpu_{name}", ROOT / "benchmarks" / "gpu"
                                                  / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "PYTHON": sys.executable, **env})


def _dry_run_steps(**env: str) -> dict[str, tuple[str, int, str]]:
    result = _run("--dry-run", **env)
    assert result.returncode == 0, result.stderr
    steps = {}
    for line in result.stdout.splitlines()[1:]:
        name, kind, limit, cmd = re.match(r"\s+(\S+)\s+(\S+)\s+(\d+)s\s+(.*)", line).groups()
        steps[name] = (kind, int(limit), cmd)
    return steps


def test_dry_run_lists_the_steps_with_their_limits():
    steps = _dry_run_steps(KERNELS_TIMEOUT_S="7", DATA="/data/here")
    assert list(steps) == ["build", "ops", "contract", "kernels", "gcn", "lagcn", "forecast",
                           "rlearner", "compiled"]
    assert steps["kernels"][1] == 7 and steps["build"][1] == 240
    assert {s[0] for n, s in steps.items() if n in ("build", "ops", "contract")} == {"test"}
    assert "pytest tests/ops -k 'cuda" in steps["ops"][2].replace(
        "-q -rs -p no:cacheprovider -o addopts=--import-mode=importlib ", "")
    assert "tests/test_contract.py -k cuda" in steps["contract"][2]
    assert "--data /data/here" in steps["gcn"][2]
    assert all("_cuda" in cmd for n, (_, _, cmd) in steps.items() if n not in ("build", "ops",
                                                                              "contract"))


def test_every_method_benchmark_is_a_step():
    steps = _dry_run_steps()
    only = {re.search(r"--only (\w+)", cmd).group(1) for _, _, cmd in steps.values()
            if "--only" in cmd}
    assert only == set(_module("methods").STEPS)


@NO_GPU
def test_without_a_gpu_it_says_so_and_runs_nothing():
    result = _run()
    assert result.returncode == 2
    assert "no CUDA GPU visible to torch" in result.stderr
    assert result.stdout == ""


def test_a_bad_argument_is_refused():
    result = _run("--fast")
    assert result.returncode == 64
    assert "unknown argument '--fast'" in result.stderr


@NO_GPU
@pytest.mark.parametrize("name", ["kernels", "methods"])
def test_the_benchmarks_refuse_cuda_without_a_gpu(name, tmp_path):
    assert _module(name).main(["--device", "cuda", "--out", str(tmp_path)]) == 2


def test_kernel_benchmark_runs_on_the_cpu(tmp_path):
    kernels = _module("kernels")
    assert kernels.main(["--device", "cpu", "--quick", "--repeats", "1", "--graphs",
                         "zipf,ogb-powerlaw", "--out", str(tmp_path)]) == 0
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert {r["graph"] for r in records} == {"zipf", "ogb-powerlaw"}
    zipf = next(r for r in records if r["graph"] == "zipf")
    assert zipf["max_in"] > 100 and zipf["split_rows"] > 0  # the hubs are split
    text = (tmp_path / "table.md").read_text()
    assert "| zipf |" in text and "| ogb-powerlaw |" in text


def _record(graph, method, ms, reduce="sum", pas="fwd"):
    return {"graph": graph, "width": 16, "reduce": reduce, "pass": pas, "method": method,
            "ms": ms, "edges": 10, "max_in": 5, "gbps": 1.0, "fraction": 0.5}


def test_kernel_table_reports_each_goal_and_the_miss():
    kernels = _module("kernels")
    records = [_record("er", "graphbias-compiled", 1.0), _record("er", "torch.sparse.mm", 2.0),
               _record("er", "graphbias-compiled", 1.0, "max", "fwd+bwd"),
               _record("er", "scatter_reduce", 4.0, "max", "fwd+bwd"),
               _record("zipf", "graphbias-compiled", 1.0), _record("zipf", "torch.sparse.mm", 1.2),
               _record("zipf", "graphbias-compiled", 1.0, "max", "fwd+bwd"),
               _record("zipf", "graphbias-onepass", 9.0, "max", "fwd+bwd"),
               _record("zipf", "scatter_reduce", 2.0, "max", "fwd+bwd")]
    text = kernels.table(records, {"gpu": "a GPU", "torch": "2", "copy_gbps": 100.0})
    assert "| er | 2.00x | met | 4.00x | met |" in text
    assert "| zipf | 1.20x | misses by 1.25x | 2.00x | misses by 1.50x |" in text
    # the one-pass kernels are not a peer: the best peer of zipf max is scatter_reduce
    assert "| zipf | 10 | 5 | 16 | max | fwd+bwd | 1.000 | 9.000 | scatter_reduce |" in text


def test_method_benchmark_runs_on_the_cpu_and_records_failures(tmp_path):
    methods = _module("methods")
    assert methods.main(["--device", "cpu", "--quick", "--only", "compiled",
                         "--out", str(tmp_path)]) == 0
    assert methods.main(["--device", "cpu", "--quick", "--only", "forecast",
                         "--data", str(tmp_path / "none"), "--out", str(tmp_path)]) == 1
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    compiled = [r for r in records if r["step"] == "compiled"]
    assert [r["method"] for r in compiled] == ["compiled-bfs", "compiled-bellman_ford"]
    assert all(r["exact"] for r in compiled)
    failed = [r for r in records if r["step"] == "forecast"]
    assert len(failed) == 1 and "FileNotFoundError" in failed[0]["error"]
    table = (tmp_path / "table.md").read_text()
    assert "| compiled | cpu | compiled-bfs |" in table and "| forecast | cpu | - |" in table


def test_method_benchmark_refuses_an_unknown_step(tmp_path):
    with pytest.raises(SystemExit):
        _module("methods").main(["--device", "cpu", "--only", "gcn,bogus",
                                 "--out", str(tmp_path)])
