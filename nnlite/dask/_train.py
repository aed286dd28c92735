""":func:`nnlite.train` on dask arrays: L-BFGS on block sums, SGD/Adam out of core."""

from __future__ import annotations

import numpy as np

from .. import _validation
from ..init import check_random_state
from ..training import History, _check_finite, run_lbfgs
from ._blocks import Blocks
from ._lbfgs import BlockObjective

__all__ = ["train"]

_WHERE = "train"


def train(net, X, y, loss, optimizer, *, alpha=0.0, batch_size=200, epochs=200, shuffle=True,
          random_state=None, sample_weight=None, tol=None, n_iter_no_change=10,
          validation_data=None, score=None, history=None, incremental=False, verbose=False,
          callback=None, callbacks=None):
    """:func:`nnlite.train` for data in dask arrays (same arguments, same result).

    :func:`nnlite.train` calls this when ``X``, ``y`` or ``sample_weight`` is a
    dask array.  L-BFGS persists the blocks on the workers and evaluates the
    objective there (:class:`BlockObjective`); the stochastic optimizers stream
    the blocks through this process, two at most at once.

    Parameters
    ----------
    net : Sequential or Graph
        Built or not (built from ``X``'s width and ``random_state``).
    X : dask array of shape (n_samples, n_features)
        Rows in blocks; column chunks are merged, unknown chunk sizes computed.
    y : dask array or ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Rechunked to ``X``'s rows.
    loss : Loss
        Without class weights (pass them as ``sample_weight``).
    optimizer : Optimizer
        ``LBFGS`` (exact full batch) or a stochastic optimizer (out of core).
    sample_weight : dask array or ndarray of shape (n_samples,), optional
    alpha, batch_size, epochs, shuffle, random_state, tol
        As in :func:`nnlite.train`.
    n_iter_no_change, validation_data, score, history, incremental, verbose, callback
        As in :func:`nnlite.train`; ``validation_data`` is in memory.
    callbacks : None
        Not supported on dask arrays (a ``ValueError`` says so).

    Returns
    -------
    History

    Raises
    ------
    ValueError
        For a block holding NaN or infinity (naming the block and its rows),
        mismatched row counts, or layers L-BFGS cannot sum over blocks
        (``BatchNorm``, ``Dropout``); the parameters are then left as they were.
    """
    from ..training import _check_train_args  # the in-memory checks of the settings

    if callbacks:
        raise ValueError("train: callbacks are not supported on dask arrays; pass in-memory "
                         "arrays, or use callback=... with SGD/Adam.")
    if not callable(getattr(optimizer, "init", None)) or not hasattr(optimizer, "stochastic"):
        raise TypeError("train: optimizer must be an nnlite Optimizer (SGD(), Adam(), LBFGS()); "
                        f"got {optimizer!r}.")
    if not callable(getattr(loss, "prepare_target", None)):
        raise TypeError(f"train: loss must be an nnlite Loss (e.g. SquaredError(), LogLoss()); "
                        f"got {loss!r}.")
    if y is None:
        raise TypeError("train: y is None; expected an array.")
    if getattr(loss, "class_weight", None) is not None:
        raise ValueError("train: class weights are not supported on dask arrays ('balanced' "
                         "would be computed per block); pass them as sample_weight.")
    alpha = _validation.check_real(alpha, _WHERE, "alpha", low=0)
    blocks = Blocks(X, y, sample_weight, _WHERE)
    if net.built and blocks.X.shape[1] != net.n_in:
        raise ValueError(f"train: X has {blocks.X.shape[1]} features, but the network "
                         f"expects {net.n_in}.")
    # the settings' checks of the in-memory loop, on a stand-in row (no data moves)
    stand_in = np.zeros((1, blocks.X.shape[1]))
    _check_train_args(net, stand_in, np.zeros((1,) + blocks.y.shape[1:]), _AnyTarget(loss),
                      optimizer, alpha, None, batch_size, epochs, tol, n_iter_no_change,
                      None, score, callback, None, incremental)
    if validation_data is not None and not optimizer.stochastic:
        raise ValueError("train: validation_data apply to the stochastic optimizers (SGD, "
                         f"Adam); {type(optimizer).__name__} trains on the full batch in one "
                         "run and stops on its own maxiter, maxfun and gtol.")
    history = History() if history is None else history
    rng = check_random_state(random_state)
    if not net.built:
        dtype = net.dtype or (np.float32 if blocks.X.dtype == np.float32 else np.float64)
        net.build(blocks.X.shape[1], dtype=dtype, random_state=rng)
    start, start_state = net.theta.copy(), net.state_vector.copy()
    restored = False  # whether the run ended on its best validated weights
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if optimizer.stochastic:
                from ._stochastic import train_stochastic

                restored = train_stochastic(net, blocks, loss, optimizer, history, rng, alpha=alpha,
                                 batch_size=batch_size, epochs=epochs, shuffle=shuffle, tol=tol,
                                 n_iter_no_change=n_iter_no_change,
                                 validation_data=validation_data, score=score,
                                 incremental=incremental, verbose=verbose, callback=callback)
            else:
                _check_row_wise(net)
                objective = BlockObjective(net, blocks.persist(), loss, alpha)
                run_lbfgs(net, objective, optimizer, history)
        _check_finite(net, history, restored)
    except BaseException:
        net.set_theta(start)
        net.state_vector[...] = start_state
        raise
    return history


def _layers(net):
    for layer in getattr(net, "layers", ()):
        yield layer
        yield from _layers(layer)


def _check_row_wise(net):
    """L-BFGS sums blocks: every row's loss must depend on that row and the parameters only."""
    odd = sorted({type(layer).__name__ for layer in _layers(net)
                  if type(layer).__name__ == "Dropout" or layer.state_specs(layer.n_in)})
    if odd:
        raise ValueError(
            f"train: L-BFGS on dask arrays sums the blocks' losses, which needs layers that "
            f"treat every row on its own and draw nothing at random; {', '.join(odd)} "
            "cannot (batch statistics, random masks). Use SGD/Adam, or in-memory data.")


class _AnyTarget:
    """The loss, for the settings' check only: the targets are checked block by block."""

    def __init__(self, loss):
        self._loss = loss

    def prepare_target(self, y, n_outputs):
        return np.zeros((len(y), n_outputs))

    def fuses_with(self, layer):
        return False
