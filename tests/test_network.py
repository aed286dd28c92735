"""Sequential: building, shapes, the flat parameter vector and its per-layer views."""

import copy
import pickle

import numpy as np
import pytest

import nnlite
from nnlite import (
    Dense,
    Identity,
    Layer,
    Logistic,
    LogLoss,
    ReLU,
    Sequential,
    Softmax,
    SquaredError,
    Tanh,
)
from nnlite.params import ParamSpec


def test_shape_inference_at_first_forward():
    net = Sequential([Dense(64), ReLU(), Dense(3), Softmax()], random_state=0)
    assert not net.built
    with pytest.raises(RuntimeError, match="not built"):
        net.theta  # noqa: B018
    out = net.forward(np.ones((5, 10)))
    assert net.built and out.shape == (5, 3)
    assert (net.n_in, net.n_out) == (10, 3)
    dense = net.layers[0]
    assert (dense.n_in, dense.n_out) == (10, 64)
    assert net.named_parameters()["0.W"].shape == (10, 64)
    assert net.named_parameters()["2.W"].shape == (64, 3)
    assert net.theta.size == 10 * 64 + 64 * 3 + 64 + 3


def test_explicit_n_in_builds_at_construction():
    net = Sequential([Dense(4), Tanh(), Dense(2)], n_in=3, random_state=0)
    assert net.built and net.theta.size == 3 * 4 + 4 * 2 + 4 + 2
    assert net.forward(np.zeros((1, 3))).shape == (1, 2)
    # a layer's own declared width must agree with the data
    net = Sequential([Dense(4, n_in=3), Tanh()])
    assert net.forward(np.zeros((2, 3))).shape == (2, 4)
    with pytest.raises(ValueError, match="n_in=3"):
        Sequential([Dense(4, n_in=3)]).forward(np.zeros((2, 5)))


def test_same_seed_same_weights_and_drawing_order():
    a = Sequential([Dense(3), Tanh(), Dense(2)], random_state=7).build(4)
    b = Sequential([Dense(3), Tanh(), Dense(2)], n_in=4, random_state=7)
    np.testing.assert_array_equal(a.theta, b.theta)
    # layers draw in order, input side first, W then b (scikit-learn's order)
    rng = np.random.RandomState(7)
    bound1, bound2 = np.sqrt(6 / (4 + 3)), np.sqrt(6 / (3 + 2))
    W1 = rng.uniform(-bound1, bound1, (4, 3))
    b1 = rng.uniform(-bound1, bound1, 3)
    W2 = rng.uniform(-bound2, bound2, (3, 2))
    b2 = rng.uniform(-bound2, bound2, 2)
    p = a.named_parameters()
    for got, want in ((p["0.W"], W1), (p["0.b"], b1), (p["2.W"], W2), (p["2.b"], b2)):
        np.testing.assert_array_equal(got, want)


def test_float32_input_gives_float32_parameters():
    x = np.random.RandomState(0).normal(size=(4, 3)).astype(np.float32)
    net = Sequential([Dense(5), Tanh(), Dense(2), Softmax()], random_state=0)
    out = net.forward(x)
    assert net.dtype == np.float32 and net.theta.dtype == np.float32
    assert net.grad.dtype == np.float32 and out.dtype == np.float32
    assert all(v.dtype == np.float32 for v in net.named_parameters().values())
    # float32 and float64 networks from the same seed start from the same values
    net64 = Sequential([Dense(5), Tanh(), Dense(2), Softmax()], random_state=0)
    net64.forward(x.astype(np.float64))
    assert net64.theta.dtype == np.float64
    np.testing.assert_array_equal(net.theta, net64.theta.astype(np.float32))
    y = np.eye(2, dtype=np.float32)[[0, 1, 1, 0]]
    value, grad = net.loss_and_grad(x, y, LogLoss())
    assert grad.dtype == np.float32 and np.isfinite(value)
    # an explicit dtype wins over the data's
    net = Sequential([Dense(2)], dtype=np.float64)
    net.forward(x)
    assert net.theta.dtype == np.float64
    with pytest.raises(ValueError, match="float32 or float64"):
        Sequential([Dense(2)], n_in=2, dtype=np.int64)


def test_repr_shows_the_stack():
    net = Sequential([Dense(4), Tanh(), Dense(3), Softmax()])
    assert repr(net) == ("Sequential(\n  (0): Dense(4)\n  (1): Tanh()\n  (2): Dense(3)\n"
                         "  (3): Softmax()\n)")
    net.build(2)
    assert repr(net) == ("Sequential(n_in=2, n_out=3, n_params=27\n  (0): Dense(4, n_in=2)\n"
                         "  (1): Tanh()\n  (2): Dense(3, n_in=4)\n  (3): Softmax()\n)")
    nested = Sequential([Sequential([Dense(2), ReLU()]), Identity()])
    assert "(0): Sequential(" in repr(nested) and "(1): Identity()" in repr(nested)


def test_named_parameters_and_gradients_keys():
    net = Sequential([Dense(4), Tanh(), Dense(3, bias=False), Logistic()], n_in=2)
    assert list(net.named_parameters()) == ["0.W", "0.b", "2.W"]
    assert list(net.named_gradients()) == ["0.W", "0.b", "2.W"]
    nested = Sequential([Sequential([Dense(2), Tanh()]), Dense(1)], n_in=3)
    assert list(nested.named_parameters()) == ["0.0.W", "0.0.b", "1.W", "1.b"]
    for v in nested.named_parameters().values():
        assert np.shares_memory(v, nested.theta)


def test_theta_layout_weights_of_all_layers_first_then_biases():
    net = Sequential([Dense(3), Tanh(), Dense(2), Tanh(), Dense(1)], n_in=4, random_state=0)
    p = net.named_parameters()
    weights = np.concatenate([p["0.W"].ravel(), p["2.W"].ravel(), p["4.W"].ravel()])
    biases = np.concatenate([p["0.b"], p["2.b"], p["4.b"]])
    assert net.n_penalized == weights.size == 4 * 3 + 3 * 2 + 2 * 1
    np.testing.assert_array_equal(net.theta, np.concatenate([weights, biases]))
    # the views are row-major windows at those offsets
    assert np.shares_memory(p["2.W"], net.theta[12:18])
    assert np.shares_memory(p["0.b"], net.theta[20:23])
    net.theta[12] = 123.0
    assert p["2.W"][0, 0] == 123.0


def test_set_theta_copies_into_the_same_buffer():
    net = Sequential([Dense(2), Tanh(), Dense(1)], n_in=2, random_state=0)
    theta, W = net.theta, net.named_parameters()["0.W"]
    new = np.arange(net.theta.size, dtype=float)
    net.set_theta(new)
    assert net.theta is theta  # never rebound
    np.testing.assert_array_equal(theta, new)
    np.testing.assert_array_equal(W, [[0.0, 1.0], [2.0, 3.0]])
    new[0] = -1.0
    assert net.theta[0] == 0.0  # a copy, not an alias of the argument
    with pytest.raises(ValueError, match=r"expected shape \(9,\); got \(8,\)"):
        net.set_theta(np.zeros(8))
    with pytest.raises(ValueError, match="expected shape"):
        net.set_theta(np.zeros((9, 1)))


def test_predict_caches_nothing_and_equals_forward():
    net = Sequential([Dense(3), Tanh(), Dense(2), Softmax()], random_state=0)
    x = np.random.RandomState(1).normal(size=(4, 3))
    out = net.predict(x)
    assert net.layers[0]._x is None and net.layers[1]._z is None
    np.testing.assert_array_equal(net.forward(x), out)
    assert net.layers[0]._x is not None


def test_backward_returns_input_gradient_and_fills_grad():
    net = Sequential([Dense(3), Tanh(), Dense(2)], n_in=2, random_state=0)
    x = np.array([[0.5, -1.0]])
    net.forward(x)
    g = np.array([[1.0, 0.0]])
    grad_in = net.backward(g.copy())
    # d out_0 / d x by the chain rule written out
    W1, b1, W2 = (net.named_parameters()[k] for k in ("0.W", "0.b", "2.W"))
    h = np.tanh(x @ W1 + b1)
    np.testing.assert_allclose(grad_in, ((1 - h**2) * W2[:, 0]) @ W1.T, rtol=1e-12)
    np.testing.assert_allclose(net.named_gradients()["2.W"], h.T @ g, rtol=1e-12)
    net.forward(x)
    assert net.backward(g.copy(), need_grad_in=False) is None


def test_loss_and_grad_value_includes_penalty_scaled_by_weight_total():
    net = Sequential([Dense(2), Tanh(), Dense(1), Identity()], n_in=2, random_state=0)
    x = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, 1.0]])
    y = np.array([[0.5], [-0.5], [1.0]])
    w = np.array([1.0, 2.0, 3.0])
    alpha = 0.7
    out = net.predict(x)
    W = net.theta[:net.n_penalized]
    value, _ = net.loss_and_grad(x, y, SquaredError(), alpha, w)
    expected = (w * 0.5 * (out - y)[:, 0] ** 2).sum() / 6 + 0.5 * alpha * (W @ W) / 6
    assert value == pytest.approx(expected, rel=1e-13)
    value, _ = net.loss_and_grad(x, y, SquaredError(), alpha)
    assert value == pytest.approx(np.mean(0.5 * (out - y) ** 2) + 0.5 * alpha * (W @ W) / 3,
                                  rel=1e-13)
    assert net.loss_and_grad(x, y, SquaredError(), alpha, compute_value=False)[0] is None


def test_pickle_round_trip_keeps_one_buffer():
    net = Sequential([Dense(3), Tanh(), Sequential([Dense(2), ReLU()]), Dense(1)], n_in=2,
                     random_state=0)
    x = np.random.RandomState(0).normal(size=(3, 2))
    clone = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(clone.predict(x), net.predict(x))
    for v in clone.named_parameters().values():
        assert np.shares_memory(v, clone.theta) and not np.shares_memory(v, net.theta)
    clone.set_theta(np.zeros(clone.theta.size))
    np.testing.assert_array_equal(clone.predict(x), 0.0)


def test_constructor_errors():
    with pytest.raises(ValueError, match="at least one layer"):
        Sequential([])
    with pytest.raises(TypeError, match=r"layers\[1\] must be an nnlite Layer"):
        Sequential([Dense(2), np.tanh])
    assert isinstance(Sequential([Identity()]), Layer)  # a network is a layer too


def test_last_layer_dense_and_lone_output_layer():
    from nnlite import gradcheck

    x = np.random.RandomState(0).normal(size=(4, 3))
    y = np.random.RandomState(1).normal(size=(4, 2))
    # no output activation: the loss is chained straight onto the last Dense
    net = Sequential([Dense(4), Tanh(), Dense(2)], n_in=3, random_state=0)
    value, _ = net.loss_and_grad(x, y, SquaredError(), alpha=0.1)
    assert value == pytest.approx(SquaredError().value(net.predict(x), y)
                                  + 0.05 * net.theta[:net.n_penalized] @
                                  net.theta[:net.n_penalized] / 4, rel=1e-12)
    gradcheck.assert_network_gradients(net, x, y, SquaredError(), alpha=0.1)
    gradcheck.assert_network_gradients(Sequential([Dense(2)], n_in=3, random_state=0), x, y,
                                       SquaredError())
    # a network that is only its (fused) output layer has no parameters and a finite value
    lone = Sequential([Softmax()], n_in=2)
    value, grad = lone.loss_and_grad(x[:, :2], np.eye(2)[[0, 1, 1, 0]], LogLoss())
    assert grad.size == 0
    assert value == pytest.approx(LogLoss().value(lone.predict(x[:, :2]),
                                                  np.eye(2)[[0, 1, 1, 0]]), rel=1e-12)


def test_a_layer_cannot_serve_twice():
    d = Dense(3)
    with pytest.raises(ValueError, match=r"layers\[2\] is the same object as layers\[0\]"):
        Sequential([d, Tanh(), d])
    Sequential([d], random_state=0).build(4)
    with pytest.raises(ValueError, match=r"layers\[0\] \(Dense\) is already built"):
        Sequential([d, Tanh()])


# ----- non-trainable state (the part of the layer contract running statistics use) ---------
class _RunningMean(nnlite.Layer):
    """Adds a bias; keeps the running mean of its inputs as state (a user-written layer)."""

    def param_specs(self, n_in):
        return [ParamSpec("b", (n_in,), penalized=False)]

    def state_specs(self, n_in):
        return [ParamSpec("mean", (n_in,)), ParamSpec("count", (1,))]

    def reset_parameters(self, rng):
        self.params["b"][...] = rng.uniform(-1, 1, self.n_in)
        self.state["mean"][...] = 0.0
        self.state["count"][...] = 0.0

    def forward(self, x, train=True):
        if train:
            n = self.state["count"][0]
            self.state["mean"][...] = (n * self.state["mean"] + x.sum(0)) / (n + len(x))
            self.state["count"][0] = n + len(x)
        return x + self.params["b"]

    def backward(self, grad_out):
        self.grads["b"][...] = grad_out.sum(0)
        return grad_out

    def __nnlite_getstate__(self):  # the network saves the parameters and the state
        return {}, {}

    @classmethod
    def __nnlite_setstate__(cls, config, arrays):
        return cls()


nnlite.io.register_model_class(_RunningMean, "tests._RunningMean")


def _stateful_net():
    return Sequential([Dense(3), _RunningMean(), Tanh(), Dense(1)], n_in=2, random_state=0)


def test_state_lives_in_one_flat_vector_beside_theta():
    net = _stateful_net()
    assert net.state_vector.shape == (3 + 1,)
    assert set(net.named_state()) == {"1.mean", "1.count"}
    x = np.arange(8.0).reshape(4, 2)
    theta = net.theta.copy()
    h = net.layers[0].forward(x)
    net.forward(x)
    np.testing.assert_array_equal(net.named_state()["1.mean"], h.mean(0))
    assert np.shares_memory(net.layers[1].state["mean"], net.state_vector)
    np.testing.assert_array_equal(net.theta, theta)  # state is not a parameter
    net.predict(x)  # prediction mode leaves the state alone
    np.testing.assert_array_equal(net.named_state()["1.count"], [4.0])


def test_state_survives_pickle_astype_and_save(tmp_path):
    net = _stateful_net()
    net.forward(np.ones((3, 2)))
    state = net.state_vector.copy()
    for other in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        np.testing.assert_array_equal(other.state_vector, state)
        assert np.shares_memory(other.layers[1].state["mean"], other.state_vector)
    nnlite.save(net, tmp_path / "m.nnlite")
    loaded = nnlite.load(tmp_path / "m.nnlite")
    np.testing.assert_array_equal(loaded.state_vector, state)
    np.testing.assert_array_equal(loaded.theta, net.theta)
    f32 = copy.deepcopy(net).astype(np.float32)
    np.testing.assert_array_equal(f32.state_vector, state.astype(np.float32))
    assert np.shares_memory(f32.layers[1].state["mean"], f32.state_vector)


def test_failed_training_restores_the_state():
    net = _stateful_net()
    net.forward(np.ones((3, 2)))
    state, theta = net.state_vector.copy(), net.theta.copy()
    X = np.random.RandomState(0).normal(size=(20, 2))

    def fail(*args):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        nnlite.train(net, X, X[:, :1], nnlite.SquaredError(), nnlite.SGD(), epochs=3,
                     batch_size=5, callback=fail, random_state=0)
    np.testing.assert_array_equal(net.state_vector, state)
    np.testing.assert_array_equal(net.theta, theta)
