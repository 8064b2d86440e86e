"""What the dataset loaders share: path types and the optional pandas import."""
from __future__ import annotations

import os
from typing import Any

PathLike = str | os.PathLike


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError("reading OGB and traffic CSV files needs pandas: "
                          "pip install 'graphbias[ogb]'") from None
    return pandas
