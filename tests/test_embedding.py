"""Embedding: lookups, accumulated gradients for repeated codes, code checks, in a network."""

import numpy as np
import pytest

import nnlite
from nnlite import Dense, Embedding, Identity, Sequential, SquaredError, gradcheck


def test_lookup_and_repeated_codes_add_up():
    layer = Embedding(4, 3).build(2, random_state=0)
    W = layer.params["W"]
    codes = np.array([[1, 3], [1, 1], [0, 3]])
    out = layer.forward(codes)
    np.testing.assert_array_equal(out, np.hstack([W[codes[:, 0]], W[codes[:, 1]]]))
    g = np.arange(18.0).reshape(3, 6)
    grad_in = layer.backward(g.copy())
    np.testing.assert_array_equal(grad_in, np.zeros((3, 2)))
    want = np.zeros((4, 3))
    for i in range(3):
        for j in range(2):
            want[codes[i, j]] += g[i, 3 * j:3 * j + 3]
    np.testing.assert_array_equal(layer.grads["W"], want)
    assert not layer.grads["W"][2].any()  # a code never used gets no gradient


def test_integral_floats_equal_ints_and_bad_codes_are_named():
    layer = Embedding(5, 2).build(1, random_state=0)
    np.testing.assert_array_equal(layer.forward(np.array([[4.0], [0.0]])),
                                  layer.forward(np.array([[4], [0]])))
    for codes, message in [
        ([[1.0], [2.5]], r"Embedding: input codes must be integers; got 2.5 at row 1, column 0"),
        ([[-1]], r"Embedding: input codes must be in \[0, n_categories=5\); got -1"),
        ([[0], [5]], r"n_categories=5\); got 5 at row 1, column 0"),
        ([[1e300]], r"got 1e\+300"),
    ]:
        with pytest.raises(ValueError, match=message):
            layer.forward(np.array(codes))


def test_embedding_branch_in_a_network_trains_and_checks():
    rng = np.random.RandomState(0)
    codes = rng.randint(0, 6, (120, 1)).astype(float)
    effect = rng.normal(size=6)
    y = effect[codes[:, 0].astype(int)][:, None]
    net = Sequential([Embedding(6, 3), Dense(1), Identity()], random_state=0)
    gradcheck.assert_network_gradients(net, codes[:7], y[:7], SquaredError(), alpha=0.2)
    h = nnlite.train(net, codes, y, SquaredError(), nnlite.Adam(0.05), epochs=80,
                     batch_size=32, random_state=0)
    assert h.loss_curve[-1] < 0.01 * h.loss_curve[0]
    with pytest.raises(ValueError, match="Embedding: input codes must be in"):
        net.predict(np.array([[6.0]]))
