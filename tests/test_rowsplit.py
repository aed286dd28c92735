"""The two-thread row-split product gives the bits of np.matmul.

``nnlite._rowsplit`` runs ``a @ b`` as two gemm calls over row ranges, the second
on a worker thread.  These tests compare its bits with ``np.matmul`` wherever
``rows_exact`` says they agree (and its values everywhere), and exercise the
worker: asleep, shared by several Python threads, and after a fork.  They are
skipped when ``_nnlite_split`` is not built, unless ``NNLITE_REQUIRE_KERNELS=1``.
"""

import os
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnlite import _rowsplit

try:
    import _nnlite_split
except ImportError:
    _nnlite_split = None

if _nnlite_split is None and os.environ.get("NNLITE_REQUIRE_KERNELS") != "1":
    pytestmark = pytest.mark.skip(reason="the _nnlite_split extension is not built")


@pytest.fixture(autouse=True)
def one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture
def spin_us():
    """Restores the worker's spin time after a test changes it."""
    old = _nnlite_split.set_spin_us(100)
    yield _nnlite_split.set_spin_us
    _nnlite_split.set_spin_us(old)


def bits(x):
    return x.view(f"u{x.itemsize}")


def same_bits(x, y):
    return x.shape == y.shape and np.array_equal(bits(x), bits(y))


def test_available_on_numpy_openblas():
    # numpy's wheels carry an ILP64 OpenBLAS; refusing it here would hide a lookup bug
    assert _rowsplit.available()


def training_step_products(dtype, rng):
    x = rng.standard_normal((200, 50)).astype(dtype)
    W1 = rng.standard_normal((50, 100)).astype(dtype)
    h = rng.standard_normal((200, 100)).astype(dtype)
    W2 = rng.standard_normal((100, 10)).astype(dtype)
    g = rng.standard_normal((200, 10)).astype(dtype)
    g1 = rng.standard_normal((200, 100)).astype(dtype)
    return [(x, W1), (h, W2), (h.T, g), (g, W2.T), (x.T, g1)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_training_step_products_are_exact(dtype):
    rng = np.random.default_rng(0)
    for a, b in training_step_products(dtype, rng):
        out = np.empty((a.shape[0], b.shape[1]), dtype)
        assert _rowsplit.rows_exact(a, b, out), (a.shape, b.shape)
        for _ in range(20):  # the worker takes some ranges, the caller others
            out[...] = np.nan
            assert _rowsplit.matmul_rows(a, b, out) is out
            assert same_bits(out, np.matmul(a, b))


def operand(draw, rows, cols, dtype, rng):
    """A (rows, cols) array in one of the layouts numpy hands to gemm, or not."""
    layout = draw(st.sampled_from(["C", "F", "C rows of wider", "F of taller",
                                   "strided", "reversed"]))
    data = lambda shape: rng.standard_normal(shape).astype(dtype)  # noqa: E731
    if layout == "C":
        return data((rows, cols))
    if layout == "F":
        return np.asfortranarray(data((rows, cols)))
    if layout == "C rows of wider":
        return data((rows, cols + 3))[:, 1:cols + 1]
    if layout == "F of taller":
        return data((cols, rows + 2))[:, :rows].T
    if layout == "strided":
        return data((rows, 2 * cols))[:, ::2]
    return data((rows, cols))[::-1]


@given(st.data(), st.integers(1, 40), st.integers(1, 40), st.integers(1, 40),
       st.sampled_from([np.float64, np.float32]), st.integers(0, 2**32 - 1))
def test_random_shapes_and_layouts(data, m, k, n, dtype, seed):
    rng = np.random.default_rng(seed)
    a = operand(data.draw, m, k, dtype, rng)
    b = operand(data.draw, k, n, dtype, rng)
    out = np.full((m, n), np.nan, dtype)
    gemm_operands = min(m, k, n) >= 2 and all(
        x.strides[1] == x.itemsize or x.strides[0] == x.itemsize for x in (a, b)
    ) and min(a.strides + b.strides) > 0
    if not gemm_operands:
        assert not _rowsplit.rows_exact(a, b, out)
        with pytest.raises(ValueError):
            _rowsplit.matmul_rows(a, b, out)
        return
    _rowsplit.matmul_rows(a, b, out)
    want = np.matmul(a, b)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol * k)
    if _rowsplit.rows_exact(a, b, out):
        assert same_bits(out, want)


def test_rows_exact_remembers_its_answer(monkeypatch):
    a, b = np.ones((6, 5)), np.ones((5, 4))
    out = np.empty((6, 4))
    assert _rowsplit.rows_exact(a, b, out)
    monkeypatch.setattr(_rowsplit, "_check", lambda *args: pytest.fail("checked twice"))
    assert _rowsplit.rows_exact(np.zeros((6, 5)), np.zeros((5, 4)), np.empty((6, 4)))


def test_rows_exact_sees_a_split_that_changes_bits(monkeypatch):
    # a runner whose second range sums in another order must be caught
    def reordered(a, b, out, row, awake_us=0):
        out[:row] = a[:row] @ b
        out[row:] = (a[row:, ::-1] @ b[::-1])

    class Reordered:
        matmul_rows = staticmethod(reordered)

    a, b, out = np.ones((9, 7)), np.ones((7, 8)), np.empty((9, 8))
    real = _rowsplit._module()
    monkeypatch.setattr(_rowsplit, "_exact", {})
    monkeypatch.setattr(_rowsplit, "_ext", Reordered)
    assert not _rowsplit.rows_exact(a, b, out)
    monkeypatch.setattr(_rowsplit, "_exact", {})
    monkeypatch.setattr(_rowsplit, "_ext", real)
    assert _rowsplit.rows_exact(a, b, out)


def test_caller_runs_both_ranges_when_the_worker_sleeps(spin_us):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((200, 50)), rng.standard_normal((50, 100))
    out = np.empty((200, 100))
    spin_us(0)
    for _ in range(10):
        time.sleep(0.01)
        before = _nnlite_split.worker_stats()
        assert before["worker_sleeping"]
        out[...] = np.nan
        _rowsplit.matmul_rows(a, b, out)
        after = _nnlite_split.worker_stats()
        assert same_bits(out, a @ b)
        # the caller did not wait for the worker: it ran both ranges, then woke it
        assert after["caller_ranges"] == before["caller_ranges"] + 1
        assert after["worker_ranges"] == before["worker_ranges"]
        assert after["wakeups"] == before["wakeups"] + 1


def worker_takes_a_range(a, b, out, want, seconds=2.0):
    """Call until the worker has run a second range (it may start late on a busy
    machine); False if it has not within ``seconds`` or if any bits differed."""
    before = _nnlite_split.worker_stats()["worker_ranges"]
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        out[...] = np.nan
        _rowsplit.matmul_rows(a, b, out)
        if not same_bits(out, want):
            return False
        if _nnlite_split.worker_stats()["worker_ranges"] > before:
            return True
    return False


def test_spinning_worker_takes_ranges(spin_us):
    spin_us(100_000)
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((200, 50)), rng.standard_normal((50, 100))
    assert worker_takes_a_range(a, b, np.empty((200, 100)), a @ b)


def test_concurrent_callers_get_their_own_bits(spin_us):
    spin_us(1000)
    rng = np.random.default_rng(3)
    jobs = []
    for i in range(4):
        dtype = (np.float64, np.float32)[i % 2]
        a = rng.standard_normal((60 + 10 * i, 30)).astype(dtype)
        b = np.asfortranarray(rng.standard_normal((30, 40 - i)).astype(dtype))
        jobs.append((a, b, np.matmul(a, b)))
    failures = []
    start = threading.Barrier(4)

    def run(a, b, want):
        out = np.empty_like(want)
        start.wait()
        for _ in range(300):
            out[...] = np.nan
            _rowsplit.matmul_rows(a, b, out)
            if not same_bits(out, want):
                failures.append(a.shape)
                return

    before = _nnlite_split.worker_stats()
    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = _nnlite_split.worker_stats()
    assert failures == []
    ran = sum(after[k] - before[k] for k in ("worker_ranges", "caller_ranges", "busy_calls"))
    assert ran == 4 * 300


def test_forked_child_starts_its_own_worker():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((64, 32)), rng.standard_normal((32, 48))
    out = np.empty((64, 48))
    _rowsplit.matmul_rows(a, b, out)  # the parent has a worker
    want = a @ b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads
        pid = os.fork()
    if pid == 0:
        code = 1
        try:
            alive_after_fork = _nnlite_split.worker_stats()["worker_alive"]
            _nnlite_split.set_spin_us(100_000)
            if not alive_after_fork and worker_takes_a_range(a, b, out, want):
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


@pytest.mark.parametrize("case, message", [
    (lambda: (np.ones((2, 3, 4)), np.ones((4, 5)), np.empty((2, 3, 5))), "2-D"),
    (lambda: (np.ones((4, 3)), np.ones((4, 5)), np.empty((4, 5))), "shapes do not match"),
    (lambda: (np.ones((4, 3)), np.ones((3, 5)), np.empty((4, 6))), "shapes do not match"),
    (lambda: (np.ones((4, 3)), np.ones((3, 5), np.float32), np.empty((4, 5))), "float64"),
    (lambda: (np.ones((4, 3), int), np.ones((3, 5), int), np.empty((4, 5), int)), "float64"),
    (lambda: (np.ones((4, 3), ">f8"), np.ones((3, 5), ">f8"), np.empty((4, 5), ">f8")),
     "byte order"),
    (lambda: (np.ones((1, 3)), np.ones((3, 5)), np.empty((1, 5))), "at least 2"),
    (lambda: (np.ones((4, 1)), np.ones((1, 5)), np.empty((4, 5))), "at least 2"),
    (lambda: (np.ones((4, 6))[:, ::2], np.ones((3, 5)), np.empty((4, 5))), "unit stride"),
    (lambda: (np.ones((4, 3))[::-1], np.ones((3, 5)), np.empty((4, 5))), "unit stride"),
    (lambda: (np.ones((4, 3)), np.ones((3, 5)), np.empty((5, 4)).T), "out must be C"),
    (lambda: (np.ones((4, 3)), np.ones((3, 5)), np.empty((4, 10))[:, ::2]), "out must be C"),
    (lambda: unaligned(), "aligned"),
])
def test_invalid_operands_are_refused(case, message):
    a, b, out = case()
    with pytest.raises(ValueError, match=message):
        _rowsplit.matmul_rows(a, b, out)
    assert not _rowsplit.rows_exact(a, b, out)


@pytest.mark.parametrize("case, message", [(lambda: overlapping(), "overlap"),
                                           (lambda: with_its_transpose(), "syrk")])
def test_aliased_operands_are_refused(case, message):
    # properties of these particular arrays, not of their layouts: rows_exact may say
    # True (its documented contract), the call itself refuses
    a, b, out = case()
    with pytest.raises(ValueError, match=message):
        _rowsplit.matmul_rows(a, b, out)


def unaligned():
    raw = np.zeros(8 * 12 + 1, np.uint8)[1:]
    a = np.ndarray((4, 3), np.float64, buffer=raw)
    return a, np.ones((3, 5)), np.empty((4, 5))


def overlapping():
    block = np.ones((4, 8))
    return block[:, :4], np.ones((4, 4)), block[:, 4:]


def with_its_transpose():
    a = np.random.default_rng(0).standard_normal((5, 3))
    return a, a.T, np.empty((5, 5))


def test_split_row_must_be_a_row_of_the_product():
    a, b, out = np.ones((4, 3)), np.ones((3, 5)), np.empty((4, 5))
    with pytest.raises(ValueError, match="split_row"):
        _nnlite_split.matmul_rows(a, b, out, 5)
    for row in (0, 4):  # one range is empty: one call on the caller's thread
        out[...] = np.nan
        _nnlite_split.matmul_rows(a, b, out, row)
        assert same_bits(out, a @ b)


def test_set_spin_us_refuses_negative_times():
    with pytest.raises(ValueError, match="set_spin_us"):
        _nnlite_split.set_spin_us(-1)


@pytest.mark.parametrize("value", ["0", "off"])
def test_nnlite_kernels_off_disables_it(value):
    env = dict(os.environ, NNLITE_KERNELS=value)
    code = ("import nnlite, numpy as np; from nnlite import _rowsplit as r; "
            "a = np.ones((4, 4)); print(r.available(), r.rows_exact(a, a, a.copy()))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env,
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("size", [1, 31, 32, 4097, 50_826])
def test_element_wise_passes_in_two_halves_give_the_bits_of_one(dtype, size):
    # the optimizer's update and the gradient's scaling, the second half on the worker
    import _nnlite_kernels as K

    rng = np.random.RandomState(size)
    theta, m = rng.normal(size=size).astype(dtype), 1e-3 * rng.normal(size=size).astype(dtype)
    grad, v = 1e-2 * rng.normal(size=size).astype(dtype), 1e-6 * rng.rand(size).astype(dtype)
    _nnlite_split.stay_awake_us(100_000)  # spinning: it takes the second halves
    before = _nnlite_split.worker_stats()["worker_ranges"]
    one, two = [[x.copy() for x in (theta, grad, m, v)] for _ in range(2)]
    K.adam(*one, size, 1e-3, 0.9, 0.999, 1e-8)
    K.adam(*two, size, 1e-3, 0.9, 0.999, 1e-8, True)
    for x, y in zip(one, two):
        assert np.array_equal(x.view(np.uint8), y.view(np.uint8))
    for npen in (0, size // 3, size):
        g1, g2 = grad.copy(), grad.copy()
        K.scale_grad(g1, theta, size, npen, 1e-2, 200.0)
        K.scale_grad(g2, theta, size, npen, 1e-2, 200.0, True)
        assert np.array_equal(g1.view(np.uint8), g2.view(np.uint8))
    if size >= 64:  # halves of at least 16 values each
        deadline = time.perf_counter() + 2.0
        while _nnlite_split.worker_stats()["worker_ranges"] == before:
            assert time.perf_counter() < deadline, "the worker never took a half"
            K.adam(*two, size, 1e-3, 0.9, 0.999, 1e-8, True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's fesetround")
def test_the_worker_rounds_as_the_caller_after_the_caller_changes_its_rounding():
    # rounding modes are per thread: the worker takes the caller's with each job
    import ctypes

    import _nnlite_kernels as K

    libm = ctypes.CDLL("libm.so.6")
    fe_upward = 0x800  # x86's FE_UPWARD
    if not sys.platform.startswith("linux") or os.uname().machine not in ("x86_64", "i686"):
        pytest.skip("the FE_UPWARD value is x86's")
    rng = np.random.RandomState(0)
    n = 100_000
    theta, grad = rng.rand(n).astype(np.float32), 1e-3 * rng.rand(n).astype(np.float32)
    m, v = np.zeros(n, np.float32), 1e-40 * rng.rand(n).astype(np.float32)
    whole, halves = [[x.copy() for x in (theta, grad, m, v)] for _ in range(2)]
    before = _nnlite_split.worker_stats()["worker_ranges"]
    old = libm.fegetround()
    libm.fesetround(fe_upward)
    try:
        # until the worker took some halves (it may wait for a busy core)
        for step in range(1000):
            K.adam(*whole, n, 1e-3, 0.9, 0.999, 1e-8)
            _nnlite_split.stay_awake_us(100_000)
            K.adam(*halves, n, 1e-3, 0.9, 0.999, 1e-8, True)
            a, b = np.ones((64, 64)), np.ones((64, 64)) / 3
            out = np.empty((64, 64))
            _rowsplit.matmul_rows(a, b, out)
            np.testing.assert_array_equal(out, a @ b)
            if step >= 9 and _nnlite_split.worker_stats()["worker_ranges"] > before + 4:
                break
    finally:
        libm.fesetround(old)
    assert _nnlite_split.worker_stats()["worker_ranges"] > before
    for x, y in zip(whole, halves):
        assert np.array_equal(x.view(np.uint8), y.view(np.uint8))
