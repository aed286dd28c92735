"""Callbacks: the hooks, the built-ins, the per-epoch records, and the run's guarantees."""

import csv
import io
import sys

import numpy as np
import pytest

import nnlite
from nnlite import SGD, Adam, Dense, LogLoss, Sequential, Softmax, SquaredError, Tanh, train
from nnlite.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    ReduceLROnPlateau,
)


def _data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    y = np.sin(X[:, :1]) + 0.1 * rng.normal(size=(n, 1))
    return X, y


def _net():
    return Sequential([Dense(8), Tanh(), Dense(1)], random_state=0)


class Recorder(Callback):
    def __init__(self):
        self.calls = []
        self.thetas = []

    def on_train_begin(self, model, history):
        self.calls.append("train_begin")

    def on_epoch_begin(self, model, history):
        self.calls.append(("epoch_begin", history.logs["epoch"]))

    def on_batch_end(self, model, history):
        self.calls.append(("batch", history.logs["batch"], history.logs["batch_size"]))

    def on_epoch_end(self, model, history):
        self.calls.append(("epoch_end", history.logs["epoch"]))
        self.thetas.append(model.theta.copy())

    def on_train_end(self, model, history):
        self.calls.append("train_end")


def test_hooks_run_in_order_with_the_epoch_and_batch_figures():
    X, y = _data(50)
    rec = Recorder()
    train(_net(), X, y, SquaredError(), SGD(0.05), epochs=2, batch_size=20, random_state=0,
          callbacks=[rec])
    epoch = [("batch", 1, 20), ("batch", 2, 20), ("batch", 3, 10)]
    assert rec.calls == (["train_begin", ("epoch_begin", 1), *epoch, ("epoch_end", 1),
                          ("epoch_begin", 2), *epoch, ("epoch_end", 2), "train_end"])


def test_callbacks_change_no_number():
    X, y = _data()
    plain, hooked = _net(), _net()
    h1 = train(plain, X, y, SquaredError(), Adam(0.01), epochs=5, random_state=0, alpha=1e-3)
    h2 = train(hooked, X, y, SquaredError(), Adam(0.01), epochs=5, random_state=0, alpha=1e-3,
               callbacks=[Recorder(), ProgressBar(stream=io.StringIO())])
    np.testing.assert_array_equal(plain.theta, hooked.theta)
    assert h1.loss_curve == h2.loss_curve


def test_stop_training_stops_after_the_current_epoch():
    class StopAt(Callback):
        def on_epoch_end(self, model, history):
            if history.logs["epoch"] == 2:
                model.stop_training = True

    X, y = _data()
    net = _net()
    h = train(net, X, y, SquaredError(), SGD(0.01), epochs=10, random_state=0,
              callbacks=[StopAt()])
    assert h.n_iter == 2 and len(h.loss_curve) == 2
    assert "stop_training" not in net.__dict__  # the flag belongs to the run


def test_history_records_every_epoch():
    X, y = _data()
    Xv, yv = _data(40, seed=1)
    h = train(_net(), X, y, SquaredError(), SGD(0.01, schedule="invscaling"),
              epochs=4, random_state=0, validation_data=(Xv, yv), alpha=0.01)
    assert len(h.validation_loss_curve) == len(h.validation_scores) == 4
    assert len(h.learning_rates) == len(h.epoch_times) == 4
    # the SGD rate after each epoch: learning_rate / (t + 1) ** power_t, t samples seen
    np.testing.assert_allclose(h.learning_rates, [0.01 / (120 * k + 1) ** 0.5
                                                  for k in range(1, 5)])
    assert all(t >= 0 for t in h.epoch_times)
    assert h.logs["epoch"] == 4 and h.logs["val_loss"] == h.validation_loss_curve[-1]


def test_validation_loss_is_the_objective_on_the_validation_set():
    X, y = _data()
    Xv, yv = _data(40, seed=1)
    net = _net()
    h = train(net, X, y, SquaredError(), SGD(0.01), epochs=1, random_state=0,
              validation_data=(Xv, yv), alpha=0.05)
    value, _ = net.loss_and_grad(Xv, yv, SquaredError(), alpha=0.05)
    np.testing.assert_allclose(h.validation_loss_curve[0], value, rtol=1e-12)
    # the default score is minus the loss without the penalty
    assert h.validation_scores[0] > -h.validation_loss_curve[0]


def test_early_stopping_stops_and_restores_the_best_epoch():
    X, y = _data()
    Xv, yv = _data(40, seed=1)
    rec = Recorder()
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    net = _net()
    # a rate this large oscillates: the validation loss stops improving
    h = train(net, X, y, SquaredError(), SGD(0.9, momentum=0.9), epochs=200, random_state=0,
              validation_data=(Xv, yv), callbacks=[rec, stopper])
    curve = np.array(h.validation_loss_curve)
    best = int(np.nanargmin(curve))
    assert stopper.stopped_epoch == best + 1 + 2 == h.n_iter
    np.testing.assert_array_equal(net.theta, rec.thetas[best])


@pytest.mark.parametrize("monitor", ["loss", "val_score"])
def test_early_stopping_other_monitors(monitor):
    X, y = _data()
    Xv, yv = _data(40, seed=1)
    stopper = EarlyStopping(monitor=monitor, patience=1, min_delta=1e9)
    h = train(_net(), X, y, SquaredError(), SGD(0.01), epochs=50, random_state=0,
              validation_data=(Xv, yv), callbacks=[stopper])
    assert h.n_iter == 2  # the first epoch improves on nothing; the second falls short


def test_a_monitor_without_validation_data_fails_before_training():
    X, y = _data()
    net = _net().build(3)
    theta = net.theta.copy()
    rec = Recorder()
    with pytest.raises(ValueError, match="monitor='val_loss' needs validation data"):
        train(net, X, y, SquaredError(), SGD(), epochs=3, callbacks=[rec, EarlyStopping()])
    assert rec.calls == []
    np.testing.assert_array_equal(net.theta, theta)


def test_a_raising_callback_leaves_the_model_as_it_was():
    class Boom(Callback):
        def on_epoch_end(self, model, history):
            if history.logs["epoch"] == 2:
                raise KeyError("from the callback")

    X, y = _data()
    net = _net().build(3)
    theta = net.theta.copy()
    with pytest.raises(KeyError, match="from the callback"):
        train(net, X, y, SquaredError(), SGD(0.1), epochs=5, callbacks=[Boom()])
    np.testing.assert_array_equal(net.theta, theta)


def test_model_checkpoint_keeps_the_best_epoch(tmp_path):
    X, y = _data()
    Xv, yv = _data(40, seed=1)
    rec = Recorder()
    path = tmp_path / "best.nnlite"
    h = train(_net(), X, y, SquaredError(), SGD(0.9, momentum=0.9), epochs=12, random_state=0,
              validation_data=(Xv, yv), callbacks=[rec, ModelCheckpoint(path)])
    best = int(np.nanargmin(h.validation_loss_curve))
    np.testing.assert_array_equal(nnlite.load(path).theta, rec.thetas[best])
    assert [p.name for p in tmp_path.iterdir()] == ["best.nnlite"]  # no temporary left


def test_model_checkpoint_every_epoch_and_a_missing_directory(tmp_path):
    X, y = _data()
    rec = Recorder()
    path = tmp_path / "last.nnlite"
    train(_net(), X, y, SquaredError(), SGD(0.01), epochs=3, random_state=0,
          callbacks=[rec, ModelCheckpoint(path, monitor="loss", save_best_only=False)])
    np.testing.assert_array_equal(nnlite.load(path).theta, rec.thetas[-1])
    with pytest.raises(ValueError, match="does not exist"):
        train(_net(), X, y, SquaredError(), SGD(0.01), epochs=3,
              callbacks=[ModelCheckpoint(tmp_path / "missing" / "m.nnlite", monitor="loss")])


def test_reduce_lr_on_plateau():
    X, y = _data()
    cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_delta=1e9, min_lr=0.002)
    h = train(_net(), X, y, SquaredError(), SGD(0.01), epochs=7, random_state=0, callbacks=[cb])
    # epoch 1 improves on nothing; every second epoch after it halves the rate, down to min_lr
    np.testing.assert_allclose(h.learning_rates, [0.01, 0.01, 0.01, 0.005, 0.005, 0.0025,
                                                  0.0025])
    cb2 = ReduceLROnPlateau(monitor="loss", factor=0.1, patience=1, min_delta=1e9, min_lr=0.002)
    h = train(_net(), X, y, SquaredError(), Adam(0.01), epochs=4, random_state=0,
              callbacks=[cb2])
    np.testing.assert_allclose(h.learning_rates, [0.01, 0.01, 0.002, 0.002])


def test_learning_rate_scheduler_sets_the_rate_the_steps_use():
    X, y = _data()
    sched = LearningRateScheduler(lambda epoch, lr: 0.02 * 0.5 ** epoch)
    net = _net()
    h = train(net, X, y, SquaredError(), SGD(0.3, momentum=0.0), epochs=3, random_state=0,
              callbacks=[sched])
    np.testing.assert_allclose(h.learning_rates, [0.02, 0.01, 0.005])
    # the same first epoch as a plain run at 0.02
    a, b = _net(), _net()
    train(a, X, y, SquaredError(), SGD(0.02, momentum=0.0), epochs=1, random_state=0)
    train(b, X, y, SquaredError(), SGD(0.3, momentum=0.0), epochs=1, random_state=0,
          callbacks=[sched])
    np.testing.assert_array_equal(a.theta, b.theta)
    bad = LearningRateScheduler(lambda epoch, lr: -1.0)
    with pytest.raises(ValueError, match="LearningRateScheduler"):
        train(_net(), X, y, SquaredError(), SGD(), epochs=2, callbacks=[bad])


def test_csv_logger(tmp_path):
    X, y = _data()
    Xv, yv = _data(40, seed=1)
    path = tmp_path / "log.csv"
    h = train(_net(), X, y, SquaredError(), SGD(0.01), epochs=3, random_state=0,
              validation_data=(Xv, yv), callbacks=[CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    np.testing.assert_allclose([float(r["loss"]) for r in rows], h.loss_curve)
    np.testing.assert_allclose([float(r["val_loss"]) for r in rows], h.validation_loss_curve)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_plain_lines_when_not_a_terminal():
    X, y = _data()
    Xv, yv = _data(40, seed=1)
    out = io.StringIO()
    train(_net(), X, y, SquaredError(), SGD(0.01), epochs=3, random_state=0,
          validation_data=(Xv, yv), callbacks=[ProgressBar(stream=out)])
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("epoch 1/3: loss ") and "val_loss" in lines[0]
    assert "elapsed" in lines[2] and "ETA" in lines[2]


def test_progress_bar_updates_one_line_on_a_terminal(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # without the optional extra
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = _data()
    out = _Terminal()
    train(_net(), X, y, SquaredError(), SGD(0.01), epochs=3, random_state=0,
          callbacks=[ProgressBar(stream=out)])
    text = out.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1


def test_progress_bar_with_lbfgs_prints_a_summary():
    X, y = _data()
    out = io.StringIO()
    with pytest.warns(nnlite.ConvergenceWarning):
        h = train(_net(), X, y, SquaredError(), nnlite.LBFGS(maxiter=5), random_state=0,
                  callbacks=[ProgressBar(stream=out)])
    assert out.getvalue().startswith(f"{h.n_iter} L-BFGS iterations: loss ")


def test_per_epoch_callbacks_are_refused_by_lbfgs():
    X, y = _data()
    with pytest.raises(ValueError, match="EarlyStopping: acts after every epoch"):
        train(_net(), X, y, SquaredError(), nnlite.LBFGS(), callbacks=[EarlyStopping("loss")])


def test_classifier_validation_loss_uses_the_log_loss():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    net = Sequential([Dense(6), Tanh(), Dense(3), Softmax()], random_state=0)
    h = train(net, X, y, LogLoss(), Adam(0.05), epochs=2, random_state=0,
              validation_data=(X[:30], y[:30]))
    assert h.validation_loss_curve[-1] == pytest.approx(-h.validation_scores[-1], rel=1e-12)


@pytest.mark.parametrize("bad, error, match", [
    (EarlyStopping, ValueError, "monitor must be one of"),
    (lambda: EarlyStopping(monitor="loss", patience=-1), ValueError, "patience must be"),
    (lambda: EarlyStopping(monitor="loss", patience=1.5), TypeError, "patience must be an int"),
    (lambda: EarlyStopping(monitor="loss", min_delta=-1), ValueError, "min_delta"),
    (lambda: ReduceLROnPlateau(factor=1.0), ValueError, "factor must be"),
    (lambda: ReduceLROnPlateau(min_lr=float("nan")), ValueError, "min_lr must be"),
    (lambda: LearningRateScheduler(0.1), TypeError, "schedule must be callable"),
])
def test_bad_arguments(bad, error, match):
    with pytest.raises(error, match=match):
        bad("accuracy") if bad is EarlyStopping else bad()


def test_callbacks_must_be_a_list_of_callbacks():
    X, y = _data()
    with pytest.raises(TypeError, match="callbacks must be a list"):
        train(_net(), X, y, SquaredError(), SGD(), callbacks=ProgressBar())
    with pytest.raises(TypeError, match=r"callbacks\[1\] must be an nnlite Callback"):
        train(_net(), X, y, SquaredError(), SGD(), callbacks=[ProgressBar(), print])


def test_rate_callbacks_refuse_a_scheduled_rate():
    from nnlite.schedules import ExponentialDecay
    X, y = _data()
    opt = Adam(ExponentialDecay(0.01, decay_rate=0.5, decay_steps=10))
    with pytest.raises(ValueError, match="follows a schedule"):
        train(_net(), X, y, SquaredError(), opt, epochs=2,
              callbacks=[ReduceLROnPlateau(monitor="loss")])
    with pytest.raises(ValueError, match="follows a schedule"):
        train(_net(), X, y, SquaredError(), SGD(0.1, schedule="invscaling"), epochs=2,
              callbacks=[LearningRateScheduler(lambda e, lr: lr)])


@pytest.mark.parametrize("make", [lambda: nnlite.RMSProp(0.01), lambda: nnlite.AdamW(0.01),
                                  lambda: nnlite.Nadam(0.01), lambda: nnlite.Adagrad(0.01)])
def test_the_recorded_rate_is_the_base_rate_of_every_optimizer(make):
    X, y = _data()
    h = train(_net(), X, y, SquaredError(), make(), epochs=3, random_state=0,
              callbacks=[LearningRateScheduler(lambda epoch, lr: 0.01 / (epoch + 1))])
    np.testing.assert_allclose(h.learning_rates, [0.01, 0.005, 0.01 / 3])


def test_validation_loss_weighs_classes_as_training_does():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 2))
    y = (X[:, 0] > 0.5).astype(int)
    weights = {0: 1.0, 1: 4.0}
    net = Sequential([Dense(6), Tanh(), Dense(2), Softmax()], random_state=0)
    loss = LogLoss(class_weight=weights)
    h = train(net, X, y, loss, Adam(0.05), epochs=1, random_state=0, alpha=0.01,
              validation_data=(X[:30], y[:30]))
    value, _ = net.loss_and_grad(X[:30], y[:30], loss, alpha=0.01)
    np.testing.assert_allclose(h.validation_loss_curve[0], value, rtol=1e-12)
