"""Callbacks: watch and steer a training run from outside the loop.

A callback is an object with up to five hooks, each called with the model being
trained (the network) and the :class:`~nnlite.History` of the run:

``on_train_begin`` -> for every epoch: ``on_epoch_begin``, ``on_batch_end`` after
every minibatch, ``on_epoch_end`` -> ``on_train_end`` (also when training fails).

``history.logs`` holds the figures of the current epoch (``epoch``, ``loss``,
``val_loss``, ``val_score``, ``lr``, ``time``; ``batch`` and ``batch_size`` in
``on_batch_end``).  A callback stops the run, as in Keras, by setting
``model.stop_training = True``: the loop stops after the current epoch.  It
reaches the optimizer (to change its learning rate, for instance) and, in a
preset's ``fit``, the estimator through :attr:`Callback.run`.

L-BFGS trains on the full batch in one run: it calls only ``on_train_begin`` and
``on_train_end``, and refuses callbacks that act per epoch.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time

import numpy as np

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "ProgressBar", "ReduceLROnPlateau",
           "LearningRateScheduler", "CSVLogger"]

#: Monitored figures and whether larger is better.
_MONITORS = {"loss": False, "val_loss": False, "val_score": True}


class Callback:
    """Base class: override the hooks you need (every hook does nothing by default).

    Attributes
    ----------
    run : TrainingRun or None
        The run being executed (set before ``on_train_begin``): ``run.net``,
        ``run.optimizer``, ``run.loss``, ``run.history``, ``run.estimator`` (the
        preset whose ``fit`` trains, or None) and ``run.epochs``.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import Sequential, Dense, SquaredError, SGD, train
    >>> from nnlite.callbacks import Callback
    >>> class StopAtThree(Callback):
    ...     def on_epoch_end(self, model, history):
    ...         if history.logs["epoch"] == 3:
    ...             model.stop_training = True
    >>> X = np.random.RandomState(0).normal(size=(40, 2))
    >>> h = train(Sequential([Dense(1)]), X, X[:, :1], SquaredError(), SGD(),
    ...           epochs=10, random_state=0, callbacks=[StopAtThree()])
    >>> len(h.loss_curve)
    3
    """

    #: Whether the callback acts per epoch (L-BFGS refuses those).
    per_epoch = False
    #: Whether the callback decides which weights the run ends with.
    restores_weights = False
    run = None

    def on_train_begin(self, model, history):
        """Called once before the first epoch."""

    def on_epoch_begin(self, model, history):
        """Called before every epoch; ``history.logs["epoch"]`` is the epoch about to run."""

    def on_batch_end(self, model, history):
        """Called after every minibatch step (only when a callback overrides it)."""

    def on_epoch_end(self, model, history):
        """Called after every epoch, once its figures are in ``history.logs``."""

    def on_train_end(self, model, history):
        """Called once at the end of the run, also when it stops early or fails."""

    def _check_run(self, run):
        """Refuse, before anything is trained, a run this callback cannot serve."""
        if self.per_epoch and not run.optimizer.stochastic:
            raise ValueError(
                f"{type(self).__name__}: acts after every epoch, but "
                f"{type(run.optimizer).__name__} trains on the full batch in one run; use a "
                "stochastic optimizer (SGD, Adam, ...).")

    def __repr__(self):
        return f"{type(self).__name__}()"


class _FunctionCallback(Callback):
    """The ``callback(net, history) -> bool`` function of :func:`~nnlite.train`."""

    per_epoch = True

    def __init__(self, function):
        self.function = function

    def on_epoch_end(self, model, history):
        if self.function(model, history):
            model.stop_training = True


# ----- monitoring ---------------------------------------------------------------------------
def _check_monitor(monitor, owner):
    if monitor not in _MONITORS:
        raise ValueError(f"{owner}: monitor must be one of {sorted(_MONITORS)}; "
                         f"got {monitor!r}.")
    return monitor


def _check_number(value, name, owner, *, low=None, low_open=False, high=None, high_open=False,
                  integer=False):
    kind = "an int" if integer else "a number"
    ok_type = (isinstance(value, (int, np.integer)) if integer
               else isinstance(value, (int, float, np.integer, np.floating)))
    if isinstance(value, (bool, np.bool_)) or not ok_type:
        raise TypeError(f"{owner}: {name} must be {kind}; got {value!r}.")
    value = int(value) if integer else float(value)
    bad = not math.isfinite(value)
    if low is not None:
        bad = bad or (value <= low if low_open else value < low)
    if high is not None:
        bad = bad or (value >= high if high_open else value > high)
    if bad:
        rng = []
        if low is not None:
            rng.append(f"{'>' if low_open else '>='} {low}")
        if high is not None:
            rng.append(f"{'<' if high_open else '<='} {high}")
        raise ValueError(f"{owner}: {name} must be a finite {kind[2:].strip()} "
                         f"{' and '.join(rng)}; got {value!r}.")
    return value


class _Monitor(Callback):
    """A callback that follows one figure of ``history.logs``."""

    per_epoch = True

    def __init__(self, monitor, min_delta):
        owner = type(self).__name__
        self.monitor = _check_monitor(monitor, owner)
        self.min_delta = _check_number(min_delta, "min_delta", owner, low=0)

    def _check_run(self, run):
        super()._check_run(run)
        if self.monitor.startswith("val_") and run.validation is None:
            raise ValueError(
                f"{type(self).__name__}: monitor={self.monitor!r} needs validation data, and "
                "this run has none (pass validation_data=..., or early_stopping=True to a "
                "preset), or monitor 'loss'.")

    def _reset(self):
        self.best = -np.inf if _MONITORS[self.monitor] else np.inf
        self.wait = 0

    def _improved(self, history):
        """Whether this epoch's figure beats the best one by more than ``min_delta``."""
        value = history.logs.get(self.monitor)
        if value is None or not np.isfinite(value):
            return False
        if _MONITORS[self.monitor]:
            better = value > self.best + self.min_delta
        else:
            better = value < self.best - self.min_delta
        if better:
            self.best = value
        return better


class EarlyStopping(_Monitor):
    """Stop when a monitored figure has stopped improving.

    Parameters
    ----------
    monitor : {"val_loss", "loss", "val_score"}, default="val_loss"
        Losses must decrease, the score increase.
    patience : int, default=10
        Stop after this many epochs in a row without improvement (Keras's rule).
    min_delta : float, default=0.0
        The smallest change that counts as an improvement.
    restore_best : bool, default=True
        End the run with the parameters (and state) of the best epoch.  When an
        ``EarlyStopping`` is given, it decides the weights the run ends with: the
        loop's own restoring of the best validation score (scikit-learn's
        ``early_stopping``) is left to it.

    Attributes
    ----------
    stopped_epoch : int or None
        The epoch after which it stopped the run.
    best : float
        The best monitored value.
    """

    restores_weights = True

    def __init__(self, monitor="val_loss", patience=10, min_delta=0.0, restore_best=True):
        super().__init__(monitor, min_delta)
        self.patience = _check_number(patience, "patience", "EarlyStopping", low=0,
                                      integer=True)
        self.restore_best = bool(restore_best)
        self.stopped_epoch = None

    def on_train_begin(self, model, history):
        self._reset()
        self.stopped_epoch = None
        self._best_theta = self._best_state = None

    def on_epoch_end(self, model, history):
        if self._improved(history):
            self.wait = 0
            if self.restore_best:
                self._best_theta = model.theta.copy()
                self._best_state = model.state_vector.copy()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = history.logs["epoch"]
            model.stop_training = True

    def on_train_end(self, model, history):
        if self.restore_best and self._best_theta is not None:
            model.set_theta(self._best_theta)
            model.state_vector[...] = self._best_state
            self.run.restored = True
        self._best_theta = self._best_state = None

    def __repr__(self):
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta!r}, restore_best={self.restore_best})")


class ModelCheckpoint(_Monitor):
    """Save the network to ``path`` in nnlite's safe format after epochs that improve.

    Every write goes to a temporary file renamed over ``path``
    (:func:`nnlite.save`), so a crash mid-write never leaves a broken file.

    Parameters
    ----------
    path : str or os.PathLike
        The file; its directory must exist when training starts.
    monitor : {"val_loss", "loss", "val_score"}, default="val_loss"
    save_best_only : bool, default=True
        Save only when the monitored figure improves; else after every epoch.
    """

    def __init__(self, path, monitor="val_loss", save_best_only=True):
        super().__init__(monitor, 0.0)
        self.path = os.fspath(path)
        self.save_best_only = bool(save_best_only)

    def _check_run(self, run):
        super()._check_run(run)
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise ValueError(f"ModelCheckpoint: the directory of path {self.path!r} does not "
                             "exist; create it before training.")

    def on_train_begin(self, model, history):
        self._reset()

    def on_epoch_end(self, model, history):
        from .io import save  # io sits above the training loop

        if self._improved(history) or not self.save_best_only:
            save(model, self.path)

    def __repr__(self):
        return (f"ModelCheckpoint({self.path!r}, monitor={self.monitor!r}, "
                f"save_best_only={self.save_best_only})")


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` when a figure stops improving.

    Parameters
    ----------
    monitor : {"val_loss", "loss", "val_score"}, default="val_loss"
    factor : float, default=0.1
        In (0, 1).
    patience : int, default=5
        Reduce after this many epochs in a row without improvement.
    min_lr : float, default=0.0
        The rate is never reduced below it.
    min_delta : float, default=0.0
    cooldown : int, default=0
        Epochs to wait after a reduction before counting again.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=5, min_lr=0.0, min_delta=0.0,
                 cooldown=0):
        super().__init__(monitor, min_delta)
        owner = "ReduceLROnPlateau"
        self.factor = _check_number(factor, "factor", owner, low=0, low_open=True, high=1,
                                    high_open=True)
        self.patience = _check_number(patience, "patience", owner, low=0, integer=True)
        self.min_lr = _check_number(min_lr, "min_lr", owner, low=0)
        self.cooldown = _check_number(cooldown, "cooldown", owner, low=0, integer=True)

    def _check_run(self, run):
        super()._check_run(run)
        _check_rate_is_settable(self, run.optimizer)

    def on_train_begin(self, model, history):
        self._reset()
        self._cooling = 0

    def on_epoch_end(self, model, history):
        if self._improved(history):
            self.wait = 0
            return
        if self._cooling:
            self._cooling -= 1
            return
        self.wait += 1
        if self.wait >= self.patience:
            opt = self.run.optimizer
            rate = get_learning_rate(opt)
            if rate is not None and rate > self.min_lr:
                set_learning_rate(opt, max(rate * self.factor, self.min_lr))
            self.wait, self._cooling = 0, self.cooldown

    def __repr__(self):
        return (f"ReduceLROnPlateau(monitor={self.monitor!r}, factor={self.factor!r}, "
                f"patience={self.patience}, min_lr={self.min_lr!r})")


class LearningRateScheduler(Callback):
    """Set the learning rate before every epoch from ``schedule(epoch, lr) -> new_lr``.

    ``epoch`` counts from 0 within the run; ``lr`` is the current base rate.
    """

    per_epoch = True

    def __init__(self, schedule):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable "
                            f"schedule(epoch, lr) -> lr; got {schedule!r}.")
        self.schedule = schedule

    def _check_run(self, run):
        super()._check_run(run)
        _check_rate_is_settable(self, run.optimizer)

    def on_epoch_begin(self, model, history):
        opt = self.run.optimizer
        epoch = history.logs["epoch"] - 1
        rate = self.schedule(epoch, get_learning_rate(opt))
        try:
            rate = _check_number(rate, "the learning rate it returned", "LearningRateScheduler",
                                 low=0, low_open=True)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        set_learning_rate(opt, rate)

    def __repr__(self):
        return f"LearningRateScheduler({self.schedule!r})"


class CSVLogger(Callback):
    """Write one row per epoch (``history.logs``) to a CSV file.

    Parameters
    ----------
    path : str or os.PathLike
        Overwritten at the start of the run; its directory must exist.
    """

    per_epoch = True
    _FIELDS = ("epoch", "loss", "val_loss", "val_score", "lr", "time")

    def __init__(self, path):
        self.path = os.fspath(path)

    def _check_run(self, run):
        super()._check_run(run)
        if not os.path.isdir(os.path.dirname(os.path.abspath(self.path))):
            raise ValueError(f"CSVLogger: the directory of path {self.path!r} does not exist.")

    def on_train_begin(self, model, history):
        self._file = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._file)
        self._writer.writerow(self._FIELDS)

    def on_epoch_end(self, model, history):
        logs = history.logs
        self._writer.writerow(["" if logs.get(k) is None else logs[k] for k in self._FIELDS])
        self._file.flush()

    def on_train_end(self, model, history):
        f = self.__dict__.pop("_file", None)
        if f is not None:
            f.close()
        self.__dict__.pop("_writer", None)

    def __repr__(self):
        return f"CSVLogger({self.path!r})"


class ProgressBar(Callback):
    """Show the run's progress: epoch, loss, validation figures, elapsed time and ETA.

    On a terminal one line is updated in place (through tqdm when it is
    installed); elsewhere (a file, a pipe, a notebook log) one plain line is
    written per epoch.

    Parameters
    ----------
    stream : file-like, optional
        Where to write; default ``sys.stderr``.
    """

    def __init__(self, stream=None):
        self.stream = stream

    def _out(self):
        return sys.stderr if self.stream is None else self.stream

    def on_train_begin(self, model, history):
        stream = self._out()
        self._start = time.perf_counter()
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._bar = None
        total = self.run.epochs if self.run.optimizer.stochastic else None
        self._total = total
        if self._tty:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, file=stream, unit="epoch", leave=True)

    def _figures(self, logs):
        parts = [f"loss {logs['loss']:.6g}"] if logs.get("loss") is not None else []
        for key in ("val_loss", "val_score"):
            if logs.get(key) is not None:
                parts.append(f"{key} {logs[key]:.6g}")
        return ", ".join(parts)

    def on_epoch_end(self, model, history):
        logs = history.logs
        figures = self._figures(logs)
        if self._bar is not None:
            self._bar.set_postfix_str(figures, refresh=False)
            self._bar.update(1)
            return
        elapsed = time.perf_counter() - self._start
        epoch, total = logs["epoch"], self._total
        text = f"epoch {epoch}" + (f"/{total}" if total else "")
        text += f": {figures}, {_clock(elapsed)} elapsed"
        if total:
            text += f", ETA {_clock(elapsed / epoch * (total - epoch))}"
        stream = self._out()
        if self._tty:
            stream.write("\r" + text + "\x1b[K")
        else:
            stream.write(text + "\n")
        stream.flush()

    def on_train_end(self, model, history):
        stream = self._out()
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            return
        if not self.run.optimizer.stochastic:
            elapsed = time.perf_counter() - self._start
            loss = "" if history.loss is None else f"loss {history.loss:.6g}, "
            stream.write(f"{history.n_iter} L-BFGS iterations: {loss}{_clock(elapsed)}\n")
        elif self._tty:
            stream.write("\n")
        stream.flush()

    def __repr__(self):
        return "ProgressBar()"


def _clock(seconds):
    seconds = int(round(seconds))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


# ----- the optimizer's learning rate ----------------------------------------------------------
def get_learning_rate(optimizer) -> float | None:
    """The base learning rate a stochastic optimizer uses now (``optimizer.base_lr``).

    The scheduled rate, before per-parameter scaling such as Adam's bias correction;
    for a user-written optimizer without ``base_lr``, its ``learning_rate`` if that is
    a number, else None.
    """
    rate = getattr(optimizer, "base_lr", getattr(optimizer, "learning_rate", None))
    return float(rate) if isinstance(rate, (int, float, np.number)) else None


def set_learning_rate(optimizer, value) -> None:
    """Change the base learning rate of a stochastic optimizer from the next step on."""
    optimizer.base_lr = float(value)


def _check_rate_is_settable(callback, optimizer):
    """A rate that follows a schedule is reset by it: a callback cannot change it."""
    if not hasattr(optimizer, "base_lr"):
        raise ValueError(
            f"{type(callback).__name__}: {type(optimizer).__name__} has no base_lr attribute, "
            "the learning rate a callback changes (nnlite's stochastic optimizers have it).")
    if getattr(optimizer, "_schedule", None) is not None:
        raise ValueError(
            f"{type(callback).__name__}: the optimizer's learning rate follows a schedule "
            f"({optimizer._schedule!r}), which would undo every change; give the optimizer a "
            "float learning_rate to steer it from a callback.")
