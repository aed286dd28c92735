"""Sequential: a stack of layers that owns one flat parameter vector."""

from __future__ import annotations

from ..layers import Layer
from ._network import Network

__all__ = ["Sequential"]


class Sequential(Network):
    """Layers applied one after the other; itself a :class:`~nnlite.Layer`.

    The network allocates one flat parameter vector :attr:`theta` and one flat
    gradient vector :attr:`grad` and hands every layer views into them, so
    per-layer arrays (:meth:`named_parameters`) and the flat vector are two
    windows on the same memory.

    Parameters
    ----------
    layers : list of Layer
        The stack, input side first.
    n_in : int, optional
        Input width.  If omitted, the network builds itself on its first
        ``forward`` from the width of the data.
    dtype : {numpy.float64, numpy.float32}, optional
        Parameter dtype.  If omitted: float32 when the first input is float32,
        else float64.
    random_state : None, int or numpy.random.RandomState, default=None
        Seed of the initial weights when the network builds itself on its first
        ``forward`` or ``predict`` (``train`` builds an unbuilt network from its own
        ``random_state`` instead). With ``None`` those weights come from numpy's
        global random state: pass a seed for reproducible results.

    Shape
    -----
    x : (n_samples, n_in) -> (n_samples, n_out).

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import Sequential, Dense, Tanh, Softmax
    >>> net = Sequential([Dense(4), Tanh(), Dense(3), Softmax()], random_state=0)
    >>> net.forward(np.zeros((2, 5))).shape
    (2, 3)
    >>> net.theta.shape   # 5*4 + 4*3 weights, then 4 + 3 biases
    (39,)
    """

    def __init__(self, layers, n_in=None, *, dtype=None, random_state=None):
        super().__init__()
        layers = list(layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential: layers[{i}] must be an nnlite Layer; got {type(layer).__name__}."
                )
        if not layers:
            raise ValueError("Sequential: layers must contain at least one layer.")
        first_seen = {}
        for i, layer in enumerate(layers):
            # a layer owns views into one network's parameters: sharing it would corrupt both
            if id(layer) in first_seen:
                raise ValueError(
                    f"Sequential: layers[{i}] is the same object as layers[{first_seen[id(layer)]}]"
                    "; a layer can appear once. Create a new layer to repeat a shape."
                )
            first_seen[id(layer)] = i
            if layer.n_inputs != 1:
                raise ValueError(
                    f"Sequential: layers[{i}] ({type(layer).__name__}) takes several inputs; "
                    "a Sequential passes one array from layer to layer. Use a Graph."
                )
            if layer.built:
                raise ValueError(
                    f"Sequential: layers[{i}] ({type(layer).__name__}) is already built: it "
                    "belongs to another network or was built on its own. Pass a new layer."
                )
        self._init_network(layers, dtype, random_state)
        self.input_width = n_in
        if n_in is not None:
            self.build(n_in)

    # ----- building ----------------------------------------------------------------------
    def _layer_input_widths(self, n_in):
        widths, width = [], int(n_in)
        for layer in self.layers:
            widths.append(width)
            width = int(layer.output_width(width))
        return widths

    def output_width(self, n_in):
        for layer in self.layers:
            n_in = int(layer.output_width(n_in))
        return n_in

    def build(self, n_in, dtype=None, random_state=None):
        """Infer every width from ``n_in``, allocate the flat vector, initialise.

        Parameters
        ----------
        n_in : int
            Input width.
        dtype : {numpy.float64, numpy.float32}, optional
            Overrides the ``dtype`` given at construction.
        random_state : None, int or numpy.random.RandomState, optional
            Overrides the ``random_state`` given at construction.  Layers draw
            their initial values in order, input side first.

        Returns
        -------
        self
        """
        return super().build(n_in, dtype, random_state)

    # ----- computing ---------------------------------------------------------------------
    def backward(self, grad_out, need_grad_in=True, stop=None):
        """Backpropagate ``grad_out``; fills :attr:`grad` and returns the input gradient.

        Parameters
        ----------
        grad_out : ndarray of shape (n_samples, n_out)
            Gradient with respect to the output (of layer ``stop - 1``).
        need_grad_in : bool, default=True
            If false, the first layer may skip the input gradient and ``None``
            is returned.
        stop : int, optional
            Backpropagate from the output of ``layers[stop - 1]`` instead of the
            last layer (used for fused output/loss pairs).
        """
        layers = self.layers[:stop]
        g = grad_out
        for i in range(len(layers) - 1, 0, -1):
            g = layers[i].backward(g)
        first = layers[0]
        if not need_grad_in and first.can_skip_grad_in:
            first.backward(g, need_grad_in=False)
            return None
        return first.backward(g)

    # ----- display and pickling ----------------------------------------------------------
    def _summary_rows(self):
        names = [f"{i}" for i in range(len(self.layers))]
        return [(names[i], layer, layer.n_out, ["input"] if i == 0 else [names[i - 1]])
                for i, layer in enumerate(self.layers)]

    def __repr__(self):
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        head = "Sequential("
        if self.built:
            # a nested network owns no buffer: count its views
            n_params = sum(v.size for v in self.params.values())
            head += f"n_in={self.n_in}, n_out={self.n_out}, n_params={n_params}"
        return f"{head}\n{inner}\n)"
