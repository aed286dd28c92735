"""A failed fit or partial_fit leaves the estimator exactly as it was.

The estimators save only what a call can change (``nnlite/_snapshot.py``), not
a deep copy.  These tests compare the whole state, recursively, before and
after calls that fail at every stage: in validation, after the optimizer has
stepped (divergence), in the middle of a multi-epoch fit, and in an L-BFGS fit
that had converted a float32 network to float64.  They then check that
training goes on as if the failed calls never happened, against scikit-learn
where it is installed.
"""

import copy
import warnings

import numpy as np
import pytest

import nnlite
from nnlite import ConvergenceWarning, MLPClassifier, MLPRegressor
from nnlite.optimizers import LBFGS, SGD, Adam

RNG = np.random.RandomState(3)
X = RNG.normal(size=(150, 6))
Y = RNG.randint(0, 3, 150)
YR = X[:, 0] - np.sin(X[:, 1])

# work arrays, the gradient and what a forward pass keeps for its backward pass: each is
# written before it is read, none is part of the model
SCRATCH = {"_ws", "_step_program", "_previous_x", "_relu_pairs", "_tmp", "_tmp2", "grad",
           "grads", "_x", "_z"}


def assert_same_state(before, after, path="est"):
    """Compare two object graphs value by value (arrays bit for bit, NaN equal to NaN)."""
    if isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray), path
        assert before.dtype == after.dtype and before.shape == after.shape, path
        np.testing.assert_array_equal(before, after, err_msg=path)
    elif isinstance(before, np.random.RandomState):
        assert_same_state(before.get_state(), after.get_state(), path + ".get_state()")
    elif isinstance(before, (list, tuple)):
        assert type(before) is type(after) and len(before) == len(after), path
        for i, (a, b) in enumerate(zip(before, after)):
            assert_same_state(a, b, f"{path}[{i}]")
    elif isinstance(before, dict):
        keys = set(before) - SCRATCH
        assert keys == set(after) - SCRATCH, (path, keys ^ (set(after) - SCRATCH))
        for k in keys:
            assert_same_state(before[k], after[k], f"{path}.{k}")
    elif hasattr(before, "__dict__") and not isinstance(before, type):
        assert type(before) is type(after), path
        assert_same_state(vars(before), vars(after), path)
    elif isinstance(before, float) and np.isnan(before):
        assert isinstance(after, float) and np.isnan(after), path
    else:
        assert before == after, (path, before, after)


def quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def fails_unchanged(est, call, error=ValueError, match=None):
    """Run ``call(est)``, which must raise; the estimator must not have changed."""
    before = copy.deepcopy(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(error, match=match):
            call(est)
    assert_same_state(vars(before), vars(est))


class _FailAfter:
    """Make ``cls.method`` raise on its ``n``-th call (a failure in mid-training)."""

    def __init__(self, monkeypatch, cls, method, n):
        original, count = getattr(cls, method), [0]

        def failing(*args, **kwargs):
            count[0] += 1
            if count[0] >= n:
                raise RuntimeError("injected failure")
            return original(*args, **kwargs)
        monkeypatch.setattr(cls, method, failing)


def test_the_comparison_sees_a_change():
    clf = MLPClassifier((5,), random_state=0).partial_fit(X, Y, classes=[0, 1, 2])
    before = copy.deepcopy(clf)
    clf._optimizer.m[0] += 1e-12  # one moment, one ulp-sized change
    with pytest.raises(AssertionError):
        assert_same_state(vars(before), vars(clf))
    clf._optimizer.m[0] -= 1e-12
    clf.loss_curve_.append(0.5)
    with pytest.raises(AssertionError):
        assert_same_state(vars(before), vars(clf))


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_failed_partial_fit_in_a_loop_changes_nothing(solver, monkeypatch):
    clf = MLPClassifier((7,), solver=solver, learning_rate="adaptive", random_state=0)
    clf.partial_fit(X[:50], Y[:50], classes=[0, 1, 2])
    clf.partial_fit(X[50:100], Y[50:100])
    bad = X[100:].copy()
    bad[4, 2] = np.nan
    fails_unchanged(clf, lambda c: c.partial_fit(bad, Y[100:]), match="NaN")
    fails_unchanged(clf, lambda c: c.partial_fit(X[100:], Y[100:], classes=[0, 1]),
                    match="is not the same as on last call")
    # fails after the optimizer has stepped once on the block
    _FailAfter(monkeypatch, type(clf._optimizer.core), "iteration_ends", 1)
    fails_unchanged(clf, lambda c: c.partial_fit(X[100:], Y[100:]), RuntimeError,
                    "injected failure")
    assert len(clf.loss_curve_) == 2 and clf.t_ == 100


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_diverging_partial_fit_changes_nothing(solver):
    reg = MLPRegressor(hidden_layer_sizes=(7,), solver=solver, random_state=0)
    reg.partial_fit(X[:50], YR[:50])
    reg.partial_fit(X[50:100], YR[50:100])
    reg.set_params(learning_rate_init=1e3)
    # the optimizer's moments or velocity are NaN when this one fails
    fails_unchanged(reg, lambda r: r.partial_fit(X[100:] * 1e150, YR[100:] * 1e200),
                    match="non-finite parameter weights")


@pytest.mark.parametrize("est, y, optimizer, curve", [
    (MLPClassifier((6,), warm_start=True, max_iter=4, random_state=0, batch_size=40), Y, Adam,
     "loss_curve_"),
    (MLPRegressor(hidden_layer_sizes=(6,), solver="sgd", early_stopping=True, warm_start=True,
                  max_iter=3, random_state=0, batch_size=30), YR, SGD, "validation_scores_"),
])
def test_failure_in_the_middle_of_a_warm_fit_changes_nothing(est, y, optimizer, curve,
                                                             monkeypatch):
    quiet_fit(est, X, y)
    length = len(getattr(est, curve))
    # at most 5 batches per epoch: the 11th step is in the third epoch, after two were recorded
    _FailAfter(monkeypatch, optimizer, "step", 11)
    fails_unchanged(est, lambda e: e.fit(X, y), RuntimeError, "injected failure")
    assert len(getattr(est, curve)) == length


def test_failed_lbfgs_fit_puts_a_float32_network_back(monkeypatch):
    reg = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    X32 = X.astype(np.float32)
    quiet_fit(reg, X32, YR)
    assert reg.coefs_[0].dtype == np.float32
    reg.set_params(solver="lbfgs", warm_start=True)
    _FailAfter(monkeypatch, LBFGS, "minimize", 1)
    fails_unchanged(reg, lambda r: r.fit(X32, YR), RuntimeError, "injected failure")
    assert reg.network_.dtype == np.float32 and reg.coefs_[0].dtype == np.float32
    assert np.shares_memory(reg.coefs_[0], reg.network_.theta)
    monkeypatch.undo()
    reg.set_params(solver="adam", warm_start=False)
    reg.partial_fit(X32, YR)  # still trainable in float32
    assert reg.coefs_[0].dtype == np.float32


def test_failed_fit_puts_back_the_draws_of_a_given_random_state():
    rs = np.random.RandomState(5)
    reg = MLPRegressor(hidden_layer_sizes=(4,), random_state=rs, max_iter=2)
    state = rs.get_state()
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        quiet_fit(reg.set_params(learning_rate_init=1e3), X * 1e150, YR * 1e200)
    assert not hasattr(reg, "network_") and reg.random_state is rs
    assert_same_state(state, rs.get_state())


def test_partial_fit_after_failures_continues_as_if_they_never_happened():
    plain = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", random_state=0)
    failing = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", random_state=0)
    for start in range(0, 150, 30):
        block = slice(start, start + 30)
        plain.partial_fit(X[block], YR[block])
        with pytest.raises(ValueError):
            failing.partial_fit(X[block] * 1e150, YR[block] * 1e200)
        failing.partial_fit(X[block], YR[block])
    for a, b in zip(plain.coefs_ + plain.intercepts_, failing.coefs_ + failing.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert plain.loss_curve_ == failing.loss_curve_ and plain.t_ == failing.t_ == 150


@pytest.mark.parametrize("hidden", [(9,), (12, 7)])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_partial_fit_blocks_equal_scikit_learn(hidden, solver):
    skl = pytest.importorskip("sklearn.neural_network")
    ours = MLPClassifier(hidden, solver=solver, learning_rate="invscaling", random_state=1)
    theirs = skl.MLPClassifier(hidden, solver=solver, learning_rate="invscaling",
                               random_state=1)
    for start in range(0, 150, 20):  # the last block is shorter
        block = slice(start, start + 20)
        ours.partial_fit(X[block], Y[block], classes=[0, 1, 2])
        theirs.partial_fit(X[block], Y[block], classes=[0, 1, 2])
        if start == 60:  # a failed call in the middle changes nothing
            with pytest.raises(ValueError):
                ours.partial_fit(X[block][:, :3], Y[block])
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert ours.loss_curve_ == theirs.loss_curve_ and ours.t_ == theirs.t_
    assert ours._optimizer.lr == theirs._optimizer.learning_rate or solver == "adam"


def test_train_still_restores_the_weights_itself():
    net = nnlite.Sequential([nnlite.Dense(4), nnlite.ReLU(), nnlite.Dense(1)])
    net.build(6, random_state=0)
    theta = net.theta.copy()
    with pytest.raises(ValueError, match="non-finite"):
        nnlite.train(net, X * 1e200, YR, nnlite.SquaredError(), SGD(10.0), epochs=1)
    np.testing.assert_array_equal(net.theta, theta)


def test_each_call_draws_from_random_state_seed_afresh():
    from nnlite.init import _fresh_random_state

    clf = MLPClassifier((3,))
    first = _fresh_random_state(42, clf)
    first.shuffle(np.arange(50))  # a call consumes draws ...
    again = _fresh_random_state(42, clf)  # ... the next one starts from the seed again
    assert again is first
    assert_same_state(np.random.RandomState(42).get_state(), again.get_state())
    assert _fresh_random_state(42, MLPClassifier()) is not first  # one per estimator
    rs = np.random.RandomState(1)
    assert _fresh_random_state(rs, clf) is rs
    assert _fresh_random_state(None, clf) is np.random.mtrand._rand


def test_failed_partial_fit_puts_back_the_dropout_generators_and_keeps_callbacks_as_given():
    import os

    from nnlite.callbacks import ProgressBar

    with open(os.devnull, "w") as sink:  # a stream: not copyable, and never copied
        bar = ProgressBar(stream=sink)
        plain = MLPRegressor(hidden_layer_sizes=(8,), dropout=0.3, random_state=0)
        failing = MLPRegressor(hidden_layer_sizes=(8,), dropout=0.3, random_state=0,
                               callbacks=[bar])
        for start in range(0, 150, 30):
            block = slice(start, start + 30)
            plain.partial_fit(X[block], YR[block])
            with pytest.raises(ValueError):
                failing.partial_fit(X[block] * 1e150, YR[block] * 1e200)
            failing.partial_fit(X[block], YR[block])
        assert failing.callbacks[0] is bar
    # the failed calls drew dropout masks; putting the generators back gives the same run
    np.testing.assert_array_equal(plain.network_.theta, failing.network_.theta)
