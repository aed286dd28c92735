"""ONNX exporters of the built-in layers and networks, one small function per class.

Each computes what the layer's ``forward(x, train=False)`` computes, in the
same order of operations where the order changes the rounding (``x @ W``,
then ``+ b``).
"""

from __future__ import annotations

from ..layers import Dense, Exp, Identity, Logistic, ReLU, Softmax, Tanh
from ..models import Sequential
from ._registry import register_exporter


@register_exporter(Dense)
def _dense(ctx, layer, x):
    # MatMul then Add, as numpy rounds them (Gemm may add the bias first)
    y = ctx.node("MatMul", [x, ctx.constant(layer.params["W"], "W")], "dense")
    if layer.bias:
        y = ctx.node("Add", [y, ctx.constant(layer.params["b"], "b")], "dense")
    return y


@register_exporter(Identity)
def _identity(ctx, layer, x):
    return x


def _elementwise(op):
    return lambda ctx, layer, x: ctx.node(op, [x], op.lower())


register_exporter(Tanh, _elementwise("Tanh"))
register_exporter(ReLU, _elementwise("Relu"))
register_exporter(Exp, _elementwise("Exp"))


@register_exporter(Logistic)
def _logistic(ctx, layer, x):
    # 1 / (1 + exp(-x)) as scipy's expit computes it: onnxruntime's Sigmoid is an
    # approximation (off by 1e-12 relative in float64, and worse in the tails)
    one = ctx.constant(1.0, "one")
    e = ctx.node("Exp", [ctx.node("Neg", [x], "neg")], "exp")
    return ctx.node("Div", [one, ctx.node("Add", [one, e], "denominator")], "logistic")


@register_exporter(Softmax)
def _softmax(ctx, layer, x):
    return ctx.node("Softmax", [x], "softmax", axis=-1)


@register_exporter(Sequential)
def _sequential(ctx, net, x):
    for layer in net.layers:
        x = ctx.export(layer, x)
    return x
