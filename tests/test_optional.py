"""Optional dependencies: every package imports without its extra, and using a
capability that needs one says which extra to install."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from graphbias._optional import EXTRAS, MissingDependencyError, install_command, require

# a fresh interpreter in which the listed top-level modules behave as not installed:
# importing them raises ModuleNotFoundError and importlib.util.find_spec (which torch
# and scikit-learn use to probe for optional packages) returns None
_BLOCK = """
import importlib.abc, importlib.util, sys
BLOCKED = {blocked!r}
def _blocked(name):
    return name.split(".")[0] in BLOCKED
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if _blocked(name):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, package=None: (
    None if _blocked(name) else _find_spec(name, package))
sys.meta_path.insert(0, Block())
"""


def _run_without(blocked: set[str], code: str) -> str:
    script = _BLOCK.format(blocked=sorted(blocked)) + textwrap.dedent(code)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_require_names_the_extra():
    with pytest.raises(MissingDependencyError, match=r'pip install "graphbias\[stream\]"'):
        require("no_such_module_for_graphbias", "stream", "a feature")
    with pytest.raises(ValueError, match="unknown extra 'nope'"):
        install_command("nope")


def test_require_lets_a_broken_dependency_fail_as_itself(tmp_path, monkeypatch):
    """A module that is installed but fails to import its own dependency is not
    reported as a missing extra."""
    (tmp_path / "graphbias_broken_dep.py").write_text("import no_such_module_inside\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as err:
        require("graphbias_broken_dep", "stream", "a feature")
    assert not isinstance(err.value, MissingDependencyError)


def test_every_package_imports_without_any_extra():
    blocked = {m for modules in EXTRAS.values() for m in modules}
    out = _run_without(blocked, """
        import importlib, pkgutil, graphbias
        for info in pkgutil.walk_packages(graphbias.__path__, "graphbias."):
            if info.ispkg:
                importlib.import_module(info.name)
        print("ok")
    """)
    assert out.strip() == "ok"


@pytest.mark.parametrize("code, extra", [
    ("from graphbias.stream import IHOMER", "stream"),
    ("import graphbias.stream as s; s.evaluate_stream", "stream"),
    ("from graphbias.data.multilabel import load_yeast; load_yeast()", "stream"),
    ("from graphbias.data.temporal import time_covariates; "
     "time_covariates(['2024-01-01'])", "forecast"),
    ("from graphbias.forecast import HistoricalAverage\n"
     "import numpy as np\n"
     "from graphbias.data.temporal import SpatioTemporalData\n"
     "d = SpatioTemporalData(np.ones((6, 2)), timestamps=np.arange(6).astype("
     "'datetime64[m]'))\n"
     "HistoricalAverage().fit(d, (0, 4))", "forecast"),
    ("from graphbias.causal.dowhy_bridge import causal_model\n"
     "causal_model([0.0, 1.0], [0, 1], [[0.0], [1.0]], None)", "causal"),
    ("from graphbias.causal import EconMLLearner\n"
     "from graphbias.data.synthetic.network_causal import network_causal\n"
     "d = network_causal('ba', 60, seed=0)\n"
     "EconMLLearner().fit(d.Y, d.T, X=d.X, graph=d.graph)", "causal"),
    ("from graphbias.causal import EffectInference\n"
     "import numpy as np\n"
     "EffectInference(np.zeros(2), np.zeros((5, 2))).summary_frame()", "causal"),
])
def test_a_missing_extra_is_named(code, extra):
    blocked = {m for modules in EXTRAS.values() for m in modules}
    out = _run_without(blocked, f"""
        from graphbias._optional import MissingDependencyError
        try:
{textwrap.indent(code, " " * 12)}
        except MissingDependencyError as err:
            print(err)
    """)
    assert f'pip install "graphbias[{extra}]"' in out, out


def test_forecasting_without_timestamps_needs_no_pandas():
    out = _run_without({"pandas"}, """
        import numpy as np
        from graphbias.data.temporal import SpatioTemporalData
        from graphbias.forecast import HistoricalAverage
        d = SpatioTemporalData(np.arange(12.0).reshape(6, 2))
        print(HistoricalAverage().fit(d, (0, 4)).fallback_.ravel().tolist())
    """)
    assert out.strip() == "[3.0, 4.0]"


def test_lazy_names_are_listed_and_cached():
    import graphbias.stream as stream

    assert "IHOMER" in dir(stream) and "IHOMER" in stream.__all__
    assert stream.IHOMER is stream.__dict__["IHOMER"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        stream.nope  # noqa: B018


def test_smoke_suite_runs_without_any_extra(tmp_path):
    """The README's first command (a plain install, then the smoke suite) needs no
    optional dependency."""
    blocked = {m for modules in EXTRAS.values() for m in modules}
    out = _run_without(blocked, f"""
        import json, sys
        from graphbias.bench.cli import main
        sys.argv = ["graphbias", "bench", "--suite", "smoke", "--quick", "--seeds", "1",
                    "--methods", "gcn", "--out", {str(tmp_path)!r}]
        assert main() in (0, None)
        rows = [json.loads(line) for line in open({str(tmp_path / "results.jsonl")!r})]
        print(sorted((r["dataset"], r["method"], r["test_acc"] > 0.5) for r in rows))
    """)
    assert "('karate', 'gcn', True)" in out and "('sbm', 'gcn', True)" in out, out
