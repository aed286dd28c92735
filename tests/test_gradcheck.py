"""Whole random networks through the gradient checks, and the checks catching wrong gradients."""

import numpy as np
import pytest
from hypothesis import assume, given, settings

from nnlite import (
    Dense,
    Identity,
    LogLoss,
    Loss,
    Sequential,
    Softmax,
    SquaredError,
    Tanh,
    gradcheck,
)
from tests import strategies
from tests.strategies import net_cases, relu_inputs_clear, seeds


@given(case=net_cases(max_depth=3, max_width=4, max_samples=5, max_in=3))
@settings(max_examples=40)
def test_full_check_on_tiny_random_networks(case):
    net, x, y, loss, w = case.build()
    assume(relu_inputs_clear(net, x))
    report = gradcheck.check_network(net, x, y, loss, alpha=case.alpha, sample_weight=w)
    assert report.passed, f"{case}\n{net}\n{report}"
    assert report.n_checked == net.theta.size


@given(case=net_cases(max_depth=3, max_width=32, max_samples=40, max_in=12))
@settings(max_examples=30)
def test_directional_check_on_larger_random_networks(case):
    net, x, y, loss, w = case.build()
    assume(relu_inputs_clear(net, x))
    theta = net.theta.copy()
    report = gradcheck.check_network_directional(net, x, y, loss, alpha=case.alpha,
                                                 sample_weight=w, n_directions=3,
                                                 random_state=case.seed % 2**31)
    assert report.passed, f"{case}\n{net}\n{report}"
    assert report.n_checked == 3
    np.testing.assert_array_equal(net.theta, theta)  # the parameters are left as they were


# ----- a layer with a deliberately broken backward ------------------------------------------
class Scale(strategies.Scale):
    """The shared ``y = x * s`` layer; ``bug`` selects a mistake in ``backward``."""

    def __init__(self, bug=None):
        super().__init__()
        self.bug = bug

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        if self.bug == "param":
            self.grads["s"] *= 1.01  # a 1% error in the parameter gradient
        if self.bug == "input":
            grad_in[-1, -1] += 1e-3  # one entry of the input gradient slightly off
        return grad_in


X = np.random.RandomState(0).uniform(-2, 2, (4, 3))


@pytest.mark.parametrize("bug, where", [(None, None), ("param", "s["), ("input", "input[11]")])
def test_check_layer_reports_a_broken_backward(bug, where):
    report = gradcheck.check_layer(Scale(bug), X)
    assert report.n_checked == X.size + 3
    if bug is None:
        assert report.passed and report.max_rel_error < 1e-6
        assert "passed" in str(report)
        gradcheck.assert_layer_gradients(Scale(), X)
        return
    assert not report.passed
    assert report.where.startswith(where)
    assert report.analytic != pytest.approx(report.numeric, rel=1e-6)
    with pytest.raises(AssertionError) as info:
        gradcheck.assert_layer_gradients(Scale(bug), X)
    message = str(info.value)
    assert message.startswith("Scale: gradient check FAILED")
    assert where in message and "analytic" in message and "numeric" in message


@pytest.mark.parametrize("directional", [False, True])
def test_check_network_reports_a_broken_layer(directional):
    y = np.eye(2)[[0, 1, 1, 0]]
    check = (gradcheck.check_network_directional if directional else gradcheck.check_network)
    asserting = (gradcheck.assert_network_gradients_directional if directional
                 else gradcheck.assert_network_gradients)

    def net(bug):
        return Sequential([Dense(3), Scale(bug), Tanh(), Dense(2), Softmax()], n_in=3,
                          random_state=0)

    assert check(net(None), X, y, LogLoss(), alpha=0.1).passed
    asserting(net(None), X, y, LogLoss(), alpha=0.1)
    report = check(net("param"), X, y, LogLoss(), alpha=0.1)
    assert not report.passed
    if not directional:
        assert report.where.startswith("1.s[")
    with pytest.raises(AssertionError, match="network.*gradient check FAILED"):
        asserting(net("param"), X, y, LogLoss(), alpha=0.1)


class UserSquaredError(Loss):
    """A user-defined loss (``per_entry`` and ``gradient``); ``bug`` selects a mistake."""

    def __init__(self, bug=None):
        self.bug = bug

    def per_entry(self, output, y):
        return 0.5 * (output - y) ** 2

    def gradient(self, output, y, sample_weight=None):
        g = output - y
        if sample_weight is not None:
            g = g * sample_weight[:, None]
        if self.bug == "half":
            return 0.5 * g
        if self.bug == "mean":  # the gradient of the mean instead of the weighted sum
            return g / len(output)
        return g


@pytest.mark.parametrize("weighted", [False, True])
def test_check_loss_catches_a_wrong_loss_gradient(weighted):
    out, y = X[:, :2], X[:, 1:]
    w = np.array([0.5, 1.0, 2.0, 3.0]) if weighted else None
    assert gradcheck.check_loss(UserSquaredError(), out, y, w).passed
    gradcheck.assert_loss_gradients(UserSquaredError(), out, y, w)
    for bug in ("half", "mean"):
        report = gradcheck.check_loss(UserSquaredError(bug), out, y, w)
        assert not report.passed and report.where.startswith("output[")
        with pytest.raises(AssertionError, match="UserSquaredError: gradient check FAILED"):
            gradcheck.assert_loss_gradients(UserSquaredError(bug), out, y, w)


class HalfSquaredError(SquaredError):
    """A subclass of a built-in loss overriding the public ``gradient`` (wrongly)."""

    def gradient(self, output, y, sample_weight=None):
        return 0.5 * super().gradient(output, y, sample_weight)


def test_overridden_gradient_of_a_builtin_loss_is_the_one_checked():
    out, y = X[:, :2], X[:, 1:]
    assert not gradcheck.check_loss(HalfSquaredError(), out, y).passed
    with pytest.raises(AssertionError, match="HalfSquaredError: gradient check FAILED"):
        gradcheck.assert_loss_gradients(HalfSquaredError(), out, y)
    np.testing.assert_allclose(HalfSquaredError().gradient(out, y), 0.5 * (out - y))
    # through a network, on the chained path (Tanh is not SquaredError's canonical output)
    net = Sequential([Dense(2), Tanh()], n_in=3, random_state=0)
    assert gradcheck.check_network(net, X, y, SquaredError()).passed
    assert not gradcheck.check_network(net, X, y, HalfSquaredError()).passed


def test_user_loss_through_the_network_check():
    net = Sequential([Dense(2), Tanh(), Dense(2), Identity()], n_in=3, random_state=0)
    y = X[:, :2]
    assert not UserSquaredError().fuses_with(net.layers[-1])  # the chained path
    assert gradcheck.check_network(net, X, y, UserSquaredError(), alpha=0.5).passed
    report = gradcheck.check_network(net, X, y, UserSquaredError("half"), alpha=0.5)
    assert not report.passed


@given(seed=seeds)
@settings(max_examples=10)
def test_report_fields_and_unbuilt_network(seed):
    net = Sequential([Dense(3), Tanh(), Dense(2), Softmax()])
    rng = np.random.RandomState(seed)
    x, y = rng.normal(size=(5, 4)), rng.randint(0, 2, 5)
    report = gradcheck.check_network(net, x, y, LogLoss(), random_state=seed % 2**31)
    assert net.built and net.n_in == 4  # built from x
    assert report.passed and report.n_checked == net.theta.size == 4 * 3 + 3 * 2 + 3 + 2
    assert 0 <= report.max_abs_error <= report.atol + report.rtol * abs(report.numeric) + 1e-7
    assert (report.rtol, report.atol) == (1e-5, 1e-7)
    assert "." in report.where  # named "<layer>.<param>[index]"


def test_float32_network_is_refused():
    net = Sequential([Dense(2)], n_in=2, dtype=np.float32)
    with pytest.raises(ValueError, match="float64"):
        gradcheck.check_network(net, np.ones((2, 2)), np.ones((2, 2)), SquaredError())
    with pytest.raises(ValueError, match="2-D"):
        gradcheck.check_layer(Tanh(), np.ones(3))


@pytest.mark.parametrize("rtol", [0.05, 0.1])
def test_tolerances_are_honoured(rtol):
    # a loose enough tolerance lets the 1% parameter bug through; the default does not
    assert not gradcheck.check_layer(Scale("param"), X).passed
    report = gradcheck.check_layer(Scale("param"), X, rtol=rtol, atol=1e-6)
    assert report.passed and report.rtol == rtol
