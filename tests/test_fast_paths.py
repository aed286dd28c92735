"""The speed machinery changes no number and no caller's array; BLAS thread control.

Nothing here is timed: speed is measured by ``benchmarks/bench.py`` only.
"""

import numpy as np
import pytest

import nnlite
from nnlite import (
    SGD,
    Adam,
    BinaryLogLoss,
    Dense,
    Exp,
    Identity,
    Logistic,
    LogLoss,
    PoissonLoss,
    ReLU,
    Sequential,
    Softmax,
    SquaredError,
    Tanh,
    _threads,
    train,
)

ACTIVATIONS = [ReLU, Tanh, Logistic, Identity]
PAIRS = [(Softmax, LogLoss()), (Softmax, LogLoss(value_from_logits=False)),
         (Logistic, BinaryLogLoss()), (Identity, SquaredError()), (Exp, PoissonLoss())]


def _net(act, out, n_out, dtype, seed=0):
    net = Sequential([Dense(7), act(), Dense(5), act(), Dense(n_out), out()], dtype=dtype,
                     random_state=seed)
    return net.build(4)


def _target(loss, n, n_out, rng):
    if isinstance(loss, LogLoss):
        return np.eye(n_out)[rng.randint(0, n_out, n)]
    if isinstance(loss, BinaryLogLoss):
        return (rng.rand(n, n_out) > 0.5).astype(float)
    if isinstance(loss, PoissonLoss):
        return rng.poisson(1.0, size=(n, n_out)).astype(float)
    return rng.normal(size=(n, n_out))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("out,loss", PAIRS)
def test_objective_equals_the_plain_layer_by_layer_computation(dtype, act, out, loss):
    rng = np.random.RandomState(1)
    net = _net(act, out, 3, dtype)
    x = rng.normal(size=(11, 4)).astype(dtype)
    y = _target(loss, 11, 3, rng).astype(dtype)
    w = rng.uniform(0.5, 2, 11)  # loss_and_grad takes weights as float64
    x0, y0 = x.copy(), y.copy()
    for sw in (None, w):
        value, grad = net.loss_and_grad(x, y, loss, alpha=0.1, sample_weight=sw)
        value, grad = float(value), grad.copy()
        # the same objective through the layers' public forward/backward, one by one
        h = x
        for layer in net.layers[:-1]:
            h = layer.forward(h)
        ref_value, delta = loss.fused_value_and_delta(h, y, sw)
        for layer in net.layers[-2:0:-1]:
            delta = layer.backward(delta)
        net.layers[0].backward(delta)
        s = 11 if sw is None else sw.sum()
        ref = net.grad.copy()
        npen = net.n_penalized
        ref[:npen] += 0.1 * net.theta[:npen]
        ref /= s
        sq = sum(float(np.dot(v.ravel(), v.ravel())) for k, v in net.named_parameters().items()
                 if k.endswith("W"))
        assert np.array_equal(grad, ref)
        assert value == pytest.approx(ref_value + 0.05 * sq / s, rel=1e-6)
        # again: work arrays are reused, the answer is the same
        value2, grad2 = net.loss_and_grad(x, y, loss, alpha=0.1, sample_weight=sw)
        assert float(value2) == value and np.array_equal(grad2, grad)
    assert np.array_equal(x, x0) and np.array_equal(y, y0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("from_logits", [True, False])
def test_one_hot_shortcut_is_bit_identical(dtype, from_logits):
    rng = np.random.RandomState(2)
    loss = LogLoss(value_from_logits=from_logits)
    for n, k in [(1, 2), (7, 3), (200, 10), (37, 13)]:
        net = _net(ReLU, Softmax, k, dtype, seed=n)
        x = (rng.normal(size=(n, 4)) * 3).astype(dtype)
        codes = rng.randint(0, k, n)
        y = np.eye(k, dtype=dtype)[codes]
        assert np.array_equal(loss._class_codes(y), codes)
        v1, g1 = net._loss_and_grad(x, y, loss, 1e-3, None, codes=codes)
        g1 = g1.copy()
        v2, g2 = net._loss_and_grad(x, y, loss, 1e-3, None)
        assert v1 == v2 and np.array_equal(g1, g2)


def test_class_codes_only_for_exact_one_hot_rows():
    loss = LogLoss()
    assert loss._class_codes(np.array([[0.0, 1.0], [0.3, 0.7]])) is None
    assert loss._class_codes(np.array([[1.0, 1.0], [0.0, 1.0]])) is None
    assert loss._class_codes(np.array([[0.0, 0.0], [0.0, 1.0]])) is None
    assert list(loss._class_codes(np.array([[0.0, 1.0], [1.0, 0.0]]))) == [1, 0]

    class Mine(LogLoss):
        pass

    assert Mine()._class_codes(np.eye(3)) is None  # subclasses take the general path


def test_public_calls_never_write_the_callers_array_nor_alias_outputs():
    rng = np.random.RandomState(3)
    net = _net(Tanh, Softmax, 3, np.float64)
    x1, x2 = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    keep = x1.copy()
    out1 = net.predict(x1)
    first = out1.copy()
    net.predict(x2)
    net.loss_and_grad(x2, np.eye(3)[[0, 1, 2, 0, 1, 2]], LogLoss())
    assert np.array_equal(x1, keep) and np.array_equal(out1, first)
    for act in (ReLU(), Tanh(), Logistic(), Softmax(), Exp()):
        z = rng.normal(size=(5, 3))
        z0 = z.copy()
        act.forward(z)
        assert np.array_equal(z, z0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shuffled_batches_equal_plain_indexing(dtype):
    # the loop gathers batches into fixed arrays; the first principles way indexes rows
    rng = np.random.RandomState(4)
    X = rng.normal(size=(103, 4)).astype(dtype)
    y = rng.randint(0, 3, 103)
    Y = np.eye(3)[y]
    nets = [_net(ReLU, Softmax, 3, dtype, seed=5) for _ in range(2)]
    train(nets[0], X, Y, LogLoss(), SGD(0.05), batch_size=16, epochs=3, random_state=0)
    net, opt, loss = nets[1], SGD(0.05).init(nets[1].theta), LogLoss()
    state = np.random.RandomState(0)
    idx = np.arange(103)
    for _ in range(3):
        perm = np.arange(103)
        state.shuffle(perm)
        idx = idx[perm]
        for start in range(0, 103, 16):
            rows = idx[start:start + 16]
            _, grad = net.loss_and_grad(X[rows], Y[rows].astype(dtype), loss)
            opt.step(net.theta, grad)
    assert np.array_equal(nets[0].theta, net.theta)


def test_float32_adam_step_is_computed_in_float64_like_scikit_learn():
    theta = np.array([0.5, -0.25, 1e-3], dtype=np.float32)
    g = np.array([0.1, -0.3, 2.0], dtype=np.float32)
    opt = Adam(0.01).init(theta)
    expect = theta.copy()
    opt.step(theta, g)
    m = np.float32(1 - 0.9) * g
    v = np.float32(1 - 0.999) * (g * g)
    lr = 0.01 * np.sqrt(1 - 0.999) / (1 - 0.9)
    expect += -lr * m / (np.sqrt(v) + 1e-8)  # float64 step, one rounding to float32
    assert theta.dtype == np.float32 and np.array_equal(theta, expect)


# ----- BLAS threads ----------------------------------------------------------------------

@pytest.fixture
def restore_threads():
    saved = (_threads._setting, _threads._controller)
    yield
    _threads._setting, _threads._controller = saved


def test_thread_setting_values(restore_threads, monkeypatch):
    for value, expect in [("auto", "auto"), ("off", "off"), (2, 2), ("3", 3), (" Auto ", "auto")]:
        nnlite.set_blas_threads(value)
        assert nnlite.get_blas_threads() == expect
    for bad in (0, -1, "many", 1.5, True, None):
        with pytest.raises(ValueError, match="set_blas_threads"):
            nnlite.set_blas_threads(bad)
    _threads._setting = None
    monkeypatch.setenv("NNLITE_BLAS_THREADS", "1")
    assert nnlite.get_blas_threads() == 1
    _threads._setting = None
    monkeypatch.setenv("NNLITE_BLAS_THREADS", "lots")
    with pytest.raises(ValueError, match="NNLITE_BLAS_THREADS"):
        nnlite.get_blas_threads()


def _blas_threads_seen_by_training(setting):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    nnlite.set_blas_threads(setting)
    seen = []

    def callback(net, history):
        seen.extend(d["num_threads"] for d in threadpoolctl.threadpool_info()
                    if d["user_api"] == "blas")
        return False

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(50, 3)), rng.randint(0, 2, 50)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        train(Sequential([Dense(4), ReLU(), Dense(2), Softmax()]), X, y, LogLoss(), Adam(),
              epochs=2, random_state=0, callback=callback)
    return set(seen)


def test_auto_trains_small_networks_on_one_thread(restore_threads):
    assert _blas_threads_seen_by_training("auto") == {1}


def test_off_leaves_blas_alone_and_an_int_is_obeyed(restore_threads):
    assert _blas_threads_seen_by_training("off") == {2}
    assert _blas_threads_seen_by_training(1) == {1}


def test_training_works_without_threadpoolctl(restore_threads):
    _threads._controller = False  # as if the optional package were absent
    nnlite.set_blas_threads("auto")
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 3)), rng.randint(0, 2, 40)
    net = Sequential([Dense(4), ReLU(), Dense(2), Softmax()])
    history = train(net, X, y, LogLoss(), Adam(), epochs=2, random_state=0)
    assert len(history.loss_curve) == 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sliced_updates_equal_whole_vector_arithmetic(dtype):
    # the optimizers and the L2 term work slice by slice on long vectors
    rng = np.random.RandomState(5)
    n = 40_000
    theta0 = rng.normal(size=n).astype(dtype)
    grads = [rng.normal(size=n).astype(dtype) for _ in range(3)]
    for opt, ref in [(Adam(0.01), "adam"), (SGD(0.1, 0.9, True), "nesterov"),
                     (SGD(0.1, 0.5, False), "momentum")]:
        theta = theta0.copy()
        opt.init(theta)
        m = np.zeros(n, dtype)
        v = np.zeros(n, dtype)
        expect = theta0.copy()
        for t, g in enumerate(grads, start=1):
            opt.step(theta, g)
            if ref == "adam":
                m = 0.9 * m + (1 - 0.9) * g
                v = 0.999 * v + (1 - 0.999) * (g * g)
                lr = 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
                expect += -lr * m / (np.sqrt(v) + 1e-8)
            else:
                mu = opt.momentum
                v = mu * v - 0.1 * g
                expect += (mu * v - 0.1 * g) if ref == "nesterov" else v
        assert np.array_equal(theta, expect), ref


def test_l2_term_in_slices_equals_whole_vector_arithmetic():
    rng = np.random.RandomState(6)
    net = Sequential([Dense(300), ReLU(), Dense(80), Softmax()], random_state=0).build(60)
    assert net.n_penalized > 16384
    x = rng.normal(size=(32, 60))
    y = np.eye(80)[rng.randint(0, 80, 32)]
    _, grad = net.loss_and_grad(x, y, LogLoss(), alpha=0.3)
    grad = grad.copy()
    _, raw = net.loss_and_grad(x, y, LogLoss(), alpha=0.0)
    expect = raw * 32  # undo the division, then redo it after the penalty
    npen = net.n_penalized
    expect[:npen] += 0.3 * net.theta[:npen]
    expect /= 32
    assert np.allclose(grad, expect, rtol=1e-12, atol=0)


@pytest.mark.parametrize("first,second", [(Tanh, Tanh), (Tanh, ReLU), (Logistic, Tanh),
                                          (ReLU, Logistic), (Tanh, nnlite.Dropout)])
def test_activations_in_a_row_keep_each_others_cached_outputs(first, second):
    # each activation keeps its output for its backward pass: the next layer may not run
    # in place on it (the layer-by-layer step, and the recorded one replayed from the
    # second call with the same arrays on)
    rng = np.random.RandomState(0)
    x, y = rng.normal(size=(9, 3)), rng.normal(size=(9, 2))
    make = (lambda: nnlite.Dropout(0.3)) if second is nnlite.Dropout else second
    net = Sequential([Dense(5), first(), make(), Dense(2), Identity()]).build(3, random_state=0)
    nnlite.gradcheck.assert_network_gradients(net, x, y, SquaredError())


NEW_ACTIVATIONS = [lambda: nnlite.LeakyReLU(0.0), nnlite.ELU, nnlite.GELU, nnlite.Softplus,
                   nnlite.SiLU]


@pytest.mark.parametrize("make", NEW_ACTIVATIONS)
def test_new_layers_take_the_general_path(make):
    # the fused Dense+ReLU pass, the recorded step and the row blocks select layers by
    # exact type: a LeakyReLU(0) computes ReLU's values but is not fused as one
    from nnlite.models import _program, _rowblocks

    net = Sequential([Dense(6), make(), Dense(3), Softmax()]).build(4, random_state=0)
    assert net._relu_after_dense() == [None] * 4
    assert _rowblocks.leaf_layers(net) is None
    rng = np.random.RandomState(0)
    x, y = rng.normal(size=(8, 4)), np.eye(3)[rng.randint(0, 3, 8)]
    assert _program.record(net, x, y, LogLoss(), 0.0, None, None, True) is None
    nnlite.gradcheck.assert_network_gradients(net, x, y, LogLoss(), alpha=0.1)
