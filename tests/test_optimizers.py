"""Optimizers: one SGD step worked by hand, and every update against its closed-form recurrence."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlite import LBFGS, SGD, Adam, Dense, Identity, ReLU, Sequential, SquaredError
from tests.strategies import seeds


def _tiny_net():
    """The 3-2-1 network of the hand-worked example, with its weights set by hand."""
    net = Sequential([Dense(2), ReLU(), Dense(1), Identity()], n_in=3)
    p = net.named_parameters()
    p["0.W"][...] = [[0.5, -1.0], [1.0, 1.5], [0.25, 0.5]]
    p["0.b"][...] = [0.0, -0.25]
    p["2.W"][...] = [[0.5], [-1.0]]
    p["2.b"][...] = [0.25]
    return net


@pytest.mark.parametrize("nesterov", [True, False])
def test_one_sgd_step_worked_by_hand(nesterov):
    net = _tiny_net()
    X = np.array([[1.0, 0.0, 2.0],
                  [0.0, 1.0, -1.0]])
    y = np.array([[1.0], [0.0]])
    alpha, lr, mu = 0.5, 0.5, 0.5
    # Every number below is a short binary fraction, so float64 holds it exactly.
    #
    # Forward.  z1 = X @ W1 + b1
    #   sample 1, x = (1, 0, 2):  (0.5 + 2*0.25 + 0,  -1 + 2*0.5 - 0.25)  = (1.0, -0.25)
    #   sample 2, x = (0, 1, -1): (1 - 0.25 + 0,     1.5 - 0.5 - 0.25)   = (0.75, 0.75)
    # h = relu(z1) = (1, 0) and (0.75, 0.75)
    # out = h @ W2 + b2:  1*0.5 + 0*(-1) + 0.25 = 0.75;  0.75*0.5 - 0.75 + 0.25 = -0.125
    # delta = out - y = (-0.25, -0.125)      (Identity + SquaredError: fused p - y)
    #
    # Objective: mean of 0.5*delta^2 = (0.03125 + 0.0078125)/2 = 0.01953125
    #   ||W1||^2 = 0.25+1+1+2.25+0.0625+0.25 = 4.8125, ||W2||^2 = 0.25+1 = 1.25, sum 6.0625
    #   penalty 0.5*alpha*6.0625/n = 0.25*6.0625/2 = 0.7578125
    #   value = 0.01953125 + 0.7578125 = 0.77734375
    #
    # Output layer (sum over samples, then + alpha*W, then / n = 2):
    #   gW2 = h^T delta = (1*-0.25 + 0.75*-0.125, 0*-0.25 + 0.75*-0.125) = (-0.34375, -0.09375)
    #         + alpha*W2 = (0.25, -0.5)  ->  (-0.09375, -0.59375)  / 2 -> (-0.046875, -0.296875)
    #   gb2 = (-0.25 - 0.125) / 2 = -0.1875
    # Backpropagate: delta @ W2^T = (-0.125, 0.25) and (-0.0625, 0.125);
    #   relu mask (1, 0) and (1, 1)  ->  d1 = (-0.125, 0) and (-0.0625, 0.125)
    #   gW1 = X^T d1: row 0 = 1*d1_1                = (-0.125, 0)
    #                 row 1 = 1*d1_2                = (-0.0625, 0.125)
    #                 row 2 = 2*d1_1 - 1*d1_2       = (-0.1875, -0.125)
    #         + alpha*W1 = ((0.25, -0.5), (0.5, 0.75), (0.125, 0.25))
    #         = ((0.125, -0.5), (0.4375, 0.875), (-0.0625, 0.125))  / 2
    #         = ((0.0625, -0.25), (0.21875, 0.4375), (-0.03125, 0.0625))
    #   gb1 = (-0.125 - 0.0625, 0 + 0.125) / 2 = (-0.09375, 0.0625)
    value, grad = net.loss_and_grad(X, y, SquaredError(), alpha=alpha)
    assert value == 0.77734375
    g = net.named_gradients()
    np.testing.assert_array_equal(g["0.W"], [[0.0625, -0.25], [0.21875, 0.4375],
                                             [-0.03125, 0.0625]])
    np.testing.assert_array_equal(g["0.b"], [-0.09375, 0.0625])
    np.testing.assert_array_equal(g["2.W"], [[-0.046875], [-0.296875]])
    np.testing.assert_array_equal(g["2.b"], [-0.1875])

    # SGD from zero velocity: v = mu*0 - lr*g = -0.5 g
    #   plain momentum:  theta += v               = -0.5 g
    #   Nesterov:        theta += mu*v - lr*g     = -0.25 g - 0.5 g = -0.75 g
    opt = SGD(learning_rate=lr, momentum=mu, nesterov=nesterov).init(net.theta)
    opt.step(net.theta, grad)
    np.testing.assert_array_equal(opt.velocity, -0.5 * np.concatenate(
        [[0.0625, -0.25, 0.21875, 0.4375, -0.03125, 0.0625, -0.046875, -0.296875],
         [-0.09375, 0.0625, -0.1875]]))
    p = net.named_parameters()
    if nesterov:
        # W1 - 0.75 gW1: 0.5-0.046875, -1+0.1875, 1-0.1640625, 1.5-0.328125,
        #                0.25+0.0234375, 0.5-0.046875
        np.testing.assert_array_equal(p["0.W"], [[0.453125, -0.8125], [0.8359375, 1.171875],
                                                 [0.2734375, 0.453125]])
        # b1 - 0.75 gb1 = (0 + 0.0703125, -0.25 - 0.046875)
        np.testing.assert_array_equal(p["0.b"], [0.0703125, -0.296875])
        # W2 - 0.75 gW2 = (0.5 + 0.03515625, -1 + 0.22265625); b2 = 0.25 + 0.140625
        np.testing.assert_array_equal(p["2.W"], [[0.53515625], [-0.77734375]])
        np.testing.assert_array_equal(p["2.b"], [0.390625])
    else:
        # W1 - 0.5 gW1, b1 - 0.5 gb1, W2 - 0.5 gW2, b2 - 0.5 gb2
        np.testing.assert_array_equal(p["0.W"], [[0.46875, -0.875], [0.890625, 1.28125],
                                                 [0.265625, 0.46875]])
        np.testing.assert_array_equal(p["0.b"], [0.046875, -0.28125])
        np.testing.assert_array_equal(p["2.W"], [[0.5234375], [-0.8515625]])
        np.testing.assert_array_equal(p["2.b"], [0.34375])


def _grads(seed, n_steps, size):
    return np.random.RandomState(seed).normal(size=(n_steps, size))


@pytest.mark.parametrize("nesterov", [False, True])
@given(seed=seeds, lr=st.floats(1e-3, 1.0), mu=st.floats(0.0, 0.99), size=st.integers(1, 8))
@settings(max_examples=20)
def test_sgd_matches_recurrence(nesterov, seed, lr, mu, size):
    grads = _grads(seed, 6, size)
    theta = np.random.RandomState(seed ^ 1).normal(size=size)
    opt = SGD(learning_rate=lr, momentum=mu, nesterov=nesterov).init(theta)
    ref, v = theta.copy(), np.zeros(size)
    for g in grads:
        opt.step(theta, g)
        v = mu * v - lr * g
        ref = ref + (mu * v - lr * g if nesterov else v)
        np.testing.assert_allclose(opt.velocity, v, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(theta, ref, rtol=1e-13, atol=1e-15)


def test_sgd_invscaling_schedule():
    lr0, power_t, n = 0.3, 0.25, 7
    theta = np.zeros(3)
    opt = SGD(learning_rate=lr0, momentum=0.0, schedule="invscaling", power_t=power_t)
    opt.init(theta)
    ref = theta.copy()
    g = np.array([1.0, -2.0, 0.5])
    t = 0
    for _ in range(4):
        lr = lr0 / (t + 1) ** power_t if t else lr0  # the first epoch runs at lr0
        assert opt.lr == pytest.approx(lr, rel=1e-14)
        opt.step(theta, g)
        ref -= lr * g
        t += n  # samples seen at the end of this epoch
        opt.iteration_ends(t)
        assert opt.lr == pytest.approx(lr0 / (t + 1) ** power_t, rel=1e-14)
    np.testing.assert_allclose(theta, ref, rtol=1e-13)
    # the constant schedule ignores iteration_ends
    const = SGD(learning_rate=lr0).init(theta)
    const.iteration_ends(100)
    assert const.lr == lr0


def test_sgd_adaptive_trigger_stopping(capsys):
    opt = SGD(learning_rate=0.1, schedule="adaptive").init(np.zeros(2))
    # lr is divided by 5 at each trigger while lr > 1e-6: 0.1/5**k <= 1e-6 first at k = 8
    for k in range(1, 9):
        assert opt.trigger_stopping("stalled.", verbose=False) is False
        assert opt.lr == pytest.approx(0.1 / 5**k, rel=1e-14)
    assert opt.lr <= 1e-6 < opt.lr * 5
    assert opt.trigger_stopping("stalled.", verbose=True) is True
    assert "Learning rate too small. Stopping." in capsys.readouterr().out
    # a new init restores the initial learning rate
    opt.init(np.zeros(2))
    assert opt.lr == 0.1
    assert opt.trigger_stopping("stalled.", verbose=True) is False
    assert "Setting learning rate to 0.020000" in capsys.readouterr().out
    # other schedules and Adam stop at once
    assert SGD(schedule="invscaling").trigger_stopping("x", False) is True
    assert SGD().trigger_stopping("x", False) is True
    assert Adam().trigger_stopping("x", False) is True


@given(seed=seeds, lr=st.floats(1e-4, 0.5), b1=st.floats(0.0, 0.99), b2=st.floats(0.5, 0.9999),
       eps=st.sampled_from([1e-8, 1e-4, 0.1]), size=st.integers(1, 8))
@settings(max_examples=20)
def test_adam_matches_recurrence(seed, lr, b1, b2, eps, size):
    grads = _grads(seed, 8, size)
    theta = np.random.RandomState(seed ^ 1).normal(size=size)
    opt = Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps).init(theta)
    ref, m, v = theta.copy(), np.zeros(size), np.zeros(size)
    for t, g in enumerate(grads, start=1):
        opt.step(theta, g)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        ref = ref - lr_t * m / (np.sqrt(v) + eps)
        assert opt.t == t
        assert opt.lr == pytest.approx(lr_t, rel=1e-14)
        np.testing.assert_allclose(opt.m, m, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(opt.v, v, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(theta, ref, rtol=1e-12, atol=1e-14)


def test_adam_first_step_moves_every_coordinate_by_about_lr():
    # with bias correction, step 1 is lr * g/|g| (up to epsilon), whatever the scale of g
    theta = np.zeros(3)
    Adam(learning_rate=0.01).init(theta).step(theta, np.array([0.1, -5.0, 300.0]))
    np.testing.assert_allclose(theta, [-0.01, 0.01, -0.01], rtol=1e-5)


def test_init_resets_state():
    theta = np.zeros(2)
    adam = Adam().init(theta)
    adam.step(theta, np.ones(2))
    adam.init(theta)
    assert adam.t == 0 and not adam.m.any() and not adam.v.any()
    sgd = SGD().init(theta)
    sgd.step(theta, np.ones(2))
    sgd.init(theta)
    assert not sgd.velocity.any()


def test_optimizer_validation_and_repr():
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="learning_rate"):
            SGD(learning_rate=bad)
    for bad in (True, "0.1", None):  # not a number at all: a type error
        with pytest.raises(TypeError, match="learning_rate must be a real number"):
            SGD(learning_rate=bad)
    with pytest.raises(ValueError, match="momentum"):
        SGD(momentum=1.5)
    with pytest.raises(ValueError, match="schedule"):
        SGD(schedule="cosine")
    with pytest.raises(ValueError, match="beta_1"):
        Adam(beta_1=1.0)
    with pytest.raises(ValueError, match="maxiter"):
        LBFGS(maxiter=0)
    assert repr(Adam()) == ("Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, "
                            "epsilon=1e-08)")
    assert "nesterov=True" in repr(SGD())
    with pytest.raises(TypeError, match="minimize"):
        LBFGS().step(np.zeros(1), np.zeros(1))


def test_lbfgs_minimizes_a_quadratic_and_keeps_its_result():
    a = np.array([1.0, 10.0, 100.0])

    def fun(x):
        return 0.5 * float(a @ (x - 1) ** 2), a * (x - 1)

    opt = LBFGS(maxiter=100, gtol=1e-10)
    res = opt.minimize(fun, np.zeros(3))
    assert res.success and opt.result_ is res
    np.testing.assert_allclose(res.x, 1.0, rtol=1e-6)
    assert LBFGS().stochastic is False and SGD().stochastic is True
