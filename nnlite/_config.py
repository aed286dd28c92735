"""What this installation of nnlite runs on."""

from __future__ import annotations

import platform

import numpy as np
import scipy

from . import _accel, _rowsplit, _threads


def show_config(print_out: bool = True) -> dict:
    """Report the versions nnlite runs with and whether its compiled kernels are in use.

    The compiled kernels (``_nnlite_kernels``, built by ``pip install`` when a C
    compiler is present) make training two to three times faster; without them
    nnlite runs the same arithmetic with numpy and gets the same bits.  The
    two-thread runner (``_nnlite_split``, built beside them) lets the default
    ``"auto"`` thread setting share a wide product out to a second core on
    two-core machines (see :func:`nnlite.set_blas_threads`).  ``NNLITE_KERNELS=0``
    in the environment turns both off.

    Parameters
    ----------
    print_out : bool, default=True
        Print the report, one ``name: value`` line each.

    Returns
    -------
    dict
        Keys ``nnlite``, ``python``, ``numpy``, ``scipy``, ``compiled_kernels``
        (bool), ``two_thread_runner`` (bool: built, and numpy's BLAS is an OpenBLAS
        it can call) and ``blas_threads`` (the setting of
        :func:`nnlite.set_blas_threads`).

    Examples
    --------
    >>> import nnlite
    >>> info = nnlite.show_config(print_out=False)
    >>> sorted(info)
    ['blas_threads', 'compiled_kernels', 'nnlite', 'numpy', 'python', 'scipy', 'two_thread_runner']
    """
    from . import __version__

    info = {
        "nnlite": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "compiled_kernels": _accel.active(),
        "two_thread_runner": _rowsplit.available(),
        "blas_threads": _threads.get_blas_threads(),
    }
    if print_out:
        for name, value in info.items():
            print(f"{name}: {value}")
        if _threads._get_controller() is False:
            print("(threadpoolctl is not installed: BLAS's threads are left alone and the "
                  'two-thread runner is off; pip install "nnlite[threads]" enables them)')
    return info
