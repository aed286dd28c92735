"""The exporter registry and the context an exporter builds its ONNX nodes with.

One exporter per layer class: a function ``fn(ctx, layer, x) -> y`` that adds
the nodes computing the layer's prediction-mode output from the tensor named
``x`` and returns the name of the output tensor.  Lookup is by exact class:
a subclass may compute something else, so it needs its own exporter.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

__all__ = ["ExportContext", "register_exporter", "exporter_for", "UnsupportedLayerError"]

_EXPORTERS = {}


class UnsupportedLayerError(TypeError):
    """The model holds a layer with no registered ONNX exporter."""


def register_exporter(layer_class, fn=None):
    """Register ``fn(ctx, layer, x) -> y`` as the ONNX exporter of ``layer_class``.

    Usable as a decorator (``@register_exporter(MyLayer)``) or called with
    both arguments.  Registering a class again replaces its exporter.

    Parameters
    ----------
    layer_class : type
        A subclass of :class:`nnlite.Layer`.  Instances of exactly this class
        use ``fn`` (a subclass needs an exporter of its own).
    fn : callable, optional
        ``fn(ctx, layer, x)``: ``ctx`` is the :class:`ExportContext`, ``layer``
        a built layer, ``x`` the name of its input tensor of shape
        ``(N, layer.n_in)``; adds nodes with ``ctx.node`` and returns the name
        of the output tensor of shape ``(N, layer.n_out)``, computed as
        ``layer.forward(x, train=False)`` computes it.

    Returns
    -------
    callable
        ``fn`` (or, without ``fn``, a decorator that registers and returns it).

    Examples
    --------
    >>> from nnlite import Layer
    >>> from nnlite.onnx import register_exporter
    >>> class Square(Layer):
    ...     def forward(self, x, train=True):
    ...         return x * x
    >>> @register_exporter(Square)
    ... def _square(ctx, layer, x):
    ...     return ctx.node("Mul", [x, x])
    """
    from ..layers import Layer

    if not (isinstance(layer_class, type) and issubclass(layer_class, Layer)):
        raise TypeError("register_exporter: layer_class must be a subclass of nnlite.Layer; "
                        f"got {layer_class!r}.")

    def register(f):
        if not callable(f):
            raise TypeError(f"register_exporter: the exporter must be callable; got {f!r}.")
        _EXPORTERS[layer_class] = f
        return f

    return register if fn is None else register(fn)


def exporter_for(layer):
    """The exporter registered for ``type(layer)``; :class:`UnsupportedLayerError` if none."""
    fn = _EXPORTERS.get(type(layer))
    if fn is None:
        name = type(layer).__name__
        raise UnsupportedLayerError(
            f"to_onnx: no ONNX exporter is registered for the layer {name} "
            f"({type(layer).__module__}.{type(layer).__qualname__}). Register one with "
            f"nnlite.onnx.register_exporter({name}, fn), where fn(ctx, layer, x) adds the "
            "layer's ONNX nodes and returns its output's name; see 'Exporting your own "
            "layers' in the deployment guide (docs/deployment.md).")
    return fn


class ExportContext:
    """The graph being built: nodes, constants and unique tensor names.

    Parameters
    ----------
    dtype : {numpy.float32, numpy.float64}
        Floating type of the exported model: float constants are cast to it.
    opset : int
        The ONNX operator set version of the model.

    Attributes
    ----------
    nodes : list of onnx.NodeProto
    initializers : list of onnx.TensorProto
    """

    def __init__(self, dtype, opset: int):
        self.dtype = np.dtype(dtype)
        self.opset = int(opset)
        self.nodes = []
        self.initializers = []
        self._names = set()
        self._constants = {}

    def fresh(self, hint: str) -> str:
        """A tensor name not used yet, built from ``hint``."""
        name, k = hint, 1
        while name in self._names:
            name, k = f"{hint}_{k}", k + 1
        self._names.add(name)
        return name

    def constant(self, value, hint: str = "const") -> str:
        """Add ``value`` as an initializer (floats cast to :attr:`dtype`); returns its name.

        The same array object (a layer's parameter, for a layer used at several
        nodes of a graph) is added once.
        """
        known = self._constants.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        original = value
        value = np.asarray(value)
        if value.dtype.kind == "f":
            value = value.astype(self.dtype)
        elif value.dtype.kind in "US" or value.dtype == object:
            value = np.array([str(v) for v in value.ravel()], dtype=object).reshape(value.shape)
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(value, name))
        if isinstance(original, np.ndarray):
            self._constants[id(original)] = (original, name)  # kept alive: its id stays unique
        return name

    def node(self, op: str, inputs, hint: str | None = None, n_outputs: int = 1, **attrs):
        """Add the operator ``op`` on the tensors named ``inputs``.

        Returns
        -------
        str or tuple of str
            The name of its output (a tuple if ``n_outputs > 1``).
        """
        outputs = [self.fresh(hint or op.lower()) for _ in range(n_outputs)]
        self.nodes.append(helper.make_node(op, list(inputs), outputs,
                                           name=self.fresh(f"{op}_node"), **attrs))
        return outputs[0] if n_outputs == 1 else tuple(outputs)

    def export(self, layer, x: str) -> str:
        """Add the nodes of ``layer`` (through its registered exporter) on input ``x``."""
        return exporter_for(layer)(self, layer, x)

    def require_opset(self, version: int, what: str) -> None:
        """Refuse an opset older than ``version``, which ``what`` needs."""
        if self.opset < version:
            raise ValueError(f"to_onnx: {what} needs opset >= {version}; got opset={self.opset}.")

    @property
    def tensor_type(self) -> int:
        """The ONNX element type of :attr:`dtype`."""
        return onnx.helper.np_dtype_to_tensor_dtype(self.dtype)
