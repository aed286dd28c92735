import numpy as np

from nnlite import LBFGS, Adam, Dense, LogLoss, Sequential, Softmax, Tanh, gradcheck, train


def _three_blobs(n=300, seed=0):
    rng = np.random.RandomState(seed)
    centers = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    y = rng.randint(0, 3, n)
    return centers[y] + rng.normal(scale=0.6, size=(n, 2)), y


def test_readme_stack_trains_with_adam_and_lbfgs_and_passes_gradcheck():
    X, y = _three_blobs()
    for opt in (Adam(0.01), LBFGS(maxiter=100)):
        net = Sequential([Dense(16), Tanh(), Dense(3), Softmax()])
        train(net, X, y, LogLoss(), opt, epochs=100, random_state=0)
        assert np.mean(net.predict(X).argmax(1) == y) > 0.95
        gradcheck.assert_network_gradients(net, X[:10], y[:10], LogLoss(), alpha=1e-2)
