"""Learning-rate schedules: values from their definitions, validation, and use in training."""

import math

import numpy as np
import pytest

import nnlite
from nnlite import SGD, Adam, Dense, Identity, Sequential, SquaredError, Tanh, train
from nnlite.schedules import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    InvScaling,
    Schedule,
    StepDecay,
)


def test_values_follow_the_definitions():
    assert [Constant(0.3)(t) for t in (0, 7, 10**6)] == [0.3] * 3
    inv = InvScaling(0.5, power_t=0.25)
    assert [inv(t) for t in (0, 15, 80)] == [0.5, 0.5 / 16**0.25, 0.5 / 81**0.25]
    exp = ExponentialDecay(2.0, decay_rate=0.5, decay_steps=4)
    assert [exp(t) for t in (0, 2, 4, 8)] == [2.0, 2.0 * 0.5**0.5, 1.0, 0.5]
    stair = ExponentialDecay(2.0, decay_rate=0.5, decay_steps=4, staircase=True)
    assert [stair(t) for t in (0, 3, 4, 7, 8)] == [2.0, 2.0, 1.0, 1.0, 0.5]
    step = StepDecay(1.0, step_size=3, factor=0.1)
    assert [step(t) for t in (0, 2, 3, 6)] == [1.0, 1.0, 0.1, 1.0 * 0.1**2]
    cos = CosineDecay(1.0, decay_steps=8, final_rate=0.2)
    for t in (0, 3, 8, 20):
        s = min(t, 8)
        assert cos(t) == pytest.approx(0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi * s / 8)),
                                       rel=1e-15)
    assert cos(0) == 1.0 and cos(8) == 0.2 and cos(100) == 0.2


def test_cosine_warm_up_is_linear_and_ends_at_the_peak():
    s = CosineDecay(0.4, decay_steps=10, warmup_steps=4, warmup_start=0.1)
    assert [s(t) for t in range(5)] == pytest.approx([0.1, 0.175, 0.25, 0.325, 0.4], rel=1e-15)
    assert s(4) == 0.4 and s(14) == 0.0
    rates = [s(t) for t in range(4, 15)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))      # decays monotonically


@pytest.mark.parametrize("make, match", [
    (lambda: Constant(0), "Constant: rate must be a finite number > 0"),
    (lambda: Constant("0.1"), "Constant: rate must be a real number"),
    (lambda: InvScaling(-1.0), "InvScaling: initial_rate must be a finite number > 0"),
    (lambda: InvScaling(0.1, power_t=-0.5), "InvScaling: power_t must be a finite number >= 0"),
    (lambda: ExponentialDecay(0.1, 0.0, 10), "decay_rate must be a finite number > 0"),
    (lambda: ExponentialDecay(0.1, 1.5, 10), r"decay_rate must be in \(0, 1\]"),
    (lambda: ExponentialDecay(0.1, 0.5, 0), "decay_steps must be >= 1"),
    (lambda: ExponentialDecay(0.1, 0.5, 2.5), "decay_steps must be an int"),
    (lambda: StepDecay(0.1, 0), "StepDecay: step_size must be >= 1"),
    (lambda: StepDecay(0.1, 5, factor=2.0), r"factor must be in \(0, 1\]"),
    (lambda: StepDecay(float("nan"), 5), "initial_rate must be a finite number > 0"),
    (lambda: CosineDecay(0.1, 0), "decay_steps must be >= 1"),
    (lambda: CosineDecay(0.1, 10, final_rate=0.2), r"final_rate must be in \[0, initial_rate\]"),
    (lambda: CosineDecay(0.1, 10, warmup_steps=-1), "warmup_steps must be >= 0"),
    (lambda: CosineDecay(0.1, 10, warmup_start=-0.1), "warmup_start must be a finite number"),
])
def test_invalid_parameters_are_refused(make, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make()


def test_not_at_top_level_and_repr():
    assert nnlite.Constant is not Constant                    # the initialiser keeps the name
    assert not hasattr(nnlite, "CosineDecay")
    assert repr(StepDecay(0.1, 5)) == "StepDecay(initial_rate=0.1, step_size=5, factor=0.1)"
    assert StepDecay(0.1, 5) == StepDecay(0.1, 5) != StepDecay(0.1, 6)


def test_a_user_schedule_and_training_records_the_rate():
    class Halving(Schedule):
        def __call__(self, count):
            return 0.1 / 2 ** (count // 3)

    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 2))
    y = X.sum(axis=1)
    opt = Adam(learning_rate=Halving())
    train(Sequential([Dense(4), Tanh(), Dense(1), Identity()]), X, y, SquaredError(), opt,
          batch_size=10, epochs=2, random_state=0)
    assert opt.t == 6 and opt.base_lr == 0.1 / 2       # the 6th update used count 5


def test_scheduled_sgd_trains_like_a_hand_set_rate():
    """One epoch per call with the rate set by hand equals the schedule across epochs."""
    rng = np.random.RandomState(1)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, 0.5, -1.0])
    sched = ExponentialDecay(0.05, decay_rate=0.5, decay_steps=4, staircase=True)
    a = Sequential([Dense(5), Tanh(), Dense(1), Identity()])
    b = Sequential([Dense(5), Tanh(), Dense(1), Identity()])
    train(a, X, y, SquaredError(), SGD(sched), batch_size=10, epochs=3, shuffle=False,
          random_state=0)
    opt = SGD(0.05)
    for epoch in range(3):
        for k in range(4):                                   # 4 batches of 10 per epoch
            if epoch == 0 and k == 0:
                b.build(3, random_state=np.random.RandomState(0))
                opt.init(b.theta)
            opt.base_lr = sched(4 * epoch + k)
            _, grad = b.loss_and_grad(X[10 * k:10 * (k + 1)], y[10 * k:10 * (k + 1)],
                                      SquaredError())
            opt.step(b.theta, grad)
    np.testing.assert_array_equal(a.theta, b.theta)
