"""The layer contract, checked on every layer; and a user-defined layer."""

import pickle

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nnlite import (
    ELU,
    GELU,
    Adam,
    Add,
    BatchNorm,
    Concatenate,
    Dense,
    Dropout,
    Embedding,
    Exp,
    Graph,
    Identity,
    Input,
    LayerNorm,
    LeakyReLU,
    Logistic,
    Multiply,
    ReLU,
    Sequential,
    SiLU,
    Softmax,
    Softplus,
    SquaredError,
    Tanh,
    gradcheck,
    train,
)
from tests.strategies import (
    Scale,
    arrays,
    batches,
    category_codes,
    dodge_kink,
    kinks_clear,
    new_layer_stacks,
    seeds,
)


def _floats(bound, kink=False, min_samples=1):
    """Input strategy: bounded floats, moved off the kink at 0 when ``kink``."""
    def draw(data):
        x = data.draw(batches(low=-bound, high=bound, min_samples=min_samples), label="x")
        return dodge_kink(x) if kink else x
    return draw


def _codes(data):
    return data.draw(category_codes(5), label="codes")


# name -> (factory, expected output width for input width n, input strategy)
LAYERS = {
    "Dense": (lambda: Dense(3), lambda n: 3, _floats(3.0)),
    "Identity": (Identity, lambda n: n, _floats(3.0)),
    "Tanh": (Tanh, lambda n: n, _floats(3.0)),
    "ReLU": (ReLU, lambda n: n, _floats(3.0, kink=True)),
    "Logistic": (Logistic, lambda n: n, _floats(3.0)),
    "Softmax": (Softmax, lambda n: n, _floats(3.0)),
    "Exp": (Exp, lambda n: n, _floats(2.0)),
    "LeakyReLU": (lambda: LeakyReLU(0.1), lambda n: n, _floats(3.0, kink=True)),
    "ELU": (lambda: ELU(0.7), lambda n: n, _floats(3.0, kink=True)),
    "GELU": (GELU, lambda n: n, _floats(4.0)),
    "Softplus": (Softplus, lambda n: n, _floats(4.0)),
    "SiLU": (SiLU, lambda n: n, _floats(4.0)),
    "Dropout": (lambda: Dropout(0.4, random_state=3), lambda n: n, _floats(3.0)),
    "LayerNorm": (LayerNorm, lambda n: n, _floats(3.0)),
    # training statistics need two samples, and a spread the finite differences can see
    "BatchNorm": (BatchNorm, lambda n: n, _floats(3.0, min_samples=2)),
    "Embedding": (lambda: Embedding(5, 2), lambda n: 2 * n, _codes),
    "Sequential": (lambda: Sequential([Dense(4), Tanh(), Dense(2), Logistic()]),
                   lambda n: 2, _floats(3.0)),
    "Sequential of new layers": (
        lambda: Sequential([Dense(4), LayerNorm(), GELU(), Dropout(0.3, random_state=0),
                            Dense(3), BatchNorm(), SiLU()]), lambda n: 3,
        _floats(3.0, min_samples=2)),
    # merges take two inputs of width n here
    "Add": (Add, lambda n: n, _floats(3.0)),
    "Concatenate": (Concatenate, lambda n: 2 * n, _floats(3.0)),
    "Multiply": (Multiply, lambda n: n, _floats(3.0)),
}

#: Layers whose training output differs from their prediction (random, or batch statistics).
MODAL = {"Dropout", "BatchNorm", "Sequential of new layers"}

#: What each kind of leaf keeps for its backward pass; activations keep their output ``_z``.
CACHES = {Dense: ("_x",), GELU: ("_x",), SiLU: ("_x",), Dropout: ("_mask",), Multiply: ("_xs",),
          LayerNorm: ("_xhat", "_inv_std"), BatchNorm: ("_xhat", "_inv_std"),
          Embedding: ("_codes",)}


def _leaves(layer):
    """``layer`` itself, or the layers of a (nested) Sequential, flattened."""
    if isinstance(layer, Sequential):
        return [leaf for sub in layer.layers for leaf in _leaves(sub)]
    return [layer]


def _caches(layer):
    """What every leaf keeps for its backward pass."""
    return [getattr(leaf, attr, None) for leaf in _leaves(layer)
            for attr in CACHES.get(type(leaf), ("_z",))]


def _network_of(layer, x, data, bound, seed):
    """``layer`` alone in a network, and the input for it (two arrays for a merge)."""
    if layer.n_inputs == 1:
        return Sequential([layer], random_state=seed), x
    x2 = data.draw(arrays(x.shape, -bound, bound), label="x2")
    a, b = Input(x.shape[1]), Input(x.shape[1])
    return Graph([a, b], layer([a, b]), random_state=seed), [x, x2]


def _assert_views(layer, net):
    """Every parameter/gradient/state array of ``layer`` is a view of the network's vectors."""
    assert set(layer.params) == set(layer.grads)
    for name in layer.params:
        assert np.shares_memory(layer.params[name], net.theta), name
        assert np.shares_memory(layer.grads[name], net.grad), name
    for name, view in layer.state.items():
        assert np.shares_memory(view, net.state_vector), name
    n_own = sum(p.size for p in layer.params.values())
    assert n_own == net.theta.size  # the layer is all the network holds
    assert sum(v.size for v in layer.state.values()) == net.state_vector.size


@pytest.mark.parametrize("name", sorted(LAYERS))
@given(data=st.data(), seed=seeds)
def test_layer_contract(name, data, seed):
    make, width, draw_x = LAYERS[name]
    x = draw_x(data)
    n, n_in = x.shape

    # forward(train=False) on a fresh layer caches nothing
    layer = make()
    net, x = _network_of(layer, x, data, 3.0, seed)
    out = net.forward(x, train=False)
    assert out.shape == (n, width(n_in)) == (n, layer.n_out)
    assert layer.n_in == (n_in if layer.n_inputs == 1 else (n_in, n_in))
    assert all(c is None for c in _caches(layer))

    # forward(train=True) caches, and a later train=False pass drops the caches
    state = net.state_vector.copy()
    trained = net.forward(x)
    if name not in MODAL:
        np.testing.assert_array_equal(trained, out)
        np.testing.assert_array_equal(net.state_vector, state)
    if not isinstance(layer, (Identity, Add, Concatenate)):  # these keep nothing
        assert all(c is not None for c in _caches(layer))
    net.predict(x)
    assert all(c is None for c in _caches(layer))

    # the views share memory with the flat vectors after forward/backward
    rng_state = net.get_rng_state()
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
    np.testing.assert_array_equal(net2.predict(x), net.predict(x))
    net2.set_rng_state(rng_state)  # the same dropout masks as the pass above
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
    state, rng_state = net.state_vector.copy(), net.get_rng_state()
    report = gradcheck.check_layer(layer, x, random_state=seed % 2**31)
    assert report.passed, str(report)
    arrays_in = [x] if layer.n_inputs == 1 else x
    inputs = sum(a.size for a in arrays_in) if layer.differentiable_input else 0
    assert report.n_checked == inputs + net.theta.size
    # the check leaves the state and the generators as it found them
    np.testing.assert_array_equal(net.state_vector, state)
    assert repr(net.get_rng_state()) == repr(rng_state)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_standalone_build_allocates_own_buffer(name):
    layer = LAYERS[name][0]()
    rng = np.random.RandomState(0)
    x = rng.randint(0, 5, (4, 3)) if name == "Embedding" else rng.uniform(0.1, 1.0, (4, 3))
    n_in = 3 if layer.n_inputs == 1 else (3, 3)
    if layer.n_inputs != 1:  # a merge: two inputs
        x = [x, x[::-1].copy()]
    layer.build(n_in, random_state=0)
    assert layer.built and layer.n_in == n_in
    out = layer.forward(x)
    assert out.shape == (4, LAYERS[name][1](3))
    gradcheck.assert_layer_gradients(layer, x)
    layer2 = pickle.loads(pickle.dumps(layer))
    np.testing.assert_array_equal(layer2.forward(x, train=False), layer.forward(x, train=False))
    if name not in MODAL:
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


def test_new_activation_values_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = np.concatenate([np.linspace(-30, 30, 121), [-1000.0, 1000.0, 0.0]])[None, :]
    xt = torch.tensor(x)
    cases = [(LeakyReLU(0.05), F.leaky_relu(xt, 0.05)), (ELU(0.7), F.elu(xt, 0.7)),
             (GELU(), F.gelu(xt)), (SiLU(), F.silu(xt)),
             # torch's softplus is linear above 20: a relative difference below 1e-10 there
             (Softplus(), F.softplus(xt))]
    for layer, want in cases:
        np.testing.assert_allclose(layer.forward(x), want.numpy(), rtol=1e-10, atol=1e-300,
                                   err_msg=repr(layer))
    # no overflow (warnings are errors here) and the saturated ends are exact
    np.testing.assert_array_equal(ELU().forward(np.array([[-1000.0]])), [[-1.0]])
    np.testing.assert_array_equal(Softplus().forward(np.array([[1000.0, -1000.0]])),
                                  [[1000.0, 0.0]])


def test_new_activation_reprs_and_argument_checks():
    assert repr(LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(ELU(2.0)) == "ELU(alpha=2)"
    assert repr(Dropout(0.5, random_state=3)) == "Dropout(rate=0.5, random_state=3)"
    assert repr(BatchNorm().build(3)) == "BatchNorm(3, eps=1e-05, momentum=0.1)"
    assert repr(Embedding(10, 4)) == "Embedding(10, 4)"
    for call, error, message in [
        (lambda: LeakyReLU(-0.1), ValueError, r"LeakyReLU: negative_slope must be a finite "
                                              r"number >= 0; got -0.1"),
        (lambda: LeakyReLU("0.1"), TypeError, "negative_slope must be a real number"),
        (lambda: ELU(np.inf), ValueError, "ELU: alpha must be a finite number >= 0"),
    ]:
        with pytest.raises(error, match=message):
            call()


@given(case=new_layer_stacks())
@settings(max_examples=40)
def test_random_stacks_of_new_layers_pass_the_network_checks(case):
    net, x, y, loss = case
    assume(kinks_clear(net, x))
    report = gradcheck.check_network_directional(net, x, y, loss, alpha=0.1, n_directions=2)
    assert report.passed, str(report)
    if net.theta.size <= 60:  # the full check on the small ones
        report = gradcheck.check_network(net, x, y, loss, alpha=0.1)
        assert report.passed, str(report)


def test_check_layer_on_a_network_that_starts_with_codes():
    net = Sequential([Embedding(5, 2), Dense(3), Tanh()], random_state=0)
    codes = np.array([[0.0, 4.0], [4.0, 4.0], [2.0, 1.0]])
    report = gradcheck.assert_layer_gradients(net, codes)
    assert report.n_checked == net.theta.size  # parameters only: codes are not perturbed
