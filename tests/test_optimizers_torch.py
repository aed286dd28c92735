"""RMSProp, Adagrad, AdamW, Nadam and gradient clipping against torch.optim on the same gradients.

float64 throughout (torch's default dtype is switched for the scalar state PyTorch
keeps, such as Nadam's ``mu_product``); every step's parameters are compared.
"""

import numpy as np
import pytest

from nnlite import SGD, Adagrad, AdamW, Nadam, RMSProp, schedules

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


CASES = [
    (RMSProp(learning_rate=0.01), torch.optim.RMSprop, {"lr": 0.01}),
    (RMSProp(learning_rate=0.05, rho=0.8, epsilon=1e-3, momentum=0.7, centered=True),
     torch.optim.RMSprop, {"lr": 0.05, "alpha": 0.8, "eps": 1e-3, "momentum": 0.7,
                           "centered": True}),
    (RMSProp(learning_rate=0.02, momentum=0.5), torch.optim.RMSprop,
     {"lr": 0.02, "momentum": 0.5}),
    (Adagrad(learning_rate=0.1), torch.optim.Adagrad, {"lr": 0.1}),
    (Adagrad(learning_rate=0.3, epsilon=1e-3, initial_accumulator_value=0.5),
     torch.optim.Adagrad, {"lr": 0.3, "eps": 1e-3, "initial_accumulator_value": 0.5}),
    (AdamW(), torch.optim.AdamW, {}),
    (AdamW(learning_rate=0.05, beta_1=0.5, beta_2=0.9, epsilon=1e-4, weight_decay=0.3),
     torch.optim.AdamW, {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-4, "weight_decay": 0.3}),
    (Nadam(), torch.optim.NAdam, {}),
    (Nadam(learning_rate=0.05, beta_1=0.8, beta_2=0.95, epsilon=1e-4, momentum_decay=0.1),
     torch.optim.NAdam, {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-4,
                         "momentum_decay": 0.1}),
]


def _compare(ours, torch_cls, kwargs, n_steps=25, size=13, seed=0, clip=None, lr_at=None):
    rng = np.random.RandomState(seed)
    theta = rng.normal(size=size)
    grads = rng.normal(scale=2.0, size=(n_steps, size))
    p = torch.nn.Parameter(torch.tensor(theta.copy()))
    topt = torch_cls([p], foreach=False, **kwargs)
    ours.init(theta)
    for k, g in enumerate(grads):
        p.grad = torch.tensor(g.copy())
        if clip is not None:
            clip(p)
        if lr_at is not None:
            for group in topt.param_groups:
                group["lr"] = lr_at(k)
        topt.step()
        ours.step(theta, g)
        np.testing.assert_allclose(theta, p.detach().numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=f"step {k + 1}")


@pytest.mark.parametrize("ours, torch_cls, kwargs", CASES, ids=lambda c: repr(c)[:40])
def test_same_iterates_as_torch(ours, torch_cls, kwargs):
    _compare(ours, torch_cls, kwargs)


@pytest.mark.parametrize("ours, torch_cls, kwargs", [CASES[i] for i in (0, 3, 5, 7)],
                         ids=lambda c: repr(c)[:40])
def test_same_iterates_as_torch_with_a_schedule(ours, torch_cls, kwargs):
    sched = schedules.CosineDecay(kwargs.get("lr", ours.learning_rate), decay_steps=15,
                                  warmup_steps=4, warmup_start=1e-4)
    ours = type(ours)(**{**ours._params(), "learning_rate": sched})
    _compare(ours, torch_cls, kwargs, lr_at=sched)


def test_sgd_without_nesterov_equals_torch_sgd():
    # torch's buffer b = mu b + g, p -= lr b equals nnlite's v = mu v - lr g at a constant rate
    _compare(SGD(learning_rate=0.05, momentum=0.8, nesterov=False), torch.optim.SGD,
             {"lr": 0.05, "momentum": 0.8})


def test_clip_value_equals_torch_clip_grad_value():
    _compare(AdamW(learning_rate=0.01, weight_decay=0.0, clip_value=0.3), torch.optim.AdamW,
             {"lr": 0.01, "weight_decay": 0.0},
             clip=lambda p: torch.nn.utils.clip_grad_value_(p, 0.3))
    never = RMSProp(learning_rate=0.01, clip_norm=1e9)  # never active: torch's no-op too
    _compare(never, torch.optim.RMSprop, {"lr": 0.01},
             clip=lambda p: torch.nn.utils.clip_grad_norm_(p, 1e9))


def test_clip_norm_against_torch_clip_grad_norm():
    # torch's clip_grad_norm_ scales by max_norm / (norm + 1e-6), nnlite (as Keras and optax)
    # by max_norm / norm: equal to about 1e-6 relative, and nnlite's result has norm max_norm
    rng = np.random.RandomState(4)
    g = rng.normal(scale=5.0, size=30)
    ours = np.zeros(30)
    SGD(learning_rate=1.0, momentum=0.0, clip_norm=2.0).init(ours).step(ours, g)
    t = torch.tensor(g.copy(), requires_grad=False)
    p = torch.nn.Parameter(torch.zeros(30))
    p.grad = t
    torch.nn.utils.clip_grad_norm_(p, 2.0)
    np.testing.assert_allclose(-ours, p.grad.numpy(), rtol=1e-6)   # torch adds 1e-6 to the norm
    assert np.linalg.norm(ours) == pytest.approx(2.0, rel=1e-14)
