import pytest
import torch

from graphbias.ops import _compiled

BACKENDS = [
    "torch",
    pytest.param("compiled", marks=pytest.mark.skipif(
        not _compiled.AVAILABLE, reason="graphbias._C not built")),
]
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(
        not torch.cuda.is_available(), reason="no CUDA device")),
]


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    """Runs a test once per backend (the pure-torch path and the compiled kernels)."""
    monkeypatch.setenv("GRAPHBIAS_BACKEND", request.param)
    return request.param


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)
