"""Matrix products split in two row ranges, the second computed on another core.

``_nnlite_split`` (``src/_nnlite_split.c``) computes ``out = a @ b`` as two gemm
calls into numpy's own OpenBLAS, rows ``[0, split_row)`` on the calling thread
and ``[split_row, m)`` on a persistent worker thread, with the GIL released.
Each call is the one numpy's matmul makes for these operands, restricted to some
rows; whether the two ranges give the bits of the whole product depends on the
BLAS kernels, so :func:`rows_exact` checks it once per shape and layout.

Precondition: numpy's OpenBLAS runs on one thread (nnlite holds it there while
training); the checks of :func:`rows_exact` are made on one thread.

The module is optional: without the compiled extension, with
``NNLITE_KERNELS=0`` (or ``off``), without threadpoolctl (which finds numpy's
BLAS and holds it at one thread), or when numpy's BLAS is not an ILP64 OpenBLAS
whose ``cblas_dgemm``/``cblas_sgemm`` can be found, :func:`available` is False.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

__all__ = ["available", "split_row", "matmul_rows", "rows_exact"]

_API = 1
# (prefix, suffix) of the symbols of an ILP64 OpenBLAS: numpy's wheels carry
# scipy-openblas, whose names start with scipy_ and end with 64_.  An unsuffixed
# cblas_dgemm could take 32-bit integers; it is never used.
_SYMBOLS = (("scipy_", "64_"), ("", "64_"))

_lock = threading.Lock()
_ext = None
_loaded = False
_exact: dict = {}


def _numpy_openblas_path():
    """Path of the OpenBLAS that numpy's products call (as the thread policy finds it),
    or None: no threadpoolctl, numpy's BLAS unknown or not an OpenBLAS."""
    from . import _threads  # it imports this module (through _products)

    controller = _threads._get_controller()
    if controller is False:
        return None
    libs = controller.lib_controllers
    i = _threads._numpy_blas(libs)
    if i is None or libs[i].internal_api != "openblas":
        return None
    return libs[i].filepath


def _symbol(lib, name):
    try:
        return ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
    except AttributeError:
        return None


def _gemm_addresses(path):
    """``(dgemm, sgemm)`` addresses of an ILP64 cblas in ``path``, or None."""
    lib = ctypes.CDLL(path)
    for prefix, suffix in _SYMBOLS:
        d = _symbol(lib, f"{prefix}cblas_dgemm{suffix}")
        s = _symbol(lib, f"{prefix}cblas_sgemm{suffix}")
        config = _symbol(lib, f"{prefix}openblas_get_config{suffix}")
        if not (d and s and config):
            continue
        # the build configuration names the integer width; refuse when it does not
        get_config = ctypes.CFUNCTYPE(ctypes.c_char_p)(config)
        if b"USE64BITINT" in (get_config() or b""):
            return d, s
    return None


def _load():
    from ._accel import switched_off  # it imports this module (through _products)

    if switched_off():
        return None
    try:
        import _nnlite_split
    except ImportError:
        return None
    if getattr(_nnlite_split, "API", None) != _API:
        return None
    path = _numpy_openblas_path()
    addresses = _gemm_addresses(path) if path else None
    if addresses is None:
        return None
    _nnlite_split.init(*addresses)
    _nnlite_split.set_spin_us(SPIN_US)
    return _nnlite_split


def _module():
    global _ext, _loaded
    if not _loaded:
        with _lock:
            if not _loaded:
                _ext = _load()
                _loaded = True
    return _ext


#: Microseconds the worker spins for a next job after each one, then sleeps.  The
#: gaps between the products of a training step (element-wise passes, the optimizer
#: and the next batch's gathering) last up to a few hundred microseconds, and a woken
#: worker comes 150-450 us late (see src/_nnlite_split.c).  Callers that expect their
#: next job later keep it awake longer (``awake_us`` of :func:`matmul_rows`,
#: :func:`stay_awake`).
SPIN_US = 1000
#: How long a trial comparing one thread and the split keeps the worker awake after
#: each of its calls: its one-thread calls, up to a few milliseconds on a full L-BFGS
#: batch, come between the split ones.
TRIAL_AWAKE_US = 20000


def stay_awake(us: int) -> None:
    """Start or wake the worker and keep it spinning for a next job for ``us`` microseconds."""
    ext = _module()
    if ext is not None:
        ext.stay_awake_us(int(us))


def available() -> bool:
    """Whether the two-thread runner can be used in this process."""
    return _module() is not None


def split_row(m: int) -> int:
    """Where the rows of an ``m``-row product are split: at half.

    (Multiples of 8 near half, whole register blocks of the gemm kernels, measured
    no faster on the products of a small training step.)
    """
    return m // 2


def matmul_rows(a: np.ndarray, b: np.ndarray, out: np.ndarray, awake_us: int = 0) -> np.ndarray:
    """``out[...] = a @ b`` in two row ranges, the second on the worker thread.

    Parameters
    ----------
    a : ndarray of shape (m, k)
    b : ndarray of shape (k, n)
    out : ndarray of shape (m, n)
        All float64 or all float32; ``a`` and ``b`` C- or F-ordered (or rows or
        columns of a larger array with a unit inner stride), ``out`` with unit
        stride along its rows, not overlapping ``a`` or ``b``; ``m, n, k >= 2``;
        ``a`` and ``b`` not one matrix and its transpose; aligned, native byte
        order.  Anything else raises ValueError, before anything is computed.  The
        bits are those of ``np.matmul(a, b)`` where :func:`rows_exact` says so, with
        numpy's BLAS on one thread.
    awake_us : int, default=0
        Keep the worker spinning for a next job at least this many microseconds
        from now (else ``SPIN_US`` after its range).

    Returns
    -------
    out
    """
    ext = _module()
    if ext is None:
        raise RuntimeError("the two-thread product is not available (see available())")
    ext.matmul_rows(a, b, out, split_row(a.shape[0]) if a.ndim else 0, awake_us)
    return out


def rows_exact(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> bool:
    """Whether :func:`matmul_rows` gives the bits of ``np.matmul(a, b)`` for such operands.

    Checked once per (dtypes, shapes, strides) on random arrays of the same
    layouts, with numpy's BLAS on one thread, and remembered.  False when the
    runner is unavailable or refuses such a layout.  Properties of the particular
    arrays (alignment, overlap, ``b`` being ``a.T``) are not part of the answer:
    :func:`matmul_rows` refuses those with ValueError.
    """
    if _module() is None:
        return False
    key = (a.dtype.char, b.dtype.char, out.dtype.char, a.shape, b.shape, out.shape,
           a.strides, b.strides, out.strides)
    exact = _exact.get(key)
    if exact is None:
        exact = _exact[key] = _check(a, b, out)
    return exact


def _random_like(x, rng):
    """A new array with the shape, strides and dtype of ``x`` (non-negative strides)."""
    span = sum((n - 1) * s for n, s in zip(x.shape, x.strides)) + x.itemsize
    base = np.zeros(-(-span // x.itemsize), x.dtype)
    y = np.ndarray(x.shape, x.dtype, buffer=base, strides=x.strides)
    y[...] = rng.standard_normal(x.shape)
    return y


def _check(a, b, out):
    arrays = (a, b, out)
    if any(x.ndim != 2 or min(x.shape) < 1 or min(x.strides) < 0
           or any(s % x.itemsize for s in x.strides) for x in arrays):
        return False
    from . import _threads

    rng = np.random.default_rng(0)
    with _threads._limit(1):  # the policy's own hold: other holders see it
        for _ in range(2):
            a2, b2, got = (_random_like(x, rng) for x in arrays)
            want = _random_like(out, rng)
            try:
                matmul_rows(a2, b2, got)
            except ValueError:
                return False
            np.matmul(a2, b2, out=want)
            bits = np.dtype(f"u{out.itemsize}")
            if not np.array_equal(got.view(bits), want.view(bits)):
                return False
    return True
