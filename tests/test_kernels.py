"""The compiled kernels give bit for bit the numbers of the numpy code they replace.

Every test runs the same computation twice, once with ``_accel.K`` (the
``_nnlite_kernels`` extension) and once with it switched off, and compares the
results exactly.  When the extension is not built these tests are skipped,
unless ``NNLITE_REQUIRE_KERNELS=1`` (set by ``.ci/run``) makes that an error.
"""

import contextlib
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnlite import (
    SGD,
    Adam,
    BinaryLogLoss,
    Dense,
    Identity,
    Logistic,
    LogLoss,
    ReLU,
    Sequential,
    Softmax,
    SquaredError,
    Tanh,
    _accel,
)
from nnlite.estimators import _SquaredErrorOutputMean

KERNELS = _accel.K
needs_kernels = pytest.mark.skipif(KERNELS is None,
                                   reason="the _nnlite_kernels extension is not built")


def test_kernels_are_built_when_required():
    if os.environ.get("NNLITE_REQUIRE_KERNELS") == "1":
        assert _accel.active(), "NNLITE_REQUIRE_KERNELS=1 but _nnlite_kernels did not load"
    elif not _accel.active():
        pytest.skip("the _nnlite_kernels extension is not built")


@contextlib.contextmanager
def _numpy_only():
    saved, _accel.K = _accel.K, None
    try:
        yield
    finally:
        _accel.K = saved


def _wide_values(rng, shape, dtype):
    """Normal draws over many magnitudes, with exact zeros of both signs mixed in."""
    x = rng.normal(size=shape) * 10.0 ** rng.uniform(-4, 4, size=shape)
    x[rng.rand(*shape) < 0.1] = 0.0
    x[rng.rand(*shape) < 0.05] = -0.0
    return x.astype(dtype)


def _assert_same(a, b):
    """Equal values, NaN where NaN, and the same sign on every zero."""
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
    numbers = ~np.isnan(a)
    np.testing.assert_array_equal(np.signbit(a[numbers]), np.signbit(b[numbers]))


shapes = st.tuples(st.integers(1, 70), st.integers(1, 40))
dtypes = st.sampled_from([np.float64, np.float32])
seeds = st.integers(0, 2**31 - 1)


@needs_kernels
@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_dense_and_relu_passes(shape, dtype, seed):
    rng = np.random.RandomState(seed)
    n, k = shape
    x = _wide_values(rng, (n, 3), dtype)
    g = _wide_values(rng, (n, k), dtype)
    results = []
    for ctx in (contextlib.nullcontext(), _numpy_only()):
        with ctx:
            dense = Dense(k).build(3, dtype, random_state=seed)
            dense.params["b"][...] = _wide_values(np.random.RandomState(seed), (k,), dtype)
            relu = ReLU()
            z, _ = dense._forward_fast(x, True, False, True)
            z, _ = relu._forward_fast(z, True, True, True)
            gz = relu._backward_fast(g.copy(), True, True)
            dense._backward_fast(gz, True, True)
            results.append((z.copy(), gz.copy(), dense.grads["b"].copy(), dense.grads["W"].copy()))
    for a, b in zip(*results):
        _assert_same(a, b)


@needs_kernels
@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_outer_product_of_a_one_unit_layer_as_blas_rounds_it(shape, dtype, seed):
    # the input gradient of a layer with one unit: (n, 1) @ (1, k), where BLAS gives
    # +0.0 for a -0.0 product; the kernel is used only where it was found to agree
    rng = np.random.RandomState(seed)
    col = _wide_values(rng, (shape[0], 1), dtype)
    row = _wide_values(rng, (1, shape[1]), dtype)
    assert _accel._outer_matches_blas(np.dtype(dtype))
    got = np.empty((shape[0], shape[1]), dtype)
    assert _accel.outer_product(col, row, got)
    _assert_same(got, np.matmul(col, row))
    # what it does not take: other shapes, layouts and dtypes
    assert _accel.outer_call(col, np.zeros((1, shape[1] + 1), dtype), got) is None
    assert _accel.outer_call(col, row, np.empty(got.shape, np.float16)) is None
    if min(shape) > 1:
        assert _accel.outer_call(col, row, np.asfortranarray(got)) is None


@needs_kernels
def test_a_one_unit_layer_backward_equals_the_product(monkeypatch):
    rng = np.random.RandomState(3)
    x, g = rng.normal(size=(40, 7)), _wide_values(rng, (40, 1), np.float64)
    dense = Dense(1)
    dense.build(7)
    dense.params["W"][...] = _wide_values(rng, (7, 1), np.float64)
    dense._forward_fast(x, True, False, False)
    got = dense._backward_fast(g.copy(), True, False)
    monkeypatch.setattr(_accel, "_outer_checked", {np.dtype(np.float64): False})
    dense._forward_fast(x, True, False, False)
    want = dense._backward_fast(g.copy(), True, False)  # through BLAS now
    _assert_same(got, want)
    _assert_same(got, g @ dense.params["W"].T)


@needs_kernels
@given(shape=shapes, dtype=dtypes, seed=seeds, from_logits=st.booleans(),
       compute_value=st.booleans())
def test_softmax_log_loss_with_class_codes(shape, dtype, seed, from_logits, compute_value):
    rng = np.random.RandomState(seed)
    n, k = shape
    k += 1  # codes need two classes at least
    logits = (rng.normal(size=(n, k)) * 10.0 ** rng.uniform(-2, 2.5)).astype(dtype)
    codes = rng.randint(0, k, n).astype(np.intp)
    y = np.eye(k, dtype=dtype)[codes]
    if seed % 4 == 0:  # non-finite logits must travel the same way through both paths
        logits[rng.randint(n), rng.randint(k)] = [np.nan, np.inf, -np.inf][seed % 3]
    loss = LogLoss(value_from_logits=from_logits)
    with np.errstate(all="ignore"):
        value, delta = loss._fused_inplace(logits.copy(), y, None, compute_value, codes)
        with _numpy_only():
            value0, delta0 = loss._fused_inplace(logits.copy(), y, None, compute_value, codes)
    _assert_same(delta, delta0)
    if not compute_value:
        assert value is None and value0 is None
    elif np.isnan(value0):
        assert np.isnan(value)
    else:
        assert value == value0


@needs_kernels
@given(shape=shapes, dtype=dtypes, seed=seeds)
def test_softmax_in_place(shape, dtype, seed):
    """The softmax of predictions and of stacks without class codes."""
    from nnlite.layers import softmax_inplace

    rng = np.random.RandomState(seed)
    z = (rng.normal(size=shape) * 10.0 ** rng.uniform(-2, 2.5)).astype(dtype)
    if seed % 4 == 0:
        z[rng.randint(shape[0]), rng.randint(shape[1])] = [np.nan, np.inf, -np.inf][seed % 3]
    with np.errstate(all="ignore"):
        p = softmax_inplace(z.copy())
        with _numpy_only():
            p0 = softmax_inplace(z.copy())
    _assert_same(p, p0)


@needs_kernels
@given(n=st.integers(1, 300), k=st.sampled_from([1, 2, 3, 9]), dtype=dtypes, seed=seeds,
       compute_value=st.booleans())
def test_squared_error_delta_and_value(n, k, dtype, seed, compute_value):
    rng = np.random.RandomState(seed)
    z = _wide_values(rng, (n, k), dtype)
    y = _wide_values(rng, (n, k), dtype)
    # MLPRegressor's loss reports the mean over outputs instead of the sum
    for loss in (SquaredError(), _SquaredErrorOutputMean()):
        with np.errstate(all="ignore"):
            value, delta = loss._fused_inplace(z.copy(), y, None, compute_value)
            with _numpy_only():
                value0, delta0 = loss._fused_inplace(z.copy(), y, None, compute_value)
        _assert_same(delta, delta0)
        assert value == value0 or (value is not None and np.isnan(value) and np.isnan(value0))


NETS = [
    (ReLU, Softmax, LogLoss(value_from_logits=False)),
    (ReLU, Softmax, LogLoss()),
    (Tanh, Logistic, BinaryLogLoss()),
    (ReLU, Identity, SquaredError()),
    (Logistic, Identity, SquaredError()),
]


@needs_kernels
@pytest.mark.parametrize("act,out,loss", NETS, ids=lambda v: type(v).__name__)
@given(n=st.integers(1, 60), dtype=dtypes, seed=seeds, weighted=st.booleans(),
       alpha=st.sampled_from([0.0, 1e-4, 0.37]), odd_stack=st.booleans())
def test_network_objective_and_training(act, out, loss, n, dtype, seed, weighted, alpha,
                                        odd_stack):
    """loss_and_grad and a few optimizer steps: the same bits with and without kernels.

    The same input array comes back step after step, so from the third call on the
    network replays its recorded step (nnlite._program) when the kernels are on.
    """
    rng = np.random.RandomState(seed)
    n_out = 1 if isinstance(loss, BinaryLogLoss) else 3
    x = rng.normal(size=(n, 4)).astype(dtype)
    if isinstance(loss, LogLoss):
        y = np.eye(n_out)[rng.randint(0, n_out, n)].astype(dtype)
    elif isinstance(loss, BinaryLogLoss):
        y = (rng.rand(n, 1) > 0.5).astype(dtype)
    else:
        y = rng.normal(size=(n, n_out)).astype(dtype)
    w = rng.uniform(0.5, 2, n) if weighted else None
    codes = loss._class_codes(y) if isinstance(loss, LogLoss) and not weighted else None
    runs = []
    for ctx in (contextlib.nullcontext(), _numpy_only()):
        with ctx:
            if odd_stack:  # activations in a row, no bias, Identity inside
                hidden = [Dense(6), act(), Tanh(), ReLU(), Dense(5, bias=False), Identity()]
            else:
                hidden = [Dense(6), act(), Dense(5), act()]
            net = Sequential(hidden + [Dense(n_out), out()], dtype=dtype,
                             random_state=seed).build(4)
            opts = [Adam(learning_rate=0.01), SGD(learning_rate=0.05),
                    SGD(learning_rate=0.05, nesterov=False)]
            trace = []
            for opt in opts:
                opt.init(net.theta)
                for _ in range(3):
                    value, grad = net._loss_and_grad(x, y, loss, alpha, w, codes=codes)
                    trace += [np.float64(value).reshape(1), grad.copy()]
                    opt.step(net.theta, grad)
                trace.append(net.theta.copy())
            runs.append(trace)
    for a, b in zip(*runs):
        _assert_same(a, b)


@needs_kernels
@given(size=st.integers(1, 300), dtype=dtypes, seed=seeds, nesterov=st.booleans())
def test_optimizer_steps_on_wide_values(size, dtype, seed, nesterov):
    rng = np.random.RandomState(seed)
    theta0 = _wide_values(rng, (size,), dtype)
    grads = [_wide_values(rng, (size,), dtype) for _ in range(4)]
    for make in (lambda: Adam(learning_rate=0.003),
                 lambda: SGD(learning_rate=0.02, momentum=0.7, nesterov=nesterov)):
        finals = []
        for ctx in (contextlib.nullcontext(), _numpy_only()):
            with ctx, np.errstate(all="ignore"):
                theta = theta0.copy()
                opt = make().init(theta)
                for g in grads:
                    opt.step(theta, g)
                finals.append(theta)
        _assert_same(*finals)


@needs_kernels
def test_kernels_refuse_wrong_sizes_instead_of_reading_past_the_end():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match="expected 20 floats"):
        KERNELS.bias_act(z, None, 5, 4, True)
    with pytest.raises(ValueError, match="invalid array size"):
        KERNELS.bias_act(np.zeros(0), None, 2**62, 4, True)
    with pytest.raises(ValueError, match="invalid array size"):
        KERNELS.bias_act(z, None, -3, -4, True)
    with pytest.raises(ValueError, match="class code out of range"):
        KERNELS.softmax_shift(z, None, np.array([0, 4, 1], dtype=np.intp), np.zeros(3), 3, 4)
    with pytest.raises(ValueError, match="one intp per row"):
        KERNELS.softmax_shift(z, None, np.array([0, 1, 1], dtype=np.int32), np.zeros(3), 3, 4)
    for wrong in (np.int16, np.int64, np.complex64):  # int64 and complex64: 8 bytes too
        with pytest.raises(TypeError, match="float64 or float32"):
            KERNELS.bias_act(np.zeros((3, 4), wrong), None, 3, 4, True)
    with pytest.raises(ValueError, match="floats"):
        KERNELS.adam(np.zeros(4), np.zeros(4, np.int64), np.zeros(4), np.zeros(4), 4,
                     0.1, 0.9, 0.999, 1e-8)
    with pytest.raises((ValueError, BufferError)):
        KERNELS.bias_act(np.zeros((4, 3)).T, None, 3, 4, True)  # not C-contiguous


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_recorded_step_is_used_and_replays_the_same_bits(dtype):
    rng = np.random.RandomState(0)
    x = rng.normal(size=(32, 4)).astype(dtype)
    codes = rng.randint(0, 3, 32).astype(np.intp)
    y = np.eye(3, dtype=dtype)[codes]
    loss = LogLoss(value_from_logits=False)

    def net():
        return Sequential([Dense(6), ReLU(), Dense(3), Softmax()], dtype=dtype,
                          random_state=1).build(4)

    replayed, walked = net(), net()
    for step in range(4):
        v1, g1 = replayed._loss_and_grad(x, y, loss, 1e-3, None, codes=codes)
        v2, g2 = walked._loss_and_grad(x.copy(), y, loss, 1e-3, None, codes=codes)
        assert v1 == v2
        _assert_same(g1, g2)
        assert (replayed.__dict__.get("_step_program") is not None) == (step >= 1)
        assert walked.__dict__.get("_step_program") is None
        Adam(learning_rate=0.1).init(replayed.theta).step(replayed.theta, g1)
        Adam(learning_rate=0.1).init(walked.theta).step(walked.theta, g2)
    replayed._drop_buffers()  # the end of training forgets the recording
    assert "_step_program" not in replayed.__dict__


@needs_kernels
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["log-loss", "squared-error"])
@pytest.mark.parametrize("compute_value", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 1e-2])
def test_a_recorded_step_with_its_loss_and_penalty_replays_the_same_bits(
        dtype, kind, compute_value, alpha):
    # the loss's kernels and the gradient's scaling recorded with the layers' calls
    rng = np.random.RandomState(2)
    x = rng.normal(size=(24, 5)).astype(dtype)
    codes = None
    if kind == "log-loss":
        codes = rng.randint(0, 4, 24).astype(np.intp)
        y, loss, out = np.eye(4, dtype=dtype)[codes], LogLoss(value_from_logits=False), Softmax
    else:
        y, loss, out = rng.normal(size=(24, 4)).astype(dtype), SquaredError(), Identity

    def net():
        return Sequential([Dense(7), ReLU(), Dense(6), ReLU(), Dense(4), out()], dtype=dtype,
                          random_state=3).build(5)

    replayed, walked = net(), net()
    for step in range(4):
        v1, g1 = replayed._loss_and_grad(x, y, loss, alpha, None, compute_value, codes)
        v2, g2 = walked._loss_and_grad(x.copy(), y, loss, alpha, None, compute_value, codes)
        assert (v1 is None) == (v2 is None) == (not compute_value)
        assert v1 == v2
        _assert_same(g1, g2)
        program = replayed.__dict__.get("_step_program")
        assert (program is not None) == (step >= 1)
        if program is not None:  # the whole step replayed, the loss's calls included
            assert "run" in program.__dict__
        SGD(learning_rate=0.1).init(replayed.theta).step(replayed.theta, g1)
        SGD(learning_rate=0.1).init(walked.theta).step(walked.theta, g2)


@needs_kernels
def test_a_recorded_step_follows_a_loss_setting_changed_between_batches():
    rng = np.random.RandomState(0)
    x = 300 * rng.normal(size=(16, 4))  # saturated probabilities: clipping shows
    codes = rng.randint(0, 3, 16).astype(np.intp)
    y = np.eye(3)[codes]
    loss = LogLoss(value_from_logits=False)
    net = Sequential([Dense(5), ReLU(), Dense(3), Softmax()], random_state=0).build(4)
    for _ in range(3):
        net._loss_and_grad(x, y, loss, 1e-4, None, True, codes)
    assert net.__dict__.get("_step_program") is not None
    loss.value_from_logits = True  # e.g. by a callback, mid-training
    value, grad = net._loss_and_grad(x, y, loss, 1e-4, None, True, codes)
    fresh = Sequential([Dense(5), ReLU(), Dense(3), Softmax()]).build(4)
    fresh.set_theta(net.theta)
    value0, grad0 = fresh._loss_and_grad(x.copy(), y, loss, 1e-4, None, True, codes)
    assert value == value0
    _assert_same(grad.copy(), grad0)


@needs_kernels
def test_a_recorded_float32_step_follows_the_type_of_alpha():
    # numpy scales float32 gradients by a numpy float64 alpha in float64, by a Python
    # float in float32: a step recorded with one must not replay for the other
    rng = np.random.RandomState(0)
    x = rng.normal(size=(16, 4)).astype(np.float32)
    y = rng.normal(size=(16, 2)).astype(np.float32)

    def net():
        return Sequential([Dense(5), ReLU(), Dense(2), Identity()], dtype=np.float32,
                          random_state=0).build(4)

    replayed, walked = net(), net()
    loss = SquaredError()
    for _ in range(3):
        replayed._loss_and_grad(x, y, loss, 0.1, None, True)
    assert replayed.__dict__.get("_step_program") is not None
    v1, g1 = replayed._loss_and_grad(x, y, loss, np.float64(0.1), None, True)
    v2, g2 = walked._loss_and_grad(x.copy(), y, loss, np.float64(0.1), None, True)
    assert v1 == v2 and type(v1) is type(v2)
    _assert_same(g1.copy(), g2)


@needs_kernels
def test_a_recording_is_forgotten_when_the_parameters_move_to_a_new_vector():
    rng = np.random.RandomState(0)
    x = rng.normal(size=(16, 4))
    y = rng.normal(size=(16, 2))
    loss = SquaredError()
    net = Sequential([Dense(5), ReLU(), Dense(2), Identity()], random_state=0).build(4)
    for _ in range(2):
        net.loss_and_grad(x, y, loss)
    assert net.__dict__.get("_step_program") is not None
    net.astype(np.float32).astype(np.float64)  # rebinds every layer to a new flat vector
    net.set_theta(np.linspace(-1, 1, net.theta.size))
    value, grad = net.loss_and_grad(x, y, loss)
    fresh = Sequential([Dense(5), ReLU(), Dense(2), Identity()]).build(4)
    fresh.set_theta(net.theta)
    value0, grad0 = fresh.loss_and_grad(x.copy(), y, SquaredError())
    assert value == value0
    _assert_same(grad.copy(), grad0)


@pytest.mark.parametrize("kernels", [True, False])
def test_class_codes_with_inputs_of_another_dtype(kernels):
    """float64 inputs to a float32 network give float64 logits: the log-loss then reads
    the target rows, which must have been gathered (not only the class codes)."""
    from nnlite import train

    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4))
    y = np.eye(3)[rng.randint(0, 3, 120)]
    curves = []
    ctx = contextlib.nullcontext() if kernels else _numpy_only()
    with ctx:
        for weights in (None, np.ones(120)):  # weights take the path that reads y
            net = Sequential([Dense(5), ReLU(), Dense(3), Softmax()], dtype=np.float32,
                             random_state=0)
            history = train(net, X, y, LogLoss(value_from_logits=False), Adam(0.01),
                            batch_size=32, epochs=3, tol=None, random_state=0,
                            sample_weight=weights)
            curves.append(np.array(history.loss_curve))
    assert np.all(np.isfinite(curves[0]))
    np.testing.assert_allclose(curves[0], curves[1], rtol=1e-6)
