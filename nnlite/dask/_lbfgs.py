"""The full-batch objective of a dask array: block sums added on the client in block order.

Every evaluation sends the parameter vector once; each block returns the *sum*
of its loss and the *sum* of its gradient (computed in cache-sized row slices),
the client adds the block results in a fixed order, divides once by the number
of samples (or the weight sum) and adds the L2 term, in the order
``Sequential.loss_and_grad`` uses.  Which worker computed which block, and how
many workers there were, cannot change a bit of the result.
"""

from __future__ import annotations

import functools
import uuid

import dask
import numpy as np

from ._blocks import active_client, aligned, check_block, compute, one_blas_thread, thread_net

__all__ = ["BlockObjective", "block_sums"]

#: Bytes of the widest layer output of one row slice: it stays in the CPU cache.
_SLICE_BYTES = 2 * 1024 * 1024
_MIN_SLICE_ROWS = 1024


def _slice_rows(net):
    widest = max([net.n_in] + [int(np.prod(v.shape[1:])) or 1 for v in net.params.values()])
    return max(_MIN_SLICE_ROWS, _SLICE_BYTES // (8 * widest))


def _raw_sums(net, value, n_rows, alpha, sample_weight, compute_value):
    # In place of Sequential._finish_gradient on a worker's copy: the block keeps
    # the summed gradient (no L2 term, no division); the loss is a weighted mean,
    # turned back into a sum.
    s = n_rows if sample_weight is None else float(sample_weight.sum())
    return value * s, net._own_buffer.grad


def block_sums(net, token, theta, loss, where, index, bounds, X, y, w):
    """``(sum of the loss, sum of the gradient)`` of one block at parameters ``theta``.

    Runs on a worker (or a thread of the local scheduler).  ``net`` is the
    network to copy, ``token`` names the fit (one copy per thread and fit).
    """
    check_block(where, index, bounds, X, y, w)
    X, y, w = aligned(X), aligned(np.asarray(y)), aligned(w)
    local = thread_net(net, token)
    if "_finish_gradient" not in local.__dict__:
        local._finish_gradient = functools.partial(_raw_sums, local)
    with one_blas_thread():
        local.theta[...] = theta
        target = np.asarray(loss.prepare_target(y, local.n_out))
        target = target.astype(local.dtype, copy=False)
        if w is not None:
            w = w.astype(local.dtype, copy=False)
        total, grad = 0.0, np.zeros(theta.shape, dtype=local.theta.dtype)
        n, rows = X.shape[0], _slice_rows(local)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for a in range(0, n, rows):
                b = min(a + rows, n)
                value, g = local._loss_and_grad(X[a:b], target[a:b], loss, 0.0,
                                                None if w is None else w[a:b])
                total += value
                grad += g
    return total, grad


class BlockObjective:
    """``objective(theta) -> (value, grad)`` of a network on data held in dask blocks.

    The value and the gradient are those of :meth:`nnlite.Sequential.loss_and_grad`
    on all the rows, up to the order of the sums.

    Parameters
    ----------
    net : Sequential
        Built network; its parameters are not changed by evaluations.
    blocks : nnlite.dask._blocks.Blocks
        The data (persisted: every evaluation reads every block).
    loss : Loss
    alpha : float
        L2 penalty.

    Attributes
    ----------
    n_evaluations : int
        Evaluations so far.
    total_weight : float
        The number of samples, or the sum of the weights.
    """

    def __init__(self, net, blocks, loss, alpha):
        self.net, self.blocks, self.loss, self.alpha = net, blocks, loss, alpha
        self.token = uuid.uuid4().hex
        self.parts = blocks.delayed()
        # On a cluster the network travels once per fit, not once per task: it is
        # persisted as a task (not scattered), so a worker that dies with it loses
        # nothing the scheduler cannot recompute.
        self.net_ref = net
        if active_client() is not None:
            (self.net_ref,) = dask.persist(dask.delayed(net, name=f"nnlite-net-{self.token}"))
        self.n_evaluations = 0
        if blocks.sample_weight is None:
            self.total_weight = blocks.n_samples
        else:
            sums = compute(*[dask.delayed(_weight_sum)(w) for *_, w in self.parts])
            total = 0.0
            for s in sums:  # block order, as the objective adds
                total += s
            if total == 0:
                raise ValueError("Sample weights must contain at least one non-zero number.")
            self.total_weight = total

    def __call__(self, theta):
        self.n_evaluations += 1
        name = f"nnlite-lbfgs-{self.token}-{self.n_evaluations}"
        theta = np.array(theta, dtype=self.net.theta.dtype)
        theta_ref = dask.delayed(theta, name=f"{name}-theta")
        tasks = [dask.delayed(block_sums, name=f"{name}-fn")(
                     self.net_ref, self.token, theta_ref, self.loss, self.blocks.where, i,
                     bounds, x, y, w, dask_key_name=f"{name}-{i}")
                 for i, bounds, x, y, w in self.parts]
        results = compute(*tasks)
        value, grad = 0.0, np.zeros_like(theta)
        for block_value, block_grad in results:  # a fixed order, whoever computed them
            value += block_value
            grad += block_grad
        return self._finish(theta, value, grad)

    def _finish(self, theta, value, grad):
        # Sequential._finish_gradient's operations on the sums
        s, alpha, net = self.total_weight, self.alpha, self.net
        npen = net.n_penalized
        if alpha:
            grad[:npen] += theta[:npen] * alpha
        grad /= s
        value = value / s
        if alpha:
            value += (0.5 * alpha) * net._squared_norm_by_layer(theta[:npen]) / s
        return float(value), grad


def _weight_sum(w):
    if np.any(w < 0):
        raise ValueError("Negative values in data passed to `sample_weight`: weights must be "
                         ">= 0.")
    return float(w.sum(dtype=np.float64))
