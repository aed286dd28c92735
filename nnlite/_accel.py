"""The optional compiled kernels, and when they may replace the numpy code.

``_nnlite_kernels`` (``src/_nnlite_kernels.c``, built by ``pip install``) fuses
passes of the training loop: bias plus ReLU, the ReLU derivative, bias
gradients, the softmax around its exponential, gradient scaling and the
optimizer updates; and it computes the input gradient of a one-unit layer (an
outer product, slow in GEMM) as BLAS rounds it.  Every kernel performs the same
IEEE operations on every element, in the same order, as the numpy code (or the
BLAS call) it replaces, so results are bit for bit the same with or without it;
the tests compare both paths.

Each function here returns True when a kernel did the work and False when the
caller must run its numpy code (no kernel, an unusual dtype, a non-contiguous
array).  ``NNLITE_KERNELS=0`` (or ``off``) in the environment turns the kernels off.
"""

from __future__ import annotations

import os

import numpy as np

from . import _products

_API = 2


def switched_off() -> bool:
    """Whether ``NNLITE_KERNELS`` in the environment turns the compiled code off (both
    ``_nnlite_kernels`` and the two-thread runner ``_nnlite_split``)."""
    return os.environ.get("NNLITE_KERNELS", "1").strip().lower() in ("0", "false", "off", "no")


def _load():
    if switched_off():
        return None
    try:
        import _nnlite_kernels
    except ImportError:
        return None
    return _nnlite_kernels if getattr(_nnlite_kernels, "API", None) == _API else None


#: The kernel module, or None (tests set it to None to run the numpy code).
K = _load()

_F64, _F32 = np.dtype(np.float64), np.dtype(np.float32)
# numpy 2 rounds a Python float to float32 beside a float32 array and keeps a float64
# scalar strong; numpy 1 decides by value.  The float32 optimizer kernels follow numpy 2.
_NUMPY2 = int(np.__version__.split(".")[0]) >= 2


def _fits(a, dtype):
    return a.dtype == dtype and (dtype == _F64 or dtype == _F32) and a.flags.c_contiguous


def active() -> bool:
    """Whether the compiled kernels are in use."""
    return K is not None


def add_bias_relu(z, b, relu):
    """``z += b`` (if ``b`` is not None), then ``z = max(z, 0)`` if ``relu``."""
    if K is None or z.ndim != 2 or not _fits(z, z.dtype) \
            or (b is not None and not _fits(b, z.dtype)):
        return False
    K.bias_act(z, b, z.shape[0], z.shape[1], relu)
    return True


def outer_call(col, row, out):
    """``(K.outer, args)`` computing ``np.matmul(col, row, out=out)``, or None.

    For a column ``(n, 1)`` and a row ``(1, k)``, the product of a layer with one unit
    and its input gradient: GEMM with an inner dimension of 1 takes as long as a
    product a hundred times larger, the kernel one pass.  None where the kernel does
    not apply, or does not give numpy's bits on this machine (checked once per dtype).
    """
    dt = out.dtype
    if (K is None or out.ndim != 2 or col.shape != (out.shape[0], 1)
            or row.shape != (1, out.shape[1]) or min(out.shape) < 1
            or not (_fits(out, dt) and _fits(col, dt) and _fits(row, dt))
            or not _outer_matches_blas(dt)):
        return None
    return K.outer, (col, row, out, out.shape[0], out.shape[1])


def outer_product(col, row, out):
    """``np.matmul(col, row, out=out)`` by the kernel, where :func:`outer_call` allows."""
    return _run(outer_call(col, row, out))


_outer_checked = {}


def _outer_matches_blas(dt):
    """Whether the outer-product kernel gives ``np.matmul``'s bits for ``dt`` here.

    BLAS accumulates each one-term sum onto +0.0 (a -0.0 product comes out +0.0);
    checked on random data with zeros of both signs, negative entries and products
    that underflow.
    """
    ok = _outer_checked.get(dt)
    if ok is None:
        rng = np.random.RandomState(0)
        col = rng.standard_normal((97, 1)).astype(dt)
        row = rng.standard_normal((1, 61)).astype(dt)
        col[::7], row[0, ::9] = 0, -0.0
        col[1::11] *= -1
        col[2], row[0, 4] = np.finfo(dt).tiny, np.finfo(dt).tiny  # an underflowing product
        want = np.matmul(col, row)
        got = np.empty_like(want)
        K.outer(col, row, got, *got.shape)
        bits = np.dtype(f"u{got.itemsize}")
        ok = _outer_checked[dt] = bool(np.array_equal(got.view(bits), want.view(bits)))
    return ok


def relu_backward(g, z, sums=None):
    """``g[z <= 0] = 0`` for a ReLU output ``z``; then ``np.sum(g, axis=0, out=sums)``."""
    if K is None or g.ndim != 2 or not _fits(g, g.dtype) or not _fits(z, g.dtype) \
            or z.shape != g.shape or (sums is not None and not _fits(sums, g.dtype)):
        return False
    K.relu_back(g, z, sums, g.shape[0], g.shape[1])
    return True


def column_sums(g, out):
    """``np.sum(g, axis=0, out=out)`` in numpy's order."""
    if K is None or g.ndim != 2 or not _fits(g, g.dtype) or not _fits(out, g.dtype):
        return False
    K.relu_back(g, None, out, g.shape[0], g.shape[1])
    return True


def softmax_shift(z, codes=None, picked=None):
    """``z -= z.max(axis=1)[:, None]``; with ``codes``, ``picked[i] = z[i, codes[i]]`` after."""
    return _run(softmax_shift_call(z, codes, picked))


def softmax_shift_call(z, codes=None, picked=None):
    """``(call, args)`` doing :func:`softmax_shift`, or None (the caller runs numpy)."""
    if K is None or z.ndim != 2 or z.shape[1] == 0 or not _fits(z, z.dtype):
        return None
    if codes is not None and not (_fits_codes(codes) and _fits(picked, z.dtype)):
        return None
    return K.softmax_shift, (z, None, codes, picked, z.shape[0], z.shape[1])


def _run(call):
    """Run a ``(call, args)`` pair; False for None (no kernel applies)."""
    if call is None:
        return False
    call[0](*call[1])
    return True


def softmax_normalise(e):
    """``e /= e.sum(axis=1)[:, None]`` (rows of exponentials), numpy's row sums."""
    if K is None or e.ndim != 2 or not _fits(e, e.dtype):
        return False
    K.softmax_normalise(e, e.shape[0], e.shape[1])
    return True


def softmax_finish_codes(e, codes, totals, sums, want_value, eps):
    """Rows of ``e`` (exponentials) normalised, then ``p - onehot``; the log-loss value.

    With ``sums`` (an array of one entry per row) the row sums are written there and no
    value is computed (the caller takes their logarithm with numpy); otherwise the value
    is that of the clipped probabilities.  Returns ``(True, value)``, or
    ``(False, None)`` when the caller must run its numpy code; see
    ``LogLoss._fused_inplace``.
    """
    call = softmax_finish_codes_call(e, codes, totals, sums, want_value, eps)
    return (False, None) if call is None else (True, call[0](*call[1]))


def softmax_finish_codes_call(e, codes, totals, sums, want_value, eps):
    """``(call, args)``: ``call(*args)`` returns the value :func:`softmax_finish_codes`
    would; None where the caller must run its numpy code."""
    if K is None or e.ndim != 2 or not _fits(e, e.dtype) or not _fits(totals, e.dtype) \
            or not _fits_codes(codes) or (sums is not None and not _fits(sums, e.dtype)):
        return None
    return K.softmax_finish_codes, (e, codes, totals, sums, e.shape[0], e.shape[1],
                                    want_value, float(eps))


def _fits_codes(codes):
    return codes.dtype == np.intp and codes.flags.c_contiguous


def squared_error_delta(z, y, want_value):
    """``z -= y`` and (if ``want_value``) the mean half squared error, as ``SquaredError``.

    Returns ``(True, value)``, or ``(False, None)`` when the caller must run its numpy code.
    """
    call = squared_error_call(z, y, want_value)
    return (False, None) if call is None else (True, call[0](*call[1]))


def squared_error_call(z, y, want_value):
    """``(call, args)``: ``call(*args)`` does :func:`squared_error_delta` and returns its
    value; None where the caller must run its numpy code."""
    if K is None or z.ndim != 2 or y.shape != z.shape or not _fits(z, z.dtype) \
            or not _fits(y, z.dtype) or z.shape[0] == 0:
        return None
    return K.squared_error, (z, y, np.empty(z.shape[1], z.dtype), z.shape[0], z.shape[1],
                             want_value)


def scale_gradient(grad, theta, n_penalized, alpha, s):
    """``grad[:n_penalized] += alpha * theta[:n_penalized]; grad /= s``, rounded as numpy does.

    ``s`` is the number of samples (a Python int) or a sum of sample weights (a numpy
    scalar).
    """
    return _run(scale_gradient_call(grad, theta, n_penalized, alpha, s))


def scale_gradient_call(grad, theta, n_penalized, alpha, s):
    """``(call, args)`` doing :func:`scale_gradient`, or None (the caller runs numpy)."""
    dt = grad.dtype
    if K is None or not (_fits(grad, dt) and _fits(theta, dt)):
        return None
    if dt == _F32:
        # beside float32 arrays numpy 2 rounds Python numbers to float32 and computes
        # with numpy float64 scalars in float64; the kernel takes alpha in float32
        if not _NUMPY2 or (alpha and type(alpha) not in (int, float)):
            return None
        if type(s) is int:
            s = np.float32(s)
    return K.scale_grad, (grad, theta, grad.size, n_penalized, float(alpha), float(s))


def adam(theta, grad, m, v, lr, b1, b2, eps):
    """One Adam step (see ``Adam.step``); ``b1, b2, eps`` are Python floats."""
    dt = theta.dtype
    if K is None or not (_fits(theta, dt) and _fits(grad, dt) and _fits(m, dt) and _fits(v, dt)):
        return False
    if dt == _F32 and not _NUMPY2:
        return False
    K.adam(theta, grad, m, v, theta.size, float(lr), b1, b2, eps, _products.halves(theta.size))
    return True


def sgd(theta, grad, velocity, lr, mu, nesterov):
    """One SGD step with momentum (see ``SGD.step``); ``lr, mu`` are Python floats."""
    dt = theta.dtype
    if K is None or type(lr) is not float or type(mu) is not float \
            or not (_fits(theta, dt) and _fits(grad, dt) and _fits(velocity, dt)):
        return False
    if dt == _F32 and not _NUMPY2:
        return False
    K.sgd(theta, grad, velocity, theta.size, lr, mu, bool(nesterov))
    return True
