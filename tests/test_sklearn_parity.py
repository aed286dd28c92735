"""Parity of the presets with scikit-learn 1.9.1: same data, seeds and hyperparameters.

Weights, biases and loss curves must be equal to the bit where nnlite performs
the same floating-point operations, and within 1e-12 relative in any case.
The deliberate differences (docs/differences.md) are tested for what nnlite
does instead.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import nnlite

sklearn = pytest.importorskip("sklearn")
if sklearn.__version__ != "1.9.1":  # pragma: no cover - the test extra pins it
    pytest.skip("parity is specified against scikit-learn 1.9.1", allow_module_level=True)

from sklearn import neural_network as skl  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

RNG = np.random.RandomState(7)
X = RNG.normal(size=(83, 5))
SW = RNG.uniform(0.2, 3.0, size=83)
TARGETS = {
    "binary": ("MLPClassifier", RNG.randint(0, 2, 83)),
    "multiclass": ("MLPClassifier", RNG.randint(0, 4, 83)),
    "multilabel": ("MLPClassifier", RNG.randint(0, 2, (83, 3))),
    "strings": ("MLPClassifier", np.array(["ant", "bee", "cat"])[RNG.randint(0, 3, 83)]),
    "regression": ("MLPRegressor", X[:, 0] * 1.5 + np.sin(X[:, 1])),
    "multi-output": ("MLPRegressor", np.c_[X[:, 0], np.cos(X[:, 2]), X[:, 3] ** 2]),
    "poisson": ("MLPRegressor", RNG.poisson(np.exp(0.4 * X[:, 0]))),
}
SOLVERS = {
    "adam": dict(solver="adam", learning_rate_init=0.01),
    "sgd-nesterov": dict(solver="sgd", learning_rate_init=0.05),
    "sgd-momentum": dict(solver="sgd", learning_rate_init=0.05, nesterovs_momentum=False),
    "sgd-invscaling": dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1),
    "sgd-adaptive": dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05,
                         tol=1e-2, n_iter_no_change=2),
    "lbfgs": dict(solver="lbfgs"),
}


def _fit_both(cls_name, fit_args, fit_kwargs=None, **params):
    fit_kwargs = fit_kwargs or {}
    ours = getattr(nnlite, cls_name)(**params)
    theirs = getattr(skl, cls_name)(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # theirs, when a run diverges
        try:
            theirs.fit(*fit_args, **fit_kwargs)
        except ValueError as err:  # a diverging run: nnlite must refuse it the same way
            with pytest.raises(ValueError, match="Solver produced non-finite parameter"):
                ours.fit(*fit_args, **fit_kwargs)
            assert "non-finite" in str(err)
            pytest.skip("both refuse the diverged run")
        ours.fit(*fit_args, **fit_kwargs)
    return ours, theirs


def assert_same_model(ours, theirs, exact=True):
    ours_arrays = ours.coefs_ + ours.intercepts_
    theirs_arrays = theirs.coefs_ + theirs.intercepts_
    assert len(ours_arrays) == len(theirs_arrays)
    for a, b in zip(ours_arrays, theirs_arrays):
        assert a.dtype == b.dtype and a.shape == b.shape
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
    for name in ("n_iter_", "t_", "n_outputs_", "n_layers_", "out_activation_",
                 "n_features_in_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-12)
    if hasattr(theirs, "loss_curve_"):
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12)
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-12) \
            if theirs.best_loss_ is not None else ours.best_loss_ is None
    else:
        assert not hasattr(ours, "loss_curve_")
    if hasattr(theirs, "classes_"):
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)


GRID = [(task, solver, activation, weighted)
        for task in TARGETS for solver in SOLVERS
        for activation in ("identity", "logistic", "tanh", "relu")
        for weighted in (False, True)]


@pytest.mark.parametrize("task,solver,activation,weighted", GRID)
def test_parity_grid(task, solver, activation, weighted):
    cls_name, y = TARGETS[task]
    params = dict(SOLVERS[solver], hidden_layer_sizes=(6, 4), activation=activation,
                  alpha=1e-3, max_iter=12, random_state=3, batch_size=32)
    if task == "poisson":
        params["loss"] = "poisson"
    fit_kwargs = {"sample_weight": SW} if weighted else {}
    ours, theirs = _fit_both(cls_name, (X, y), fit_kwargs, **params)
    if task == "multi-output" and solver == "lbfgs":
        # deliberate difference: nnlite minimises the objective its gradient belongs to
        _assert_lbfgs_objective_is_consistent(ours, y, fit_kwargs.get("sample_weight"))
        return
    assert_same_model(ours, theirs)
    if cls_name == "MLPClassifier":
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))
    else:
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def _assert_lbfgs_objective_is_consistent(model, y, sample_weight):
    net = model.network_
    value, _ = net.loss_and_grad(X, np.asarray(y, float), nnlite.SquaredError(), model.alpha,
                                 sample_weight)
    assert model.loss_ == pytest.approx(value, rel=1e-12)
    residual = net.predict(X) - y
    weights = np.ones(len(y)) if sample_weight is None else sample_weight
    data = 0.5 * np.sum(weights[:, None] * residual**2) / weights.sum()
    penalty = 0.5 * model.alpha * sum(np.sum(W**2) for W in model.coefs_) / weights.sum()
    assert model.loss_ == pytest.approx(data + penalty, rel=1e-10)


@pytest.mark.parametrize("cls_name,task", [("MLPClassifier", "binary"),
                                           ("MLPRegressor", "regression"),
                                           ("MLPRegressor", "multi-output")])
@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov"])
@pytest.mark.parametrize("weighted", [False, True])
def test_parity_early_stopping(cls_name, task, solver, weighted):
    _, y = TARGETS[task]
    params = dict(SOLVERS[solver], hidden_layer_sizes=(6,), early_stopping=True,
                  max_iter=40, random_state=0, validation_fraction=0.2)
    fit_kwargs = {"sample_weight": SW} if weighted else {}
    ours, theirs = _fit_both(cls_name, (X, y), fit_kwargs, **params)
    assert_same_model(ours, theirs)
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-12)
    assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_, rel=1e-12)


def test_multiclass_early_stopping_split_is_stratified():
    # deliberate difference: the documented stratification also applies to multiclass targets
    y = np.repeat([0, 1, 2], [60, 30, 10])
    Xs = np.random.RandomState(0).normal(size=(100, 3))
    clf = nnlite.MLPClassifier((4,), early_stopping=True, validation_fraction=0.2, max_iter=3,
                               random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(Xs, y)
    from nnlite._split import validation_split
    train, val = validation_split(100, 0.2, np.random.RandomState(0), strata=y)
    assert np.bincount(y[val]).tolist() == [12, 6, 2]
    assert sorted(np.r_[train, val].tolist()) == list(range(100))


@pytest.mark.parametrize("cls_name,task", [("MLPClassifier", "multiclass"),
                                           ("MLPClassifier", "multilabel"),
                                           ("MLPRegressor", "multi-output")])
@pytest.mark.parametrize("solver", ["adam", "sgd-invscaling"])
def test_parity_warm_start_and_partial_fit(cls_name, task, solver):
    _, y = TARGETS[task]
    params = dict(SOLVERS[solver], hidden_layer_sizes=(5,), random_state=1, max_iter=4,
                  warm_start=True)
    ours, theirs = _fit_both(cls_name, (X, y), **params)
    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ours.fit(X, y)
            theirs.fit(X, y)
    assert_same_model(ours, theirs)

    params["warm_start"] = False
    ours = getattr(nnlite, cls_name)(**params)
    theirs = getattr(skl, cls_name)(**params)
    extra = {"classes": np.unique(y)} if task == "multiclass" else {}
    if task == "multilabel":
        extra = {"classes": np.arange(3)}
    for start in range(0, 80, 20):
        part = slice(start, start + 20)
        ours.partial_fit(X[part], y[part], sample_weight=SW[part], **extra)
        theirs.partial_fit(X[part], y[part], sample_weight=SW[part], **extra)
    assert_same_model(ours, theirs)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_parity_sparse_input(solver, fmt):
    _, y = TARGETS["multiclass"]
    Xs = sp.random(83, 7, density=0.3, random_state=0, format=fmt)
    ours, theirs = _fit_both("MLPClassifier", (Xs, y), hidden_layer_sizes=(5,), solver=solver,
                             max_iter=10, random_state=0)
    assert_same_model(ours, theirs)
    np.testing.assert_array_equal(ours.predict_proba(Xs), theirs.predict_proba(Xs))


@pytest.mark.parametrize("solver", ["adam", "sgd-nesterov", "lbfgs"])
def test_float32_kept_as_sklearn_does(solver):
    _, y = TARGETS["multiclass"]
    ours, theirs = _fit_both("MLPClassifier", (X.astype(np.float32), y),
                             **dict(SOLVERS[solver], hidden_layer_sizes=(5,), max_iter=8,
                                    random_state=0))
    for a, b in zip(ours.coefs_, theirs.coefs_):
        assert a.dtype == b.dtype  # float32, except float64 after lbfgs
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-6)


def test_verbose_prints_the_same_lines(capsys):
    _, y = TARGETS["binary"]
    params = dict(hidden_layer_sizes=(4,), max_iter=30, tol=0.05, n_iter_no_change=2,
                  random_state=0, verbose=True, early_stopping=True)
    nnlite.MLPClassifier(**params).fit(X, y)
    ours = capsys.readouterr().out
    skl.MLPClassifier(**params).fit(X, y)
    theirs = capsys.readouterr().out
    assert ours == theirs and "Validation score" in ours and "Stopping." in ours


def test_convergence_warning_is_sklearns_class():
    _, y = TARGETS["binary"]
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        nnlite.MLPClassifier((3,), max_iter=2, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        nnlite.MLPClassifier((3,), solver="lbfgs", max_iter=2, random_state=0).fit(X, y)


@pytest.mark.parametrize("bad,message", [
    (dict(alpha=-1.0), "The 'alpha' parameter of MLPClassifier must be a float in the range "
                       "[0.0, inf). Got -1.0 instead."),
    (dict(solver="newton"), "The 'solver' parameter of MLPClassifier must be a str among"),
    (dict(hidden_layer_sizes=[3, 0]), "hidden_layer_sizes must be > 0, got [3, 0]."),
    (dict(n_iter_no_change=0), "must be an int in the range [1, inf) or a float among {inf}"),
])
def test_parameter_errors_match(bad, message):
    _, y = TARGETS["binary"]
    for module in (nnlite, skl):
        with pytest.raises(ValueError) as info:
            module.MLPClassifier(**bad).fit(X, y)
        assert message in str(info.value)


@pytest.mark.parametrize("est", [nnlite.MLPClassifier(max_iter=100),
                                 nnlite.MLPRegressor(max_iter=100)],
                         ids=["MLPClassifier", "MLPRegressor"])
def test_check_estimator(est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])[:300]) for r in results
              if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) > 50


def test_clone_pipeline_gridsearch_cross_val_score():
    _, y = TARGETS["multiclass"]
    clf = nnlite.MLPClassifier((8,), solver="lbfgs", max_iter=50, random_state=0)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and not hasattr(copy, "coefs_")
    pipe = make_pipeline(StandardScaler(), clf)
    search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-1]}, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
        scores = cross_val_score(nnlite.MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs",
                                                     max_iter=200, random_state=0),
                                 X, TARGETS["regression"][1], cv=3)
    assert search.best_params_["mlpclassifier__alpha"] in (1e-4, 1e-1)
    assert scores.shape == (3,) and np.all(scores > 0.5)
