"""The layer contract, checked on every layer; and a user-defined layer."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlite import (
    Adam,
    Add,
    Concatenate,
    Dense,
    Exp,
    Graph,
    Identity,
    Input,
    Logistic,
    Multiply,
    ReLU,
    Sequential,
    Softmax,
    SquaredError,
    Tanh,
    gradcheck,
    train,
)
from tests.strategies import Scale, arrays, batches, dodge_kink, seeds

# name -> (factory, expected output width for input width n, input bounds)
LAYERS = {
    "Dense": (lambda: Dense(3), lambda n: 3, 3.0),
    "Identity": (Identity, lambda n: n, 3.0),
    "Tanh": (Tanh, lambda n: n, 3.0),
    "ReLU": (ReLU, lambda n: n, 3.0),
    "Logistic": (Logistic, lambda n: n, 3.0),
    "Softmax": (Softmax, lambda n: n, 3.0),
    "Exp": (Exp, lambda n: n, 2.0),
    "Sequential": (lambda: Sequential([Dense(4), Tanh(), Dense(2), Logistic()]),
                   lambda n: 2, 3.0),
    # merges take two inputs of width n here
    "Add": (Add, lambda n: n, 3.0),
    "Concatenate": (Concatenate, lambda n: 2 * n, 3.0),
    "Multiply": (Multiply, lambda n: n, 3.0),
}


def _leaves(layer):
    """``layer`` itself, or the layers of a (nested) Sequential, flattened."""
    if isinstance(layer, Sequential):
        return [leaf for sub in layer.layers for leaf in _leaves(sub)]
    return [layer]


def _caches(layer):
    """What every leaf keeps for its backward pass (Dense: ``_x``; activations: ``_z``)."""
    return [getattr(leaf, "_x", None) if isinstance(leaf, Dense)
            else getattr(leaf, "_xs", None) if isinstance(leaf, Multiply)
            else getattr(leaf, "_z", None)
            for leaf in _leaves(layer)]


def _network_of(layer, x, data, bound, seed):
    """``layer`` alone in a network, and the input for it (two arrays for a merge)."""
    if layer.n_inputs == 1:
        return Sequential([layer], random_state=seed), x
    x2 = data.draw(arrays(x.shape, -bound, bound), label="x2")
    a, b = Input(x.shape[1]), Input(x.shape[1])
    return Graph([a, b], layer([a, b]), random_state=seed), [x, x2]


def _assert_views(layer, net):
    """Every parameter/gradient array of ``layer`` is a view of ``net.theta``/``net.grad``."""
    assert set(layer.params) == set(layer.grads)
    for name in layer.params:
        assert np.shares_memory(layer.params[name], net.theta), name
        assert np.shares_memory(layer.grads[name], net.grad), name
    n_own = sum(p.size for p in layer.params.values())
    assert n_own == net.theta.size  # the layer is all the network holds


@pytest.mark.parametrize("name", sorted(LAYERS))
@given(data=st.data(), seed=seeds)
def test_layer_contract(name, data, seed):
    make, width, bound = LAYERS[name]
    x = data.draw(batches(low=-bound, high=bound), label="x")
    if name == "ReLU":
        x = dodge_kink(x)
    n, n_in = x.shape

    # forward(train=False) on a fresh layer caches nothing
    layer = make()
    net, x = _network_of(layer, x, data, bound, seed)
    out = net.forward(x, train=False)
    assert out.shape == (n, width(n_in)) == (n, layer.n_out)
    assert layer.n_in == (n_in if layer.n_inputs == 1 else (n_in, n_in))
    assert all(c is None for c in _caches(layer))

    # forward(train=True) caches, and a later train=False pass drops the caches
    np.testing.assert_array_equal(net.forward(x), out)
    if not isinstance(layer, (Identity, Add, Concatenate)):  # these keep nothing
        assert all(c is not None for c in _caches(layer))
    net.predict(x)
    assert all(c is None for c in _caches(layer))

    # the views share memory with the flat vectors after forward/backward
    net.forward(x)
    r = np.random.RandomState(seed).normal(size=out.shape)
    grad_in = net.backward(r.copy())
    for g, a in zip(grad_in if layer.n_inputs != 1 else [grad_in],
                    x if layer.n_inputs != 1 else [x]):
        assert g.shape == a.shape
    _assert_views(layer, net)
    for key, g in net.named_gradients().items():
        assert np.shares_memory(g, net.grad), key
    if net.theta.size:  # writing through the flat vector writes the layer's arrays
        saved = net.theta.copy()
        net.theta[...] = np.arange(1.0, net.theta.size + 1)
        seen = np.sort(np.concatenate([p.ravel() for p in layer.params.values()]))
        np.testing.assert_array_equal(seen, np.arange(1.0, net.theta.size + 1))
        net.theta[...] = saved

    # ... and after a pickling round trip (views rebuilt on the new buffers)
    net2 = pickle.loads(pickle.dumps(net))
    layer2 = net2.layers[0]
    np.testing.assert_array_equal(net2.predict(x), out)
    net2.forward(x)
    net2.backward(r.copy())
    _assert_views(layer2, net2)
    np.testing.assert_allclose(net2.grad, net.grad, rtol=1e-12, atol=1e-14)
    if net2.theta.size:
        assert not np.shares_memory(net2.theta, net.theta)
        net2.theta[...] = 0.0
        assert all(not np.any(p) for p in layer2.params.values())
        assert np.any(net.theta)

    # gradients match central differences (input and every parameter)
    report = gradcheck.check_layer(layer, x, random_state=seed % 2**31)
    assert report.passed, str(report)
    n_inputs = n * n_in * (1 if layer.n_inputs == 1 else len(x))
    assert report.n_checked == n_inputs + net.theta.size


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_standalone_build_allocates_own_buffer(name):
    layer = LAYERS[name][0]()
    x = np.random.RandomState(0).uniform(0.1, 1.0, (4, 3))
    n_in = 3 if layer.n_inputs == 1 else (3, 3)
    if layer.n_inputs != 1:  # a merge: two inputs
        x = [x, x[::-1].copy()]
    layer.build(n_in, random_state=0)
    assert layer.built and layer.n_in == n_in
    out = layer.forward(x)
    assert out.shape == (4, LAYERS[name][1](3))
    gradcheck.assert_layer_gradients(layer, x)
    layer2 = pickle.loads(pickle.dumps(layer))
    np.testing.assert_array_equal(layer2.forward(x, train=False), out)
    for k in layer2.params:
        assert np.shares_memory(layer2.params[k], layer2._own_buffer.theta)


def test_dense_float32_standalone_and_explicit_width_mismatch():
    layer = Dense(2)
    out = layer.forward(np.ones((3, 4), dtype=np.float32))
    assert layer.params["W"].dtype == np.float32 and out.dtype == np.float32
    with pytest.raises(ValueError, match="n_in=5"):
        Sequential([Dense(2, n_in=5)]).build(4)
    with pytest.raises(TypeError, match="positive int"):
        Dense(2.5)
    with pytest.raises(ValueError, match="positive int"):
        Dense(0)


def test_dense_without_bias_and_sparse_input():
    from scipy import sparse

    x = sparse.random(6, 4, density=0.5, random_state=0, format="csr")
    net = Sequential([Dense(3, bias=False), Tanh()], random_state=0)
    out = net.forward(x)
    assert list(net.named_parameters()) == ["0.W"]
    dense = Sequential([Dense(3, bias=False), Tanh()], random_state=0)
    np.testing.assert_allclose(out, dense.forward(x.toarray()), rtol=1e-12)
    g = np.ones_like(out)
    net.backward(g.copy(), need_grad_in=False)
    dense.backward(g.copy())
    np.testing.assert_allclose(net.grad, dense.grad, rtol=1e-12)


def test_activation_values_and_softmax_rows():
    x = np.array([[-1000.0, 0.0, 1000.0]])
    np.testing.assert_array_equal(ReLU().forward(x), [[0.0, 0.0, 1000.0]])
    np.testing.assert_array_equal(Logistic().forward(x), [[0.0, 0.5, 1.0]])  # no overflow
    np.testing.assert_allclose(Softmax().forward(x), [[0.0, 0.0, 1.0]])
    p = Softmax().forward(np.random.RandomState(0).normal(size=(5, 4)))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(Tanh().forward(x), np.tanh(x))
    np.testing.assert_allclose(Exp().forward(np.array([[0.0, 1.0]])), [[1.0, np.e]])


# ----- a user-defined layer (tests.strategies.Scale) ---------------------------------------
@given(x=batches(), seed=seeds)
@settings(max_examples=20)
def test_user_layer_passes_layer_check(x, seed):
    report = gradcheck.check_layer(Scale(), x, random_state=seed % 2**31)
    assert report.passed, str(report)
    assert report.n_checked == x.size + x.shape[1]


def test_user_layer_inside_sequential_trains_and_passes_network_check():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1
    net = Sequential([Scale(), Dense(4), Tanh(), Scale(), Dense(1), Identity()], random_state=0)
    net.build(3)
    assert list(net.named_parameters()) == ["0.s", "1.W", "1.b", "3.s", "4.W", "4.b"]
    assert "(0): Scale(n=3)" in repr(net) and "(3): Scale(n=4)" in repr(net)
    # the user layer's arrays live in the flat vector, in the unpenalized tail
    s0 = net.named_parameters()["0.s"]
    assert np.shares_memory(s0, net.theta[net.n_penalized:])
    gradcheck.assert_network_gradients(net, X[:6], y[:6], SquaredError(), alpha=0.1)

    s_before = s0.copy()
    history = train(net, X, y, SquaredError(), Adam(0.02), epochs=60, batch_size=32,
                    random_state=0)
    assert history.loss_curve[-1] < 0.1 * history.loss_curve[0]
    assert not np.allclose(s0, s_before)  # the scale itself was trained, in place
    gradcheck.assert_network_gradients(net, X[:6], y[:6], SquaredError(), alpha=0.1)
