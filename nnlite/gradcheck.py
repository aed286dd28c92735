"""Gradient checks by finite differences, for layers, losses and whole networks.

Two kinds of check:

* the **full** check perturbs every input entry and parameter one at a time
  (two evaluations each) and compares every partial derivative;
* the **directional** check perturbs everything at once along one random
  direction ``d`` (two evaluations in all) and compares ``grad . d``.  It is
  cheap enough for large networks and still catches a wrong gradient with
  probability one.

Every evaluation runs in training mode (``forward(x, train=True)``), the mode
whose gradient ``backward`` computes, with the randomness and the state held
fixed: before each evaluation the layers' generators are put back
(:meth:`~nnlite.Layer.get_rng_state` / :meth:`~nnlite.Layer.set_rng_state`, so
dropout draws the same mask every time) and their non-trainable state (running
statistics) is restored; after the check both are as they were before it.  A
layer with ``differentiable_input = False`` (an embedding's codes) has no input
gradient to check.

Each ``check_*`` function returns a :class:`GradCheckReport`; each
``assert_*`` twin raises :class:`AssertionError` with a readable message when
the check fails.  Central differences are exact for quadratics; use float64
and smooth points (ReLU's kink at 0 has no derivative).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from . import _validation
from .init import check_random_state

__all__ = [
    "GradCheckReport",
    "check_layer", "check_loss", "check_network", "check_network_directional",
    "assert_layer_gradients", "assert_loss_gradients", "assert_network_gradients",
    "assert_network_gradients_directional",
]


@dataclass
class GradCheckReport:
    """Outcome of a gradient check.

    Attributes
    ----------
    max_abs_error : float
        Largest ``|analytic - numeric|``.
    max_rel_error : float
        Largest ``|analytic - numeric| / max(|analytic|, |numeric|)`` over the
        entries where that denominator exceeds ``atol``.
    where : str
        The entry with the worst error relative to the tolerance.
    analytic, numeric : float
        The two values at ``where``.
    n_checked : int
        Number of derivatives compared.
    passed : bool
        Every entry satisfied ``|analytic - numeric| <= atol + rtol * |numeric|``.
    rtol, atol : float
        The tolerances used.
    """

    max_abs_error: float
    max_rel_error: float
    where: str
    analytic: float
    numeric: float
    n_checked: int
    passed: bool
    rtol: float
    atol: float

    def __str__(self):
        state = "passed" if self.passed else "FAILED"
        return (f"gradient check {state}: {self.n_checked} derivatives, max abs error "
                f"{self.max_abs_error:.3g}, max rel error {self.max_rel_error:.3g}; worst at "
                f"{self.where}: analytic {self.analytic:.10g} vs numeric {self.numeric:.10g} "
                f"(rtol={self.rtol:g}, atol={self.atol:g})")


class _Comparison:
    """Accumulates (name, analytic, numeric) triples into a report."""

    def __init__(self, rtol, atol):
        self.rtol, self.atol = rtol, atol
        self.parts = []

    def add(self, name, analytic, numeric):
        self.parts.append((name, np.asarray(analytic, float).ravel(),
                           np.asarray(numeric, float).ravel()))

    def report(self):
        best = None
        max_abs = max_rel = 0.0
        n = 0
        passed = True
        for name, a, num in self.parts:
            n += a.size
            if a.size == 0:
                continue
            err = np.abs(a - num)
            bound = self.atol + self.rtol * np.abs(num)
            ratio = np.where(np.isfinite(err), err / bound, np.inf)
            k = int(np.argmax(ratio))
            passed &= bool(np.all(ratio <= 1))
            max_abs = max(max_abs, float(np.nanmax(np.where(np.isfinite(err), err, np.inf))))
            denom = np.maximum(np.abs(a), np.abs(num))
            rel = np.where(denom > self.atol, err / np.where(denom > 0, denom, 1), 0.0)
            max_rel = max(max_rel, float(np.max(rel)))
            if best is None or ratio[k] > best[0]:
                best = (ratio[k], f"{name}[{k}]", a[k], num[k])
        if best is None:
            best = (0.0, "nothing", 0.0, 0.0)
        return GradCheckReport(max_abs, max_rel, best[1], float(best[2]), float(best[3]),
                               n, passed, self.rtol, self.atol)


def _central_differences(f, x, eps):
    """Numeric gradient of scalar ``f()`` with respect to array ``x`` (perturbed in place)."""
    g = np.zeros(x.size)
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        g[i] = (fp - fm) / (2 * eps)
    return g.reshape(x.shape)


def _as_float64(x, where, n_features=None, name="x"):
    """A validated, dense, writable float64 copy of ``x`` (the checks perturb it in place)."""
    x = _validation.check_X(x, where, n_features=n_features, name=name)
    return np.array(x.toarray() if sparse.issparse(x) else x, dtype=np.float64)


class _Held:
    """The random generators and the state of ``layer``, put back by :meth:`restore`."""

    def __init__(self, layer):
        self.layer = layer
        self.rng_state = copy.deepcopy(layer.get_rng_state())
        self.state = {k: v.copy() for k, v in layer.state.items()}

    def restore(self):
        self.layer.set_rng_state(copy.deepcopy(self.rng_state))
        for k, v in self.layer.state.items():
            v[...] = self.state[k]
def _inputs_as_float64(x, where, widths, n_inputs):
    """Several inputs validated, each as a dense writable float64 copy (a list)."""
    x = _validation.check_input_list(x, where, widths, n_inputs)
    return [np.array(a.toarray() if sparse.issparse(a) else a, dtype=np.float64)
            for a in x.arrays]


def _check_tolerances(where, eps, rtol, atol):
    _validation.check_real(eps, where, "eps", low=0, low_open=True)
    _validation.check_real(rtol, where, "rtol", low=0)
    _validation.check_real(atol, where, "atol", low=0)


def check_layer(layer, x, *, eps=1e-6, rtol=1e-5, atol=1e-7, random_state=0):
    """Full finite-difference check of a layer's input and parameter gradients.

    The scalar checked is ``sum(r * layer.forward(x))`` for a fixed random
    ``r``, whose gradient ``backward(r)`` must return (input) and write into
    ``layer.grads`` (parameters).

    Parameters
    ----------
    layer : Layer
        Built or not (an unbuilt layer is built in float64 from ``x``).
    x : array-like of shape (n_samples, n_in)
        For a layer with several inputs (``Add``, a Graph with several inputs), a
        list of arrays; their gradients are reported as ``"input[k]"``.
    eps : float, default=1e-6
        Finite-difference step.
    rtol, atol : float
        Entry ``i`` passes if ``|analytic_i - numeric_i| <= atol + rtol |numeric_i|``.
    random_state : int, default=0
        Seed of the projection ``r``.

    Returns
    -------
    GradCheckReport
    """
    where = "gradcheck.check_layer"
    _check_tolerances(where, eps, rtol, atol)
    known = layer.n_in if layer.params else None
    if layer.n_inputs == 1:
        x = _as_float64(x, where, getattr(layer, "input_widths", (known,))[0])
        inputs, width = [x], x.shape[1]
    else:
        x = inputs = _inputs_as_float64(x, where, getattr(layer, "input_widths", known),
                                        layer.n_inputs)
        width = tuple(a.shape[1] for a in inputs)
    if not layer.built:
        layer.build(width, random_state=random_state)
    rng = check_random_state(random_state)
    held = _Held(layer)
    try:
        out = layer.forward(x, train=True)
        r = rng.normal(size=out.shape)

        def f():
            held.restore()
            return float(np.sum(r * layer.forward(x, train=True)))

        held.restore()
        layer.forward(x, train=True)
        grad_in = layer.backward(r.copy())
        grad_in = [grad_in] if layer.n_inputs == 1 else list(grad_in)
        analytic = {k: v.copy() for k, v in layer.grads.items()}
        cmp = _Comparison(rtol, atol)
        if layer.differentiable_input:
            for k, a in enumerate(inputs):
                name = "input" if layer.n_inputs == 1 else f"input[{k}]"
                cmp.add(name, grad_in[k], _central_differences(f, a, eps))
        for name, p in layer.params.items():
            cmp.add(name, analytic[name], _central_differences(f, p, eps))
    finally:
        held.restore()
    return cmp.report()


def check_loss(loss, output, y, sample_weight=None, *, eps=1e-6, rtol=1e-5, atol=1e-7):
    """Full finite-difference check of ``loss.gradient`` against ``loss.value``.

    ``gradient`` is the derivative of the weighted *sum* of the per-sample
    losses, i.e. of ``value * S`` with ``S`` the number of samples or the
    weight total.

    Parameters
    ----------
    loss : Loss
    output : array-like of shape (n_samples, n_outputs)
        Where to check (inside the loss's domain: probabilities in (0, 1) for
        the log losses, positive values for Poisson).
    y : array-like of shape (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    GradCheckReport
    """
    where = "gradcheck.check_loss"
    _check_tolerances(where, eps, rtol, atol)
    if not callable(getattr(loss, "_check_args", None)):
        raise TypeError(f"{where}: loss must be an nnlite Loss; got {loss!r}.")
    output = _as_float64(output, where, name="output")
    _, y, w = loss._check_args("value", output, y, sample_weight)
    y = np.asarray(y, dtype=np.float64)
    cmp = _Comparison(rtol, atol)
    total = len(output) if w is None else float(np.sum(w))
    numeric = _central_differences(lambda: loss._value(output, y, w) * total, output, eps)
    cmp.add("output", loss._gradient(output.copy(), y, w), numeric)
    return cmp.report()


def _objective(net, x, y, loss, alpha, w, held):
    def f():
        held.restore()
        return net._loss_and_grad(x, y, loss, alpha, w)[0]
    return f


def _prepare_network(where, net, x, y, loss, alpha, sample_weight, random_state):
    if not callable(getattr(net, "_loss_and_grad", None)):
        raise TypeError(f"{where}: net must be an nnlite Sequential or Graph; got "
                        f"{type(net).__name__}.")
    x, y, sample_weight, alpha = _validation.check_objective(
        net, where, x, y, loss, alpha, sample_weight)
    if isinstance(x, _validation.Inputs):  # several inputs
        x = _validation.Inputs(_inputs_as_float64(x, where, None, len(x.arrays)))
    else:
        x = _as_float64(x, where)
    if not net.built:
        net.build(x.shape[1], dtype=np.float64, random_state=random_state)
    if net.dtype != np.float64:
        raise ValueError("gradcheck: the network must be float64 for a meaningful check.")
    y = y.astype(np.float64)
    return x, y, sample_weight, alpha


def check_network(net, x, y, loss, *, alpha=0.0, sample_weight=None, eps=1e-6, rtol=1e-5,
                  atol=1e-7, random_state=0):
    """Full finite-difference check of ``net.loss_and_grad`` over every parameter.

    Checks the whole objective the optimizers see: the loss (fused with the
    output layer where canonical), its sample weights and the L2 penalty.

    Parameters
    ----------
    net : Sequential or Graph
        A float64 network (an unbuilt one is built from ``x``).
    x : array-like of shape (n_samples, n_in)
        For a Graph with several inputs, a list of arrays (one per input).
    y : array-like
        Target in the loss's format.
    loss : Loss
    alpha : float, default=0.0
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    GradCheckReport
        Entries are named ``"<layer>.<param>"``.
    """
    where = "gradcheck.check_network"
    _check_tolerances(where, eps, rtol, atol)
    x, y, w, alpha = _prepare_network(where, net, x, y, loss, alpha, sample_weight, random_state)
    held = _Held(net)
    f = _objective(net, x, y, loss, alpha, w, held)
    try:
        f()
        analytic = {k: v.copy() for k, v in net.named_gradients().items()}
        cmp = _Comparison(rtol, atol)
        for name, p in net.named_parameters().items():
            cmp.add(name, analytic[name], _central_differences(f, p, eps))
    finally:
        held.restore()
    return cmp.report()


def check_network_directional(net, x, y, loss, *, alpha=0.0, sample_weight=None, n_directions=1,
                              eps=1e-6, rtol=1e-5, atol=1e-7, random_state=0):
    """Cheap check along random directions: ``grad @ d`` against a central difference.

    Costs ``2 * n_directions`` evaluations whatever the size of the network.

    Parameters
    ----------
    net, x, y, loss, alpha, sample_weight
        As in :func:`check_network`.
    n_directions : int, default=1
        Number of random unit directions tried.

    Returns
    -------
    GradCheckReport
        Entries are named ``"direction"``.
    """
    where = "gradcheck.check_network_directional"
    _check_tolerances(where, eps, rtol, atol)
    n_directions = _validation.check_int(n_directions, where, "n_directions")
    x, y, w, alpha = _prepare_network(where, net, x, y, loss, alpha, sample_weight, random_state)
    rng = check_random_state(random_state)
    theta = net.theta
    origin = theta.copy()
    held = _Held(net)
    f = _objective(net, x, y, loss, alpha, w, held)
    try:
        f()
        grad = net.grad.copy()
        analytic, numeric = [], []
        for _ in range(n_directions):
            d = rng.normal(size=theta.size)
            d /= np.linalg.norm(d)
            theta[...] = origin + eps * d
            fp = f()
            theta[...] = origin - eps * d
            fm = f()
            theta[...] = origin
            analytic.append(grad @ d)
            numeric.append((fp - fm) / (2 * eps))
        f()  # leave the gradient buffer as it was
    finally:
        theta[...] = origin
        held.restore()
    cmp = _Comparison(rtol, atol)
    cmp.add("direction", analytic, numeric)
    return cmp.report()


def _raise_if_failed(report, what):
    if not report.passed:
        raise AssertionError(f"{what}: {report}")
    return report


def assert_layer_gradients(layer, x, **kwargs):
    """:func:`check_layer`, raising ``AssertionError`` when it fails; returns the report."""
    return _raise_if_failed(check_layer(layer, x, **kwargs), f"{type(layer).__name__}")


def assert_loss_gradients(loss, output, y, sample_weight=None, **kwargs):
    """:func:`check_loss`, raising ``AssertionError`` when it fails; returns the report."""
    return _raise_if_failed(check_loss(loss, output, y, sample_weight, **kwargs),
                            f"{type(loss).__name__}")


def assert_network_gradients(net, x, y, loss, **kwargs):
    """:func:`check_network`, raising ``AssertionError`` when it fails; returns the report."""
    return _raise_if_failed(check_network(net, x, y, loss, **kwargs), "network")


def assert_network_gradients_directional(net, x, y, loss, **kwargs):
    """:func:`check_network_directional`, raising ``AssertionError`` when it fails."""
    return _raise_if_failed(check_network_directional(net, x, y, loss, **kwargs),
                            "network (directional)")
