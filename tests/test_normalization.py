"""LayerNorm and BatchNorm against PyTorch's LayerNorm and BatchNorm1d, and BatchNorm's state."""

import copy
import pickle

import numpy as np
import pytest

import nnlite
from nnlite import BatchNorm, Dense, LayerNorm, Sequential, SquaredError, gradcheck

torch = pytest.importorskip("torch")


def _torch_grads(module, x, g):
    xt = torch.tensor(x, requires_grad=True)
    out = module(xt)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), xt.grad.numpy()


def test_batchnorm_matches_torch_batchnorm1d_over_several_batches():
    rng = np.random.RandomState(0)
    n_in = 4
    ours = BatchNorm(momentum=0.3, eps=1e-3).build(n_in)
    gain, bias = rng.uniform(0.5, 2, n_in), rng.normal(size=n_in)
    ours.params["gain"][...], ours.params["bias"][...] = gain, bias
    theirs = torch.nn.BatchNorm1d(n_in, momentum=0.3, eps=1e-3).double()
    with torch.no_grad():
        theirs.weight[...] = torch.tensor(gain)
        theirs.bias[...] = torch.tensor(bias)
    for step in range(5):  # batches of different sizes, means and spreads
        x = rng.normal(step, 1 + step, size=(3 + 2 * step, n_in))
        g = rng.normal(size=x.shape)
        theirs.train()
        theirs.zero_grad()
        want, want_gx = _torch_grads(theirs, x, g)
        got = ours.forward(x, train=True)
        got_gx = ours.backward(g.copy())
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got_gx, want_gx, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.grads["gain"], theirs.weight.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.grads["bias"], theirs.bias.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.state["running_mean"], theirs.running_mean.numpy(),
                                   rtol=1e-12)
        np.testing.assert_allclose(ours.state["running_var"], theirs.running_var.numpy(),
                                   rtol=1e-12)
    # prediction: running statistics, as torch's eval mode
    x = rng.normal(size=(6, n_in))
    theirs.eval()
    with torch.no_grad():
        want = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours.forward(x, train=False), want, rtol=1e-12, atol=1e-12)


def test_layernorm_matches_torch_layernorm():
    rng = np.random.RandomState(1)
    n_in = 5
    ours = LayerNorm(eps=1e-4).build(n_in)
    gain, bias = rng.uniform(0.5, 2, n_in), rng.normal(size=n_in)
    ours.params["gain"][...], ours.params["bias"][...] = gain, bias
    theirs = torch.nn.LayerNorm(n_in, eps=1e-4).double()
    with torch.no_grad():
        theirs.weight[...] = torch.tensor(gain)
        theirs.bias[...] = torch.tensor(bias)
    x = rng.normal(2, 3, size=(7, n_in))
    g = rng.normal(size=x.shape)
    want, want_gx = _torch_grads(theirs, x, g)
    np.testing.assert_allclose(ours.forward(x), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.backward(g.copy()), want_gx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.grads["gain"], theirs.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.grads["bias"], theirs.bias.grad.numpy(), rtol=1e-10)
    np.testing.assert_array_equal(ours.forward(x, train=False), ours.forward(x))


def _net():
    return Sequential([Dense(4), BatchNorm(), nnlite.Tanh(), Dense(2), LayerNorm(),
                       nnlite.Identity()], n_in=3, random_state=0)


def test_running_statistics_are_state_not_parameters():
    net = _net()
    assert set(net.named_state()) == {"1.running_mean", "1.running_var"}
    names = set(net.named_parameters())
    assert {"1.gain", "1.bias", "4.gain", "4.bias"} <= names
    assert not names & {"1.running_mean", "1.running_var"}
    # the gains and biases sit in the unpenalized tail: alpha does not touch them
    for key in ("1.gain", "1.bias", "4.gain", "4.bias"):
        assert np.shares_memory(net.named_parameters()[key], net.theta[net.n_penalized:])
    rng = np.random.RandomState(0)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    # the L2 term of the objective counts the Dense weights only
    v0 = net.loss_and_grad(x, y, SquaredError(), alpha=0.0)[0]
    v1 = net.loss_and_grad(x, y, SquaredError(), alpha=1.0)[0]
    w = np.concatenate([net.named_parameters()[k].ravel() for k in ("0.W", "3.W")])
    np.testing.assert_allclose(v1 - v0, 0.5 * w @ w / 8, rtol=1e-12)


def test_network_gradients_with_normalization_in_training_mode():
    rng = np.random.RandomState(2)
    net = _net()
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    state = net.state_vector.copy()
    gradcheck.assert_network_gradients(net, x, y, SquaredError(), alpha=0.3)
    gradcheck.assert_network_gradients_directional(net, x, y, SquaredError(), n_directions=3)
    np.testing.assert_array_equal(net.state_vector, state)  # the checks put it back


def test_training_moves_running_statistics_and_they_survive_copies(tmp_path):
    rng = np.random.RandomState(3)
    X = rng.normal(3, 2, size=(60, 3))
    y = X[:, :2] - X[:, 2:]
    net = _net()
    nnlite.train(net, X, y, SquaredError(), nnlite.Adam(0.01), epochs=5, batch_size=16,
                 random_state=0)
    rm = net.named_state()["1.running_mean"]
    assert not np.allclose(rm, 0.0)
    for other in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        np.testing.assert_array_equal(other.state_vector, net.state_vector)
        np.testing.assert_array_equal(other.predict(X), net.predict(X))
    nnlite.save(net, tmp_path / "bn.nnlite")
    loaded = nnlite.load(tmp_path / "bn.nnlite")
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert repr(loaded) == repr(net)


def test_a_training_batch_of_one_sample_is_refused_and_rolled_back():
    net = _net()
    X = np.random.RandomState(0).normal(size=(9, 3))
    state, theta = net.state_vector.copy(), net.theta.copy()
    with pytest.raises(ValueError, match="BatchNorm: a training batch needs at least 2"):
        # 9 rows in batches of 4: the last batch has one row
        nnlite.train(net, X, X[:, :2], SquaredError(), nnlite.SGD(), epochs=1, batch_size=4,
                     shuffle=False)
    np.testing.assert_array_equal(net.state_vector, state)
    np.testing.assert_array_equal(net.theta, theta)
    net.predict(X[:1])  # prediction needs no batch statistics
