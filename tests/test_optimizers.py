"""Optimizers: one SGD step worked by hand, and every update against its closed-form recurrence."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlite import (
    LBFGS,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Dense,
    Identity,
    Nadam,
    ReLU,
    RMSProp,
    Sequential,
    SquaredError,
    schedules,
    train,
)
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


# --- RMSProp, Adagrad, AdamW, Nadam against their closed-form recurrences -----------------

def _run(opt, seed, size, n_steps=7):
    """Steps of ``opt`` from a random start; returns the start, the gradients and the iterates."""
    grads = _grads(seed, n_steps, size)
    theta = np.random.RandomState(seed ^ 1).normal(size=size)
    start = theta.copy()
    opt.init(theta)
    iterates = []
    for g in grads:
        opt.step(theta, g)
        iterates.append(theta.copy())
    return start, grads, iterates


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.6])
@given(seed=seeds, lr=st.floats(1e-3, 0.5), rho=st.floats(0.0, 0.999),
       eps=st.sampled_from([1e-8, 1e-3, 0.5]), size=st.integers(1, 8))
@settings(max_examples=15)
def test_rmsprop_matches_recurrence(centered, momentum, seed, lr, rho, eps, size):
    opt = RMSProp(learning_rate=lr, rho=rho, epsilon=eps, momentum=momentum, centered=centered)
    theta, grads, iterates = _run(opt, seed, size)
    s, a, b = np.zeros(size), np.zeros(size), np.zeros(size)
    for g, got in zip(grads, iterates):
        s = rho * s + (1 - rho) * g**2
        a = a + (1 - rho) * (g - a)
        d = (np.sqrt(np.maximum(s - a**2, 0)) if centered else np.sqrt(s)) + eps
        b = momentum * b + g / d
        theta = theta - lr * (b if momentum else g / d)
        np.testing.assert_allclose(got, theta, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(opt.square_avg, s, rtol=1e-13, atol=1e-15)
    assert (opt.grad_avg is not None) == centered and (opt.momentum_buffer is not None) == (
        momentum > 0)


@given(seed=seeds, lr=st.floats(1e-3, 1.0), eps=st.sampled_from([1e-10, 1e-3, 0.5]),
       acc=st.sampled_from([0.0, 0.1, 2.0]), size=st.integers(1, 8))
@settings(max_examples=20)
def test_adagrad_matches_recurrence(seed, lr, eps, acc, size):
    opt = Adagrad(learning_rate=lr, epsilon=eps, initial_accumulator_value=acc)
    theta, grads, iterates = _run(opt, seed, size)
    s = np.full(size, acc)
    for g, got in zip(grads, iterates):
        s = s + g**2
        theta = theta - lr * g / (np.sqrt(s) + eps)
        np.testing.assert_allclose(got, theta, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(opt.sum, s, rtol=1e-13)


@given(seed=seeds, lr=st.floats(1e-4, 0.5), b1=st.floats(0.0, 0.99), b2=st.floats(0.5, 0.9999),
       eps=st.sampled_from([1e-8, 1e-4, 0.1]), wd=st.sampled_from([0.0, 0.01, 0.5]),
       size=st.integers(1, 8))
@settings(max_examples=20)
def test_adamw_matches_recurrence(seed, lr, b1, b2, eps, wd, size):
    opt = AdamW(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps, weight_decay=wd)
    theta, grads, iterates = _run(opt, seed, size)
    m, v = np.zeros(size), np.zeros(size)
    for t, (g, got) in enumerate(zip(grads, iterates), start=1):
        theta = theta * (1 - lr * wd)            # decoupled: not through the moments
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(got, theta, rtol=1e-11, atol=1e-13)
    assert opt.t == len(grads)


@given(seed=seeds, lr=st.floats(1e-4, 0.5), b1=st.floats(0.0, 0.99), b2=st.floats(0.5, 0.9999),
       eps=st.sampled_from([1e-8, 1e-4, 0.1]), md=st.sampled_from([0.0, 0.004, 0.5]),
       size=st.integers(1, 8))
@settings(max_examples=20)
def test_nadam_matches_recurrence(seed, lr, b1, b2, eps, md, size):
    opt = Nadam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps, momentum_decay=md)
    theta, grads, iterates = _run(opt, seed, size)
    m, v = np.zeros(size), np.zeros(size)
    mus = [b1 * (1 - 0.5 * 0.96 ** (t * md)) for t in range(1, len(grads) + 2)]
    for t, (g, got) in enumerate(zip(grads, iterates), start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        d = np.sqrt(v / (1 - b2**t)) + eps
        prod_t, prod_next = np.prod(mus[:t]), np.prod(mus[:t + 1])
        theta = theta - lr * ((1 - mus[t - 1]) / (1 - prod_t) * g / d
                              + mus[t] / (1 - prod_next) * m / d)
        np.testing.assert_allclose(got, theta, rtol=1e-11, atol=1e-13)
    assert opt.mu_product == pytest.approx(np.prod(mus[:-1]), rel=1e-14)


def test_adamw_differs_from_adam_only_in_epsilons_place():
    # sklearn's Adam adds eps to sqrt(v); PyTorch's AdamW to sqrt(v / (1 - b2^t)).
    # With eps scaled by sqrt(1 - b2^t) per step the two rules agree: check with eps -> 0.
    grads = _grads(3, 5, 4)
    a, w = np.ones(4), np.ones(4)
    adam = Adam(0.01, epsilon=1e-300).init(a)
    adamw = AdamW(0.01, epsilon=1e-300, weight_decay=0.0).init(w)
    for g in grads:
        adam.step(a, g)
        adamw.step(w, g)
    np.testing.assert_allclose(a, w, rtol=1e-13)


STOCHASTIC = [SGD, Adam, AdamW, Nadam, RMSProp, Adagrad]


@pytest.mark.parametrize("cls", STOCHASTIC, ids=lambda c: c.__name__)
def test_clipping_equals_stepping_on_the_clipped_gradient(cls):
    rng = np.random.RandomState(0)
    grads = rng.normal(scale=3.0, size=(5, 6))
    for kwargs in ({"clip_norm": 1.5}, {"clip_value": 0.5}, {"clip_norm": 2.0, "clip_value": 0.5}):
        clipped_theta, plain_theta = np.ones(6), np.ones(6)
        clipped = cls(learning_rate=0.05, **kwargs).init(clipped_theta)
        plain = cls(learning_rate=0.05).init(plain_theta)
        for g in grads:
            before = g.copy()
            c = g.copy()
            norm = np.sqrt(np.sum(c**2))
            if "clip_norm" in kwargs and norm > kwargs["clip_norm"]:
                c = c * (kwargs["clip_norm"] / norm)
            if "clip_value" in kwargs:
                c = np.clip(c, -kwargs["clip_value"], kwargs["clip_value"])
            clipped.step(clipped_theta, g)
            plain.step(plain_theta, c)
            np.testing.assert_array_equal(g, before)          # the caller's gradient is kept
        np.testing.assert_allclose(clipped_theta, plain_theta, rtol=1e-14, atol=1e-15)
        assert not np.allclose(clipped_theta, np.ones(6))


def test_clip_norm_leaves_short_gradients_alone():
    theta_a, theta_b = np.zeros(3), np.zeros(3)
    g = np.array([0.3, -0.4, 0.0])                         # norm 0.5
    SGD(0.1, momentum=0.0, clip_norm=0.5).init(theta_a).step(theta_a, g)
    SGD(0.1, momentum=0.0).init(theta_b).step(theta_b, g)
    np.testing.assert_array_equal(theta_a, theta_b)
    SGD(0.1, momentum=0.0, clip_norm=0.25).init(theta_a).step(theta_a, g)
    np.testing.assert_allclose(theta_a, theta_b - 0.1 * 0.5 * g, rtol=1e-15)


@pytest.mark.parametrize("cls", STOCHASTIC, ids=lambda c: c.__name__)
def test_schedule_gives_base_lr_per_update(cls):
    """A schedule of the update count sets base_lr before every step; a float rate is kept."""
    sched = schedules.StepDecay(0.1, step_size=2, factor=0.5)
    opt = cls(learning_rate=sched).init(np.zeros(3))
    seen = []
    for _ in range(5):
        opt.step(np.zeros(3), np.ones(3))
        seen.append(opt.base_lr)
    assert seen == [0.1, 0.1, 0.05, 0.05, 0.025] and opt.t == 5
    # the same steps with the rate changed by hand between them give the same weights
    theta_s, theta_f = np.ones(3), np.ones(3)
    a = cls(learning_rate=sched).init(theta_s)
    b = cls(learning_rate=0.1).init(theta_f)
    for k, g in enumerate(_grads(1, 5, 3)):
        b.base_lr = sched(k)
        a.step(theta_s, g)
        b.step(theta_f, g)
    np.testing.assert_array_equal(theta_s, theta_f)
    opt.init(np.zeros(3))
    assert opt.base_lr == 0.1 and opt.t == 0


@pytest.mark.parametrize("cls", STOCHASTIC, ids=lambda c: c.__name__)
def test_invscaling_object_keeps_scikit_learn_timing(cls):
    opt = cls(learning_rate=schedules.InvScaling(0.5, power_t=0.5)).init(np.zeros(2))
    opt.step(np.zeros(2), np.ones(2))
    opt.step(np.zeros(2), np.ones(2))
    assert opt.base_lr == 0.5                               # unchanged within the epoch
    opt.iteration_ends(99)
    assert opt.base_lr == 0.5 / 100 ** 0.5


def test_sgd_invscaling_string_equals_invscaling_object():
    grads = _grads(5, 9, 4)
    a, b = np.ones(4), np.ones(4)
    s = SGD(0.3, schedule="invscaling", power_t=0.3).init(a)
    o = SGD(schedules.InvScaling(0.3, power_t=0.3)).init(b)
    for k, g in enumerate(grads):
        s.step(a, g)
        o.step(b, g)
        if k % 3 == 2:
            s.iteration_ends(10 * k)
            o.iteration_ends(10 * k)
            assert s.lr == o.lr == 0.3 / (10 * k + 1) ** 0.3
    np.testing.assert_array_equal(a, b)


def test_adam_base_lr_is_the_rate_before_bias_correction():
    opt = Adam(learning_rate=schedules.Constant(0.01)).init(np.zeros(2))
    opt.step(np.zeros(2), np.ones(2))
    assert opt.base_lr == 0.01
    assert opt.lr == pytest.approx(0.01 * np.sqrt(1 - 0.999) / (1 - 0.9), rel=1e-15)


def test_new_optimizers_validation_and_repr():
    for cls in STOCHASTIC:
        for name in ("clip_norm", "clip_value"):
            for bad in (0, -1.0, float("inf"), float("nan")):
                with pytest.raises(ValueError, match=f"{cls.__name__}: {name} must be"):
                    cls(**{name: bad})
            with pytest.raises(TypeError, match=name):
                cls(**{name: "1"})
        with pytest.raises(TypeError, match="learning_rate must be a real number > 0 or a "
                                            "schedule"):
            cls(learning_rate=lambda t: 0.1)
    with pytest.raises(ValueError, match="rho"):
        RMSProp(rho=1.0)
    with pytest.raises(ValueError, match="momentum"):
        RMSProp(momentum=-0.1)
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        Adagrad(initial_accumulator_value=-1)
    with pytest.raises(ValueError, match="weight_decay"):
        AdamW(weight_decay=-0.1)
    with pytest.raises(ValueError, match="momentum_decay"):
        Nadam(momentum_decay=float("nan"))
    with pytest.raises(ValueError, match="schedule='adaptive' needs a float learning_rate"):
        SGD(learning_rate=schedules.Constant(0.1), schedule="adaptive")
    assert repr(RMSProp(clip_norm=1.0)) == ("RMSProp(learning_rate=0.01, rho=0.99, epsilon=1e-08, "
                                            "momentum=0.0, centered=False, clip_norm=1.0)")
    assert repr(AdamW(schedules.Constant(0.5))).startswith(
        "AdamW(learning_rate=Constant(rate=0.5), beta_1=0.9")


@pytest.mark.parametrize("cls, lr", [(AdamW, 0.01), (Nadam, 0.01), (RMSProp, 0.01),
                                     (Adagrad, 0.1)], ids=lambda c: getattr(c, "__name__", ""))
def test_new_optimizers_train_a_network(cls, lr):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1
    net = Sequential([Dense(8), ReLU(), Dense(1), Identity()])
    h = train(net, X, y, SquaredError(), cls(learning_rate=lr, clip_norm=10.0), epochs=30,
              batch_size=16, random_state=0)
    assert h.loss_curve[-1] < 0.2 * h.loss_curve[0]


@pytest.mark.parametrize("cls", STOCHASTIC, ids=lambda c: c.__name__)
def test_pickled_optimizer_continues_identically(cls):
    grads = _grads(7, 6, 5)
    a = np.ones(5)
    opt = cls(learning_rate=schedules.CosineDecay(0.05, decay_steps=4, warmup_steps=1),
              clip_norm=1.0).init(a)
    for g in grads[:3]:
        opt.step(a, g)
    b, twin = a.copy(), pickle.loads(pickle.dumps(opt))
    for g in grads[3:]:
        opt.step(a, g)
        twin.step(b, g)
    np.testing.assert_array_equal(a, b)
    assert twin.t == opt.t == 6 and twin.base_lr == opt.base_lr
