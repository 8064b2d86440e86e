import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _import_script(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(Path(path).stem, BENCHMARKS / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def benchmark_script():
    """Imports the benchmark script ``benchmarks/<path>`` as a module."""
    return _import_script


@pytest.fixture(scope="session")
def planetoid_root() -> Path:
    """The Planetoid files for tests; absent in a user's clone, present in CI."""
    root = SHARED_DATA / "planetoid"
    if not (root / "ind.cora.x").exists():
        pytest.skip(f"Planetoid files not found under {root}")
    return root
