"""ONNX exporters of the dropout, normalisation, embedding and smooth activation layers.

onnxruntime has no float64 kernels for ``Elu``, ``Softplus`` or ``LeakyRelu``,
so these are written with elementary operators it runs in both precisions, in
the formulas the layers compute (``expm1`` and ``log1p`` by Kahan's accurate
identities, as ONNX has neither).  It has no float64 ``Erf`` either: GELU's
erf is a series of elementary operations in float64.
"""

from __future__ import annotations

import numpy as np
import onnx

from ..layers import (
    ELU,
    GELU,
    BatchNorm,
    Dropout,
    Embedding,
    LayerNorm,
    LeakyReLU,
    SiLU,
    Softplus,
)
from ._layers import _logistic
from ._registry import register_exporter


@register_exporter(Dropout)
def _dropout(ctx, layer, x):
    return x  # the identity at prediction


@register_exporter(LeakyReLU)
def _leaky_relu(ctx, layer, x):
    positive = ctx.node("Greater", [x, ctx.constant(0.0, "zero")], "positive")
    scaled = ctx.node("Mul", [ctx.constant(layer.negative_slope, "slope"), x], "scaled")
    return ctx.node("Where", [positive, x, scaled], "leaky_relu")


def _expm1(ctx, m):
    """``exp(m) - 1`` for ``m <= 0``, accurate near 0: ``(u - 1) * m / log(u)``, ``u = e^m``."""
    u = ctx.node("Exp", [m], "u")
    one = ctx.constant(1.0, "one")
    ratio = ctx.node("Div", [ctx.node("Sub", [u, one], "u_minus_1"),
                             ctx.node("Log", [u], "log_u")], "ratio")
    value = ctx.node("Mul", [ratio, m], "expm1")
    value = ctx.node("Where", [ctx.node("Equal", [u, one], "u_is_1"), m, value], "expm1")
    zero = ctx.constant(0.0, "zero")
    return ctx.node("Where", [ctx.node("Equal", [u, zero], "u_is_0"),
                              ctx.constant(-1.0, "minus_one"), value], "expm1")


def _log1p(ctx, y):
    """``log(1 + y)`` for ``y >= 0``, accurate near 0: ``y * log(u) / (u - 1)``, ``u = 1 + y``."""
    one = ctx.constant(1.0, "one")
    u = ctx.node("Add", [one, y], "u")
    value = ctx.node("Mul", [y, ctx.node("Div", [ctx.node("Log", [u], "log_u"),
                                                  ctx.node("Sub", [u, one], "u_minus_1")])],
                     "log1p")
    return ctx.node("Where", [ctx.node("Equal", [u, one], "u_is_1"), y, value], "log1p")


@register_exporter(ELU)
def _elu(ctx, layer, x):
    zero = ctx.constant(0.0, "zero")
    negative = ctx.node("Mul", [ctx.constant(layer.alpha, "alpha"),
                                _expm1(ctx, ctx.node("Min", [x, zero], "negative_part"))])
    return ctx.node("Where", [ctx.node("Greater", [x, zero], "positive"), x, negative], "elu")


@register_exporter(Softplus)
def _softplus(ctx, layer, x):
    # numpy's logaddexp(0, x): max(x, 0) + log1p(exp(-|x|))
    tail = _log1p(ctx, ctx.node("Exp", [ctx.node("Neg", [ctx.node("Abs", [x])])]))
    return ctx.node("Add", [ctx.node("Max", [x, ctx.constant(0.0, "zero")]), tail], "softplus")


@register_exporter(SiLU)
def _silu(ctx, layer, x):
    return ctx.node("Mul", [x, _logistic(ctx, layer, x)], "silu")


#: Terms of the erf series below: enough for |z| <= 6 (beyond, erf(z) rounds to +-1).
_ERF_TERMS = 110


def _erf_float64(ctx, z):
    """erf(z) within 2e-15: ``sign(z) 2/sqrt(pi) exp(-a^2) sum_n a (2a^2)^n / (1 3 ... (2n+1))``.

    The series of positive terms (``a = min(|z|, 6)``), summed from its tail by
    Horner's rule; onnxruntime has no float64 ``Erf`` to call instead.
    """
    a = ctx.node("Min", [ctx.node("Abs", [z], "abs"), ctx.constant(6.0, "six")], "a")
    a2 = ctx.node("Mul", [a, a], "a2")
    u = ctx.node("Mul", [a2, ctx.constant(2.0, "two")], "u")
    one = ctx.constant(1.0, "one")
    r = one
    for n in range(_ERF_TERMS, 0, -1):  # r <- 1 + u r / (2n + 1)
        r = ctx.node("Add", [one, ctx.node("Div", [ctx.node("Mul", [u, r], "ur"),
                                                   ctx.constant(2.0 * n + 1, "odd")])], "r")
    scale = ctx.node("Mul", [ctx.constant(2 / np.sqrt(np.pi), "two_over_sqrt_pi"),
                             ctx.node("Exp", [ctx.node("Neg", [a2], "minus_a2")], "gauss")])
    value = ctx.node("Mul", [scale, ctx.node("Mul", [a, r], "series")], "erf_abs")
    return ctx.node("Mul", [ctx.node("Sign", [z], "sign"), value], "erf")


@register_exporter(GELU)
def _gelu(ctx, layer, x):
    # x * (0.5 * (1 + erf(x * sqrt(1/2)))), as the layer computes it
    scaled = ctx.node("Mul", [x, ctx.constant(np.sqrt(0.5), "sqrt_half")])
    erf = (ctx.node("Erf", [scaled]) if ctx.dtype == np.float32
           else _erf_float64(ctx, scaled))
    cdf = ctx.node("Mul", [ctx.constant(0.5, "half"),
                           ctx.node("Add", [ctx.constant(1.0, "one"), erf])])
    return ctx.node("Mul", [x, cdf], "gelu")


def _reduce_mean(ctx, x):
    if ctx.opset >= 18:  # the axes became an input
        return ctx.node("ReduceMean", [x, ctx.constant(np.array([1], np.int64), "axes")], "mean")
    return ctx.node("ReduceMean", [x], "mean", axes=[1])


def _scale_shift(ctx, layer, xhat):
    out = ctx.node("Mul", [xhat, ctx.constant(layer.params["gain"], "gain")], "scaled")
    return ctx.node("Add", [out, ctx.constant(layer.params["bias"], "bias")], "normalised")


@register_exporter(LayerNorm)
def _layer_norm(ctx, layer, x):
    centred = ctx.node("Sub", [x, _reduce_mean(ctx, x)], "centred")
    var = _reduce_mean(ctx, ctx.node("Mul", [centred, centred], "squares"))
    std = ctx.node("Sqrt", [ctx.node("Add", [var, ctx.constant(layer.eps, "eps")])], "std")
    inv_std = ctx.node("Div", [ctx.constant(1.0, "one"), std], "inv_std")
    return _scale_shift(ctx, layer, ctx.node("Mul", [centred, inv_std], "xhat"))


@register_exporter(BatchNorm)
def _batch_norm(ctx, layer, x):
    # prediction mode: the running statistics; sqrt(var + eps) is a constant, computed
    # by numpy as the layer computes it
    centred = ctx.node("Sub", [x, ctx.constant(layer.state["running_mean"], "running_mean")],
                       "centred")
    std = ctx.constant(np.sqrt(layer.state["running_var"] + layer.eps), "running_std")
    return _scale_shift(ctx, layer, ctx.node("Div", [centred, std], "xhat"))


@register_exporter(Embedding)
def _embedding(ctx, layer, x):
    # codes arrive as floats with integral values (the network's input type)
    codes = ctx.node("Cast", [x], "codes", to=onnx.TensorProto.INT64)
    rows = ctx.node("Gather", [ctx.constant(layer.params["W"], "embedding"), codes], "rows")
    return ctx.node("Flatten", [rows], "embedded", axis=1)
