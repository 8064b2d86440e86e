import pytest

from graphbias.data.datasets import load_los_loop

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def los_loop():
    if not (SHARED_DATA / "traffic" / "los_speed.csv").exists():
        pytest.skip(f"Los-loop files not found under {SHARED_DATA / 'traffic'}")
    return load_los_loop(SHARED_DATA)
