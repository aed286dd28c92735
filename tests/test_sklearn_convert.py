"""Fitted models to and from scikit-learn: equal predictions, and fits that continue alike.

Each test fits one side, converts, and then drives both models with the same
calls; weights, loss curves and counters must stay equal to the bit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import nnlite

sklearn = pytest.importorskip("sklearn")
if sklearn.__version__ != "1.9.1":  # pragma: no cover - the test extra pins it
    pytest.skip("parity is specified against scikit-learn 1.9.1", allow_module_level=True)

from sklearn import neural_network as skl  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.RandomState(11)
X = RNG.normal(size=(90, 4))
TARGETS = {
    "binary": ("MLPClassifier", RNG.randint(0, 2, 90)),
    "multiclass": ("MLPClassifier", RNG.randint(0, 3, 90)),
    "multilabel": ("MLPClassifier", RNG.randint(0, 2, (90, 3))),
    "strings": ("MLPClassifier", np.array(["ant", "bee", "cat"])[RNG.randint(0, 3, 90)]),
    "regression": ("MLPRegressor", X[:, 0] * 1.5 + np.sin(X[:, 1])),
    "multi-output": ("MLPRegressor", np.c_[X[:, 0], np.cos(X[:, 2])]),
    "poisson": ("MLPRegressor", RNG.poisson(np.exp(0.4 * X[:, 0]))),
}
SOLVERS = {
    "adam": dict(solver="adam", learning_rate_init=0.01),
    "sgd-nesterov": dict(solver="sgd", learning_rate_init=0.05),
    "sgd-invscaling": dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1,
                           nesterovs_momentum=False),
    "sgd-adaptive": dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05,
                         tol=1e-2, n_iter_no_change=1),
    "lbfgs": dict(solver="lbfgs"),
}
ATTRIBUTES = ("n_iter_", "t_", "n_outputs_", "n_layers_", "out_activation_", "n_features_in_",
              "loss_", "loss_curve_", "best_loss_", "validation_scores_",
              "best_validation_score_", "_no_improvement_count")


def quietly(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(Stochastic Optimizer|lbfgs failed)")
        return call(*args, **kwargs)


def make(side, task, solver, **extra):
    cls_name, _ = TARGETS[task]
    params = dict(SOLVERS[solver], hidden_layer_sizes=(5, 3), max_iter=6, random_state=2)
    params.update(extra)
    if task == "poisson":
        params["loss"] = "poisson"
    return getattr(skl if side == "sklearn" else nnlite, cls_name)(**params)


def assert_equal_models(ours, theirs):
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_,
                    strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    for name in ATTRIBUTES:
        assert hasattr(ours, name) == hasattr(theirs, name), name
        if hasattr(theirs, name):
            assert getattr(ours, name) == getattr(theirs, name), name
    if hasattr(theirs, "classes_"):
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    if hasattr(theirs, "predict_proba"):
        np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))


def partial_fits(model, task, n=3):
    y = TARGETS[task][1]
    extra = {}
    if isinstance(model, (skl.MLPClassifier, nnlite.MLPClassifier)):
        extra["classes"] = np.arange(3) if task == "multilabel" else np.unique(y)
    for k in range(n):
        rows = slice(30 * k, 30 * (k + 1))
        model.partial_fit(X[rows], y[rows], **extra)


# ----- scikit-learn -> nnlite ---------------------------------------------------------------------
@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("task", list(TARGETS))
def test_from_sklearn_predicts_the_same_and_carries_every_attribute(task, solver):
    theirs = quietly(make("sklearn", task, solver).fit, X, TARGETS[task][1])
    ours = nnlite.from_sklearn(theirs)
    assert type(ours).__name__ == type(theirs).__name__
    params = ours.get_params()
    assert {k: params.pop(k) for k in theirs.get_params()} == theirs.get_params()
    defaults = type(ours)().get_params()
    assert params == {k: defaults[k] for k in params}  # nnlite's own settings: their defaults
    assert_equal_models(ours, theirs)


@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov", "sgd-invscaling", "sgd-adaptive"])
@pytest.mark.parametrize("task", ["multiclass", "binary", "regression", "multi-output"])
def test_partial_fit_continues_as_in_sklearn(task, solver):
    theirs = quietly(make("sklearn", task, solver).fit, X, TARGETS[task][1])
    ours = nnlite.from_sklearn(theirs)
    partial_fits(theirs, task)
    partial_fits(ours, task)
    assert_equal_models(ours, theirs)


@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov", "sgd-adaptive"])
def test_partial_fit_from_a_partially_fitted_model(solver):
    theirs = make("sklearn", "multiclass", solver)
    partial_fits(theirs, "multiclass", n=2)
    ours = nnlite.from_sklearn(theirs)
    partial_fits(theirs, "multiclass")
    partial_fits(ours, "multiclass")
    assert_equal_models(ours, theirs)


@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov", "sgd-adaptive", "lbfgs"])
@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_warm_started_fit_continues_as_in_sklearn(task, solver):
    theirs = quietly(make("sklearn", task, solver, warm_start=True).fit, X, TARGETS[task][1])
    ours = nnlite.from_sklearn(theirs)
    for _ in range(2):
        quietly(theirs.fit, X, TARGETS[task][1])
        quietly(ours.fit, X, TARGETS[task][1])
    assert_equal_models(ours, theirs)


def test_a_converged_fit_stops_the_next_warm_fit_alike():
    # the no-improvement count and the best loss carried over decide when the next fit stops
    params = dict(tol=10.0, n_iter_no_change=2, warm_start=True, max_iter=50)
    theirs = quietly(make("sklearn", "multiclass", "sgd-nesterov", **params).fit, X,
                     TARGETS["multiclass"][1])
    assert theirs._no_improvement_count > 0 and theirs.n_iter_ < 50
    ours = nnlite.from_sklearn(theirs)
    quietly(theirs.fit, X, TARGETS["multiclass"][1])
    quietly(ours.fit, X, TARGETS["multiclass"][1])
    assert theirs.n_iter_ == 1
    assert_equal_models(ours, theirs)


def test_the_optimizer_state_is_what_makes_partial_fit_continue():
    # the check above can fail: without Adam's moments and step count the runs part
    theirs = quietly(make("sklearn", "multiclass", "adam").fit, X, TARGETS["multiclass"][1])
    ours = nnlite.from_sklearn(theirs)
    assert ours._optimizer.t == theirs._optimizer.t > 0
    del ours._optimizer
    partial_fits(theirs, "multiclass")
    partial_fits(ours, "multiclass")
    assert not np.array_equal(ours.coefs_[0], theirs.coefs_[0])


@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov"])
def test_float32_models_stay_float32_and_continue_alike(solver):
    X32 = X.astype(np.float32)
    y = TARGETS["multiclass"][1]
    theirs = quietly(make("sklearn", "multiclass", solver).fit, X32, y)
    ours = nnlite.from_sklearn(theirs)
    assert ours.network_.dtype == np.float32
    for k in range(3):
        rows = slice(30 * k, 30 * (k + 1))
        theirs.partial_fit(X32[rows], y[rows])
        ours.partial_fit(X32[rows], y[rows])
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours.predict_proba(X32), theirs.predict_proba(X32))


def test_early_stopping_state_is_carried():
    theirs = quietly(make("sklearn", "binary", "adam", early_stopping=True,
                          validation_fraction=0.2, max_iter=15).fit, X, TARGETS["binary"][1])
    ours = nnlite.from_sklearn(theirs)
    assert_equal_models(ours, theirs)
    assert ours.validation_scores_ == theirs.validation_scores_ and ours.best_loss_ is None
    assert ours.validation_loss_curve_ == []  # nnlite's own record starts with the conversion
    np.testing.assert_array_equal(ours._history.best_theta, ours.network_.theta)


def test_feature_names_and_random_state_objects_are_carried():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    seed = np.random.RandomState(5)
    theirs = skl.MLPRegressor(hidden_layer_sizes=(3,), max_iter=4, random_state=seed)
    quietly(theirs.fit, frame, TARGETS["regression"][1])
    ours = nnlite.from_sklearn(theirs)
    assert ours.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    assert ours.random_state is not seed  # a copy: the two models do not share a stream
    np.testing.assert_array_equal(ours.random_state.get_state()[1], seed.get_state()[1])
    np.testing.assert_array_equal(ours.predict(frame), theirs.predict(frame))


# ----- nnlite -> scikit-learn ---------------------------------------------------------------------
@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("task", list(TARGETS))
def test_to_sklearn_predicts_the_same(task, solver):
    ours = quietly(make("nnlite", task, solver).fit, X, TARGETS[task][1])
    theirs = ours.to_sklearn()
    assert isinstance(theirs, getattr(skl, type(ours).__name__))
    assert theirs.get_params().items() <= ours.get_params().items()
    assert_equal_models(ours, theirs)
    assert theirs.score(X, TARGETS[task][1]) == ours.score(X, TARGETS[task][1])


@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov", "sgd-adaptive"])
@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_to_sklearn_then_both_continue_alike(task, solver):
    ours = quietly(make("nnlite", task, solver, warm_start=True).fit, X, TARGETS[task][1])
    theirs = nnlite.to_sklearn(ours)
    partial_fits(ours, task)
    partial_fits(theirs, task)
    assert_equal_models(ours, theirs)
    quietly(ours.fit, X, TARGETS[task][1])
    quietly(theirs.fit, X, TARGETS[task][1])
    assert_equal_models(ours, theirs)


def test_round_trip_keeps_everything():
    theirs = quietly(make("sklearn", "strings", "adam").fit, X, TARGETS["strings"][1])
    again = nnlite.from_sklearn(theirs).to_sklearn()
    assert_equal_models(again, theirs)
    np.testing.assert_array_equal(again._optimizer.ms[0], theirs._optimizer.ms[0])


# ----- what cannot be converted -------------------------------------------------------------------
def test_unfitted_models_are_refused():
    with pytest.raises(nnlite.NotFittedError, match="not fitted"):
        nnlite.from_sklearn(skl.MLPClassifier())
    with pytest.raises(nnlite.NotFittedError, match="not fitted"):
        nnlite.MLPRegressor().to_sklearn()


def test_other_objects_are_refused_with_the_reason():
    from sklearn.linear_model import LinearRegression

    with pytest.raises(TypeError, match="must be a scikit-learn MLPClassifier or MLPRegressor"):
        nnlite.from_sklearn(LinearRegression().fit(X, X[:, 0]))
    net = nnlite.Sequential([nnlite.Dense(2), nnlite.Softmax()], n_in=4, random_state=0)
    with pytest.raises(TypeError, match="custom network cannot become one.*to_onnx"):
        nnlite.to_sklearn(net)


def test_a_network_scikit_learn_cannot_hold_is_refused():
    ours = quietly(make("nnlite", "multiclass", "adam").fit, X, TARGETS["multiclass"][1])
    ours.network_.layers[1] = nnlite.Tanh()  # a second hidden activation
    with pytest.raises(ValueError, match=r"cannot represent this network.*'relu'.*"
                       r"\[Dense, Tanh, Dense, ReLU, Dense, Softmax\]"):
        ours.to_sklearn()


@pytest.mark.parametrize("params, message", [
    ({"activation": "gelu"}, "'activation' parameter of MLPClassifier must be"),
    ({"solver": "rmsprop"}, "'solver' parameter of MLPClassifier must be"),
    ({"dropout": 0.2}, "has no parameter 'dropout'; this model sets dropout=0.2"),
    ({"class_weight": "balanced"}, "has no parameter 'class_weight'"),
])
def test_settings_scikit_learn_does_not_have_are_refused(params, message):
    ours = quietly(nnlite.MLPClassifier((4,), max_iter=3, random_state=0, **params).fit, X,
                   TARGETS["multiclass"][1])
    with pytest.raises(ValueError, match=r"to_sklearn: .*" + message + r".*to_onnx"):
        ours.to_sklearn()


def test_without_scikit_learn_the_conversion_says_what_to_install(monkeypatch):
    ours = quietly(make("nnlite", "regression", "lbfgs").fit, X, TARGETS["regression"][1])
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.neural_network", None)
    with pytest.raises(ImportError, match="needs scikit-learn installed"):
        ours.to_sklearn()


def test_import_nnlite_does_not_import_sklearn():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    code = "import sys, nnlite; print('sklearn' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


class _FailAfterAnEpoch(nnlite.Callback):
    def on_epoch_end(self, model, history):
        raise RuntimeError("stopped by the test after the weights moved")


def test_a_failed_partial_fit_after_conversion_leaves_the_model_continuing_alike():
    theirs = quietly(make("sklearn", "multiclass", "adam").fit, X, TARGETS["multiclass"][1])
    ours = nnlite.from_sklearn(theirs)
    ours.set_params(callbacks=[_FailAfterAnEpoch()])
    with pytest.raises(RuntimeError, match="stopped by the test"):
        ours.partial_fit(X[:30], TARGETS["multiclass"][1][:30])  # fails after one epoch
    ours.set_params(callbacks=None)
    partial_fits(theirs, "multiclass")
    partial_fits(ours, "multiclass")  # weights, Adam's state and counters were put back
    assert_equal_models(ours, theirs)
