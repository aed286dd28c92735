"""Behaviour of MLPClassifier / MLPRegressor that needs no scikit-learn."""

import pickle
import warnings

import numpy as np
import pytest

import nnlite
from nnlite import ConvergenceWarning, MLPClassifier, MLPRegressor, NotFittedError

RNG = np.random.RandomState(0)
X = RNG.normal(size=(120, 4))
Y3 = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
YR = X[:, 0] - 2 * X[:, 1]


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def test_parameters_defaults_and_order():
    clf, reg = MLPClassifier(), MLPRegressor()
    assert clf.get_params()["hidden_layer_sizes"] == (100,)
    # scikit-learn's 23 (24 with the regressor's loss), then nnlite's additions
    assert len(clf.get_params()) == 23 + 3 and len(reg.get_params()) == 24 + 2
    assert {k: clf.get_params()[k] for k in ("class_weight", "dropout", "callbacks")} == {
        "class_weight": None, "dropout": 0.0, "callbacks": None}
    assert list(clf.get_params()) == sorted(clf.get_params())
    # loss is the regressor's first positional parameter
    assert MLPRegressor("poisson").loss == "poisson"
    with pytest.raises(ValueError, match="The 'loss' parameter of MLPRegressor"):
        MLPRegressor((5,)).fit(X, YR)
    assert clf.set_params(alpha=0.5) is clf and clf.alpha == 0.5
    with pytest.raises(ValueError, match="Invalid parameter 'nope'"):
        clf.set_params(nope=1)
    assert repr(MLPClassifier(alpha=0.5)) == "MLPClassifier(alpha=0.5)"


def test_init_stores_arguments_unchanged_and_validates_nothing():
    sizes = [3, -1]
    clf = MLPClassifier(hidden_layer_sizes=sizes, alpha=-5)
    assert clf.hidden_layer_sizes is sizes and clf.alpha == -5
    with pytest.raises(ValueError, match="alpha"):
        clf.fit(X, Y3)


def test_fitted_attributes_multiclass():
    clf = quiet_fit(MLPClassifier((7, 5), max_iter=5, random_state=0), X, Y3)
    assert [w.shape for w in clf.coefs_] == [(4, 7), (7, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [(7,), (5,), (3,)]
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3 and clf.out_activation_ == "softmax"
    assert clf.n_iter_ == 5 and clf.t_ == 5 * 120 and len(clf.loss_curve_) == 5
    assert clf.best_loss_ == min(clf.loss_curve_) and clf.loss_ == clf.loss_curve_[-1]
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert clf.n_features_in_ == 4 and not hasattr(clf, "feature_names_in_")
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    # coefs_ are views of the fitted network
    assert np.shares_memory(clf.coefs_[0], clf.network_.theta)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))


def test_lbfgs_attributes():
    clf = quiet_fit(MLPClassifier((5,), solver="lbfgs", max_iter=30, random_state=0), X, Y3)
    assert clf.t_ == 0 and 1 <= clf.n_iter_ <= 30
    for absent in ("loss_curve_", "best_loss_", "validation_scores_", "partial_fit"):
        assert not hasattr(clf, absent)


def test_binary_string_labels_and_threshold():
    y = np.where(Y3 > 0, "yes", "no")
    clf = quiet_fit(MLPClassifier((5,), max_iter=50, random_state=0), X, y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 2)
    np.testing.assert_array_equal(clf.predict(X), np.where(proba[:, 1] > 0.5, "yes", "no"))


def test_multilabel_outputs():
    y = np.c_[X[:, 0] > 0, X[:, 1] > 0, X[:, 2] > 0].astype(int)
    clf = quiet_fit(MLPClassifier((8,), solver="lbfgs", max_iter=200, random_state=0), X, y)
    assert clf.out_activation_ == "logistic"
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    pred = clf.predict(X)
    assert pred.shape == (120, 3) and set(np.unique(pred)) <= {0, 1}
    assert clf.predict_proba(X).shape == (120, 3)
    assert clf.score(X, y) > 0.8


def test_single_class_is_accepted():
    clf = quiet_fit(MLPClassifier((3,), max_iter=3, random_state=0), X, np.full(120, 7))
    np.testing.assert_array_equal(clf.predict(X[:5]), [7] * 5)


def test_regressor_outputs_and_poisson():
    reg = quiet_fit(MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200,
                                 random_state=0), X, YR)
    assert reg.out_activation_ == "identity" and reg.predict(X).shape == (120,)
    assert reg.score(X, YR) > 0.9
    multi = quiet_fit(MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
                      X, np.c_[YR, -YR])
    assert multi.predict(X).shape == (120, 2)
    counts = RNG.poisson(np.exp(0.5 * X[:, 0]))
    pois = quiet_fit(MLPRegressor("poisson", hidden_layer_sizes=(5,), max_iter=20,
                                  random_state=0), X, counts)
    assert pois.out_activation_ == "exp" and np.all(pois.predict(X) > 0)


def test_poisson_refuses_negative_targets():
    with pytest.raises(ValueError, match="non-negative y"):
        MLPRegressor("poisson").fit(X, YR)


def test_partial_fit_only_for_stochastic_solvers():
    for est in (MLPClassifier(solver="lbfgs"), MLPRegressor(solver="lbfgs")):
        assert not hasattr(est, "partial_fit")
        with pytest.raises(AttributeError, match="has no attribute 'partial_fit'"):
            getattr(est, "partial_fit")  # noqa: B009
    assert hasattr(MLPRegressor(solver="sgd"), "partial_fit")


def test_partial_fit_classes_rules():
    clf = MLPClassifier((4,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, Y3)
    assert not hasattr(clf, "classes_")  # the failed call left nothing behind
    clf.partial_fit(X[:40], Y3[:40], classes=[0, 1, 2, 3])
    assert clf.n_iter_ == 1 and clf.t_ == 40
    clf.partial_fit(X[40:80], Y3[40:80])
    assert clf.t_ == 80 and len(clf.loss_curve_) == 2
    with pytest.raises(ValueError, match="is not the same as on last call"):
        clf.partial_fit(X, Y3, classes=[0, 1])
    with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
        clf.partial_fit(X[:3], np.array([0, 1, 9]))
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, Y3, classes=[0, 1, 2])


def test_warm_start_continues_and_checks_classes():
    clf = MLPClassifier((4,), warm_start=True, max_iter=3, random_state=0)
    quiet_fit(clf, X, Y3)
    first = clf.coefs_[0].copy()
    quiet_fit(clf, X, Y3)
    assert len(clf.loss_curve_) == 6 and clf.n_iter_ == 3 and clf.t_ == 6 * 120
    assert not np.array_equal(first, clf.coefs_[0])
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same"):
        clf.fit(X, np.minimum(Y3, 1))


def test_early_stopping_restores_best_weights():
    clf = MLPClassifier((16,), early_stopping=True, learning_rate_init=0.05, max_iter=60,
                        n_iter_no_change=5, random_state=0)
    quiet_fit(clf, X, Y3)
    assert clf.best_loss_ is None
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert len(clf.validation_scores_) == clf.n_iter_
    # the restored weights are those of the best epoch, not the last one
    best_epoch = int(np.argmax(clf.validation_scores_))
    assert best_epoch < clf.n_iter_


def test_n_iter_no_change_infinite_never_stops():
    clf = quiet_fit(MLPClassifier((3,), max_iter=15, tol=10.0, n_iter_no_change=np.inf,
                                  random_state=0), X, Y3)
    assert clf.n_iter_ == 15
    stopped = quiet_fit(MLPClassifier((3,), max_iter=15, tol=10.0, n_iter_no_change=2,
                                      random_state=0), X, Y3)
    # the first epoch always improves on an infinite best loss; 3 more do not
    assert stopped.n_iter_ == 4


def test_warnings_for_batch_size_and_column_y_and_max_iter():
    with pytest.warns(UserWarning, match="It is going to be clipped"):
        quiet_fit(MLPClassifier((3,), batch_size=500, max_iter=2, random_state=0), X, Y3)
    with pytest.warns(nnlite.DataConversionWarning, match="column-vector y"):
        quiet_fit(MLPRegressor(hidden_layer_sizes=(3,), max_iter=2), X, YR.reshape(-1, 1))
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(2\) reached"):
        MLPClassifier((3,), max_iter=2, random_state=0).fit(X, Y3)


def test_float32_input_stays_float32():
    clf = quiet_fit(MLPClassifier((5,), max_iter=3, random_state=0), X.astype(np.float32), Y3)
    assert clf.coefs_[0].dtype == np.float32
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32


def test_not_fitted_and_wrong_feature_count():
    with pytest.raises(NotFittedError, match="is not fitted yet"):
        MLPClassifier().predict(X)
    clf = quiet_fit(MLPClassifier((3,), max_iter=2, random_state=0), X, Y3)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4"):
        clf.predict(X[:, :3])


def test_failed_fit_leaves_fitted_model_untouched():
    clf = quiet_fit(MLPClassifier((5,), max_iter=5, random_state=0), X, Y3)
    before = {k: pickle.dumps(v) for k, v in vars(clf).items() if k != "network_"}
    theta = clf.network_.theta.copy()
    proba = clf.predict_proba(X)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.fit(bad, Y3)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(X, Y3[:-1])
    clf.set_params(solver="sgd", learning_rate_init=1.0, max_iter=3)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        quiet_fit(clf, X * 1e150, Y3)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    clf.set_params(solver="adam", learning_rate_init=0.001, max_iter=5)
    assert {k: pickle.dumps(v) for k, v in vars(clf).items() if k != "network_"} == before
    np.testing.assert_array_equal(clf.network_.theta, theta)


def test_pickle_round_trip_is_exact_and_still_trainable():
    clf = quiet_fit(MLPClassifier((5,), max_iter=5, random_state=0), X, Y3)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))
    assert np.shares_memory(copy.coefs_[0], copy.network_.theta)
    copy.partial_fit(X, Y3)
    assert copy.t_ == clf.t_ + 120


def test_network_is_reachable_and_gradient_checks():
    clf = quiet_fit(MLPClassifier((5,), activation="tanh", max_iter=5, random_state=0), X, Y3)
    assert isinstance(clf.network_, nnlite.Sequential)
    onehot = np.eye(3)[Y3[:10]]
    report = nnlite.gradcheck.check_network(clf.network_, X[:10], onehot, nnlite.LogLoss(),
                                            alpha=clf.alpha)
    assert report.passed, report


def test_sample_weight_checks():
    clf = MLPClassifier((3,), max_iter=2, random_state=0)
    with pytest.raises(ValueError, match="at least one non-zero"):
        clf.fit(X, Y3, sample_weight=np.zeros(120))
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        clf.fit(X, Y3, sample_weight=-np.ones(120))
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(5,\), expected \(120,\)"):
        clf.fit(X, Y3, sample_weight=np.ones(5))
    # integer weights act as repetitions under lbfgs
    w = np.r_[np.full(60, 2), np.ones(60)]
    a = quiet_fit(MLPClassifier((3,), solver="lbfgs", max_iter=50, random_state=0), X, Y3,
                  sample_weight=w)
    b = quiet_fit(MLPClassifier((3,), solver="lbfgs", max_iter=50, random_state=0),
                  np.r_[X[:60], X], np.r_[Y3[:60], Y3])
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-6, atol=1e-8)


def test_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = quiet_fit(MLPClassifier((3,), max_iter=2, random_state=0), frame, Y3)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        plain = clf.predict(X)
    np.testing.assert_array_equal(clf.predict(frame), plain)
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        clf.predict(frame.rename(columns={"a": "z"}))
    reg = quiet_fit(MLPRegressor(hidden_layer_sizes=(3,), max_iter=2), X, YR)
    with pytest.warns(UserWarning, match="X has feature names, but MLPRegressor was fitted"):
        reg.predict(frame)


def test_keyboard_interrupt_keeps_the_best_state_with_a_warning(monkeypatch):
    steps = {"n": 0}
    real_step = nnlite.Adam.step

    def interrupted_step(self, theta, grad):
        steps["n"] += 1
        if steps["n"] == 8:  # in the third epoch (3 batches of 40 per epoch)
            raise KeyboardInterrupt
        real_step(self, theta, grad)

    monkeypatch.setattr(nnlite.Adam, "step", interrupted_step)
    clf = MLPClassifier((8,), batch_size=40, early_stopping=True, validation_fraction=0.25,
                        max_iter=50, random_state=0)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        clf.fit(X, Y3)
    assert len(clf.loss_curve_) == 2 and len(clf.validation_scores_) == 2
    # the weights are those of the best validation epoch, usable for prediction
    assert clf.predict(X).shape == (120,)
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_assigning_into_coefs_and_intercepts_changes_the_model():
    clf = quiet_fit(MLPClassifier((3,), max_iter=3, random_state=0), X, Y3)
    before = clf.predict_proba(X[:2])
    clf.intercepts_[1] = np.array([5.0, -5.0, 0.0])
    assert not np.allclose(clf.predict_proba(X[:2]), before)
    np.testing.assert_array_equal(clf.network_.layers[2].params["b"], [5.0, -5.0, 0.0])
    with pytest.raises(ValueError, match=r"coefs_\[0\] must have shape \(4, 3\)"):
        clf.coefs_[0] = np.zeros((3, 3))
    clf.coefs_ = [np.zeros((4, 3)), np.ones((3, 3))]
    assert np.all(clf.coefs_[1] == 1)


def test_missing_values_mixed_column_names_and_sparse_multilabel_y():
    pd = pytest.importorskip("pandas")
    import scipy.sparse as sp

    frame = pd.DataFrame({"a": pd.array([1] * 119 + [None], dtype="Int64"), "b": X[:, 1]})
    with pytest.raises(ValueError, match="Input X contains NaN"):
        MLPClassifier(max_iter=2).fit(frame, Y3)
    with pytest.raises(TypeError, match="all input features have string names"):
        MLPClassifier(max_iter=2).fit(pd.DataFrame(X[:, :2], columns=["a", 1]), Y3)
    y = np.c_[Y3 == 0, Y3 == 1].astype(int)
    clf = quiet_fit(MLPClassifier((4,), max_iter=3, random_state=0), X, sp.csr_matrix(y))
    assert clf.predict(X).shape == (120, 2)


# ----- nnlite's additions to scikit-learn's parameters ---------------------------------------
def test_new_activations_dropout_and_solvers_train():
    from nnlite import GELU, Dropout, RMSProp
    from nnlite.schedules import CosineDecay

    for params in (dict(activation="gelu", dropout=0.2), dict(activation="leaky_relu"),
                   dict(solver="rmsprop"), dict(solver="adamw"), dict(solver="nadam"),
                   dict(solver=RMSProp(0.01)), dict(activation=GELU),
                   dict(learning_rate=CosineDecay(0.01, decay_steps=50))):
        clf = quiet_fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0,
                                      **params), X, Y3)
        assert clf.loss_curve_[-1] < clf.loss_curve_[0], params
    clf = quiet_fit(MLPClassifier(hidden_layer_sizes=(8, 4), dropout=0.3, max_iter=5,
                             random_state=0), X, Y3)
    kinds = [type(layer).__name__ for layer in clf.network_.layers]
    assert kinds == ["Dense", "ReLU", "Dropout", "Dense", "ReLU", "Dropout", "Dense", "Softmax"]
    assert isinstance(clf.network_.layers[2], Dropout)
    again = quiet_fit(MLPClassifier(hidden_layer_sizes=(8, 4), dropout=0.3, max_iter=5,
                               random_state=0), X, Y3)
    np.testing.assert_array_equal(clf.network_.theta, again.network_.theta)  # seeded


def test_an_optimizer_instance_is_copied_not_changed():
    from nnlite import Adam
    opt = Adam(0.01)
    clf = quiet_fit(MLPClassifier(hidden_layer_sizes=(8,), solver=opt, max_iter=5, random_state=0),
               X, Y3)
    assert opt.t == 0 and clf._optimizer.core is not opt and clf._optimizer.core.t > 0
    same = quiet_fit(MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=5,
                              random_state=0), X, Y3)
    np.testing.assert_array_equal(clf.network_.theta, same.network_.theta)


def test_regressor_robust_losses():
    for loss in ("huber", "absolute_error"):
        reg = quiet_fit(MLPRegressor(loss, hidden_layer_sizes=(16,), max_iter=200, random_state=0),
                   X, YR)
        assert reg.score(X, YR) > 0.5, loss
        assert type(reg._loss()).__name__ == {"huber": "Huber",
                                              "absolute_error": "AbsoluteError"}[loss]


def test_class_weight_equals_the_matching_sample_weights():
    weights = {0: 1.0, 1: 3.0, 2: 0.5}
    a = quiet_fit(MLPClassifier(hidden_layer_sizes=(8,), class_weight=weights, max_iter=10,
                           random_state=0), X, Y3)
    b = quiet_fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=0), X, Y3,
             sample_weight=np.array([weights[c] for c in Y3]))
    np.testing.assert_allclose(a.network_.theta, b.network_.theta, rtol=1e-12)
    labels = np.array(["a", "b", "c"])[Y3]
    named = {"a": 1.0, "b": 3.0, "c": 0.5}
    c = quiet_fit(MLPClassifier(hidden_layer_sizes=(8,), class_weight=named, max_iter=10,
                                random_state=0), X, labels)
    np.testing.assert_array_equal(a.network_.theta, c.network_.theta)
    balanced = quiet_fit(MLPClassifier(hidden_layer_sizes=(8,), class_weight="balanced", max_iter=5,
                                  random_state=0), X, Y3)
    assert balanced.score(X, Y3) > 0
    with pytest.raises(ValueError, match=r"class_weight names labels that are not classes"):
        MLPClassifier(class_weight={"z": 2.0}, max_iter=2).fit(X, labels)


def test_callbacks_in_fit_see_the_estimator_and_fill_the_validation_loss_curve():
    from nnlite.callbacks import Callback, EarlyStopping

    seen = []

    class Watch(Callback):
        def on_epoch_end(self, model, history):
            seen.append((self.run.estimator, model))

    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, early_stopping=True,
                        random_state=0, callbacks=[Watch(), EarlyStopping(patience=3)])
    quiet_fit(clf, X, Y3)
    assert seen and all(est is clf and net is clf.network_ for est, net in seen)
    assert len(clf.validation_loss_curve_) == len(clf.validation_scores_) == clf.n_iter_
    assert clf.n_iter_ < 30
    plain = quiet_fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0), X, Y3)
    assert plain.validation_loss_curve_ is None


def test_early_stopping_validation_loss_is_the_log_loss_of_the_held_out_rows():
    from nnlite import LogLoss
    from nnlite.callbacks import Callback

    class Keep(Callback):
        def on_train_begin(self, model, history):
            self.X_val, self.y_val, _ = self.run.validation

    keep = Keep()
    clf = quiet_fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=1, early_stopping=True,
                                  alpha=1e-3, random_state=0, callbacks=[keep]), X, Y3)
    # one epoch: the final weights are that epoch's; recompute on the held-out rows
    onehot = clf._labels.transform(keep.y_val)
    value, _ = clf.network_.loss_and_grad(keep.X_val, onehot, LogLoss(value_from_logits=False),
                                          alpha=1e-3)
    np.testing.assert_allclose(clf.validation_loss_curve_[0], value, rtol=1e-12)


def test_saving_the_new_parameters(tmp_path):
    import io

    from nnlite import Adam, load, save
    from nnlite.callbacks import ProgressBar

    clf = quiet_fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0,
                             class_weight={"b": 2.0, "a": 1.0}, dropout=0.1,
                             callbacks=[ProgressBar(stream=io.StringIO())]),
               X, np.array(["a", "b", "c"])[Y3])
    save(clf, tmp_path / "m.nnlite")
    back = load(tmp_path / "m.nnlite")
    assert back.class_weight == {"b": 2.0, "a": 1.0} and back.dropout == 0.1
    assert back.callbacks is None
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(TypeError, match="solver=.* is an object"):
        save(MLPClassifier(solver=Adam()), tmp_path / "x.nnlite")
    assert not (tmp_path / "x.nnlite").exists()


def test_bad_new_parameters():
    for params, match in ((dict(activation="swish"), "'activation' parameter"),
                          (dict(solver="lion"), "'solver' parameter"),
                          (dict(dropout=1.0), "'dropout' parameter"),
                          (dict(class_weight="even"), "'class_weight' parameter"),
                          (dict(callbacks=[print]), "'callbacks' parameter")):
        with pytest.raises(ValueError, match=match):
            MLPClassifier(max_iter=2, **params).fit(X, Y3)
    with pytest.raises(ValueError, match="'loss' parameter"):
        MLPRegressor("pinball", max_iter=2).fit(X, YR)


def test_optimizer_view_of_nnlite_solvers_reads_and_sets_the_base_rate():
    for solver in ("rmsprop", "adamw", "nadam"):
        clf = quiet_fit(MLPClassifier(hidden_layer_sizes=(4,), solver=solver, max_iter=2,
                                      learning_rate_init=0.01, random_state=0), X, Y3)
        assert clf._optimizer.learning_rate == 0.01 == clf._optimizer.learning_rate_init
        clf._optimizer.learning_rate = 0.005
        assert clf._optimizer.core.base_lr == 0.005
