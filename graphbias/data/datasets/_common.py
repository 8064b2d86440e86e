"""What the dataset loaders share: path types and the optional pandas import."""
from __future__ import annotations

import os
from typing import Any

from ..._optional import require

PathLike = str | os.PathLike


def _pandas(extra: str, feature: str) -> Any:
    """pandas, or a :class:`~graphbias._optional.MissingDependencyError` naming
    ``extra``."""
    return require("pandas", extra, feature)
