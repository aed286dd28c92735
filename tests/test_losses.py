"""Losses: gradients, conventions, fused versus chained output pairs, extreme logits."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlite import (
    SGD,
    AbsoluteError,
    BinaryLogLoss,
    Dense,
    Exp,
    Huber,
    Identity,
    Logistic,
    LogLoss,
    PoissonLoss,
    ReLU,
    Sequential,
    Softmax,
    SquaredError,
    Tanh,
    gradcheck,
    train,
)
from tests.strategies import (
    CANONICAL,
    HIDDEN,
    LOSSES,
    loss_points,
    make_target,
    sample_weights,
    seeds,
    unfused,
)

LOSS_INSTANCES = {
    "SquaredError": [SquaredError()],
    "LogLoss": [LogLoss(), LogLoss(value_from_logits=False)],
    "BinaryLogLoss": [BinaryLogLoss(), BinaryLogLoss(value_from_logits=False)],
    "PoissonLoss": [PoissonLoss()],
    "Huber": [Huber()],
    "AbsoluteError": [AbsoluteError()],
}
#: class-weighted losses: gradient-checked too (their values are checked in test_class_weight.py)
CLASS_WEIGHTED = {
    "LogLoss": [LogLoss(class_weight={0: 2.0, 1: 0.5}), LogLoss(class_weight="balanced"),
                LogLoss(value_from_logits=False, class_weight={1: 0.0})],
    "BinaryLogLoss": [BinaryLogLoss(class_weight="balanced"),
                      BinaryLogLoss(class_weight={0: 0.3, 1: 2.0})],
}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name", sorted(LOSSES))
@given(data=st.data())
def test_loss_gradient_matches_finite_differences(name, weighted, data):
    output, y = data.draw(loss_points(name), label="output, y")
    w = data.draw(sample_weights(len(output)), label="w") if weighted else None
    for loss in LOSS_INSTANCES[name] + CLASS_WEIGHTED.get(name, []):
        try:
            report = gradcheck.check_loss(loss, output, y, w)
        except ValueError as e:  # {1: 0.0} and only class 1 drawn: refused (test_class_weight)
            assert "every sample has weight 0" in str(e)
            continue
        assert report.passed, str(report)
        assert report.n_checked == output.size


# Per-sample losses and their derivatives written out independently of nnlite.
def _reference(name, o, y):
    if name == "SquaredError":
        return 0.5 * ((o - y) ** 2).sum(1), o - y
    if name == "Huber":  # delta = 1
        r = o - y
        return np.where(np.abs(r) <= 1, 0.5 * r**2, np.abs(r) - 0.5).sum(1), np.clip(r, -1, 1)
    if name == "AbsoluteError":
        return np.abs(o - y).sum(1), np.sign(o - y)
    if name == "PoissonLoss":
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / o), 0.0)
        return (ylogy - y + o).sum(1), 1 - y / o
    if name == "BinaryLogLoss" or o.shape[1] == 1:
        return (-(y * np.log(o) + (1 - y) * np.log(1 - o))).sum(1), -y / o + (1 - y) / (1 - o)
    return -(y * np.log(o)).sum(1), -y / o


@pytest.mark.parametrize("name", sorted(LOSSES))
@given(data=st.data())
def test_value_is_weighted_mean_and_gradient_is_of_weighted_sum(name, data):
    output, y = data.draw(loss_points(name), label="output, y")
    w = data.draw(sample_weights(len(output)), label="w")
    per_sample, dl = _reference(name, output, y)
    for loss in LOSS_INSTANCES[name]:
        np.testing.assert_allclose(loss.value(output, y), per_sample.mean(), rtol=1e-12,
                                   atol=1e-14)
        np.testing.assert_allclose(loss.value(output, y, w), (w * per_sample).sum() / w.sum(),
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(loss.gradient(output.copy(), y), dl, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(loss.gradient(output.copy(), y, w), w[:, None] * dl,
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(LOSSES))
@given(data=st.data())
@settings(max_examples=20)
def test_integer_weights_equal_repeated_samples(name, data):
    output, y = data.draw(loss_points(name), label="output, y")
    reps = data.draw(st.lists(st.integers(1, 3), min_size=len(output), max_size=len(output)))
    w = np.array(reps, dtype=float)
    loss = LOSS_INSTANCES[name][0]
    o_rep, y_rep = np.repeat(output, reps, axis=0), np.repeat(y, reps, axis=0)
    np.testing.assert_allclose(loss.value(output, y, w), loss.value(o_rep, y_rep), rtol=1e-12,
                               atol=1e-14)
    # gradient of the weighted sum: each row's gradient summed over its copies
    g_rep = loss.gradient(o_rep.copy(), y_rep)
    owner = np.repeat(np.arange(len(output)), reps)
    summed = np.zeros_like(output)
    np.add.at(summed, owner, g_rep)
    np.testing.assert_allclose(loss.gradient(output.copy(), y, w), summed, rtol=1e-12,
                               atol=1e-14)


def test_documented_values():
    assert SquaredError().value(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])) == 1.25
    # SquaredError sums over outputs: (0.5*1 + 0.5*4) per sample
    assert SquaredError().value(np.array([[1.0, 2.0]]), np.zeros((1, 2))) == 2.5
    p = np.array([[0.25, 0.75]])
    assert LogLoss().value(p, np.array([[0.0, 1.0]])) == pytest.approx(-np.log(0.75))
    assert BinaryLogLoss().value(p, np.array([[0.0, 1.0]])) == pytest.approx(-2 * np.log(0.75))
    assert PoissonLoss().value(np.array([[2.0]]), np.array([[2.0]])) == 0.0
    assert repr(LogLoss(value_from_logits=False)) == "LogLoss(value_from_logits=False)"


def _pair_net(pair, hidden, n_in, n_out, seed):
    out_cls, _ = CANONICAL[pair]
    layers = []
    for width, act in hidden:
        layers += [Dense(width), HIDDEN[act]()]
    return Sequential(layers + [Dense(n_out), out_cls()], n_in=n_in, random_state=seed)


FUSED_CASES = [(pair, vfl) for pair, (_, loss_cls) in sorted(CANONICAL.items())
               for vfl in ((True, False) if loss_cls in (LogLoss, BinaryLogLoss) else (None,))]


@pytest.mark.parametrize("pair, value_from_logits", FUSED_CASES,
                         ids=[f"{p}-{v}" for p, v in FUSED_CASES])
@given(seed=seeds, depth=st.integers(0, 2), n=st.integers(1, 6), n_in=st.integers(1, 4),
       n_out=st.integers(1, 4), weighted=st.booleans(), alpha=st.sampled_from([0.0, 0.3]))
@settings(max_examples=25)
def test_fused_equals_chained(pair, value_from_logits, seed, depth, n, n_in, n_out, weighted,
                              alpha):
    out_cls, loss_cls = CANONICAL[pair]
    loss = loss_cls() if value_from_logits is None else loss_cls(value_from_logits)
    if loss_cls is LogLoss:
        n_out = max(n_out, 2)
    rng = np.random.RandomState(seed)
    hidden = [(int(rng.randint(1, 5)), ("Tanh", "Logistic")[rng.randint(2)])
              for _ in range(depth)]
    net = _pair_net(pair, hidden, n_in, n_out, rng)
    x = rng.uniform(-2, 2, (n, n_in))
    y = loss.prepare_target(make_target(loss, n, n_out, rng), n_out)
    w = rng.uniform(0.1, 2.0, n) if weighted else None
    chained = unfused(loss)
    assert loss.fuses_with(net.layers[-1]) and not chained.fuses_with(net.layers[-1])

    v_fused, g = net.loss_and_grad(x, y, loss, alpha, w)
    g_fused = g.copy()
    if out_cls is not Identity:  # the fused path never runs the output layer
        assert getattr(net.layers[-1], "_z", None) is None
    v_chained, g_chained = net.loss_and_grad(x, y, chained, alpha, w)
    if out_cls is not Identity:  # ... and the chained path does
        assert net.layers[-1]._z is not None
    np.testing.assert_allclose(v_fused, v_chained, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(g_fused, g_chained, rtol=1e-8, atol=1e-12)


NON_CANONICAL = [
    (Tanh, SquaredError()),
    (Softmax, SquaredError()),
    (Logistic, SquaredError()),
    (Exp, SquaredError()),
    (ReLU, SquaredError()),
    (Softmax, BinaryLogLoss()),
    (Logistic, LogLoss()),
    (Logistic, PoissonLoss()),
    (Softmax, PoissonLoss()),
    (Identity, Huber(delta=0.5)),
    (Tanh, Huber()),
    (Identity, AbsoluteError()),
]


@pytest.mark.parametrize("out_cls, loss", NON_CANONICAL,
                         ids=[f"{o.__name__}+{type(lo).__name__}" for o, lo in NON_CANONICAL])
@given(seed=seeds, n=st.integers(1, 5), weighted=st.booleans())
@settings(max_examples=10)
def test_non_canonical_pairs_pass_network_check(out_cls, loss, seed, n, weighted):
    rng = np.random.RandomState(seed)
    net = Sequential([Dense(3), Tanh(), Dense(2), out_cls()], n_in=3, random_state=rng)
    assert not loss.fuses_with(net.layers[-1])
    x = rng.uniform(-2, 2, (n, 3))
    if isinstance(loss, (SquaredError, Huber, AbsoluteError)):
        y = rng.normal(size=(n, 2))
    elif isinstance(loss, PoissonLoss):
        y = rng.poisson(1.0, (n, 2)).astype(float)
    else:
        y = np.eye(2)[rng.randint(0, 2, n)]
    if out_cls is ReLU:  # dodge the kink: ReLU's inputs away from 0
        z = net.layers[2].forward(net.layers[1].forward(net.layers[0].forward(x, False)), False)
        if np.min(np.abs(z)) < 1e-4:
            return
    w = rng.uniform(0.1, 2.0, n) if weighted else None
    report = gradcheck.check_network(net, x, y, loss, alpha=0.1, sample_weight=w)
    assert report.passed, str(report)


@pytest.mark.parametrize("value_from_logits", [True, False])
@pytest.mark.parametrize("loss_cls", [LogLoss, BinaryLogLoss])
def test_log_losses_from_extreme_logits_are_finite_without_warnings(loss_cls, value_from_logits):
    loss = loss_cls(value_from_logits=value_from_logits)
    logits = np.array([[1e4, -1e4], [-1e4, 1e4], [0.0, 1e4]])
    y = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    w = np.array([1.0, 2.0, 0.5])
    for sw in (None, w):
        value, delta = loss.fused_value_and_delta(logits, y, sw)
        assert np.isfinite(value) and np.all(np.isfinite(delta))
        p = loss.canonical_output._apply(logits)
        expected = p - y if sw is None else sw[:, None] * (p - y)
        np.testing.assert_allclose(delta, expected, atol=1e-15)
    value = loss.fused_value_and_delta(logits, y)[0]
    if value_from_logits:
        # exact: a sample predicted at logit distance 1e4 from its class costs 1e4
        if loss_cls is LogLoss:
            assert value == pytest.approx((2e4 + 0.0 + 1e4) / 3, rel=1e-12)
        else:  # softplus(z) - y z summed over the two columns
            assert value == pytest.approx((1e4 + 1e4 + 0 + 0 + np.log(2) + 1e4) / 3, rel=1e-12)
    else:  # probabilities clipped to [eps, 1 - eps]: at most -log(eps) per entry
        assert 0 < value <= 2 * -np.log(np.finfo(float).eps)

    # the same through a network whose weights produce such logits
    net = Sequential([Dense(2), loss.canonical_output()], n_in=2)
    net.set_theta(np.array([1e4, -1e4, -1e4, 1e4, 0.0, 0.0]))
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    v, g = net.loss_and_grad(x, y, loss, alpha=1e-4, sample_weight=w)
    assert np.isfinite(v) and np.all(np.isfinite(g))


def test_prepare_target():
    onehot = LogLoss().prepare_target(np.array([2, 0, 1]), 3)
    np.testing.assert_array_equal(onehot, np.eye(3)[[2, 0, 1]])
    assert LogLoss().prepare_target(np.array([1, 0]), 1).shape == (2, 1)
    with pytest.raises(ValueError, match="integer class indices"):
        LogLoss().prepare_target(np.array([0.0, 1.0]), 3)
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        LogLoss().prepare_target(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="non-negative"):
        PoissonLoss().prepare_target(np.array([1.0, -1.0]), 1)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        SquaredError().prepare_target(np.zeros((3, 3)), 2)
    assert SquaredError().prepare_target(np.arange(3.0), 1).shape == (3, 1)


def test_huber_and_absolute_error_definitions():
    o = np.array([[0.0, 2.0, -0.25], [1.5, -3.0, 0.5]])
    y = np.zeros((2, 3))
    # delta 1: 0, 2 - 0.5, 0.03125 | 1.5 - 0.5, 3 - 0.5, 0.125
    assert Huber().value(o, y) == pytest.approx((1.5 + 0.03125 + 1.0 + 2.5 + 0.125) / 2, rel=1e-15)
    np.testing.assert_array_equal(Huber().gradient(o, y), [[0, 1, -0.25], [1, -1, 0.5]])
    np.testing.assert_array_equal(Huber(delta=0.5).gradient(o, y),
                                  [[0, 0.5, -0.25], [0.5, -0.5, 0.5]])
    # a delta beyond every residual is SquaredError; Huber / delta tends to AbsoluteError
    assert Huber(delta=10.0).value(o, y) == SquaredError().value(o, y)
    np.testing.assert_array_equal(Huber(delta=10.0).gradient(o, y), SquaredError().gradient(o, y))
    assert Huber(delta=1e-6).value(o, y) / 1e-6 == pytest.approx(AbsoluteError().value(o, y),
                                                                rel=1e-5)
    # the absolute error's subgradient at an exact fit is 0
    assert AbsoluteError().value(o, y) == pytest.approx((2.25 + 5.0) / 2, rel=1e-15)
    np.testing.assert_array_equal(AbsoluteError().gradient(o, o), np.zeros_like(o))
    np.testing.assert_array_equal(AbsoluteError().gradient(o, y, np.array([2.0, 1.0])),
                                  [[0, 2, -2], [1, -1, 1]])
    assert repr(Huber(delta=2)) == "Huber(delta=2.0)" and repr(AbsoluteError()) == "AbsoluteError()"


@pytest.mark.parametrize("bad, err", [(0, ValueError), (-1.0, ValueError), (np.inf, ValueError),
                                      (np.nan, ValueError), ("1", TypeError), (None, TypeError)])
def test_huber_refuses_a_bad_delta(bad, err):
    with pytest.raises(err, match="Huber: delta must be"):
        Huber(delta=bad)


@pytest.mark.parametrize("loss", [Huber(0.5), AbsoluteError()], ids=repr)
def test_robust_losses_train_and_resist_an_outlier(loss):
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (60, 1))
    y = 2 * X[:, 0]
    y[0] = 1e3                                                # one wild target
    fits = {}
    for lo in (loss, SquaredError()):
        net = Sequential([Dense(1), Identity()])
        train(net, X, y, lo, SGD(0.05, momentum=0.5), epochs=150, batch_size=20,
              random_state=0)
        fits[type(lo).__name__] = net.named_parameters()["0.W"][0, 0]
    assert abs(fits[type(loss).__name__] - 2) < 0.3 < abs(fits["SquaredError"] - 2)
