"""SGD and Adam out of core: the blocks of a dask array stream through this process.

Each epoch visits the blocks in a seeded random order and shuffles the rows
within a block; minibatches never span two blocks.  While one block trains, the
next one is already being computed (on the cluster, or by the local scheduler
in a background thread), so at most two blocks are held here at once.  The
samples of a minibatch therefore differ from an in-memory fit, which draws
minibatches from all rows: the result is a different (equally valid) run, not
the in-memory numbers.
"""

from __future__ import annotations

import concurrent.futures
import time

import dask
import numpy as np

from .. import exceptions
from ..callbacks import get_learning_rate
from ..training import TrainingRun, _track_loss, _track_validation
from ._blocks import active_client, aligned, check_block, one_blas_thread

__all__ = ["train_stochastic", "BlockStream"]


class BlockStream:
    """Blocks brought to this process one at a time, the next one computed in advance.

    Parameters
    ----------
    parts : list
        ``Blocks.delayed()``: per block ``(index, bounds, X, y, w)``.

    Attributes
    ----------
    max_held : int
        The most blocks that were requested or held here at once (1 or 2).
    """

    def __init__(self, parts):
        self.parts = parts
        self.client = active_client()
        self._pool = (concurrent.futures.ThreadPoolExecutor(1) if self.client is None
                      else None)
        self.held = 0
        self.max_held = 0

    def _start(self, i):
        _, _, x, y, w = self.parts[i]
        self.held += 1
        self.max_held = max(self.max_held, self.held)
        if self.client is not None:
            return self.client.compute([x, y, w])
        return self._pool.submit(_compute_local, x, y, w)

    def blocks(self, order):
        """Yield ``(index, bounds, X, y, w)`` as numpy arrays, in ``order``.

        The caller drops its references to a block before asking for the next
        one; the block after that is requested only then.
        """
        pending = self._start(order[0]) if len(order) else None
        for k, i in enumerate(order):
            data = (self.client.gather(pending) if self.client is not None
                    else pending.result())
            pending = self._start(order[k + 1]) if k + 1 < len(order) else None
            index, bounds = self.parts[i][:2]
            yield (index, bounds, *data)
            del data
            self.held -= 1

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _compute_local(x, y, w):
    return list(dask.compute(x, y, w))


def train_stochastic(net, blocks, loss, optimizer, history, rng, *, alpha, batch_size, epochs,
                     shuffle, tol, n_iter_no_change, validation_data, score, incremental,
                     verbose, callback):
    """Epochs of minibatches over the blocks of ``blocks`` (see the module docstring).

    ``validation_data`` (in memory) and ``score`` work as in :func:`nnlite.train`.
    Returns whether the run ended on the restored best validated weights.
    """
    theta = net.theta
    if not incremental or getattr(optimizer, "_nnlite_theta_size", None) != theta.size:
        optimizer.init(theta)
        optimizer._nnlite_theta_size = theta.size
    validation = None
    if validation_data is not None:
        validation = _Validation(net, loss, alpha, validation_data, score)
    stream = BlockStream(blocks.delayed())
    n = blocks.n_samples
    history.n_iter = 0
    history.stopped = False
    history.logs = {}
    try:
        with one_blas_thread():
            for _ in range(epochs):
                began = time.perf_counter()
                order = (rng.permutation(len(blocks.bounds)) if shuffle
                         else np.arange(len(blocks.bounds)))
                acc = 0.0
                for index, bounds, X, y, w in stream.blocks(order):
                    acc += _train_block(net, loss, optimizer, alpha, batch_size, shuffle, rng,
                                        blocks.where, index, bounds, X, y, w)
                    del X, y, w  # before the stream fetches the block after next
                if _end_epoch(net, loss, optimizer, history, acc / n, n, tol, n_iter_no_change,
                              validation, score, alpha, verbose, began):
                    break
                if callback is not None and callback(net, history):
                    break
                if incremental:
                    break
                if tol is not None and history.n_iter == epochs:
                    exceptions.warn(
                        exceptions.ConvergenceWarning,
                        "Stochastic Optimizer: Maximum iterations (%d) reached and the "
                        "optimization hasn't converged yet." % epochs)
    finally:
        stream.close()
        net._drop_buffers()
    if validation is not None and history.best_theta is not None:
        net.set_theta(history.best_theta)
        return True
    return False


class _Validation:
    """The in-memory loop's scoring of held-out rows (score and validation loss)."""

    _validate = TrainingRun._validate
    _with_penalty = TrainingRun._with_penalty
    _prepare_validation_target = TrainingRun._prepare_validation_target

    def __init__(self, net, loss, alpha, validation_data, score):
        X_val, y_val, *rest = validation_data
        self.net, self.loss, self.alpha, self.score = net, loss, alpha, score
        self.validation = (np.asarray(X_val), y_val, rest[0] if rest else None)
        self._w_val_loss = self.validation[2]
        self._y_val_loss = self._prepare_validation_target()


def _train_block(net, loss, optimizer, alpha, batch_size, shuffle, rng, where, index, bounds,
                 X, y, w):
    """Minibatch steps over one block; returns the block's ``sum`` of batch loss x rows."""
    check_block(where, index, bounds, X, y, w)
    X, y, w = aligned(X), aligned(np.asarray(y)), aligned(w)
    target = np.asarray(loss.prepare_target(y, net.n_out)).astype(net.dtype, copy=False)
    if w is not None:
        w = w.astype(net.dtype, copy=False)
    rows = X.shape[0]
    if shuffle:
        perm = rng.permutation(rows)
        X, target = X[perm], target[perm]
        w = None if w is None else w[perm]
    theta, acc = net.theta, 0.0
    bs = max(1, min(batch_size, rows))
    for a in range(0, rows, bs):
        b = min(a + bs, rows)
        value, grad = net._loss_and_grad(X[a:b], target[a:b], loss, alpha,
                                         None if w is None else w[a:b])
        acc += value * (b - a)
        optimizer.step(theta, grad)
    return acc


def _end_epoch(net, loss, optimizer, history, epoch_loss, n, tol, n_iter_no_change, validation,
               score, alpha, verbose, began):
    """The in-memory loop's end-of-epoch bookkeeping; True when training must stop."""
    history.n_iter += 1
    history.loss = float(epoch_loss)
    history.t += n
    history.loss_curve.append(history.loss)
    if verbose:
        print("Iteration %d, loss = %.8f" % (history.n_iter, history.loss))
    if validation is not None:
        value, val_loss = validation._validate()
        history.validation_loss_curve.append(val_loss)
        _track_validation(net, history, value, tol, verbose)
    else:
        _track_loss(history, tol)
    optimizer.iteration_ends(history.t)
    stop = False
    if tol is not None and history.no_improvement_count > n_iter_no_change:
        what = "Validation score" if validation is not None else "Training loss"
        msg = "%s did not improve more than tol=%f for %d consecutive epochs." % (
            what, tol, n_iter_no_change)
        if optimizer.trigger_stopping(msg, verbose):
            history.stopped = stop = True
        else:
            history.no_improvement_count = 0
    history.learning_rates.append(get_learning_rate(optimizer))
    history.epoch_times.append(time.perf_counter() - began)
    return stop
