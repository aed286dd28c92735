"""ONNX exporters of Graph models and the merge layers.

A :class:`~nnlite.Graph` exports its nodes in its own computing order (the DAG
schedule fixed when it was built); a layer used at several nodes is exported at
each, reading the same constants.  Merges add, multiply and concatenate in the
order of their inputs, as the layers do.
"""

from __future__ import annotations

from ..layers import Add, Concatenate, Multiply
from ..models import Graph
from ._registry import register_exporter


@register_exporter(Graph)
def _graph(ctx, graph, x):
    # the graph's own schedule: inputs first, then one value per node in computing order
    values = (list(x) if isinstance(x, (list, tuple)) else [x]) + [None] * len(graph._steps)
    k = graph.n_inputs
    for j, (i, parents) in enumerate(graph._steps):
        layer = graph.layers[i]
        h = values[parents[0]] if layer.n_inputs == 1 else [values[p] for p in parents]
        values[k + j] = ctx.export(layer, h)
    return values[-1]


def _chain(op):
    def export(ctx, layer, xs):  # x0 op x1 op x2 ..., in the layer's order
        out = xs[0]
        for x in xs[1:]:
            out = ctx.node(op, [out, x], op.lower())
        return out
    return export


register_exporter(Add, _chain("Add"))
register_exporter(Multiply, _chain("Mul"))


@register_exporter(Concatenate)
def _concatenate(ctx, layer, xs):
    return ctx.node("Concat", list(xs), "concat", axis=1)
