"""Builds the compiled kernels in cuda_ext/ as graphbias._C.

CPU kernels are always built when a C++ compiler and torch are present; the CUDA
kernels are added when torch is a CUDA build and nvcc is found. If the build
fails, the package installs without the extension and graphbias.ops runs its
pure-torch path (it warns once at import). Set GRAPHBIAS_NO_EXT=1 to skip it.

A built extension is loaded once in a fresh interpreter and made to raise one of its
argument errors: a compiler whose C++ standard library differs from torch's can
build kernels that compute correctly but crash the process when they format an
error message. Such a build is removed (pure-torch path) with a message naming the
compiler; build with the compiler torch was built with (``CC=gcc CXX=g++``).
"""
import glob
import os
import subprocess
import sys

from setuptools import setup

ROOT = os.path.dirname(os.path.abspath(__file__))

# Loads the extension at argv[1] and calls a kernel with a bad argument: exit 0 when
# the kernel's check raises its RuntimeError, non-zero (a signal) when it crashes.
_ERROR_PROBE = """
import sys, torch
torch.ops.load_library(sys.argv[1])
try:
    torch.ops.graphbias._gather_csr(torch.zeros(2, 1), torch.tensor([0, 1, 2, 2]), 2)
except RuntimeError as err:
    sys.exit(0 if "src has 2 rows" in str(err) else 3)
sys.exit(4)
"""


def _extensions():
    if os.environ.get("GRAPHBIAS_NO_EXT") == "1":
        return [], {}
    try:
        import torch
        from torch.utils.cpp_extension import (CUDA_HOME, BuildExtension, CppExtension,
                                               CUDAExtension)
    except ImportError:
        print("graphbias: torch is not installed at build time; building without "
              "compiled kernels (install torch first and use --no-build-isolation)",
              file=sys.stderr)
        return [], {}

    def rel(pattern):
        return sorted(os.path.relpath(p, ROOT)
                      for p in glob.glob(os.path.join(ROOT, "cuda_ext", pattern)))

    sources = rel("*.cpp") + rel("cpu/*.cpp") + rel("autograd/*.cpp")
    cxx = ["-O3", "-fopenmp", "-std=c++17"]
    link = ["-fopenmp"]
    with_cuda = (torch.version.cuda is not None and CUDA_HOME is not None
                 and os.environ.get("GRAPHBIAS_NO_CUDA") != "1")
    if with_cuda:
        ext = CUDAExtension(
            "graphbias._C", sources + rel("cuda/*.cu"), include_dirs=[os.path.join(ROOT, "cuda_ext")],
            define_macros=[("WITH_CUDA", None)],
            extra_compile_args={"cxx": cxx, "nvcc": ["-O3", "--expt-relaxed-constexpr"]},
            extra_link_args=link)
    else:
        ext = CppExtension("graphbias._C", sources,
                           include_dirs=[os.path.join(ROOT, "cuda_ext")],
                           extra_compile_args=cxx, extra_link_args=link)

    class OptionalBuildExt(BuildExtension):
        """A failed kernel build leaves a working pure-torch install."""

        def build_extension(self, ext):
            super().build_extension(ext)
            path = self.get_ext_fullpath(ext.name)
            rc = subprocess.run([sys.executable, "-c", _ERROR_PROBE, path],
                                capture_output=True, timeout=600).returncode
            if rc != 0:
                os.remove(path)
                raise RuntimeError(
                    f"the built kernels crash when they raise an argument error (probe "
                    f"exit {rc}): the compiler CXX={os.environ.get('CXX', 'c++')} links a C++ "
                    "standard library that differs from torch's; build with the "
                    "compiler torch was built with, e.g. CC=gcc CXX=g++")

        def run(self):
            try:
                super().run()
            except Exception as err:  # noqa: BLE001 - reported, install continues
                print(f"graphbias: compiled kernels not built ({err}); the pure-torch "
                      "path will be used", file=sys.stderr)

    return [ext], {"build_ext": OptionalBuildExt}


ext_modules, cmdclass = _extensions()
setup(ext_modules=ext_modules, cmdclass=cmdclass)
