from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def cal500_path() -> Path:
    """CAL500's MULAN ARFF file; absent in a user's clone, present in CI."""
    path = SHARED_DATA / "multilabel" / "CAL500.arff"
    if not path.is_file():
        pytest.skip(f"CAL500.arff not found at {path}")
    return path
