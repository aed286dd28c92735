"""predict on one fitted model from several threads gives the serial answers."""

import threading
import warnings

import numpy as np
import pytest

import nnlite
from nnlite import Dense, ReLU, Sequential, Softmax


def _hammer(fn, inputs, n_threads=8, repeats=20):
    expected = [fn(x) for x in inputs]
    errors, barrier = [], threading.Barrier(n_threads)

    def worker(k):
        barrier.wait()
        for r in range(repeats):
            i = (k + r) % len(inputs)
            got = fn(inputs[i])
            if not np.array_equal(got, expected[i]):
                errors.append((k, r, i))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# inputs of different sizes so any shared scratch buffer would be resized under a reader
INPUTS = [np.random.RandomState(s).normal(size=(n, 6)) for s, n in enumerate((1, 7, 300, 64))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_preset_predict_proba_and_predict_from_threads(dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 6)).astype(dtype)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        clf = nnlite.MLPClassifier((32, 16), max_iter=5, random_state=0).fit(X, y)
    inputs = [x.astype(dtype) for x in INPUTS]
    _hammer(clf.predict_proba, inputs)
    _hammer(clf.predict, inputs)


def test_sequential_predict_from_threads():
    net = Sequential([Dense(32), ReLU(), Dense(4), Softmax()], random_state=0)
    net.build(6)
    _hammer(net.predict, INPUTS)


def test_predicting_from_threads_leaves_the_blas_thread_count_alone():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def counts():
        return [m["num_threads"] for m in threadpoolctl.threadpool_info()
                if m["user_api"] == "blas"]

    net = Sequential([Dense(8), ReLU(), Dense(2)], random_state=0)
    net.build(4)
    x = np.random.RandomState(0).normal(size=(50, 4))
    before = counts()
    threads = [threading.Thread(target=lambda: [net.predict(x) for _ in range(300)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts() == before
