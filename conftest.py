"""Test-session settings shared by the tests, the doctests and the tutorials.

Torch runs one intra-op thread per process unless ``OMP_NUM_THREADS`` says otherwise:
the suite's operations are small, and on a 2-core machine a second thread per
process costs more than it gains (and slows small ops many times over when another
process holds the other core). Child processes (notebook kernels, distributed
workers, isolated loaders) inherit the setting through the environment.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402  (after the environment is set)

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
