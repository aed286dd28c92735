"""Prediction in row blocks (nnlite._rowblocks) gives the whole-array answers to the bit."""

import threading
import warnings

import numpy as np
import pytest
from scipy import sparse

import nnlite
from nnlite import _accel, _threads
from nnlite.layers import Dense, Exp, Identity, Layer, Logistic, ReLU, Softmax, Tanh
from nnlite.models import _rowblocks
from nnlite.network import Sequential

DTYPES = [np.float64, np.float32]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Blocks are used only when BLAS runs one thread (see _rowblocks)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield
HIDDEN = [ReLU, Tanh, Logistic, Identity]
OUTPUTS = [Softmax, Identity, Logistic, Exp]


def _net(hidden=ReLU, output=Softmax, dtype=np.float64, widths=(128, 64), n_out=16, n_in=50):
    layers = []
    for w in widths:
        layers += [Dense(w), hidden()]
    net = Sequential(layers + [Dense(n_out), output()], dtype=dtype, random_state=0)
    return net.build(n_in)


def _data(n, dtype, n_in=50, seed=1):
    return np.random.RandomState(seed).normal(scale=0.3, size=(n, n_in)).astype(dtype)


def _whole(net, x):
    """The whole-array path: one layer after the other over all rows."""
    return net._forward_fast(x, False, False, False)[0]


def _rows_or_skip(net, x):
    rows = _rowblocks.block_rows(net, x)
    if not rows:
        pytest.skip("this BLAS rounds blocked products of these shapes differently")
    return rows


def _row_counts(rows):
    # the smallest blocked input, the last block taking a remainder of 1 and of rows-1,
    # and several blocks
    return [2 * rows, 2 * rows + 1, 3 * rows - 1, 3 * rows, 4 * rows + 17]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_blocked_equals_whole_for_every_hidden_activation(dtype, hidden):
    net = _net(hidden=hidden, dtype=dtype)
    x = _data(5000, dtype)
    rows = _rows_or_skip(net, x)
    for n in _row_counts(rows):
        got, want = net.predict(x[:n]), _whole(net, x[:n])
        assert got.dtype == want.dtype and np.array_equal(got, want), n


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", OUTPUTS)
def test_blocked_equals_whole_for_every_output(dtype, output):
    net = _net(output=output, dtype=dtype)
    x = _data(4 * 1024 + 17, dtype)
    _rows_or_skip(net, x)
    got = net.predict(x)
    assert got.dtype == np.dtype(dtype) and np.array_equal(got, _whole(net, x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_inputs_up_to_two_blocks_keep_the_whole_array_path(dtype):
    net = _net(dtype=dtype)
    x = _data(5000, dtype)
    rows = _rows_or_skip(net, x)
    for n in (1, rows - 1, rows, rows + 1, 2 * rows - 1):
        assert _rowblocks.block_rows(net, x[:n]) == 0
        assert np.array_equal(net.predict(x[:n]), _whole(net, x[:n]))


def test_row_blocks_cover_the_rows_in_blocks_of_rows_to_twice_rows():
    for n in (1, 63, 64, 127, 128, 129, 1000):
        blocks = _rowblocks.row_blocks(n, 64)
        assert blocks[0][0] == 0 and blocks[-1][1] == n
        assert all(b == c for (_, b), (c, _) in zip(blocks, blocks[1:]))
        if n >= 64:
            assert all(64 <= b - a < 128 for a, b in blocks)


def test_block_rows_leave_the_small_product_kernels_and_are_aligned():
    net = _net(widths=(64,), n_out=10, n_in=20)  # the 64 -> 10 product needs > 1562 rows
    rows = _rowblocks._rows_for([l for l in net.layers if type(l) is Dense], np.float64)
    assert rows % 64 == 0
    assert all(rows * l.n_in * l.units > 100**3 for l in net.layers if type(l) is Dense)


@pytest.mark.parametrize("dtype", DTYPES)
def test_csr_input_is_blocked_and_csc_input_still_works(dtype):
    net = _net(dtype=dtype)
    dense = _data(3000, dtype)
    dense[np.abs(dense) < 0.3] = 0
    csr = sparse.csr_matrix(dense)
    rows = _rows_or_skip(net, csr)
    assert rows and _rowblocks.block_rows(net, csr.tocsc()) == 0
    want = _whole(net, csr)
    assert np.array_equal(net.predict(csr), want)
    assert np.array_equal(net.predict(csr.tocsc()), _whole(net, csr.tocsc()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_numpy_fallback_of_the_kernels_gives_the_same_bits(dtype, monkeypatch):
    net = _net(dtype=dtype)
    x = _data(3 * 1024 + 5, dtype)
    _rows_or_skip(net, x)
    with_kernels = net.predict(x)
    monkeypatch.setattr(_accel, "K", None)
    assert np.array_equal(net.predict(x), with_kernels)
    assert np.array_equal(_whole(net, x), with_kernels)


def test_other_input_layouts_and_dtypes_take_the_whole_array_path():
    net = _net()
    x = _data(3000, np.float64)
    _rows_or_skip(net, x)
    for other in (np.asfortranarray(x), x.astype(np.float32), x[:, ::-1].copy()[:, ::-1]):
        assert _rowblocks.block_rows(net, other) == 0
        assert np.array_equal(net.predict(other), _whole(net, other))


def test_nested_networks_are_flattened_and_custom_layers_opt_out():
    inner = Sequential([Dense(64), ReLU()])
    net = Sequential([Dense(128), Tanh(), inner, Dense(16), Softmax()], random_state=0).build(50)
    x = _data(3000, np.float64)
    assert _rowblocks.block_rows(net, x)
    assert np.array_equal(net.predict(x), _whole(net, x))

    class Scale(Layer):  # row-wise, but nothing tells the blocked path so
        def forward(self, x, train=True):
            return 2 * x

    custom = Sequential([Dense(128), Scale(), Dense(16)], random_state=0).build(50)
    assert _rowblocks.block_rows(custom, x) == 0
    assert np.array_equal(custom.predict(x), _whole(custom, x))


def test_a_shape_that_rounds_differently_keeps_the_whole_array_path(monkeypatch):
    monkeypatch.setattr(_rowblocks, "_products_row_exact", lambda *shape: False)
    net = _net()
    x = _data(3000, np.float64)
    assert _rowblocks.block_rows(net, x) == 0
    assert np.array_equal(net.predict(x), _whole(net, x))


def test_forward_with_train_true_is_never_blocked(monkeypatch):
    net = _net()
    x = _data(3000, np.float64)
    _rows_or_skip(net, x)
    monkeypatch.setattr(_rowblocks, "predict", None)  # would fail if called
    out = net.forward(x, train=True)
    assert np.array_equal(out, _whole(net, x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_estimators_predict_in_blocks_with_the_same_bits(dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 50)).astype(dtype)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0) + 2 * (X[:, 2] > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        kw = dict(hidden_layer_sizes=(128, 64), max_iter=3, random_state=0)
        clf = nnlite.MLPClassifier(**kw).fit(X, y)
        reg = nnlite.MLPRegressor(**kw).fit(X, X[:, 0])
    Xp = _data(7000, dtype)  # the 64 -> 5 product takes blocks of 3136 rows
    net = clf.network_
    _rows_or_skip(net, Xp)
    _rows_or_skip(reg.network_, Xp)
    assert np.array_equal(clf.predict_proba(Xp), _whole(net, Xp))
    assert np.array_equal(reg.predict(Xp), _whole(reg.network_, Xp).ravel())
    # integers go through the network's own conversion, as before
    Xi = np.rint(Xp * 3).astype(np.int64)
    assert np.array_equal(clf.predict_proba(Xi), _whole(net, Xi.astype(np.float64)))


def test_blocked_predictions_from_threads():
    net = _net()
    inputs = [_data(n, np.float64, seed=n) for n in (2100, 3000, 4500)]
    _rows_or_skip(net, inputs[0])
    expected = [_whole(net, x) for x in inputs]
    errors, barrier = [], threading.Barrier(8)

    def worker(k):
        barrier.wait()
        for r in range(6):
            i = (k + r) % len(inputs)
            if not np.array_equal(net.predict(inputs[i]), expected[i]):
                errors.append((k, r))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_blocks_with_blas_on_several_threads_hold_it_at_one():
    """BLAS splits a product's rows among its threads by their total number, so blocks
    run with BLAS held at one thread; "off" forbids that, and keeps the whole array."""
    from threadpoolctl import threadpool_limits

    net = _net()
    x = _data(5000, np.float64)
    with threadpool_limits(1, user_api="blas"):
        _rows_or_skip(net, x)
        want = _whole(net, x)
    saved = _threads.get_blas_threads()
    try:
        with threadpool_limits(2, user_api="blas"):
            if _threads.blas_single_threaded():
                pytest.skip("BLAS keeps a single thread on this machine")
            for setting in ("auto", 1, 2):
                nnlite.set_blas_threads(setting)
                assert _rowblocks.block_rows(net, x)
                assert np.array_equal(net.predict(x), want), setting
                assert not _threads.blas_single_threaded()  # put back afterwards
            nnlite.set_blas_threads("off")
            assert _rowblocks.block_rows(net, x) == 0
            assert _rowblocks.predict(net, x, 1024) is None
    finally:
        nnlite.set_blas_threads(saved)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_blocks_on_several_threads_give_the_same_bits(threads, monkeypatch):
    net = _net()
    x = _data(20_000, np.float64)
    rows = _rows_or_skip(net, x)
    want = _whole(net, x)
    saved = _threads.get_blas_threads()
    seen = set()
    real_run_block = _rowblocks._run_block

    def spy(*args):
        seen.add(threading.get_ident())
        return real_run_block(*args)

    monkeypatch.setattr(_rowblocks, "_run_block", spy)
    try:
        nnlite.set_blas_threads(threads)
        assert len(_rowblocks.row_blocks(len(x), rows)) >= 2 * threads
        assert np.array_equal(net.predict(x), want)
        assert 1 <= len(seen) <= threads
    finally:
        nnlite.set_blas_threads(saved)


def test_an_error_in_a_block_reaches_the_caller_and_the_pool_stays_usable(monkeypatch):
    net = _net()
    x = _data(20_000, np.float64)
    _rows_or_skip(net, x)
    want = _whole(net, x)
    saved = _threads.get_blas_threads()
    real_run_block = _rowblocks._run_block
    calls = []

    def failing(*args):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("block 3")
        return real_run_block(*args)

    try:
        nnlite.set_blas_threads(2)
        monkeypatch.setattr(_rowblocks, "_run_block", failing)
        with pytest.raises(MemoryError, match="block 3"):
            net.predict(x)
        monkeypatch.setattr(_rowblocks, "_run_block", real_run_block)
        assert np.array_equal(net.predict(x), want)
    finally:
        nnlite.set_blas_threads(saved)
