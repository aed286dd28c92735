"""Build script: the metadata lives in setup.cfg; this adds the optional C extensions.

``_nnlite_kernels`` fuses element-wise passes of the training loop.
``_nnlite_split`` runs a matrix product as two row ranges, one on a second
core (POSIX threads; not built with MSVC).  Both are optional: when no C
compiler is available the build goes on without them and nnlite runs the same
arithmetic with numpy (``nnlite.show_config()`` tells which one is in use).
"""
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# The kernels must round exactly as numpy does, element by element: no
# floating-point contraction, no fast-math.  The split module does no arithmetic
# itself (BLAS does), it only needs threads.
GCC_FLAGS = {
    "_nnlite_kernels": (["-O3", "-ffp-contract=off", "-fno-math-errno", "-std=c99"], []),
    "_nnlite_split": (["-O2", "-pthread", "-std=c11"], ["-pthread", "-lm"]),
}
MSVC_FLAGS = {"_nnlite_kernels": (["/O2", "/fp:precise"], [])}


class BuildKernels(build_ext):
    """Compile each extension with its own flags (see GCC_FLAGS)."""

    def build_extensions(self):
        table = MSVC_FLAGS if self.compiler.compiler_type == "msvc" else GCC_FLAGS
        self.extensions = [ext for ext in self.extensions if ext.name in table]
        for ext in self.extensions:
            ext.extra_compile_args, ext.extra_link_args = table[ext.name]
        super().build_extensions()


setup(
    ext_modules=[
        Extension("_nnlite_kernels", ["src/_nnlite_kernels.c"],
                  depends=["src/_nnlite_buffers.h"], optional=True),
        Extension("_nnlite_split", ["src/_nnlite_split.c"],
                  depends=["src/_nnlite_buffers.h"], optional=True),
    ],
    cmdclass={"build_ext": BuildKernels},
)
