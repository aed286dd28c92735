"""Dropout: training-only masks from the layer's own seeded generator; whole networks with it."""

import copy
import pickle

import numpy as np
import pytest

import nnlite
from nnlite import (
    Adam,
    BatchNorm,
    Dense,
    Dropout,
    Identity,
    LayerNorm,
    LogLoss,
    ReLU,
    Sequential,
    Softmax,
    SquaredError,
    Tanh,
    gradcheck,
    train,
)


def test_masks_in_training_identity_at_prediction():
    x = np.random.RandomState(0).uniform(1, 2, (400, 50))
    layer = Dropout(0.25, random_state=0).build(50)
    assert layer.forward(x, train=False) is x
    out = layer.forward(x)
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.75, rtol=1e-15)
    assert abs(1 - kept.mean() - 0.25) < 0.01  # 20000 draws: the rate within 4 sd
    g = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(g), kept / 0.75)
    assert Dropout(0.0).forward(x) is x  # rate 0: nothing dropped


def test_seeded_layer_repeats_its_masks_and_unseeded_layers_differ():
    x = np.ones((6, 8))
    a = Dropout(0.5, random_state=7).build(8).forward(x)
    b = Dropout(0.5, random_state=7).build(8).forward(x)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, Dropout(0.5, random_state=8).build(8).forward(x))
    # two unseeded layers of one network, with nothing drawn between them: other masks
    net = Sequential([Dropout(0.5), Dropout(0.5)], n_in=8, random_state=0)
    first = net.layers[0].forward(x)
    second = net.layers[1].forward(x)
    assert not np.array_equal(first, second)


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    return X, y


def _fit(layers, **kwargs):
    X, y = _data()
    net = Sequential(layers)
    train(net, X, y, LogLoss(), Adam(0.01), epochs=4, batch_size=16, random_state=0, **kwargs)
    return net


def test_an_unseeded_dropout_leaves_the_other_weights_and_the_shuffles_alone():
    with_dropout = Sequential([Dense(5), Dropout(0.5), Dense(3), Softmax()]).build(
        4, random_state=0)
    without = Sequential([Dense(5), Identity(), Dense(3), Softmax()]).build(4, random_state=0)
    np.testing.assert_array_equal(with_dropout.theta, without.theta)
    # a dropout that drops nothing trains exactly as the network without it: same
    # initial weights, same shuffles
    a = _fit([Dense(5), Tanh(), Dropout(0.0), Dense(3), Softmax()])
    b = _fit([Dense(5), Tanh(), Identity(), Dense(3), Softmax()])
    np.testing.assert_array_equal(a.theta, b.theta)


def _regulated():
    return [Dense(8), LayerNorm(), ReLU(), Dropout(0.3), Dense(6), BatchNorm(), Tanh(),
            Dropout(0.2, random_state=1), Dense(3), Softmax()]


def test_seeded_training_with_dropout_and_normalization_is_reproducible(tmp_path):
    a, b = _fit(_regulated()), _fit(_regulated())
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.state_vector, b.state_vector)
    c = Sequential(_regulated())
    X, y = _data()
    train(c, X, y, LogLoss(), Adam(0.01), epochs=4, batch_size=16, random_state=1)
    assert not np.array_equal(a.theta, c.theta)
    # saved and loaded, pickled or copied: the same predictions
    nnlite.save(a, tmp_path / "a.nnlite")
    for other in (nnlite.load(tmp_path / "a.nnlite"), pickle.loads(pickle.dumps(a)),
                  copy.deepcopy(a)):
        np.testing.assert_array_equal(other.predict(X), a.predict(X))
        np.testing.assert_array_equal(other.state_vector, a.state_vector)
    assert repr(nnlite.load(tmp_path / "a.nnlite")) == repr(a)


def test_a_failed_run_restores_parameters_and_state():
    X, y = _data()
    net = Sequential(_regulated())
    train(net, X, y, LogLoss(), Adam(0.01), epochs=1, batch_size=16, random_state=0)
    theta, state = net.theta.copy(), net.state_vector.copy()

    def fail(net, history):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        train(net, X, y, LogLoss(), Adam(0.01), epochs=3, batch_size=16, random_state=0,
              callback=fail)
    np.testing.assert_array_equal(net.theta, theta)
    np.testing.assert_array_equal(net.state_vector, state)


def test_network_gradients_hold_the_masks_fixed():
    rng = np.random.RandomState(4)
    net = Sequential(_regulated()).build(4, random_state=0)
    x, y = rng.normal(size=(7, 4)), rng.randint(0, 3, 7)
    before = repr(net.get_rng_state())
    gradcheck.assert_network_gradients(net, x, y, LogLoss(), alpha=0.1)
    gradcheck.assert_network_gradients_directional(net, x, y, LogLoss(), n_directions=3)
    assert repr(net.get_rng_state()) == before  # the checks leave the generators as found
    # without holding the masks the same objective would not even be a function of theta
    f1 = net.loss_and_grad(x, y, LogLoss())[0]
    f2 = net.loss_and_grad(x, y, LogLoss())[0]
    assert f1 != f2


def test_squared_error_network_with_dropout_trains():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -1.0, 0.5])
    net = Sequential([Dense(16), Tanh(), Dropout(0.1), Dense(1), Identity()])
    h = train(net, X, y, SquaredError(), Adam(0.01), epochs=40, batch_size=32, random_state=0)
    assert h.loss_curve[-1] < 0.3 * h.loss_curve[0]


def test_float32_network_with_the_new_layers_trains_in_float32():
    X, y = _data()
    net = Sequential(_regulated(), dtype=np.float32)
    h = train(net, X.astype(np.float32), y, LogLoss(), Adam(0.01), epochs=3, batch_size=16,
              random_state=0)
    assert net.theta.dtype == np.float32 == net.state_vector.dtype
    assert net.predict(X.astype(np.float32)).dtype == np.float32
    assert np.isfinite(h.loss_curve).all()
    # astype keeps the running statistics (converted) and the generators
    f64 = copy.deepcopy(net).astype(np.float64)
    np.testing.assert_array_equal(f64.state_vector, net.state_vector.astype(np.float64))
    assert repr(f64.get_rng_state()) == repr(net.get_rng_state())
