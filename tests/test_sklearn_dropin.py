"""Code written against scikit-learn's MLP runs unchanged on nnlite (issue 10, items 1-5).

scikit-learn 1.9.1 itself is the reference in every test: same data, seeds and
hyperparameters, then the attributes, messages or returned types are compared.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import nnlite

sklearn = pytest.importorskip("sklearn")
if sklearn.__version__ != "1.9.1":  # pragma: no cover - the test extra pins it
    pytest.skip("parity is specified against scikit-learn 1.9.1", allow_module_level=True)

from sklearn import neural_network as skl  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402

IRIS_X, IRIS_Y = load_iris(return_X_y=True)
RNG = np.random.RandomState(3)
X = RNG.normal(size=(60, 4))
Y_BIN = (X[:, 0] + X[:, 1] > 0).astype(int)
Y3 = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
Y_REG = X[:, 0] - 2 * X[:, 1]


def _quietly(action):
    """Run ``action()`` with the warnings of a diverging run silenced (scikit-learn's too)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return action()


def _assert_same_after_fit(ours, theirs):
    """Every attribute scikit-learn sets by a stochastic fit, compared (NaN equal to NaN)."""
    for name in ("n_iter_", "t_", "n_outputs_", "n_layers_", "out_activation_",
                 "n_features_in_", "_no_improvement_count", "best_loss_",
                 "best_validation_score_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    for name in ("loss_curve_", "validation_scores_"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert all(isinstance(v, float) for v in a), name
        np.testing.assert_array_equal(np.array(a), np.array(b), err_msg=name)
    np.testing.assert_array_equal(ours.loss_, theirs.loss_)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_,
                    strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


# ----- 1. a diverging fit with early stopping keeps the best validated weights ---------------
DIVERGING = {
    # the example: R^2 turns NaN once the predictions overflow
    "regressor": ("MLPRegressor", IRIS_X, IRIS_Y,
                  dict(hidden_layer_sizes=100, activation="identity", solver="sgd",
                       learning_rate_init=1, max_iter=20, early_stopping=True,
                       random_state=0)),
    # a binary classifier (string labels) whose training loss turns NaN at epoch 33
    "classifier": ("MLPClassifier", IRIS_X * 1e3,
                   np.array(["no", "yes"])[(IRIS_Y == 2).astype(int)],
                   dict(hidden_layer_sizes=(20,), activation="identity", solver="sgd",
                        learning_rate_init=10, max_iter=40, n_iter_no_change=100,
                        early_stopping=True, random_state=0)),
}


@pytest.mark.parametrize("case", sorted(DIVERGING))
def test_diverging_fit_with_early_stopping_finishes_as_sklearn(case):
    cls_name, X_, y_, params = DIVERGING[case]
    theirs = _quietly(lambda: getattr(skl, cls_name)(**params).fit(X_, y_))
    ours = _quietly(lambda: getattr(nnlite, cls_name)(**params).fit(X_, y_))
    assert not np.isfinite(theirs.loss_curve_[-1])  # the case does diverge
    _assert_same_after_fit(ours, theirs)
    assert all(np.isfinite(w).all() for w in ours.coefs_ + ours.intercepts_)
    assert [type(v) for v in ours.validation_scores_] == [
        type(v) for v in theirs.validation_scores_]
    if case == "regressor":
        last = ours.validation_scores_[-1]
        assert type(last) is float and np.isnan(last)
    np.testing.assert_array_equal(ours.predict(X_), theirs.predict(X_))


def test_diverging_fit_without_early_stopping_still_refused():
    # no validated state to fall back on: the clear error stays, the model is untouched
    params = dict(DIVERGING["regressor"][3], early_stopping=False, max_iter=10)
    reg = nnlite.MLPRegressor(**params)
    with pytest.raises(ValueError, match="non-finite parameter weights|loss is"):
        _quietly(lambda: reg.fit(IRIS_X, IRIS_Y))
    assert not hasattr(reg, "coefs_")
    with pytest.raises(ValueError):
        _quietly(lambda: skl.MLPRegressor(**params).fit(IRIS_X, IRIS_Y))


# ----- 2. the stratified split's error message ----------------------------------------------
@pytest.mark.parametrize("labels", [[0, 1], [1, 0], ["a", "b"], ["b", "a"], [True, False],
                                    [-3.0, 2.0]], ids=repr)
def test_stratified_split_error_message_equals_sklearns(labels):
    y = np.array([labels[0]] * 19 + [labels[1]])
    Xs = X[:20]
    params = dict(early_stopping=True, max_iter=5, random_state=0)
    with pytest.raises(ValueError) as theirs:
        skl.MLPClassifier(**params).fit(Xs, y)
    assert "Classes with too few members are:" in str(theirs.value)
    with pytest.raises(ValueError) as ours:
        nnlite.MLPClassifier(**params).fit(Xs, y)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("labels", [[5, 7, 9], ["x", "y", "z"]], ids=repr)
def test_multiclass_split_error_message_uses_sklearns_wording(labels):
    # scikit-learn does not stratify multiclass targets (nnlite does, docs/differences.md);
    # the message is that of scikit-learn's stratified splitter on the same labels
    from sklearn.model_selection import StratifiedShuffleSplit

    y = np.array([labels[0]] * 10 + [labels[1]] * 9 + [labels[2]])
    with pytest.raises(ValueError) as theirs:
        next(StratifiedShuffleSplit(test_size=0.1, random_state=0).split(X[:20], y))
    with pytest.raises(ValueError) as ours:
        nnlite.MLPClassifier(early_stopping=True, max_iter=5).fit(X[:20], y)
    assert str(ours.value) == str(theirs.value)
    # one member per class on the validation side is too few for three classes
    y = np.array([labels[0]] * 10 + [labels[1]] * 5 + [labels[2]] * 5)
    with pytest.raises(ValueError) as theirs:
        next(StratifiedShuffleSplit(test_size=0.1, random_state=0).split(X[:20], y))
    with pytest.raises(ValueError) as ours:
        nnlite.MLPClassifier(early_stopping=True, max_iter=5).fit(X[:20], y)
    assert str(ours.value) == str(theirs.value) == (
        "The test_size = 2 should be greater or equal to the number of classes = 3")


# ----- 3. features too large for the network ---------------------------------------------
OVERFLOW = "too large for the network.*Scale the features"


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("cls_name,y", [("MLPClassifier", Y3), ("MLPRegressor", Y_REG)])
def test_huge_features_are_refused_and_the_model_kept(cls_name, y, solver):
    est = getattr(nnlite, cls_name)(hidden_layer_sizes=(5,), solver=solver, max_iter=5,
                                    random_state=0)
    _quietly(lambda: est.fit(X, y))
    before = {k: pickle.dumps(v) for k, v in vars(est).items() if k != "network_"}
    theta = est.network_.theta.copy()
    prediction = est.predict(X)
    with pytest.raises(ValueError, match=OVERFLOW):
        est.fit(X * 1e300, y)
    if solver != "lbfgs":
        with pytest.raises(ValueError, match=OVERFLOW):
            est.partial_fit(X * 1e300, y)
        with pytest.raises(ValueError, match=OVERFLOW):  # a sparse block as well
            est.partial_fit(sp.csr_matrix(X * 1e300), y)
    assert {k: pickle.dumps(v) for k, v in vars(est).items() if k != "network_"} == before
    np.testing.assert_array_equal(est.network_.theta, theta)
    np.testing.assert_array_equal(est.predict(X), prediction)
    # an unfitted estimator stays unfitted
    fresh = getattr(nnlite, cls_name)(solver=solver)
    with pytest.raises(ValueError, match=OVERFLOW):
        fresh.fit(X * 1e300, y)
    assert not hasattr(fresh, "n_features_in_")


def test_huge_features_overflow_in_sklearn():
    # what nnlite refuses: scikit-learn's classifier returns after an overflow in the
    # squares of Adam's second moment, and its regressor ends in non-finite weights
    with pytest.warns(RuntimeWarning, match="overflow encountered in square"):
        _quietly_except_overflow(
            lambda: skl.MLPClassifier(random_state=0, max_iter=5).fit(X * 1e300, Y3))
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        _quietly(lambda: skl.MLPRegressor(random_state=0, max_iter=5).fit(X * 1e300, Y_REG))


def _quietly_except_overflow(action):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.filterwarnings("always", "overflow", RuntimeWarning)
        return action()


def test_scale_limit_depends_on_dtype_only():
    # just under the limit trains (finite weights), just over is refused; float32 has its own
    limit64, limit32 = np.sqrt(np.finfo(np.float64).max), np.sqrt(np.finfo(np.float32).max)
    big = X / np.abs(X).max()
    with pytest.raises(ValueError, match=r"up to 1\.8e\+154.*above 1\.34e\+154"):
        nnlite.MLPRegressor(max_iter=1).fit(big * 1.8e154, Y_REG)
    with pytest.raises(ValueError, match=r"in float32 .* above 1\.84e\+19"):
        nnlite.MLPRegressor(max_iter=1).fit((big * limit32 * 1.01).astype(np.float32), Y_REG)
    reg = _quietly(lambda: nnlite.MLPRegressor(solver="lbfgs", max_iter=1, random_state=0)
                   .fit((big * 1e19).astype(np.float32), Y_REG))
    assert reg.coefs_[0].dtype == np.float64
    assert limit64 > 1e154


# ----- 5. sparse multilabel targets ---------------------------------------------------------
Y_MULTI = (X[:, :3] > 0).astype(int)


@pytest.mark.parametrize("fmt", ["csr_matrix", "csc_matrix", "coo_matrix", "csr_array",
                                 "lil_matrix"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_sparse_multilabel_target_predicts_sparse_as_sklearn(fmt, solver, tmp_path):
    y = getattr(sp, fmt)(Y_MULTI)
    params = dict(hidden_layer_sizes=(6,), solver=solver, max_iter=20, random_state=0)
    theirs = _quietly(lambda: skl.MLPClassifier(**params).fit(X, y))
    ours = _quietly(lambda: nnlite.MLPClassifier(**params).fit(X, y))
    expected, got = theirs.predict(X), ours.predict(X)
    assert type(got) is type(expected) is sp.csr_matrix
    assert (got.format, got.dtype, got.shape) == (expected.format, expected.dtype,
                                                 expected.shape)
    assert (got != expected).nnz == 0
    assert ours.score(X, y) == theirs.score(X, y)
    assert type(ours.predict_proba(X)) is type(theirs.predict_proba(X)) is np.ndarray
    # dense targets still predict dense arrays
    assert type(_quietly(lambda: nnlite.MLPClassifier(**params).fit(X, Y_MULTI))
                .predict(X)) is np.ndarray
    # the model keeps returning sparse predictions after pickling and nnlite.save/load
    assert sp.issparse(pickle.loads(pickle.dumps(ours)).predict(X))
    nnlite.save(ours, tmp_path / "m.nnl")
    loaded = nnlite.load(tmp_path / "m.nnl")
    assert type(loaded.predict(X)) is sp.csr_matrix
    assert (loaded.predict(X) != got).nnz == 0


def test_sparse_multilabel_target_partial_fit_and_early_stopping():
    y = sp.csr_matrix(Y_MULTI)
    theirs = skl.MLPClassifier((6,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    ours = nnlite.MLPClassifier((6,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    assert type(ours.predict(X)) is type(theirs.predict(X)) is sp.csr_matrix
    assert (ours.predict(X) != theirs.predict(X)).nnz == 0
    params = dict(hidden_layer_sizes=(6,), early_stopping=True, max_iter=15, random_state=0)
    theirs = _quietly(lambda: skl.MLPClassifier(**params).fit(X, y))
    ours = _quietly(lambda: nnlite.MLPClassifier(**params).fit(X, y))
    assert ours.validation_scores_ == theirs.validation_scores_
    assert type(ours.predict(X)) is sp.csr_matrix


# ----- 4. private state that code written for scikit-learn reads and writes -----------------
SCHEDULES = {
    "sgd-constant": dict(solver="sgd"),
    "sgd-invscaling": dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1),
    "sgd-adaptive": dict(solver="sgd", learning_rate="adaptive", learning_rate_init=0.05,
                         tol=0.1, n_iter_no_change=2),
    "adam": dict(solver="adam"),
}


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_optimizer_learning_rate_is_the_current_rate(schedule):
    seen = []
    for module in (skl, nnlite):
        est = module.MLPRegressor(hidden_layer_sizes=(5,), random_state=0, max_iter=30,
                                  **SCHEDULES[schedule])
        rates = []
        for _ in range(25):
            est.partial_fit(X, Y_REG)
            rates.append(est._optimizer.learning_rate)
        _quietly(lambda: est.fit(X, Y_REG))  # noqa: B023 - called at once
        rates += [est._optimizer.learning_rate, est._optimizer.learning_rate_init]
        seen.append(rates)
    theirs, ours = seen
    assert ours == theirs
    assert [type(r) for r in ours[:-1]] == [type(r) for r in theirs[:-1]]
    if schedule != "sgd-constant":  # the rate did move
        assert len(set(ours[:25])) > 1


def test_setting_the_learning_rate_between_partial_fits_acts_as_in_sklearn():
    models = []
    for module in (skl, nnlite):
        est = module.MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", random_state=0)
        est.partial_fit(X, Y_REG)
        est._optimizer.learning_rate = 0.02
        assert est._optimizer.learning_rate == 0.02
        est.partial_fit(X, Y_REG)
        est.partial_fit(X, Y_REG)
        models.append(est)
    theirs, ours = models
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert ours._optimizer.lr_schedule == theirs._optimizer.lr_schedule == "constant"
    assert ours._optimizer.momentum == theirs._optimizer.momentum


def _hand_set_state(n_out, out_activation, **extra):
    """What code written for scikit-learn assigns before its first partial_fit."""
    rng = np.random.RandomState(1)
    state = dict(coefs_=[rng.randn(4, 5), rng.randn(5, n_out)],
                 intercepts_=[rng.randn(5), rng.randn(n_out)],
                 n_layers_=3, out_activation_=out_activation, t_=0, loss_curve_=[],
                 _no_improvement_count=0, best_loss_=np.inf)
    state.update(extra)
    return {k: v for k, v in state.items() if v is not None}  # None: left unset


def _from_hand_set_state(module, cls_name, state, calls, **params):
    est = getattr(module, cls_name)(**params)
    for name, value in state.items():
        setattr(est, name, value)
    for method, args, kwargs in calls:
        getattr(est, method)(*args, **kwargs)
    return est


def _binarizer():
    from sklearn.preprocessing import LabelBinarizer

    return LabelBinarizer().fit([0, 1, 2])


HAND_SET = {
    "regressor-partial_fit": ("MLPRegressor", lambda: _hand_set_state(1, "identity"),
                              [("partial_fit", (X, Y_REG), {})] * 3, {}),
    "classifier-classes": ("MLPClassifier", lambda: _hand_set_state(3, "softmax"),
                           [("partial_fit", (X, Y3), {"classes": [0, 1, 2]}),
                            ("partial_fit", (X, Y3), {})], {}),
    "classifier-binarizer": ("MLPClassifier",
                             lambda: _hand_set_state(3, "softmax", classes_=np.arange(3),
                                                     _label_binarizer=_binarizer()),
                             [("partial_fit", (X, Y3), {})] * 2, {}),
    "regressor-warm-fit": ("MLPRegressor", lambda: _hand_set_state(1, "identity"),
                           [("fit", (X, Y_REG), {})], dict(warm_start=True, max_iter=15)),
}


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("case", sorted(HAND_SET))
def test_hand_set_weights_are_trained_from_as_in_sklearn(case, solver):
    cls_name, state, calls, params = HAND_SET[case]
    # hidden_layer_sizes disagrees with the hand-set weights: both follow the weights
    params = dict(params, hidden_layer_sizes=(7,), solver=solver, random_state=0)
    theirs_state, ours_state = state(), state()
    theirs = _quietly(lambda: _from_hand_set_state(skl, cls_name, theirs_state, calls,
                                                   **params))
    ours = _quietly(lambda: _from_hand_set_state(nnlite, cls_name, ours_state, calls,
                                                 **params))
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_,
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert ours.loss_curve_ == theirs.loss_curve_
    assert (ours.t_, ours.n_iter_, ours.best_loss_) == (theirs.t_, theirs.n_iter_,
                                                       theirs.best_loss_)
    assert ours.loss_curve_ is ours_state["loss_curve_"]  # appended to, as scikit-learn does
    # the given arrays are copied into the network, not trained in place (docs/differences.md)
    for a, b in zip(ours_state["coefs_"] + ours_state["intercepts_"],
                    state()["coefs_"] + state()["intercepts_"], strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(theirs_state["coefs_"][0], state()["coefs_"][0])
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_hand_set_weights_with_lbfgs_warm_start():
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", warm_start=True, max_iter=20,
                  random_state=0)
    calls = [("fit", (X, Y_REG), {})]
    def state():  # scikit-learn writes into the lists it is given: one each
        return {k: v for k, v in _hand_set_state(1, "identity").items()
                if k in ("coefs_", "intercepts_", "n_layers_", "out_activation_")}
    theirs = _quietly(lambda: _from_hand_set_state(skl, "MLPRegressor", state(), calls,
                                                   **params))
    ours = _quietly(lambda: _from_hand_set_state(nnlite, "MLPRegressor", state(), calls,
                                                 **params))
    assert ours.loss_ == theirs.loss_ and ours.n_iter_ == theirs.n_iter_
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("missing", ["intercepts_", "n_layers_", "out_activation_", "t_",
                                     "loss_curve_", "best_loss_"])
def test_hand_set_state_missing_an_attribute_is_named(missing):
    state = _hand_set_state(1, "identity")
    state.pop(missing)
    calls = [("partial_fit", (X, Y_REG), {})]
    with pytest.raises(AttributeError):  # scikit-learn fails deep inside, on some attribute
        _from_hand_set_state(skl, "MLPRegressor", dict(state), calls, solver="sgd")
    with pytest.raises(AttributeError, match=f"missing: {missing}\\. For a new network"):
        _from_hand_set_state(nnlite, "MLPRegressor", state, calls, solver="sgd")


def test_hand_set_state_needs_no_improvement_count_no_more_than_sklearn():
    # scikit-learn sets it (to 0) without reading it when the first epoch improves
    calls = [("partial_fit", (X, Y_REG), {})] * 2
    theirs, ours = (_from_hand_set_state(m, "MLPRegressor", _hand_set_state(
        1, "identity", _no_improvement_count=None), calls, solver="sgd", random_state=0)
        for m in (skl, nnlite))
    assert ours._no_improvement_count == theirs._no_improvement_count == 0
    assert ours.loss_curve_ == theirs.loss_curve_


def test_hand_set_intercepts_alone_are_ignored_as_in_sklearn():
    # without coefs_ the model is unfitted: the first call initialises a new network
    calls = [("partial_fit", (X, Y_REG), {})]
    models = [_from_hand_set_state(m, "MLPRegressor", {"intercepts_": [np.ones(5), np.ones(1)]},
                                   calls, solver="sgd", hidden_layer_sizes=(7,),
                                   random_state=0) for m in (skl, nnlite)]
    theirs, ours = models
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_,
                    strict=True):
        np.testing.assert_array_equal(a, b)


def test_hand_set_classes_without_binarizer_is_named():
    state = _hand_set_state(3, "softmax", classes_=np.arange(3))
    calls = [("partial_fit", (X, Y3), {})]
    with pytest.raises(AttributeError, match="_label_binarizer"):
        _from_hand_set_state(skl, "MLPClassifier", dict(state), calls, solver="sgd")
    est = nnlite.MLPClassifier(solver="sgd")
    with pytest.raises(AttributeError, match="without the _label_binarizer .* pass classes="):
        _from_hand_set_state(nnlite, "MLPClassifier", state, calls, solver="sgd")
    assert not hasattr(est, "network_")


@pytest.mark.parametrize("change,message", [
    (dict(coefs_=[np.ones((4, 5)), np.ones((6, 1))]), "each n_out the next n_in"),
    (dict(intercepts_=[np.ones(5)]), "one 1-D array"),
    (dict(n_layers_=4), "n_layers_ is 4 but 2 weight matrices make 3 layers"),
    (dict(out_activation_="logistic"), "out_activation_ must be 'identity'"),
    (dict(coefs_=[np.ones((3, 5)), np.ones((5, 1))]),
     "X has 4 features, but MLPRegressor is expecting 3"),
    (dict(coefs_=[np.ones((4, 5)), np.ones((5, 2))], intercepts_=[np.ones(5), np.ones(2)]),
     "has 2 outputs, but the target needs 1"),
])
def test_inconsistent_hand_set_state_is_refused_clearly(change, message):
    est = _from_hand_set_state(nnlite, "MLPRegressor", dict(_hand_set_state(1, "identity"),
                                                            **change), [], solver="adam")
    with pytest.raises(ValueError, match=message):
        est.partial_fit(X, Y_REG)
    assert not hasattr(est, "network_")
    with pytest.raises(nnlite.NotFittedError):
        est.predict(X)


def test_a_plain_fit_ignores_hand_set_weights_as_sklearn_does():
    calls = [("fit", (X, Y_REG), {})]
    models = [_quietly(lambda m=m: _from_hand_set_state(
        m, "MLPRegressor", _hand_set_state(1, "identity"), calls, solver="adam",
        hidden_layer_sizes=(7,), max_iter=5, random_state=0)) for m in (skl, nnlite)]
    theirs, ours = models
    assert ours.coefs_[0].shape == theirs.coefs_[0].shape == (4, 7)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_array_equal(a, b)
