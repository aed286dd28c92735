"""training.train: minibatches, shuffling, stopping, validation, incremental runs, L-BFGS."""

import numpy as np
import pytest

import nnlite
from nnlite import (
    LBFGS,
    SGD,
    Adam,
    Dense,
    Identity,
    LogLoss,
    Sequential,
    Softmax,
    SquaredError,
    Tanh,
    train,
)


class SpyLoss(SquaredError):
    """SquaredError that records every batch's targets and value (fused with Identity)."""

    def __init__(self):
        self.batches, self.values = [], []

    def fused_value_and_delta(self, logits, y, sample_weight=None, compute_value=True):
        value, delta = super().fused_value_and_delta(logits, y, sample_weight, compute_value)
        self.batches.append(y[:, 0].copy())
        self.values.append(value)
        return value, delta


def _index_problem(n, seed=0):
    """Targets equal to the row index, so a batch's targets tell which rows it holds."""
    X = np.random.RandomState(seed).normal(size=(n, 3))
    return X, np.arange(n, dtype=float)


def _regression_net(seed=0):
    return Sequential([Dense(4), Tanh(), Dense(1), Identity()], n_in=3, random_state=seed)


def _blobs(n=150, seed=0):
    rng = np.random.RandomState(seed)
    centers = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    y = rng.randint(0, 3, n)
    return centers[y] + rng.normal(scale=0.6, size=(n, 2)), y


def test_minibatch_loop_without_shuffle():
    X, y = _index_problem(50)
    loss = SpyLoss()
    h = train(_regression_net(), X, y, loss, SGD(1e-4), batch_size=16, epochs=3, shuffle=False)
    assert [len(b) for b in loss.batches] == [16, 16, 16, 2] * 3
    np.testing.assert_array_equal(np.concatenate(loss.batches[:4]), np.arange(50))
    assert (h.n_iter, h.t, len(h.loss_curve)) == (3, 150, 3)
    # the epoch loss: batch means combined by batch length (scikit-learn's bookkeeping)
    for epoch in range(3):
        values = loss.values[4 * epoch: 4 * epoch + 4]
        expected = sum(v * n for v, n in zip(values, [16, 16, 16, 2])) / 50
        assert h.loss_curve[epoch] == pytest.approx(expected, rel=1e-12)
        assert isinstance(h.loss_curve[epoch], float)
    assert h.loss == h.loss_curve[-1]


def test_batch_size_is_clipped_to_the_number_of_samples():
    X, y = _index_problem(30)
    loss = SpyLoss()
    h = train(_regression_net(), X, y, loss, SGD(1e-4), batch_size=1000, epochs=2,
              random_state=0)
    assert [len(b) for b in loss.batches] == [30, 30]
    assert h.n_iter == 2


def test_shuffling_with_a_seed_is_reproducible_and_composes_permutations():
    X, y = _index_problem(20)
    runs = []
    for seed in (3, 3, 4):
        loss, net = SpyLoss(), _regression_net()
        h = train(net, X, y, loss, SGD(1e-4), batch_size=7, epochs=3, random_state=seed)
        runs.append((np.concatenate(loss.batches).astype(int), net.theta.copy(), h.loss_curve))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]
    assert not np.array_equal(runs[0][0], runs[2][0])
    # every epoch is a permutation; each epoch's order is the previous one permuted anew
    rng, idx = np.random.RandomState(3), np.arange(20)
    for epoch in range(3):
        perm = np.arange(20)
        rng.shuffle(perm)
        idx = idx[perm]
        np.testing.assert_array_equal(runs[0][0][20 * epoch: 20 * epoch + 20], idx)


def test_unbuilt_network_draws_its_weights_from_the_same_seed():
    X, y = _blobs(60)
    nets = [Sequential([Dense(5), Tanh(), Dense(3), Softmax()]) for _ in range(2)]
    for net in nets:
        train(net, X, y, LogLoss(), Adam(0.01), epochs=3, batch_size=20, random_state=11)
    np.testing.assert_array_equal(nets[0].theta, nets[1].theta)


def test_tol_stops_after_n_iter_no_change_plus_one_stale_epochs():
    X, y = _index_problem(30)
    # no epoch improves by 1e6: the first sets the best loss, then n_iter_no_change + 1
    # stale epochs follow before the stop
    h = train(_regression_net(), X, y, SquaredError(), SGD(1e-4), tol=1e6,
              n_iter_no_change=3, epochs=50, random_state=0)
    assert h.stopped and h.n_iter == len(h.loss_curve) == 5
    assert h.no_improvement_count == 4
    # without tol every epoch runs, and no warning is raised
    h = train(_regression_net(), X, y, SquaredError(), SGD(1e-4), epochs=7, random_state=0)
    assert not h.stopped and h.n_iter == 7


def test_adaptive_schedule_divides_the_rate_until_it_is_tiny():
    X, y = _index_problem(30)
    opt = SGD(0.01, schedule="adaptive")
    h = train(_regression_net(), X, y * 1e-3, SquaredError(), opt, tol=1e6, n_iter_no_change=1,
              epochs=100, random_state=0)
    # triggers at epochs 3, 5, ..., 15; the 7th finds lr = 0.01 / 5**6 <= 1e-6 and stops
    assert h.stopped and h.n_iter == 15
    assert opt.lr == pytest.approx(0.01 / 5**6, rel=1e-14)


def test_validation_data_restores_the_best_parameters():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = X @ np.array([1.0, -1.0, 0.5])
    X_val = rng.normal(size=(20, 3))
    y_val = -(X_val @ np.array([1.0, -1.0, 0.5]))  # learning the training set hurts here
    seen = []

    def record(net, history):
        seen.append(net.theta.copy())
        return False

    net = _regression_net()
    h = train(net, X, y, SquaredError(), Adam(0.05), epochs=15, batch_size=20, random_state=0,
              validation_data=(X_val, y_val), callback=record)
    scores = h.validation_scores
    assert len(scores) == len(seen) == 15
    best = int(np.argmax(scores))
    assert best < len(scores) - 1 and not np.array_equal(seen[-1], seen[best])
    np.testing.assert_array_equal(net.theta, seen[best])
    np.testing.assert_array_equal(h.best_theta, seen[best])
    assert h.best_validation_score == max(scores)
    # the default score is minus the mean validation loss
    assert scores[best] == pytest.approx(-SquaredError().value(net.predict(X_val),
                                                               y_val[:, None]), rel=1e-12)


def test_callback_can_stop_training():
    X, y = _index_problem(20)
    h = train(_regression_net(), X, y, SquaredError(), SGD(1e-4), epochs=50, random_state=0,
              callback=lambda net, history: history.n_iter == 4)
    assert h.n_iter == 4 and not h.stopped


def test_incremental_runs_one_epoch_and_keeps_the_optimizer_state():
    X, y = _blobs(40)
    net = Sequential([Dense(5), Tanh(), Dense(3), Softmax()], n_in=2, random_state=0)
    opt, history = Adam(0.01), nnlite.History()
    for call in (1, 2):
        h = train(net, X, y, LogLoss(), opt, batch_size=10, epochs=200, incremental=True,
                  history=history, random_state=call)
        assert h is history and h.n_iter == 1
        assert len(h.loss_curve) == call and h.t == 40 * call
        assert opt.t == 4 * call  # Adam's step counter carried over: 4 batches per epoch
    # a non-incremental call reinitialises the optimizer
    train(net, X, y, LogLoss(), opt, batch_size=10, epochs=2, history=history, random_state=0)
    assert opt.t == 8 and len(history.loss_curve) == 4


def test_lbfgs_full_batch_reaches_high_accuracy_on_three_classes():
    X, y = _blobs()
    net = Sequential([Dense(8), Tanh(), Dense(3), Softmax()], random_state=0)
    loss = LogLoss()
    h = train(net, X, y, loss, LBFGS(maxiter=200), alpha=1e-4, random_state=0)
    assert np.mean(net.predict(X).argmax(1) == y) > 0.95
    assert 0 < h.n_iter <= 200
    value, _ = net.loss_and_grad(X, loss.prepare_target(y, 3), loss, 1e-4)
    assert h.loss == pytest.approx(value, rel=1e-10)
    # L-BFGS sees the whole batch at every evaluation
    spy = SpyLoss()
    reg = _regression_net()
    Xr, yr = _index_problem(25)
    with pytest.warns(nnlite.ConvergenceWarning):
        train(reg, Xr, yr / 25, spy, LBFGS(maxiter=5, gtol=0.0), random_state=0)
    assert spy.batches and all(len(b) == 25 for b in spy.batches)


def test_convergence_warning_when_the_limit_is_hit():
    X, y = _index_problem(20)
    with pytest.warns(nnlite.ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        train(_regression_net(), X, y, SquaredError(), SGD(1e-4), epochs=3, tol=1e-12,
              random_state=0)
    Xb, yb = _blobs(60)
    with pytest.warns(nnlite.ConvergenceWarning, match="lbfgs failed to converge"):
        train(Sequential([Dense(5), Tanh(), Dense(3), Softmax()]), Xb, yb, LogLoss(),
              LBFGS(maxiter=2), random_state=0)


def test_non_finite_weights_raise():
    X, y = _index_problem(20)
    with np.errstate(all="ignore"):
        with pytest.raises(ValueError, match="non-finite parameter weights"):
            train(_regression_net(), X * 1e150, y * 1e150, SquaredError(), SGD(1e100),
                  epochs=3, random_state=0)


def test_log_loss_accepts_integer_labels():
    X, y = _blobs(90)
    nets = [Sequential([Dense(6), Tanh(), Dense(3), Softmax()], n_in=2, random_state=0)
            for _ in range(2)]
    h_int = train(nets[0], X, y, LogLoss(), Adam(0.02), epochs=20, batch_size=30,
                  random_state=0)
    h_hot = train(nets[1], X, np.eye(3)[y], LogLoss(), Adam(0.02), epochs=20, batch_size=30,
                  random_state=0)
    np.testing.assert_array_equal(nets[0].theta, nets[1].theta)
    assert h_int.loss_curve == h_hot.loss_curve
    assert h_int.loss_curve[-1] < h_int.loss_curve[0]
    assert np.mean(nets[0].predict(X).argmax(1) == y) > 0.9


def test_sample_weights_and_float32():
    X, y = _blobs(60)
    w = np.random.RandomState(0).uniform(0.5, 2.0, 60)
    net = Sequential([Dense(5), Tanh(), Dense(3), Softmax()], random_state=0)
    h = train(net, X.astype(np.float32), y, LogLoss(), Adam(0.02), epochs=5, batch_size=20,
              sample_weight=w, random_state=0)
    assert net.theta.dtype == np.float32 and np.isfinite(h.loss)
    # zero weight on a sample is the same as leaving it out (full batch, so exactly)
    w0 = np.ones(60)
    w0[:10] = 0.0
    a = Sequential([Dense(4), Tanh(), Dense(3), Softmax()], n_in=2, random_state=1)
    b = Sequential([Dense(4), Tanh(), Dense(3), Softmax()], n_in=2, random_state=1)
    train(a, X, y, LogLoss(), SGD(0.1), epochs=3, batch_size=60, shuffle=False,
          sample_weight=w0, alpha=1e-3)
    train(b, X[10:], y[10:], LogLoss(), SGD(0.1), epochs=3, batch_size=50, shuffle=False,
          alpha=1e-3)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-12, atol=1e-14)


def test_lbfgs_refuses_the_stochastic_only_arguments():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(30, 2)), rng.randint(0, 2, 30)
    net = nnlite.Sequential([nnlite.Dense(2), nnlite.Softmax()], random_state=0)
    for kwargs in ({"validation_data": (X, y)}, {"callback": lambda n, h: True},
                   {"tol": 0.1}, {"incremental": True}):
        with pytest.raises(ValueError, match="apply to the stochastic optimizers"):
            nnlite.train(net, X, y, nnlite.LogLoss(), nnlite.LBFGS(maxiter=5), **kwargs)


def test_failed_train_puts_the_weights_back():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    net = nnlite.Sequential([nnlite.Dense(4), nnlite.Tanh(), nnlite.Dense(1)], random_state=0)
    net.build(3)
    before = net.theta.copy()
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        nnlite.train(net, X, X[:, :1] * 1e300, nnlite.SquaredError(), nnlite.SGD(10.0),
                     epochs=3, random_state=0)
    np.testing.assert_array_equal(net.theta, before)


def test_non_finite_loss_with_finite_weights_is_an_error():
    # PoissonLoss on a plain Dense output: negative outputs make the loss NaN
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    net = nnlite.Sequential([nnlite.Dense(1)], random_state=0)
    net.build(3)
    before = net.theta.copy()
    with pytest.raises(ValueError, match="training loss is nan although the weights are finite"):
        nnlite.train(net, X, np.abs(X[:, :1]), nnlite.PoissonLoss(), nnlite.Adam(),
                     epochs=3, random_state=0)
    np.testing.assert_array_equal(net.theta, before)
