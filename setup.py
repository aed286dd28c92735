"""Build script: the metadata lives in setup.cfg; this adds the optional C kernels.

``_nnlite_kernels`` fuses element-wise passes of the training loop.  It is
optional: when no C compiler is available the build goes on without it and
nnlite runs the same arithmetic with numpy (``nnlite.show_config()`` tells
which one is in use).
"""
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildKernels(build_ext):
    """Compile without floating-point contraction or fast-math: the kernels must
    round exactly as numpy does, element by element."""

    def build_extensions(self):
        if self.compiler.compiler_type == "msvc":
            flags = ["/O2", "/fp:precise"]
        else:
            flags = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-std=c99"]
        for ext in self.extensions:
            ext.extra_compile_args = flags
        super().build_extensions()


setup(
    ext_modules=[Extension("_nnlite_kernels", ["src/_nnlite_kernels.c"], optional=True)],
    cmdclass={"build_ext": BuildKernels},
)
