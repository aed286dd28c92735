"""Prediction in row blocks, so that every layer's output stays in the CPU cache.

Layer by layer over all rows, a large prediction writes each layer's output to
memory and reads it back for the bias, the activation and the next product.
Here the whole stack runs on a block of rows at a time: each product writes
into one of two block buffers reused by every block, the element-wise passes and
the next product read it from the cache, and the last product writes straight
into the result.

Exactness: the probabilities must stay those of the whole-array computation
(and so scikit-learn's) to the bit, but BLAS does not promise to round a row the
same whatever the rows around it.  OpenBLAS switches to other kernels for small
products (``M*N*K <= 100**3`` on x86-64) and for a single row, and for some
shapes rounds the last rows of a product (its edge tiles) differently from the
rows inside (float64 on AVX-512, output widths above 192 that are not a
multiple of 8).  Hence blocks are large enough to leave the small-product
kernels, the last block takes the rows left over, and every product shape is
compared once per process, blocked against whole on random data: a network with
a shape that differs keeps the whole-array path.  All of this holds for BLAS on
one thread (how several threads share the rows depends on their total number), so
BLAS is held at one thread while blocks run (``_threads.for_prediction``), and
where it cannot be (``set_blas_threads("off")`` with BLAS on several threads) the
whole-array path runs.

Cores: the blocks are shared out to as many Python threads as the thread setting
allows (one per core BLAS started with, for ``"auto"``), the caller's thread and
helpers from a small pool, each taking the next block when it finishes one.  A
block is computed the same way whichever thread runs it, so the bits do not
depend on the thread count, and a thread slowed by a busy core just takes fewer
blocks.  The products and the compiled element-wise kernels release the GIL.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse

from .. import _threads
from ..layers import Dense, Exp, Identity, Logistic, ReLU, Softmax, Tanh, add_bias_relu

#: Layers that treat every row on its own and that the blocked path knows how to
#: run (subclasses may change that, so the exact classes).
_ROW_WISE = frozenset({Dense, Identity, ReLU, Tanh, Logistic, Exp, Softmax})

#: Bytes of the widest block output: two such buffers and the weights fit in L2.
_BLOCK_BYTES = 512 * 1024
#: Block rows: at least this many, and a multiple of _ROW_ALIGN (the matrix-vector
#: kernel of a one-column product treats rows in groups of 4 to 16).
_MIN_ROWS = 256
_ROW_ALIGN = 64
#: Products with at most this many multiply-adds run on OpenBLAS's small-matrix
#: kernels, which round differently from the large-matrix ones.
_SMALL_PRODUCT = 100**3


def block_rows(net, x) -> int:
    """Rows per block for predicting ``x`` with ``net``, or 0 for the whole-array path.

    ``net`` is a built :class:`~nnlite.Sequential` and ``x`` its validated input.
    """
    layers = leaf_layers(net)
    if layers is None or not _blockable_input(x, net.dtype):
        return 0
    dense = [layer for layer in layers if type(layer) is Dense]
    if not dense:
        return 0
    rows = _rows_for(dense, net.dtype)
    if x.shape[0] < 2 * rows:  # small inputs keep the whole-array path and its cost
        return 0
    dtype = np.dtype(net.dtype).str
    with _threads.for_prediction() as threads:  # the check needs BLAS on one thread
        if not threads or not all(_products_row_exact(dtype, d.n_in, d.units, rows)
                                  for d in dense):
            return 0
    return rows


def leaf_layers(net):
    """The layers of ``net`` with nested networks flattened, or None if one is not row-wise."""
    from .sequential import Sequential  # sequential imports this module

    leaves = []
    for layer in net.layers:
        if type(layer) is Sequential:
            inner = leaf_layers(layer)
            if inner is None:
                return None
            leaves += inner
        elif type(layer) in _ROW_WISE:
            leaves.append(layer)
        else:
            return None
    return leaves


def _blockable_input(x, dtype):
    # other dtypes are converted by every product, and Fortran-ordered or CSC input
    # would be sliced or multiplied differently from the whole-array path
    if x.dtype != dtype:
        return False
    if sparse.issparse(x):
        return x.format == "csr"
    return isinstance(x, np.ndarray) and x.flags.c_contiguous


def _rows_for(dense, dtype):
    widest = max(d.units for d in dense)
    rows = max(_MIN_ROWS, _BLOCK_BYTES // (widest * np.dtype(dtype).itemsize))
    for d in dense:
        if d.n_in > 1 and d.units > 1:  # one-column products are matrix-vector products
            rows = max(rows, _SMALL_PRODUCT // (d.n_in * d.units) + 1)
    return -(-rows // _ROW_ALIGN) * _ROW_ALIGN


def row_blocks(n, rows):
    """``(start, stop)`` of blocks of ``rows`` rows; the last one also takes the remainder.

    A short last block would be a small product (or a single row), which BLAS may
    round differently.
    """
    starts = list(range(0, n - rows + 1, rows)) or [0]
    stops = starts[1:] + [n]
    return list(zip(starts, stops))


@functools.cache
def _products_row_exact(dtype, n_in, n_out, rows):
    """Whether ``x @ W`` of this shape gives every row the same bits blocked as whole.

    Checked on random data once per shape and process, with BLAS on one thread:
    the kernels BLAS picks depend on the shape only, and a kernel that rounds
    differently shows on most random rows.
    """
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, size=(2 * rows + rows // 2 + 3, n_in)).astype(dtype)
    w = rng.uniform(-1, 1, size=(n_in, n_out)).astype(dtype)
    whole = x @ w
    return all(np.array_equal(x[a:b] @ w, whole[a:b]) for a, b in row_blocks(len(x), rows))


def predict(net, x, rows):
    """Output of ``net`` for ``x`` in blocks of ``rows`` rows (see :func:`block_rows`).

    None where BLAS cannot be held at one thread: the caller runs the whole array.
    """
    with _threads.for_prediction() as threads:
        if not threads:
            return None
        layers = leaf_layers(net)
        blocks = row_blocks(x.shape[0], rows)
        last = max(i for i, layer in enumerate(layers) if type(layer) is Dense)
        widest = max((layer.units for layer in layers[:last] if type(layer) is Dense), default=0)
        work_size = max(b - a for a, b in blocks) * widest
        out = np.empty((x.shape[0], layers[last].units), net.dtype)
        job = (layers, x, out, last, work_size, _BlockQueue(blocks))
        helpers = _submit(threads - 1, min(threads, len(blocks)) - 1, job)
        errors = []
        try:
            _run_blocks(*job)
        except BaseException as exc:
            errors.append(exc)
        job[-1].close()  # after an error, the helpers stop after their block
        for helper in helpers:  # all of them end before BLAS's limit is let go
            try:
                helper.result()
            except BaseException as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        return out


class _BlockQueue:
    """The blocks of one prediction, handed out one at a time to whichever thread asks."""

    def __init__(self, blocks):
        self._blocks, self._next, self._lock = blocks, 0, threading.Lock()

    def take(self):
        with self._lock:
            if self._next >= len(self._blocks):
                return None
            self._next += 1
            return self._blocks[self._next - 1]

    def close(self):
        with self._lock:
            self._next = len(self._blocks)


def _run_blocks(layers, x, out, last, work_size, queue):
    """Run blocks until none is left, in two work buffers of this thread's own.

    Each product reads one buffer and writes the other.
    """
    work = [np.empty(work_size, out.dtype) for _ in range(2)]
    while (block := queue.take()) is not None:
        a, b = block
        _run_block(layers, x[a:b], work, out[a:b], last)


_pool_lock = threading.Lock()
_executor = None  # (ThreadPoolExecutor, its number of threads), grown on demand


def _submit(size, count, job):
    """``count`` helpers running ``_run_blocks(*job)`` on a pool of at least ``size`` threads.

    Under the pool's lock: a pool replaced by a larger one is shut down only once no
    caller can submit to it any more (its running helpers finish their work).
    """
    global _executor
    if count <= 0:
        return []
    with _pool_lock:
        if _executor is None or _executor[1] < size:
            if _executor is not None:
                _executor[0].shutdown(wait=False)
            _executor = (ThreadPoolExecutor(size, thread_name_prefix="nnlite-rows"), size)
        return [_executor[0].submit(_run_blocks, *job) for _ in range(count)]


def _forget_pool_after_fork():
    # a child process has none of the parent's threads
    global _executor, _pool_lock
    _executor, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _run_block(layers, h, work, dest, last):
    """Every layer on the rows ``h``; the product of ``layers[last]`` writes into ``dest``."""
    owned, turn, i = False, 0, 0
    while i < len(layers):
        layer = layers[i]
        if type(layer) is Dense:
            if i == last:
                target = dest
            else:
                target = work[turn][:h.shape[0] * layer.units].reshape(h.shape[0], layer.units)
                turn = 1 - turn
            # a ReLU after the product joins the bias pass (same operations, one pass)
            relu = i + 1 < len(layers) and type(layers[i + 1]) is ReLU
            h, owned = _dense_into(layer, h, target, relu), True
            i += 2 if relu else 1
        else:  # activations run in place on the block, as on the whole array
            h, owned = layer._forward_fast(h, False, owned, False)
            i += 1
    if h is not dest:
        dest[...] = h


def _dense_into(layer, x, out, relu):
    """``layer.forward(x)`` of a :class:`Dense` written into ``out``, then ReLU'd if ``relu``.

    The operations of ``Dense._forward_fast`` (and of the ReLU after it), into a
    buffer the caller reuses.
    """
    W = layer.params["W"]
    if sparse.issparse(x):
        out[...] = x @ W
    else:
        np.matmul(x, W, out=out)
    return add_bias_relu(out, layer.params["b"] if layer.bias else None, relu)
