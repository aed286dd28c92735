"""ONNX export: serve nnlite models with onnxruntime (optional extra ``nnlite[onnx]``).

:func:`to_onnx` turns a built network or a fitted preset into one ONNX graph;
each layer class has an exporter in a small registry, and a user-written layer
gets one with :func:`register_exporter`.  This package needs the ``onnx``
package (and onnxruntime to run the result); ``import nnlite`` never imports it.

``_registry``
    :func:`register_exporter`, :class:`ExportContext`, :class:`UnsupportedLayerError`.
``_layers``
    The exporters of Dense, the basic activations and Sequential.
``_more_layers``
    Dropout, LayerNorm, BatchNorm, Embedding and the smooth activations.
``_graph``
    Graph and the merge layers Add, Multiply, Concatenate.
``_export``
    :func:`to_onnx`, the presets' outputs, :func:`default_opset`.
"""

from . import _graph, _layers, _more_layers  # noqa: F401  (register the built-in exporters)
from ._export import MIN_OPSET, default_opset, to_onnx
from ._registry import ExportContext, UnsupportedLayerError, register_exporter

__all__ = ["to_onnx", "register_exporter", "ExportContext", "UnsupportedLayerError",
           "default_opset", "MIN_OPSET"]
