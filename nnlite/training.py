"""The one training loop, shared by custom stacks and the presets.

Stochastic optimizers run epochs of minibatches; L-BFGS runs on the full
batch.  The order of random draws (initialisation, then one in-place shuffle
per epoch composed with the previous order), the per-batch loss bookkeeping and
the stopping rule follow scikit-learn's MLP exactly, so the presets can call
this loop and reproduce scikit-learn's numbers.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _backends, _threads, _validation, exceptions
from .callbacks import Callback, _FunctionCallback, get_learning_rate
from .init import check_random_state

__all__ = ["History", "TrainingRun", "train"]


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
    best_state : ndarray or None
        Non-trainable state (running statistics) at the best validation score.
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
    validation_loss_curve : list of float
        Validation loss after each epoch when validation data is given: the
        objective of ``loss_and_grad`` on the validation set (mean loss plus the
        L2 term over its size), so it compares with ``loss_curve``.
    learning_rates : list of float
        The optimizer's base learning rate at the end of each epoch (the
        scheduled rate, before per-parameter scaling such as Adam's correction).
    epoch_times : list of float
        Seconds each epoch took (validation included).
    logs : dict
        The figures of the current epoch, as callbacks read them: ``epoch``
        (counted from 1 within the call), ``loss``, ``val_loss``, ``val_score``,
        ``lr``, ``time``; in ``on_batch_end`` also ``batch`` and ``batch_size``.
    """

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = np.inf
    best_validation_score: float = -np.inf
    best_theta: np.ndarray | None = None
    best_state: np.ndarray | None = None
    no_improvement_count: int = 0
    t: int = 0
    n_iter: int = 0
    loss: float | None = None
    stopped: bool = False
    validation_loss_curve: list = field(default_factory=list)
    learning_rates: list = field(default_factory=list)
    epoch_times: list = field(default_factory=list)
    logs: dict = field(default_factory=dict)


def train(net, X, y, loss, optimizer, *, alpha=0.0, batch_size=200, epochs=200,
          shuffle=True, random_state=None, sample_weight=None, tol=None,
          n_iter_no_change=10, validation_data=None, score=None, history=None,
          incremental=False, verbose=False, callback=None, callbacks=None):
    """Train ``net`` on ``(X, y)``: minibatch epochs, or full-batch L-BFGS.

    Parameters
    ----------
    net : Sequential or Graph
        Built or not; an unbuilt network is built from ``X`` first, drawing its
        initial weights from ``random_state``.
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
        For a :class:`~nnlite.Graph` with several inputs, a list or tuple of
        such arrays (one per input, in order, with the same number of rows).
        A dask array trains out of core on its blocks (see :mod:`nnlite.dask`).
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
    callbacks : list of Callback, optional
        Hooks called around epochs and batches (:mod:`nnlite.callbacks`).  A
        callback stops the run by setting ``net.stop_training = True``.  When an
        ``EarlyStopping`` is among them, it decides which weights the run ends
        with (the best validation score is then not restored by the loop).

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
    if _backends.any_dask(X, y, sample_weight):  # out of core: see nnlite.dask
        from .dask import _train

        return _train.train(net, X, y, loss, optimizer, alpha=alpha, batch_size=batch_size,
                            epochs=epochs, shuffle=shuffle, random_state=random_state,
                            sample_weight=sample_weight, tol=tol,
                            n_iter_no_change=n_iter_no_change,
                            validation_data=validation_data, score=score, history=history,
                            incremental=incremental, verbose=verbose, callback=callback,
                            callbacks=callbacks)
    run = TrainingRun(net, X, y, loss, optimizer, alpha=alpha, batch_size=batch_size,
                      epochs=epochs, shuffle=shuffle, random_state=random_state,
                      sample_weight=sample_weight, tol=tol, n_iter_no_change=n_iter_no_change,
                      validation_data=validation_data, score=score, history=history,
                      incremental=incremental, verbose=verbose, callback=callback,
                      callbacks=callbacks)
    return run.execute()


class TrainingRun:
    """One call of :func:`train`: the network, the data, the settings and the history.

    Every part of the loop reads the run, and so does every callback
    (``callback.run``): the presets, :func:`train` and the command line all
    drive this one loop.  Build it through :func:`train`; the arguments are
    those of :func:`train` (validated here once, before anything changes).

    Attributes
    ----------
    net : Sequential
        The network being trained.
    loss : Loss
    optimizer : Optimizer
    history : History
    callbacks : list of Callback
    estimator : object or None
        The preset whose ``fit`` runs the loop (set by the preset).
    epochs : int
        The most epochs this call runs.
    validation : tuple (X_val, y_val, w_val) or None
    """

    def __init__(self, net, X, y, loss, optimizer, *, alpha=0.0, batch_size=200, epochs=200,
                 shuffle=True, random_state=None, sample_weight=None, tol=None,
                 n_iter_no_change=10, validation_data=None, score=None, history=None,
                 incremental=False, verbose=False, callback=None, callbacks=None,
                 estimator=None, checked=False, restore_on_failure=True):
        # The presets validate each block of data themselves (``checked=True``, with y
        # already in the loss's format), so that partial_fit checks a block once; they
        # also keep their own copy of the parameters for a failed call
        # (``restore_on_failure=False`` skips the run's).
        if checked:
            if callable(getattr(loss, "_fit_class_weight", None)):  # 'balanced': whole y
                loss._fit_class_weight(y, sample_weight)
            callbacks = _check_callbacks(callbacks)
        else:
            (X, y, sample_weight, alpha, batch_size, epochs, tol, n_iter_no_change,
             validation_data, callbacks) = _check_train_args(
                net, X, y, loss, optimizer, alpha, sample_weight, batch_size, epochs, tol,
                n_iter_no_change, validation_data, score, callback, callbacks, incremental)
        self.restore_on_failure = restore_on_failure
        self.net, self.X, self.y, self.loss, self.optimizer = net, X, y, loss, optimizer
        self.alpha, self.batch_size, self.epochs, self.shuffle = alpha, batch_size, epochs, shuffle
        self.sample_weight, self.tol, self.n_iter_no_change = sample_weight, tol, n_iter_no_change
        self.score, self.incremental, self.verbose = score, incremental, verbose
        self.rng = check_random_state(random_state)
        self.history = History() if history is None else history
        self.estimator = estimator
        self.restored = False  # whether the run ended on restored (finite) best weights
        self.validation = None
        if validation_data is not None:
            X_val, y_val, *rest = validation_data
            self.validation = (X_val, y_val, rest[0] if rest else None)
        if callback is not None:
            callbacks = [*callbacks, _FunctionCallback(callback)]
        self.callbacks = callbacks
        for cb in callbacks:
            cb._check_run(self)

    def execute(self) -> History:
        """Train; on failure put the parameters and state back and re-raise.

        Returns
        -------
        History
        """
        net, history = self.net, self.history
        if not net.built:
            X = self.X[0] if isinstance(self.X, (list, tuple)) else self.X
            dtype = net.dtype or (np.float32 if X.dtype == np.float32 else np.float64)
            net.build(X.shape[1], dtype=dtype, random_state=self.rng)
        if not self.optimizer.stochastic:  # the minibatch loop casts batch by batch
            self.y = self.y.astype(net.dtype, copy=False)
        if self.sample_weight is not None:
            self.sample_weight = self.sample_weight.astype(net.dtype, copy=False)
        restore = self.restore_on_failure
        start = net.theta.copy() if restore else None  # a failed run puts these back
        start_state = net.state_vector.copy() if restore else None
        net.stop_training = False
        try:
            for cb in self.callbacks:
                cb.run = self
                cb.on_train_begin(net, history)
            # A diverging run overflows; it ends in the clear errors below, not in numpy warnings.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                try:
                    if self.optimizer.stochastic:
                        _train_stochastic(self)
                    else:
                        _train_lbfgs(self)
                finally:
                    for cb in self.callbacks:
                        cb.on_train_end(net, history)
            _check_finite(net, history, self.restored)
        except BaseException:
            if restore:
                net.set_theta(start)
                net.state_vector[...] = start_state
            raise
        finally:
            net.__dict__.pop("stop_training", None)
            for cb in self.callbacks:
                cb.run = None
        return history

    # ----- per-epoch bookkeeping ----------------------------------------------------------
    def _validate(self):
        """Score and validation loss of the network on the validation data.

        One forward pass serves both, unless a custom ``score(net, X_val, y_val,
        w_val)`` runs its own (a score object may offer ``from_output(output,
        y_val, w_val)`` instead, and ``loss_target``: ``y_val`` in the loss's
        format, without which a custom score's run has no validation loss).
        """
        net, loss = self.net, self.loss
        X_val, y_val, w_val = self.validation
        score, target, w_loss = self.score, self._y_val_loss, self._w_val_loss
        from_output = getattr(score, "from_output", None)
        out = None
        if score is None or from_output is not None or target is not None:
            out = net._forward(X_val, False)
        if score is None:
            value = loss._value(out, target, w_loss)
            return -value, self._with_penalty(value)
        score_value = (from_output(out, y_val, w_val) if from_output is not None
                       else score(net, X_val, y_val, w_val))
        if target is None:
            return score_value, None
        return score_value, self._with_penalty(loss._value(out, target, w_loss))

    def _with_penalty(self, value):
        # the objective of loss_and_grad on the validation set taken as one batch
        net, alpha, w = self.net, self.alpha, self._w_val_loss
        if not alpha:
            return float(value)
        s = self.validation[0].shape[0] if w is None else w.sum()
        w = net.theta[:net.n_penalized]
        return float(value + (0.5 * alpha) * net._squared_norm_by_layer(w) / s)

    def _prepare_validation_target(self):
        """``y_val`` in the loss's format, or None where no validation loss can be had."""
        if self.validation is None:
            return None
        if self.score is None:
            y_val = self.validation[1]
        else:
            y_val = getattr(self.score, "loss_target", None)
            if y_val is None:
                return None
        target = np.asarray(self.loss.prepare_target(y_val, self.net.n_out))
        target = target.astype(self.net.dtype, copy=False)
        if getattr(self.loss, "class_weight", None) is not None:  # weigh rows as in training
            self._w_val_loss = self.loss._row_weights(target, self.validation[2])
        return target


def _check_finite(net, history, restored):
    if not _validation._all_finite(net.theta):  # one sum, no temporary
        raise ValueError(
            "Solver produced non-finite parameter weights. The input data may"
            " contain large values and need to be preprocessed."
        )
    # A run that ended on its best validated weights holds finite ones: a diverged last
    # epoch is no reason to refuse them (scikit-learn since 1.6 returns them too);
    # without them there is no finite state to return.
    if not restored and history.loss is not None and not np.isfinite(history.loss):
        raise ValueError(
            f"train: the training loss is {history.loss} although the weights are finite: "
            "the targets or inputs hold values too large for this loss, or the output "
            "layer does not suit it (PoissonLoss needs positive outputs: end the network "
            "in Exp). Scale the data or change the output layer."
        )


def _check_train_args(net, X, y, loss, optimizer, alpha, sample_weight, batch_size, epochs,
                      tol, n_iter_no_change, validation_data, score, callback, callbacks,
                      incremental):
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
        raise TypeError(f"train: net must be an nnlite Sequential or Graph; got "
                        f"{type(net).__name__}.")
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
            validation_data, "train", net, numeric_y=score is None)
    for name, f in (("score", score), ("callback", callback)):
        if f is not None and not callable(f):
            raise TypeError(f"train: {name} must be callable or None; got {f!r}.")
    return (X, y, sample_weight, alpha, batch_size, epochs, tol, n_iter_no_change,
            validation_data, _check_callbacks(callbacks))


def _check_callbacks(callbacks):
    """``callbacks`` as a new list of Callback objects (None: none)."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback) or not isinstance(callbacks, (list, tuple)):
        raise TypeError("train: callbacks must be a list of nnlite Callback objects; got "
                        f"{type(callbacks).__name__}.")
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise TypeError(f"train: callbacks[{i}] must be an nnlite Callback (see "
                            f"nnlite.callbacks); got {type(cb).__name__}.")
    return list(callbacks)


def _train_stochastic(run):
    net = run.net
    try:
        with _threads.for_training():
            _stochastic_epochs(run)
    finally:
        net._drop_buffers()


def _overrides(cb, hook):
    return getattr(type(cb), hook) is not getattr(Callback, hook)


def _stochastic_epochs(run):
    net, X, y, loss, optimizer, history = (run.net, run.X, run.y, run.loss, run.optimizer,
                                           run.history)
    alpha, rng, sample_weight, tol = run.alpha, run.rng, run.sample_weight, run.tol
    shuffle = run.shuffle
    if not run.incremental or getattr(optimizer, "_nnlite_theta_size", None) != net.theta.size:
        optimizer.init(net.theta)
        optimizer._nnlite_theta_size = net.theta.size
    run._w_val_loss = None if run.validation is None else run.validation[2]
    run._y_val_loss = run._prepare_validation_target()
    callbacks = run.callbacks
    epoch_hooks = [cb for cb in callbacks if _overrides(cb, "on_epoch_begin")]
    batch_hooks = [cb for cb in callbacks if _overrides(cb, "on_batch_end")]
    restore_best = not any(cb.restores_weights for cb in callbacks)
    n = X.shape[0]
    bs = int(np.clip(run.batch_size, 1, n))
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
    logs = history.logs = {}
    try:
        for epoch in range(1, run.epochs + 1):
            began = time.perf_counter()
            logs.clear()
            logs["epoch"] = epoch
            for cb in epoch_hooks:
                cb.on_epoch_begin(net, history)
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
                    # replay a recorded step (see models/_program)
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
                if batch_hooks:
                    logs["batch"], logs["batch_size"], logs["batch_loss"] = (
                        start // bs + 1, stop - start, float(value))
                    for hook in batch_hooks:
                        hook.on_batch_end(net, history)
            history.n_iter += 1
            history.loss = float(acc / n)
            history.t += n
            history.loss_curve.append(history.loss)
            logs["loss"] = history.loss
            if run.verbose:
                print("Iteration %d, loss = %.8f" % (history.n_iter, history.loss))
            if run.validation is not None:
                score_value, val_loss = run._validate()
                history.validation_loss_curve.append(val_loss)
                logs["val_loss"], logs["val_score"] = val_loss, score_value
                _track_validation(net, history, score_value, tol, run.verbose)
            else:
                _track_loss(history, tol)
            optimizer.iteration_ends(history.t)
            stop_training = False
            if tol is not None and history.no_improvement_count > run.n_iter_no_change:
                what = ("Validation score" if run.validation is not None else "Training loss")
                msg = "%s did not improve more than tol=%f for %d consecutive epochs." % (
                    what, tol, run.n_iter_no_change)
                if optimizer.trigger_stopping(msg, run.verbose):
                    history.stopped = stop_training = True
                else:
                    history.no_improvement_count = 0
            rate = get_learning_rate(optimizer)
            history.learning_rates.append(rate)
            logs["lr"] = rate
            logs["time"] = time.perf_counter() - began
            history.epoch_times.append(logs["time"])
            if stop_training:
                break
            for hook in callbacks:
                hook.on_epoch_end(net, history)
            if net.stop_training or run.incremental:
                break
            if tol is not None and history.n_iter == run.epochs:
                exceptions.warn(
                    exceptions.ConvergenceWarning,
                    "Stochastic Optimizer: Maximum iterations (%d) reached and the "
                    "optimization hasn't converged yet." % run.epochs,
                )
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", stacklevel=4)
    if restore_best and run.validation is not None and history.best_theta is not None:
        net.set_theta(history.best_theta)
        if history.best_state is not None:
            net.state_vector[...] = history.best_state
        run.restored = True


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
        history.best_state = net.state_vector.copy()


def _train_lbfgs(run):
    net, X = run.net, run.X
    try:
        with _threads.for_training():
            _lbfgs(net, X, run.y, run.loss, run.optimizer, run.history, run.alpha,
                   run.sample_weight, run.verbose)
    finally:
        net._drop_buffers()


def _lbfgs(net, X, y, loss, optimizer, history, alpha, sample_weight, verbose):
    theta = net.theta
    codes = loss._class_codes(y) if hasattr(loss, "_class_codes") else None

    def objective(x):
        theta[...] = x
        value, grad = net._loss_and_grad(X, y, loss, alpha, sample_weight, codes=codes)
        return value, grad.copy()  # scipy keeps it: never hand out the reused buffer

    run_lbfgs(net, objective, optimizer, history)


def run_lbfgs(net, objective, optimizer, history):
    """Minimise ``objective(theta) -> (value, grad)`` from ``net.theta``; record the result.

    Shared by the in-memory loop and :mod:`nnlite.dask`, whose objective sums
    the blocks of a dask array.
    """
    theta = net.theta
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
        exceptions.warn(exceptions.ConvergenceWarning, text, stacklevel=6)
