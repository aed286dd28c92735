"""The plot helpers: what they draw, what they accept, and the error without matplotlib."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from nnlite import (
    Adam,
    ConvergenceWarning,
    Dense,
    History,
    Logistic,
    LogLoss,
    MLPClassifier,
    MLPRegressor,
    Sequential,
    Softmax,
    Tanh,
    train,
)


def test_the_core_never_imports_matplotlib():
    code = ("import sys, nnlite, nnlite.cli, nnlite.plotting; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_missing_matplotlib_gives_an_install_hint(monkeypatch):
    from nnlite import plotting

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    history = History(loss_curve=[1.0, 0.5])
    for call in (lambda: plotting.plot_loss_curve(history),
                 lambda: plotting.plot_first_layer_weights(np.zeros((4, 2)))):
        with pytest.raises(ImportError, match=r'pip install "nnlite\[plot\]"'):
            call()


mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from nnlite.plotting import (  # noqa: E402
    plot_decision_boundary,
    plot_first_layer_weights,
    plot_loss_curve,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _blobs(n=80, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def test_loss_curve_of_a_history():
    X, y = _blobs()
    net = Sequential([Dense(4), Tanh(), Dense(2), Softmax()])
    history = train(net, X, y, LogLoss(), Adam(0.01), epochs=7, random_state=0)
    ax = plot_loss_curve(history, label="mine", color="red")
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 8))
    np.testing.assert_array_equal(line.get_ydata(), history.loss_curve)
    assert line.get_label() == "mine"
    assert not hasattr(ax, "validation_axes")


def test_loss_curve_of_a_preset_with_early_stopping_shows_validation_scores():
    X, y = _blobs(120)
    clf = _fit(MLPClassifier((5,), early_stopping=True, max_iter=12, random_state=0), X, y)
    fig, ax = plt.subplots()
    assert plot_loss_curve(clf, ax=ax) is ax
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), clf.loss_curve_)
    val = ax.validation_axes.get_lines()
    np.testing.assert_array_equal(val[0].get_ydata(), clf.validation_scores_)
    best = int(np.argmax(clf.validation_scores_))
    assert val[1].get_xdata()[0] == best + 1  # the best epoch is marked
    labels = [t.get_text() for t in ax.validation_axes.get_legend().get_texts()]
    assert labels == ["training loss", "validation score"]


def test_loss_curve_refuses_what_has_none():
    X, y = _blobs()
    with pytest.raises(ValueError, match="lbfgs"):
        plot_loss_curve(_fit(MLPClassifier((3,), solver="lbfgs", max_iter=5), X, y))
    with pytest.raises(ValueError, match="no loss curve"):
        plot_loss_curve(History())
    with pytest.raises(ValueError, match="not fitted"):
        plot_loss_curve(MLPClassifier())
    with pytest.raises(TypeError, match="History"):
        plot_loss_curve(np.zeros(3))


def test_decision_boundary_of_a_preset_follows_its_predictions():
    X, y = _blobs()
    labels = np.where(y == 1, "yes", "no")
    clf = _fit(MLPClassifier((8,), max_iter=200, random_state=0), X, labels)
    ax = plot_decision_boundary(clf, X, labels, resolution=30, show_proba=False)
    (points,) = ax.collections[-1:]
    # points coloured by class index (string labels encoded through classes_)
    np.testing.assert_array_equal(points.get_array(), np.searchsorted(clf.classes_, labels))
    assert ax.get_xlim() == pytest.approx((X[:, 0].min() - 0.5, X[:, 0].max() + 0.5))


def test_decision_boundary_of_a_sequential_with_one_or_many_outputs():
    X, y = _blobs()
    for out in ([Dense(1), Logistic()], [Dense(2), Softmax()]):
        net = Sequential([Dense(6), Tanh(), *out], n_in=2, random_state=0)
        ax = plot_decision_boundary(net, X, y, resolution=20)
        assert len(ax.collections) >= 2
    net = Sequential([Dense(3), Tanh(), Dense(3), Softmax()], n_in=2, random_state=0)
    ax = plot_decision_boundary(net, X, resolution=20, scatter=False)


def test_decision_boundary_needs_two_features():
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"\(n_samples, 2\)"):
        plot_decision_boundary(Sequential([Dense(2), Softmax()], n_in=3), X)
    with pytest.raises(TypeError, match="classifier"):
        plot_decision_boundary(object(), np.zeros((5, 2)))


def test_first_layer_weights_as_images():
    rng = np.random.RandomState(0)
    X, y = rng.uniform(size=(60, 16)), rng.randint(0, 3, 60)
    clf = _fit(MLPClassifier((6,), max_iter=5, random_state=0), X, y)
    fig = plot_first_layer_weights(clf)  # 16 features: 4x4 inferred
    images = [ax.get_images()[0] for ax in fig.axes if ax.get_images()]
    assert len(images) == 6
    np.testing.assert_array_equal(images[2].get_array(), clf.coefs_[0][:, 2].reshape(4, 4))
    vmax = np.abs(clf.coefs_[0]).max()
    assert images[0].get_clim() == pytest.approx((-vmax, vmax))

    net = Sequential([Dense(5), Tanh(), Dense(2)], n_in=6, random_state=0)
    fig = plot_first_layer_weights(net, image_shape=(2, 3), max_units=3, n_cols=2)
    assert sum(bool(ax.get_images()) for ax in fig.axes) == 3
    reg = _fit(MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0), X, X[:, 0])
    plot_first_layer_weights(reg, (4, 4))


def test_first_layer_weights_checks_the_image_shape():
    with pytest.raises(ValueError, match="image_shape"):
        plot_first_layer_weights(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="holds 9 values"):
        plot_first_layer_weights(np.zeros((10, 2)), image_shape=(3, 3))
    with pytest.raises(ValueError, match="no built Dense"):
        plot_first_layer_weights(Sequential([Tanh()]))
