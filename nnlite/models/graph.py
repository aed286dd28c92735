"""Graph: layers wired as a directed acyclic graph of nodes (residual and multi-input nets).

Built the functional way: ``Input(n)`` gives a node, calling a layer on a node
(or on a list of nodes, for a merge) gives the next one, and
``Graph(inputs=..., outputs=...)`` collects the nodes between them.  Their order
is fixed once, at construction: a depth-first walk from the output, parents in
the order given, so a plain chain keeps the order it was written in.

A layer called at several nodes shares its parameters (PyTorch's rule): every
use but the first computes through a shallow copy of the layer that reads the
same parameter views and keeps its own cache and its own gradient arrays; after
the backward pass each copy adds its gradient into the shared one.

When the layers form a plain chain (one input, no sharing, each node reading the
one before) the Graph computes exactly as a :class:`~nnlite.Sequential` of the
same layers -- the same code, so the same bits and the same fast paths.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import _threads
from .._validation import Inputs
from ..layers import Dense
from ..layers.node import Input, Node
from ._network import Network

__all__ = ["Graph", "Input"]


class Graph(Network):
    """Layers wired from input nodes to one output node; itself a :class:`~nnlite.Layer`.

    Like :class:`~nnlite.Sequential`, the graph owns one flat parameter vector
    :attr:`theta` (penalized arrays first), its gradient :attr:`grad` and the
    non-trainable :attr:`state_vector`, and hands every layer views into them,
    keyed ``"<layer index>.<name>"`` with the layers numbered in computing order.
    A new Graph is unbuilt until it is built on its own (``build``, ``forward``,
    ``train``) or by the network that holds it.

    Parameters
    ----------
    inputs : Input or list of Input
        The input nodes; with several, ``X`` is a list or tuple of arrays in this
        order (all with the same number of rows).
    outputs : Node or list of one Node
        The output node (training takes one loss, so one output).
    dtype : {numpy.float64, numpy.float32}, optional
        Parameter dtype (default: float32 when the first input is float32).
    random_state : None, int or numpy.random.RandomState, default=None
        Seed of the initial weights when the graph builds itself on its first
        ``forward`` (``train`` builds from its own ``random_state``).

    Attributes
    ----------
    inputs : list of Input
    output : Node
    layers : list of Layer
        Each layer once, in computing order (a shared layer at its first node).
    input_widths : tuple of int
        Widths of the inputs.

    Shape
    -----
    x : (n_samples, n_in), or a list of (n_samples, n_in_k) -> (n_samples, n_out).

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import Input, Graph, Dense, ReLU, Add
    >>> x = Input(3)
    >>> h = ReLU()(Dense(4)(x))
    >>> out = Dense(1)(Add()([h, ReLU()(Dense(4)(h))]))
    >>> net = Graph(inputs=x, outputs=out, random_state=0)
    >>> net.forward(np.ones((2, 3))).shape
    (2, 1)
    """

    def __init__(self, inputs, outputs, *, dtype=None, random_state=None):
        super().__init__()
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        for k, node in enumerate(inputs):
            if not isinstance(node, Input):
                raise TypeError(f"Graph: inputs[{k}] must be an Input node; got "
                                f"{type(node).__name__}.")
            if any(node is other for other in inputs[:k]):
                raise ValueError(f"Graph: inputs[{k}] ({node.describe()}) is given twice.")
        if not inputs:
            raise ValueError("Graph: inputs must hold at least one Input.")
        if isinstance(outputs, (list, tuple)):
            if len(outputs) != 1:
                raise ValueError(f"Graph: takes one output (training takes one loss); got "
                                 f"{len(outputs)}. Concatenate them into one node first.")
            outputs = outputs[0]
        if not isinstance(outputs, Node):
            raise TypeError(f"Graph: outputs must be a node (the result of calling a layer); "
                            f"got {type(outputs).__name__}.")
        self.inputs, self.output = inputs, outputs
        self.input_widths = tuple(node.width for node in inputs)
        self.n_inputs = len(inputs)
        self._nodes = _schedule(inputs, outputs)
        layers, first_width = [], {}
        for node in self._nodes:
            layer = node.layer
            widths = tuple(p.width for p in node.parents)
            widths = widths if layer.n_inputs != 1 else widths[0]
            if id(layer) in first_width:
                if isinstance(layer, Network):
                    raise ValueError(f"Graph: the network {node.describe()} is called at two "
                                     "nodes; a Sequential or Graph can be used at one node "
                                     "only (share its layers instead).")
                if widths != first_width[id(layer)]:  # one set of parameters fits one width
                    raise ValueError(f"Graph: the shared layer {node.describe()} is called on "
                                     f"inputs of width {first_width[id(layer)]} and of width "
                                     f"{widths}; a shared layer needs the same input width at "
                                     "every node.")
                continue
            if layer.built:
                raise ValueError(f"Graph: the layer of node {node.describe()} is already built: "
                                 "it belongs to another network or was built on its own. "
                                 "Pass a new layer.")
            first_width[id(layer)] = widths
            layers.append(layer)
        self._init_network(layers, dtype, random_state)
        self._widths = [first_width[id(layer)] for layer in layers]
        index = {id(layer): i for i, layer in enumerate(layers)}
        slot = {id(node): k for k, node in enumerate(inputs)}
        slot.update({id(node): len(inputs) + j for j, node in enumerate(self._nodes)})
        #: per node: (index of its layer, slots of its parents)
        self._steps = [(index[id(n.layer)], tuple(slot[id(p)] for p in n.parents))
                       for n in self._nodes]
        self._chain = (len(inputs) == 1 and len(layers) == len(self._nodes)
                       and all(parents == (j,) for j, (_, parents) in enumerate(self._steps)))

    # ----- building ----------------------------------------------------------------------
    def _own_width(self):
        return self.input_widths[0] if self.n_inputs == 1 else self.input_widths

    def _check_width(self, n_in):
        n_in = tuple(int(w) for w in n_in) if isinstance(n_in, (tuple, list)) else int(n_in)
        if n_in != self._own_width():
            raise ValueError(f"Graph: its inputs have width(s) {self._own_width()} but it "
                             f"receives width(s) {n_in}.")

    def _layer_input_widths(self, n_in):
        self._check_width(n_in)
        return self._widths

    def output_width(self, n_in):
        self._check_width(n_in)
        return self.output.width

    def build(self, n_in=None, dtype=None, random_state=None):
        """Allocate the flat vector and initialise the layers in computing order.

        Parameters
        ----------
        n_in : int or tuple of int, optional
            The inputs' widths, known from the Input nodes (checked if given).
        dtype : {numpy.float64, numpy.float32}, optional
            Overrides the ``dtype`` given at construction.
        random_state : None, int or numpy.random.RandomState, optional
            Overrides the ``random_state`` given at construction.

        Returns
        -------
        self
        """
        return super().build(self._own_width() if n_in is None else n_in, dtype, random_state)

    def _bind(self, n_in, params, grads, state=None):
        super()._bind(n_in, params, grads, state)
        # every use of a layer after its first computes through a copy of it: the same
        # parameter views, its own cache, work arrays and gradient arrays
        uses, seen = [], set()
        for i, _ in self._steps:
            layer = self.layers[i]
            if i not in seen:
                seen.add(i)
                uses.append(layer)
                continue
            clone = copy.copy(layer)
            clone.__dict__.pop("_ws", None)
            clone._bind(layer.n_in, layer.params,
                        {k: np.zeros_like(v) for k, v in layer.grads.items()}, layer.state)
            uses.append(clone)
        self._uses = uses

    # ----- computing ---------------------------------------------------------------------
    def _arrays(self, x):
        if isinstance(x, Inputs):
            return list(x.arrays)
        return list(x) if isinstance(x, (list, tuple)) else [x]

    def _values(self, x, train, stop):
        """The values of the inputs and of the first ``stop`` nodes."""
        values = self._arrays(x) + [None] * stop
        k = self.n_inputs
        for j in range(stop):
            use, parents = self._uses[j], self._steps[j][1]
            h = values[parents[0]] if use.n_inputs == 1 else [values[p] for p in parents]
            values[k + j] = use.forward(h, train)
        return values

    def _forward(self, x, train):
        if self._chain:
            return super()._forward(x, train)
        self._ensure_built(x)
        if train:
            return self._values(x, train, len(self._steps))[-1]
        with _threads.for_prediction():  # BLAS on one thread, as in Sequential._forward
            return self._values(x, train, len(self._steps))[-1]

    def _ensure_built(self, x):
        if not self.built:
            if isinstance(x, (list, tuple)):
                x = Inputs(x)
            dtype = self.dtype or (np.float32 if x.dtype == np.float32 else np.float64)
            self.build(dtype=dtype)

    def _forward_fast(self, x, train, owned, scratch):
        if self._chain:
            return super()._forward_fast(x, train, owned, scratch)
        return self._forward(x, train), False

    def _backward_fast(self, grad_out, need_grad_in, scratch, stop=None):
        if self._chain:
            return super()._backward_fast(grad_out, need_grad_in, scratch, stop)
        return self.backward(grad_out, need_grad_in, stop)

    def backward(self, grad_out, need_grad_in=True, stop=None):
        """Backpropagate ``grad_out``; fills :attr:`grad` and returns the input gradient(s).

        Parameters
        ----------
        grad_out : ndarray of shape (n_samples, n_out)
            Gradient with respect to the output (of node ``stop - 1``).
        need_grad_in : bool, default=True
            If false, the gradients with respect to the inputs may be skipped and
            ``None`` is returned.
        stop : int, optional
            Backpropagate from the output of node ``stop - 1`` (in computing
            order) instead of the last node (used for fused output/loss pairs).

        Returns
        -------
        ndarray, list of ndarray or None
            One gradient per input (a list when the graph has several).
        """
        n, k = len(self._steps) if stop is None else stop, self.n_inputs
        grads = [None] * (k + n)
        grads[k + n - 1] = grad_out
        for j in range(n - 1, -1, -1):
            g, grads[k + j] = grads[k + j], None
            use, parents = self._uses[j], self._steps[j][1]
            if use.n_inputs == 1:
                if parents[0] < k and not need_grad_in and use.can_skip_grad_in:
                    use.backward(g, need_grad_in=False)
                    continue
                received = [use.backward(g)]
            else:
                received = use.backward(g)
            for p, gp in zip(parents, received):
                if p < k and not need_grad_in:
                    continue
                if grads[p] is None:
                    # one array handed to two parents would be overwritten by the first
                    grads[p] = gp.copy() if any(gp is other for other in grads) else gp
                else:  # a node read by several: the gradients add up
                    grads[p] = grads[p] + gp
        self._add_shared_gradients()
        if not need_grad_in:
            return None
        return grads[0] if k == 1 else grads[:k]

    def _add_shared_gradients(self):
        for j, use in enumerate(self._uses):
            layer = self.layers[self._steps[j][0]]
            if use is not layer:  # a second use of a shared layer
                for name, g in use.grads.items():
                    layer.grads[name] += g

    def _loss_and_grad(self, x, y, loss, alpha=0.0, sample_weight=None, compute_value=True,
                       codes=None):
        if self._chain:  # Sequential's computation, fast paths included
            return super()._loss_and_grad(x, y, loss, alpha, sample_weight, compute_value,
                                          codes)
        self._ensure_built(x)
        if getattr(loss, "class_weight", None) is not None:  # class weights weigh the rows
            sample_weight = loss._row_weights(y, sample_weight)
        n = len(self._steps)
        fused = loss.fuses_with(self._uses[-1]) and self._output_fusable()
        stop = n - 1 if fused else n
        values = self._values(x, True, stop)
        if fused and type(self._logits_layer()) is Dense and hasattr(loss, "_fused_inplace"):
            # a Dense layer's fresh output, read by nothing else: the loss may overwrite it
            value, delta = loss._fused_inplace(values[self._steps[-1][1][0]], y, sample_weight,
                                               compute_value, codes)
        elif fused:
            value, delta = loss.fused_value_and_delta(values[self._steps[-1][1][0]], y,
                                                      sample_weight, compute_value)
        else:
            h = values[-1]
            value = loss._value(h, y, sample_weight) if compute_value else None
            delta = loss._gradient(h, y, sample_weight)
        if stop:
            self.backward(delta, False, stop=stop)
        return self._finish_gradient(value, x.shape[0], alpha, sample_weight, compute_value)

    @property
    def differentiable_input(self):
        """Whether every layer that reads an input takes continuous values (not codes)."""
        k = self.n_inputs
        return all(self.layers[i].differentiable_input
                   for i, parents in self._steps if any(p < k for p in parents))

    def _output_fusable(self):
        """Whether the output node's layer reads one node and is used nowhere else."""
        i, parents = self._steps[-1]
        return (len(parents) == 1 and self.layers[i].n_inputs == 1
                and sum(j == i for j, _ in self._steps) == 1)

    def _logits_layer(self):
        if self._chain:
            return super()._logits_layer()
        parent = self._steps[-1][1][0] - self.n_inputs
        return self._uses[parent] if self._output_fusable() and parent >= 0 else None

    def _drop_buffers(self):
        super()._drop_buffers()
        for use in self.__dict__.get("_uses", ()):
            use._drop_buffers()

    # ----- display and pickling ----------------------------------------------------------
    def _input_names(self):
        if self.n_inputs == 1:
            return [self.inputs[0].name]
        return [node.name if node.name != "input" else f"input_{k}"
                for k, node in enumerate(self.inputs)]

    def _summary_rows(self):
        names = self._input_names() + [str(j) for j in range(len(self._steps))]
        k = self.n_inputs
        return [(names[k + j], self.layers[i], node.width, [names[p] for p in parents])
                for j, (node, (i, parents)) in enumerate(zip(self._nodes, self._steps))]

    def __repr__(self):
        names = self._input_names() + [str(j) for j in range(len(self._steps))]
        k = self.n_inputs
        inner = "\n".join(
            f"  ({j}): {node.layer!r} <- {', '.join(names[p] for p in parents)}"
            for j, (node, (_, parents)) in enumerate(zip(self._nodes, self._steps)))
        head = ", ".join(f"{name}={w}" for name, w in zip(names[:k], self.input_widths))
        if self.built:
            n_params = sum(v.size for v in self.params.values())
            head += f", n_out={self.n_out}, n_params={n_params}"
        return f"Graph({head})\n{inner}\n)"

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_uses", None)  # rebuilt with the views
        return state


def _schedule(inputs, output):
    """The nodes from the inputs to ``output`` in computing order (depth first, parents in order).

    Raises ValueError when the output depends on an Input not among ``inputs``, or
    when one of ``inputs`` does not lead to the output.
    """
    if isinstance(output, Input):
        raise ValueError(f"Graph: the output is an input ({output.describe()}); call at least "
                         "one layer on it.")
    order, state = [], {}  # state: 1 while on the walk's path, 2 when placed
    stack = [(output, iter(output.parents))]
    state[id(output)] = 1
    used_inputs = set()
    while stack:
        node, parents = stack[-1]
        parent = next(parents, None)
        if parent is None:
            stack.pop()
            state[id(node)] = 2
            order.append(node)
        elif isinstance(parent, Input):
            if not any(parent is inp for inp in inputs):
                raise ValueError(
                    f"Graph: the output is not reachable from the inputs: node "
                    f"{node.describe()} reads {parent.describe()}, which is not among inputs "
                    f"({', '.join(i.describe() for i in inputs)}).")
            used_inputs.add(id(parent))
        elif id(parent) not in state:
            state[id(parent)] = 1
            stack.append((parent, iter(parent.parents)))
    for k, node in enumerate(inputs):
        if id(node) not in used_inputs:
            raise ValueError(f"Graph: inputs[{k}] ({node.describe()}) is not used: no path "
                             f"leads from it to the output ({output.describe()}).")
    return order
