from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def planetoid_root() -> Path:
    """The Planetoid files for tests; absent in a user's clone, present in CI."""
    root = SHARED_DATA / "planetoid"
    if not (root / "ind.cora.x").exists():
        pytest.skip(f"Planetoid files not found under {root}")
    return root
