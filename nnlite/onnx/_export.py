"""``to_onnx``: a model (network, preset or scaled preset) as one ONNX graph."""

from __future__ import annotations

import functools
import json
import os

import numpy as np
import onnx
from onnx import helper

from .. import io as nnlite_io
from ..layers import Layer
from ._registry import ExportContext

__all__ = ["to_onnx", "default_opset", "MIN_OPSET"]

#: The oldest operator set the exporters target (Softmax over the last axis,
#: Squeeze taking its axes as an input).
MIN_OPSET = 13


def _probe_model(opset):
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe", [x], [y])
    return _model(graph, opset)


def _model(graph, opset):
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="nnlite")
    model.ir_version = helper.find_min_ir_version_for(opsets)
    return model


@functools.cache
def default_opset() -> int:
    """The newest ONNX operator set both the installed onnx and onnxruntime support.

    Without onnxruntime, the newest one the installed onnx package knows.

    Returns
    -------
    int
    """
    newest = onnx.defs.onnx_opset_version()
    try:
        import onnxruntime as ort
    except ImportError:
        return newest
    for opset in range(newest, MIN_OPSET - 1, -1):
        try:
            ort.InferenceSession(_probe_model(opset).SerializeToString(),
                                 providers=["CPUExecutionProvider"])
        except Exception:  # onnxruntime refuses this opset or IR version: try an older one
            continue
        return opset
    return MIN_OPSET


def _check_dtype(dtype, default):
    if dtype is None:
        dtype = default
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"to_onnx: dtype must be numpy.float32 or numpy.float64; got {dtype!r}."
                         if dtype is not None else
                         "to_onnx: dtype must be numpy.float32 or numpy.float64.")
    return dtype


def _check_opset(opset):
    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        return default_opset()
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) \
            or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"to_onnx: opset must be an int from {MIN_OPSET} to {newest} (the "
                         f"newest the installed onnx {onnx.__version__} knows); got {opset!r}.")
    return int(opset)


def _name_list(given, defaults, what):
    names = list(defaults) if given is None else (
        [given] if isinstance(given, str) else list(given))
    if len(names) != len(defaults):
        raise ValueError(f"to_onnx: this model has {len(defaults)} {what}(s) "
                         f"({', '.join(defaults)}); got {what}_name(s)={given!r}.")
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"to_onnx: {what} names must be non-empty strings; got {name!r}.")
    return names


def _check_names(input_name, output_names, input_defaults, output_defaults):
    """``(input names, output names)``: one per input and output, all distinct."""
    inputs = _name_list(input_name, input_defaults, "input")
    outputs = _name_list(output_names, output_defaults, "output")
    if len({*inputs, *outputs}) != len(inputs) + len(outputs):
        raise ValueError(f"to_onnx: the input and output names must be distinct; got "
                         f"input_name={input_name!r}, output_names={outputs!r}.")
    return inputs, outputs


def _parts(model):
    """``(scaler or None, preset or None, network, feature names)`` of what is exported."""
    from ..estimators import _BaseMLP
    from ..tabular import ScaledModel

    scaler, names = None, None
    if isinstance(model, ScaledModel):
        scaler, names, model = model, model.feature_names, model.estimator
    if isinstance(model, _BaseMLP):
        model._check_fitted()
        if names is None and hasattr(model, "feature_names_in_"):
            names = [str(n) for n in model.feature_names_in_]
        return scaler, model, model.network_, names
    if isinstance(model, Layer):
        if not model.built:
            raise ValueError(f"to_onnx: the {type(model).__name__} is not built; build it "
                             "(build(n_in)) or train it before exporting.")
        return None, None, model, None
    raise TypeError("to_onnx: model must be an nnlite Layer or Sequential, an MLPClassifier or "
                    f"MLPRegressor, or a ScaledModel; got {type(model).__name__}.")


def _label_constant(ctx, classes):
    kind = classes.dtype.kind
    if kind == "O" and not all(isinstance(c, str) for c in classes):
        raise TypeError("to_onnx: class labels must be numbers, booleans or strings; got "
                        f"objects of types {sorted({type(c).__name__ for c in classes})}.")
    if kind in "iu":
        classes = classes.astype(np.int64)
    elif kind == "f":
        classes = classes.astype(np.float64)
    name = ctx.fresh("classes")
    ctx.initializers.append(onnx.numpy_helper.from_array(
        np.array([str(c) for c in classes], dtype=object) if kind in "USO" else classes, name))
    elem = onnx.TensorProto.STRING if kind in "USO" else \
        helper.np_dtype_to_tensor_dtype(classes.dtype)
    return name, elem


def _classifier_head(ctx, est, p):
    """``(labels, probabilities)`` tensors and their ``(elem type, shape)``."""
    classes = np.asarray(est.classes_)
    n_out = est.n_outputs_
    if n_out == 1 or est._labels.y_type_ == "multilabel-indicator":
        half = ctx.constant(np.array(0.5), "half")
    if est._labels.y_type_ == "multilabel-indicator":
        labels = ctx.node("Cast", [ctx.node("Greater", [p, half])], "label",
                          to=onnx.TensorProto.INT64)
        return labels, p, (onnx.TensorProto.INT64, ["N", n_out]), ["N", n_out]
    if n_out == 1:  # binary (or one class): threshold the positive column, strictly above 0.5
        if len(classes) == 1:
            classes = np.repeat(classes, 2)
        table, elem = _label_constant(ctx, classes)
        column = ctx.node("Squeeze", [p, ctx.constant(np.array([1], np.int64), "axis")], "p")
        index = ctx.node("Cast", [ctx.node("Greater", [column, half])], "index",
                         to=onnx.TensorProto.INT64)
        one = ctx.constant(np.array(1.0), "one")
        proba = ctx.node("Concat", [ctx.node("Sub", [one, p], "q"), p], "proba", axis=1)
        return ctx.node("Gather", [table, index], "label"), proba, (elem, ["N"]), ["N", 2]
    table, elem = _label_constant(ctx, classes)
    index = ctx.node("ArgMax", [p], "index", axis=1, keepdims=0)
    return ctx.node("Gather", [table, index], "label"), p, (elem, ["N"]), ["N", n_out]


def to_onnx(model, path=None, *, dtype=None, opset: int | None = None, input_name=None,
            output_names=None, doc_string: str | None = None) -> onnx.ModelProto:
    """Export a fitted model as an ONNX graph (and optionally write it to ``path``).

    Parameters
    ----------
    model : Sequential, Graph, Layer, MLPClassifier, MLPRegressor or ScaledModel
        Built (network) or fitted (preset).  Every layer needs a registered
        exporter (see :func:`register_exporter`); the built-in ones have one.
    path : str or os.PathLike, optional
        Where to write the ``.onnx`` file, atomically (no partial file is left
        behind on an error).
    dtype : {numpy.float32, numpy.float64}, optional
        Floating type of the input, the weights and the outputs; default: the
        network's own.  Other values: ``ValueError``.
    opset : int, optional
        ONNX operator set version, from :data:`MIN_OPSET` to the newest the
        installed onnx knows; default :func:`default_opset`.
    input_name : str or list of str, optional
        Name of the input, of shape ``(N, n_features)`` with a dynamic ``N``
        (default ``"X"``); for a :class:`~nnlite.Graph` with several inputs, one
        name per input (default: the names of its ``Input`` nodes, else
        ``input_0``, ``input_1``...).
    output_names : str or list of str, optional
        Names of the outputs: ``["label", "probabilities"]`` for a classifier
        (the labels :meth:`predict` and the probabilities ``predict_proba``
        returns), ``["variable"]`` for a regressor, ``["output"]`` for a network.
    doc_string : str, optional
        Description stored in the model.

    Returns
    -------
    onnx.ModelProto
        Checked with ``onnx.checker.check_model(full_check=True)``.  Its
        metadata hold the nnlite version, the model's class and, when known,
        the feature names (``feature_names``, a JSON list).

    Raises
    ------
    NotFittedError, ValueError
        An unfitted preset or unbuilt network; a bad ``dtype``, ``opset`` or name.
    UnsupportedLayerError
        A layer with no registered exporter (a ``TypeError``).
    OSError
        ``path`` cannot be written.

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import Dense, Sequential, Tanh
    >>> from nnlite.onnx import to_onnx
    >>> net = Sequential([Dense(3), Tanh()], n_in=2, random_state=0)
    >>> proto = to_onnx(net)
    >>> [o.name for o in proto.graph.output]
    ['output']
    """
    from .. import __version__

    scaler, preset, net, names = _parts(model)
    dtype = _check_dtype(dtype, getattr(net, "dtype", None) or _layer_dtype(net))
    ctx = ExportContext(dtype, _check_opset(opset))
    classifier = preset is not None and preset._estimator_type == "classifier"
    defaults = (["label", "probabilities"] if classifier else
                ["variable"] if preset is not None else ["output"])
    widths = [net.n_in] if getattr(net, "n_inputs", 1) == 1 else list(net.n_in)
    names_in, names_out = _check_names(
        input_name, output_names,
        ["X"] if len(widths) == 1 else net._input_names(), defaults)
    ctx._names.update([*names_in, *names_out])
    x = names_in[0] if len(widths) == 1 else names_in
    if scaler is not None:  # (X - mean) / scale, as ScaledModel.transform computes it
        x = ctx.node("Sub", [x, ctx.constant(scaler.mean, "mean")], "centred")
        x = ctx.node("Div", [x, ctx.constant(scaler.scale, "scale")], "scaled")
    out = ctx.export(net, x)
    elem = ctx.tensor_type
    if classifier:
        labels, proba, (label_elem, label_shape), proba_shape = _classifier_head(ctx, preset, out)
        outputs = [(labels, label_elem, label_shape), (proba, elem, proba_shape)]
    elif preset is not None:
        if preset.n_outputs_ == 1:
            out = ctx.node("Squeeze", [out, ctx.constant(np.array([1], np.int64), "axis")], "y")
        outputs = [(out, elem, ["N"] if preset.n_outputs_ == 1 else ["N", preset.n_outputs_])]
    else:
        outputs = [(out, elem, ["N", net.n_out])]
    value_infos = []
    for (tensor, elem_type, shape), name in zip(outputs, names_out):
        ctx.nodes.append(helper.make_node("Identity", [tensor], [name], name=f"{name}_out"))
        value_infos.append(helper.make_tensor_value_info(name, elem_type, shape))
    graph = helper.make_graph(
        ctx.nodes, f"nnlite_{type(model).__name__}",
        [helper.make_tensor_value_info(name, elem, ["N", width])
         for name, width in zip(names_in, widths)], value_infos,
        initializer=ctx.initializers)
    proto = _model(graph, ctx.opset)
    proto.producer_version = __version__
    proto.doc_string = doc_string or f"{type(model).__name__} exported by nnlite {__version__}"
    props = {"nnlite_version": __version__, "model_class": type(model).__name__}
    if names is not None:
        props["feature_names"] = json.dumps(list(names))
    helper.set_model_props(proto, props)
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        data = proto.SerializeToString()
        try:
            nnlite_io.write_atomically(path, lambda f: f.write(data))
        except OSError as exc:
            raise OSError(exc.errno, f"to_onnx: cannot write {os.fspath(path)!r}: "
                          f"{exc.strerror or exc}") from exc
    return proto


def _layer_dtype(layer):
    for value in layer.params.values():
        return value.dtype
    return np.float64
