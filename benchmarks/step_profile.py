"""Where one minibatch step of case (a) spends its time: each part timed on its own.

Case (a): a batch of 200 rows of 50 features, one hidden layer of 100 ReLU units,
10 classes, float64, Adam.  Every part is one of the calls a training step makes
(the compiled kernels must be installed: ``nnlite.show_config()``), timed alone in
process time on one BLAS thread; the last row is the whole recorded step.

    python benchmarks/step_profile.py
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads BLAS

import time  # noqa: E402

import numpy as np  # noqa: E402

import nnlite  # noqa: E402
from nnlite import Adam, Dense, LogLoss, ReLU, Sequential, Softmax, _accel  # noqa: E402


def best(fn, number=2000, repeat=7):
    """Microseconds per call: the second-best of ``repeat`` rounds of ``number`` calls."""
    rounds = []
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(number):
            fn()
        rounds.append((time.process_time() - start) / number * 1e6)
    return sorted(rounds)[1]


def main():
    K = _accel.K
    if K is None:
        raise SystemExit("the compiled kernels are not in use (see nnlite.show_config())")
    rng = np.random.RandomState(0)
    n, d, h, k = 200, 50, 100, 10
    X = rng.normal(size=(20000, d))
    classes = rng.randint(0, k, 20000).astype(np.intp)
    net = Sequential([Dense(h), ReLU(), Dense(k), Softmax()], random_state=0).build(d)
    loss, opt = LogLoss(value_from_logits=False), Adam().init(net.theta)
    xb, cb = X[:n].copy(), classes[:n].copy()
    yb = np.eye(k)[cb]
    W1, b1 = net.layers[0].params["W"], net.layers[0].params["b"]
    W2, b2 = net.layers[2].params["W"], net.layers[2].params["b"]
    Z, O, D1 = np.empty((n, h)), np.empty((n, k)), np.empty((n, h))
    G1, G2, gb1, gb2, totals = np.empty((d, h)), np.empty((h, k)), np.empty(h), np.empty(k), \
        np.empty(k)
    rows = rng.permutation(20000)[:n]
    grad = np.full(net.theta.size, 1e-3)
    np.matmul(xb, W1, out=Z)
    K.bias_act(Z, b1, n, h, True)
    np.matmul(Z, W2, out=O)
    npen = d * h + h * k
    parts = {
        "matrix products (5)": lambda: (
            np.matmul(xb, W1, out=Z), np.matmul(Z, W2, out=O), np.matmul(Z.T, O, out=G2),
            np.matmul(O, W2.T, out=D1), np.matmul(xb.T, D1, out=G1)),
        "of which x.T @ g of the first layer": lambda: np.matmul(xb.T, D1, out=G1),
        "batch gather (rows of x and their classes)": lambda: (
            X.take(rows, 0, xb, "clip"), classes.take(rows, 0, cb, "clip")),
        "bias + ReLU (one pass)": lambda: K.bias_act(Z, b1, n, h, True),
        "ReLU derivative + bias gradient (one pass)": lambda: K.relu_back(D1, Z, gb1, n, h),
        "output bias, softmax shift, exp": lambda: (
            K.bias_act(O, b2, n, k, False), K.softmax_shift(O, None, None, None, n, k),
            np.exp(O, out=O)),
        "softmax normalisation, loss value, p - y": lambda: K.softmax_finish_codes(
            O, cb, totals, None, n, k, True, np.finfo(np.float64).eps),
        "output bias gradient": lambda: K.relu_back(O, None, gb2, n, k),
        "L2 term and division by the batch size": lambda: K.scale_grad(
            grad, net.theta, net.theta.size, npen, 1e-4, float(n)),
        f"Adam update ({net.theta.size:,} parameters)": lambda: K.adam(
            net.theta, grad, opt.m, opt.v, net.theta.size, 1e-3, 0.9, 0.999, 1e-8),
    }

    def step():
        _, g = net._loss_and_grad(xb, yb, loss, 1e-4, None, codes=cb)
        opt.step(net.theta, g)

    print(f"# nnlite {nnlite.__version__}, case (a) step, float64, one BLAS thread")
    print("| part | microseconds |\n|---|---|")
    for name, fn in parts.items():
        print(f"| {name} | {best(fn):.0f} |")
    print(f"| whole recorded step (gather excluded) | {best(step):.0f} |")


if __name__ == "__main__":
    main()
