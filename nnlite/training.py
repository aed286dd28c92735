"""The one training loop, shared by custom stacks and the presets.

Stochastic optimizers run epochs of minibatches; L-BFGS runs on the full
batch.  The order of random draws (initialisation, then one in-place shuffle
per epoch composed with the previous order), the per-batch loss bookkeeping and
the stopping rule follow scikit-learn's MLP exactly, so the presets can call
this loop and reproduce scikit-learn's numbers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _threads, _validation, exceptions
from .init import check_random_state

__all__ = ["History", "train"]


@dataclass
class History:
    """State of training, carried across calls (``warm_start``, ``partial_fit``).

    Attributes
    ----------
    loss_curve : list of float
        Training objective after each epoch (mean over the epoch's batches, with
        the L2 penalty), cumulative across calls.
    validation_scores : list of float
        Validation score after each epoch when validation data is given.
    best_loss : float
        Lowest entry of ``loss_curve``.
    best_validation_score : float
        Highest validation score.
    best_theta : ndarray or None
        Parameters at the best validation score.
    no_improvement_count : int
        Consecutive epochs without improvement by ``tol``.
    t : int
        Training samples seen (cumulative).
    n_iter : int
        Epochs (or L-BFGS iterations) run by the *last* call.
    loss : float or None
        Objective at the end of the last call.
    stopped : bool
        Whether the last call stopped on the ``tol`` criterion.
    """

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = np.inf
    best_validation_score: float = -np.inf
    best_theta: np.ndarray | None = None
    no_improvement_count: int = 0
    t: int = 0
    n_iter: int = 0
    loss: float | None = None
    stopped: bool = False


def train(net, X, y, loss, optimizer, *, alpha=0.0, batch_size=200, epochs=200,
          shuffle=True, random_state=None, sample_weight=None, tol=None,
          n_iter_no_change=10, validation_data=None, score=None, history=None,
          incremental=False, verbose=False, callback=None):
    """Train ``net`` on ``(X, y)``: minibatch epochs, or full-batch L-BFGS.

    Parameters
    ----------
    net : Sequential
        Built or not; an unbuilt network is built from ``X`` first, drawing its
        initial weights from ``random_state``.
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Target in the loss's format (``loss.prepare_target`` is applied).
    loss : Loss
    optimizer : Optimizer
        ``SGD``/``Adam`` (stochastic; the state is (re)initialised unless
        ``incremental`` continues a previous call) or ``LBFGS`` (full batch).
    alpha : float, default=0.0
        L2 penalty on the weights (see ``Sequential.loss_and_grad``).
    batch_size : int, default=200
        Clipped to the number of samples. Ignored by L-BFGS.
    epochs : int, default=200
        Maximum number of epochs. Ignored by L-BFGS, whose limits are its own
        ``maxiter`` and ``maxfun``.
    shuffle : bool, default=True
        Reshuffle the samples before every epoch.
    random_state : None, int or numpy.random.RandomState
        Source of the initial weights (if ``net`` is unbuilt) and of the shuffles.
    sample_weight : ndarray of shape (n_samples,), optional
    tol : float or None, default=None
        Stop after ``n_iter_no_change + 1`` consecutive epochs whose loss (or
        validation score) does not improve by ``tol``.  ``None`` runs every epoch.
    n_iter_no_change : int or numpy.inf, default=10
    validation_data : tuple (X_val, y_val) or (X_val, y_val, w_val), optional
        Score every epoch on it, stop on the validation score, and restore the
        best parameters at the end.
    score : callable ``score(net, X_val, y_val, w_val) -> float``, optional
        Higher is better. Default: minus the mean validation loss.
    history : History, optional
        Continue this history (``warm_start``); a new one otherwise.
    incremental : bool, default=False
        Run one epoch and keep the optimizer's state (``partial_fit``).
    verbose : bool, default=False
        Print one line per epoch.
    callback : callable ``callback(net, history) -> bool``, optional
        Called after every epoch; returning True stops training.

    Returns
    -------
    History

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import Sequential, Dense, Tanh, Softmax, LogLoss, Adam, train
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(90, 2)); y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    >>> net = Sequential([Dense(8), Tanh(), Dense(3), Softmax()])
    >>> h = train(net, X, y, LogLoss(), Adam(0.05), epochs=50, random_state=0)
    >>> h.loss_curve[-1] < h.loss_curve[0]
    True
    """
    X, y, sample_weight, alpha, batch_size, epochs, tol, n_iter_no_change, validation_data = (
        _check_train_args(net, X, y, loss, optimizer, alpha, sample_weight, batch_size, epochs,
                          tol, n_iter_no_change, validation_data, score, callback, incremental))
    return _train(net, X, y, loss, optimizer, alpha=alpha, batch_size=batch_size,
                  epochs=epochs, shuffle=shuffle, random_state=random_state,
                  sample_weight=sample_weight, tol=tol, n_iter_no_change=n_iter_no_change,
                  validation_data=validation_data, score=score, history=history,
                  incremental=incremental, verbose=verbose, callback=callback)


def _train(net, X, y, loss, optimizer, *, alpha, batch_size, epochs, shuffle, random_state,
           sample_weight, tol, n_iter_no_change, validation_data, score, history, incremental,
           verbose, callback, restore_on_failure=True):
    """:func:`train` on arguments already checked as ``_check_train_args`` checks them.

    The presets validate each block of data themselves and call this directly,
    so that ``partial_fit`` checks a block once, not twice.  They also keep
    their own copy of the parameters for a failed call
    (``restore_on_failure=False`` skips this function's).
    """
    rng = check_random_state(random_state)
    history = History() if history is None else history
    if not net.built:
        dtype = net.dtype or (np.float32 if X.dtype == np.float32 else np.float64)
        net.build(X.shape[1], dtype=dtype, random_state=rng)
    if not optimizer.stochastic:  # the minibatch loop casts batch by batch: no full copy
        y = y.astype(net.dtype, copy=False)
    if sample_weight is not None:
        sample_weight = sample_weight.astype(net.dtype, copy=False)
    start = net.theta.copy() if restore_on_failure else None  # a failed run puts these back
    try:
        # A diverging run overflows; it ends in the clear errors below, not in numpy warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if optimizer.stochastic:
                _train_stochastic(net, X, y, loss, optimizer, rng, history, alpha, batch_size,
                                  epochs, shuffle, sample_weight, tol, n_iter_no_change,
                                  validation_data, score, incremental, verbose, callback)
            else:
                _train_lbfgs(net, X, y, loss, optimizer, history, alpha, sample_weight,
                             verbose)
        if not _validation._all_finite(net.theta):  # one sum, no temporary
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        if history.loss is not None and not np.isfinite(history.loss):
            raise ValueError(
                f"train: the training loss is {history.loss} although the weights are finite: "
                "the targets or inputs hold values too large for this loss, or the output "
                "layer does not suit it (PoissonLoss needs positive outputs: end the network "
                "in Exp). Scale the data or change the output layer."
            )
    except BaseException:
        if start is not None:
            net.set_theta(start)
        raise
    return history


def _check_train_args(net, X, y, loss, optimizer, alpha, sample_weight, batch_size, epochs,
                      tol, n_iter_no_change, validation_data, score, callback, incremental):
    """Validate every argument of :func:`train` once, before anything changes."""
    if not getattr(optimizer, "stochastic", True):
        given = [name for name, value in (("validation_data", validation_data),
                                          ("callback", callback), ("tol", tol),
                                          ("incremental", incremental or None))
                 if value is not None]
        if given:
            raise ValueError(
                f"train: {', '.join(given)} apply to the stochastic optimizers (SGD, Adam); "
                f"{type(optimizer).__name__} trains on the full batch in one run and stops on "
                "its own maxiter, maxfun and gtol."
            )
    if not callable(getattr(net, "_loss_and_grad", None)):
        raise TypeError(f"train: net must be an nnlite Sequential; got {type(net).__name__}.")
    if not callable(getattr(optimizer, "init", None)) or not hasattr(optimizer, "stochastic"):
        raise TypeError("train: optimizer must be an nnlite Optimizer (SGD(), Adam(), LBFGS()); "
                        f"got {optimizer!r}.")
    X, y, sample_weight, alpha = _validation.check_objective(
        net, "train", X, y, loss, alpha, sample_weight)
    batch_size = _validation.check_int(batch_size, "train", "batch_size")
    epochs = _validation.check_int(epochs, "train", "epochs")
    tol = _validation.check_real(tol, "train", "tol", low=0, allow_none=True, allow_inf=True)
    n_iter_no_change = _validation.check_int(n_iter_no_change, "train", "n_iter_no_change",
                                             allow_inf=True)
    if validation_data is not None:
        validation_data = _validation.check_validation_data(
            validation_data, "train", X.shape[1], numeric_y=score is None)
    for name, f in (("score", score), ("callback", callback)):
        if f is not None and not callable(f):
            raise TypeError(f"train: {name} must be callable or None; got {f!r}.")
    return X, y, sample_weight, alpha, batch_size, epochs, tol, n_iter_no_change, validation_data


def _default_score(loss, alpha):
    def score(net, X_val, y_val, w_val):
        return -loss._value(net._forward(X_val, False), y_val, w_val)
    return score


def _train_stochastic(net, X, y, loss, optimizer, rng, history, alpha, batch_size, *args):
    step_work = min(batch_size, X.shape[0]) * max(net.n_penalized, 1)
    try:
        with _threads.blas_threads_for(step_work):
            _stochastic_epochs(net, X, y, loss, optimizer, rng, history, alpha, batch_size, *args)
    finally:
        net._drop_buffers()


def _stochastic_epochs(net, X, y, loss, optimizer, rng, history, alpha, batch_size, epochs,
                       shuffle, sample_weight, tol, n_iter_no_change, validation_data, score,
                       incremental, verbose, callback):
    if not incremental or getattr(optimizer, "_nnlite_theta_size", None) != net.theta.size:
        optimizer.init(net.theta)
        optimizer._nnlite_theta_size = net.theta.size
    if validation_data is not None:
        X_val, y_val, *rest = validation_data
        w_val = rest[0] if rest else None
        if score is None:
            score = _default_score(loss, alpha)
            y_val = loss.prepare_target(y_val, net.n_out).astype(net.dtype, copy=False)
    n = X.shape[0]
    bs = int(np.clip(batch_size, 1, n))
    idx = np.arange(n)
    theta = net.theta
    loss_and_grad = net._loss_and_grad  # unchecked: train() validated the data once
    xbuf = np.empty((bs, X.shape[1]), X.dtype) if isinstance(X, np.ndarray) else None
    ybuf = np.empty((bs,) + y.shape[1:], net.dtype)
    cast_y = y.dtype != net.dtype  # e.g. boolean one-hot rows: cast per batch, not all at once
    yraw = np.empty(ybuf.shape, y.dtype) if cast_y else None
    wbuf = None if sample_weight is None else np.empty(bs, sample_weight.dtype)
    codes = loss._class_codes(y) if hasattr(loss, "_class_codes") else None
    cbuf = None if codes is None else np.empty(bs, codes.dtype)
    # the fused log-loss reads the class codes only: y's rows need no gathering
    # (with X of another dtype or sparse, the logits may not be in the network's dtype,
    # and the loss then reads y)
    codes_only = (codes is not None and sample_weight is None and loss._codes_suffice(net)
                  and isinstance(X, np.ndarray) and X.dtype == net.dtype)
    full = (xbuf, ybuf, yraw, wbuf, cbuf)
    history.n_iter = 0
    history.stopped = False
    try:
        for _ in range(epochs):
            if shuffle:
                perm = np.arange(n)
                rng.shuffle(perm)
                idx = idx[perm]
            acc = 0.0
            for start in range(0, n, bs):
                stop = min(start + bs, n)
                if shuffle:  # gather the batch into the same arrays every time
                    rows, m = idx[start:stop], stop - start
                    # full batches pass the very same arrays, which lets the network
                    # replay a recorded step (see _program)
                    xo, yo, yr, wo, co = full if m == bs else [
                        None if a is None else a[:m] for a in full]
                    xb = X[rows] if xbuf is None else X.take(rows, 0, xo, "clip")
                    if codes_only:
                        yb = yo
                    elif cast_y:  # gather in y's own type, then cast
                        yb = yo
                        np.copyto(yb, y.take(rows, 0, yr, "clip"))
                    else:
                        yb = y.take(rows, 0, yo, "clip")
                    w = None if wbuf is None else sample_weight.take(rows, 0, wo, "clip")
                    cb = None if cbuf is None else codes.take(rows, 0, co, "clip")
                else:
                    xb, yb = X[start:stop], y[start:stop]
                    if cast_y:
                        yb = ybuf[:stop - start]
                        np.copyto(yb, y[start:stop])
                    w = None if sample_weight is None else sample_weight[start:stop]
                    cb = None if codes is None else codes[start:stop]
                value, grad = loss_and_grad(xb, yb, loss, alpha, w, codes=cb)
                acc += value * (stop - start)
                optimizer.step(theta, grad)
            history.n_iter += 1
            history.loss = float(acc / n)
            history.t += n
            history.loss_curve.append(history.loss)
            if verbose:
                print("Iteration %d, loss = %.8f" % (history.n_iter, history.loss))
            if validation_data is not None:
                _track_validation(net, history, score(net, X_val, y_val, w_val), tol, verbose)
            else:
                _track_loss(history, tol)
            optimizer.iteration_ends(history.t)
            if tol is not None and history.no_improvement_count > n_iter_no_change:
                what = ("Validation score" if validation_data is not None else "Training loss")
                msg = "%s did not improve more than tol=%f for %d consecutive epochs." % (
                    what, tol, n_iter_no_change)
                if optimizer.trigger_stopping(msg, verbose):
                    history.stopped = True
                    break
                history.no_improvement_count = 0
            if callback is not None and callback(net, history):
                break
            if incremental:
                break
            if tol is not None and history.n_iter == epochs:
                exceptions.warn(
                    exceptions.ConvergenceWarning,
                    "Stochastic Optimizer: Maximum iterations (%d) reached and the "
                    "optimization hasn't converged yet." % epochs,
                )
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", stacklevel=3)
    if validation_data is not None and history.best_theta is not None:
        net.set_theta(history.best_theta)


def _track_loss(history, tol):
    last = history.loss_curve[-1]
    if tol is not None:
        if last > history.best_loss - tol:
            history.no_improvement_count += 1
        else:
            history.no_improvement_count = 0
    if last < history.best_loss:
        history.best_loss = last


def _track_validation(net, history, value, tol, verbose):
    history.validation_scores.append(value)
    if verbose:
        print("Validation score: %f" % value)
    if tol is not None:
        if value < history.best_validation_score + tol:
            history.no_improvement_count += 1
        else:
            history.no_improvement_count = 0
    if value > history.best_validation_score:
        history.best_validation_score = value
        history.best_theta = net.theta.copy()


def _train_lbfgs(net, X, y, loss, optimizer, history, alpha, sample_weight, verbose):
    try:
        with _threads.blas_threads_for(X.shape[0] * max(net.n_penalized, 1)):
            _lbfgs(net, X, y, loss, optimizer, history, alpha, sample_weight, verbose)
    finally:
        net._drop_buffers()


def _lbfgs(net, X, y, loss, optimizer, history, alpha, sample_weight, verbose):
    theta = net.theta
    codes = loss._class_codes(y) if hasattr(loss, "_class_codes") else None

    def objective(x):
        theta[...] = x
        value, grad = net._loss_and_grad(X, y, loss, alpha, sample_weight, codes=codes)
        return value, grad.copy()  # scipy keeps it: never hand out the reused buffer

    res = optimizer.minimize(objective, theta.astype(np.float64))
    theta[...] = res.x
    history.n_iter = min(int(res.nit), optimizer.maxiter)
    history.loss = float(res.fun)
    if res.status != 0:
        msg = res.message.decode("latin1") if isinstance(res.message, bytes) else res.message
        text = (f"lbfgs failed to converge after {history.n_iter} iteration(s) "
                f"(status={res.status}):\n{msg}\n")
        if history.n_iter == optimizer.maxiter:
            text += ("\nIncrease the number of iterations to improve the convergence "
                     f"(max_iter={optimizer.maxiter}).")
        text += ("\nYou might also want to scale the data as shown in:\n"
                 "    https://scikit-learn.org/stable/modules/preprocessing.html")
        exceptions.warn(exceptions.ConvergenceWarning, text, stacklevel=4)
