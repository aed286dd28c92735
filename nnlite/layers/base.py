"""The layer contract: the base class every layer (built-in or user-written) derives from.

The contract every layer follows (and a user-written layer overrides):

``param_specs(n_in)``
    The trainable arrays the layer needs for input width ``n_in`` (default: none).
``output_width(n_in)``
    Width of the output for input width ``n_in`` (default: unchanged).
``state_specs(n_in)``
    The non-trainable arrays the layer keeps (default: none), such as running
    statistics: saved, loaded and rolled back with the parameters, but neither
    trained nor penalized.  The layer updates them itself, in place, during
    ``forward(x, train=True)``.
``reset_parameters(rng)``
    Fill ``self.params`` (and ``self.state``) in place (default: nothing to fill).
``forward(x, train=True)``
    Return the output.  ``train`` is the mode: true while training (cache only
    what ``backward`` needs; layers such as dropout behave differently), false
    for predictions (cache nothing).
``backward(grad_out)``
    Return the gradient with respect to the input and *write* the gradients of
    the parameters into the views ``self.grads[name]`` (never rebind them).
    ``grad_out`` belongs to the layer after the call: it may be overwritten.

A layer that draws random numbers in training mode (such as dropout) also overrides:

``seed_rng(seed)``
    Create its generator from the :class:`numpy.random.SeedSequence` ``seed``
    (called once when the layer or its network is built, after every
    ``reset_parameters``: the initial weights of the other layers do not change).
``get_rng_state()`` / ``set_rng_state(state)``
    A snapshot of that generator, and putting it back: the gradient checks use
    them to draw the same random numbers at every evaluation.

A layer whose input is discrete (category codes) sets ``differentiable_input =
False``: its input gradient is zero and the gradient checks do not perturb its input.
Layers with several inputs (merges such as :class:`~nnlite.Add`) set the class
attribute ``n_inputs`` to the number they take (``None``: two or more).  For
them ``n_in`` is a tuple of widths (one per input) in ``param_specs``,
``state_specs`` and ``output_width``; ``forward`` receives a list of arrays
(same number of rows) and ``backward`` returns a list of gradients, one per
input, each a distinct array (the layer that receives one may overwrite it).

Calling a layer on a node (``Dense(4)(x)``, or ``Add()([a, b])``) returns a new
:class:`~nnlite.layers.node.Node`; a :class:`~nnlite.Graph` is built from them.

A layer never allocates its parameters itself: :meth:`Layer.build` (for a layer
used alone) or the network that holds it (:class:`~nnlite.Sequential`,
:class:`~nnlite.Graph`) hands it views into one flat buffer, and the state arrays
views into another.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .. import _validation
from ..init import check_random_state
from ..params import ParamBuffer
from .node import Node

__all__ = ["Layer"]


class Layer:
    """Base class of every layer.

    Subclasses override :meth:`forward` and :meth:`backward`, and, if they have
    trainable arrays, :meth:`param_specs` and :meth:`reset_parameters` (plus
    :meth:`output_width` if they change the width).

    Attributes
    ----------
    n_in, n_out : int or None
        Input and output widths, known once the layer is built.
    params, grads : dict of str to ndarray
        Views of the parameters and of their gradients (empty before building).
    state : dict of str to ndarray
        Views of the non-trainable arrays (empty unless :meth:`state_specs` declares some).
    """

    #: Set by layers whose ``backward`` accepts ``need_grad_in=False`` to skip
    #: computing a gradient nobody will read (the first layer of a network).
    can_skip_grad_in = False

    #: False for a layer whose input is discrete (codes): the gradient checks leave it alone.
    differentiable_input = True
    #: How many inputs ``forward`` takes: 1 (an array), k > 1 or None (a list of k, or
    #: of two or more, arrays; ``n_in`` is then a tuple of widths).
    n_inputs = 1

    #: Whether ``forward`` validates its input: true for a layer used on its own,
    #: set to false by the network that feeds it (which validated the data once).
    _checks_input = True

    def __init__(self):
        self.n_in = None
        self.n_out = None
        self.params = {}
        self.grads = {}
        self.state = {}
        self._own_buffer = None

    # ----- the part a subclass overrides -------------------------------------------------
    def param_specs(self, n_in: int) -> list:
        """Trainable arrays needed for input width ``n_in``.

        Returns
        -------
        list of :class:`~nnlite.params.ParamSpec`
        """
        return []

    def state_specs(self, n_in: int) -> list:
        """Non-trainable arrays kept for input width ``n_in`` (running statistics and the like).

        Returns
        -------
        list of :class:`~nnlite.params.ParamSpec`
            ``penalized`` is ignored: state is never trained nor penalized.
        """
        return []

    def output_width(self, n_in: int) -> int:
        """Width of the output for an input of width ``n_in``."""
        return n_in

    def reset_parameters(self, rng: np.random.RandomState) -> None:
        """Fill ``self.params`` in place with initial values drawn from ``rng``."""

    def forward(self, x, train: bool = True):
        """Output of the layer for ``x`` of shape ``(n_samples, n_in)``."""
        raise NotImplementedError

    def backward(self, grad_out):
        """Gradient with respect to the input of the last ``forward(x, train=True)``."""
        raise NotImplementedError

    def seed_rng(self, seed: np.random.SeedSequence) -> None:
        """Create the generator(s) drawn from in training mode (default: the layer draws none).

        Parameters
        ----------
        seed : numpy.random.SeedSequence
            Derived from the ``random_state`` that builds the layer (or its
            network), one independent child per layer.
        """

    def _draws_random(self) -> bool:
        """Whether the layer has a generator to seed (it overrides :meth:`seed_rng`)."""
        return type(self).seed_rng is not Layer.seed_rng

    def get_rng_state(self):
        """A snapshot of the layer's generator(s) for :meth:`set_rng_state` (None: no generator)."""
        return None

    def set_rng_state(self, state) -> None:
        """Put back a snapshot taken by :meth:`get_rng_state`."""

    def extra_repr(self) -> str:
        """Arguments shown inside ``repr(layer)``."""
        return ""

    # ----- the fast path a network takes ------------------------------------------------
    # Sequential computes through these two methods.  ``owned``: the input is a work
    # array nobody reads again, so the layer may overwrite it.  ``scratch``: the output
    # may live in a buffer the layer reuses on its next call (only the network's own
    # objective asks for that; public calls always get fresh arrays).  A user layer
    # inherits defaults that fall back on its ``forward`` and ``backward``.
    def _forward_fast(self, x, train, owned, scratch):
        """``(output, output_owned)`` of ``forward(x, train)``."""
        return self.forward(x, train), False

    def _backward_fast(self, grad_out, need_grad_in, scratch):
        """``backward(grad_out)``; ``None`` may be returned when ``need_grad_in`` is false."""
        if not need_grad_in and self.can_skip_grad_in:
            return self.backward(grad_out, need_grad_in=False)
        return self.backward(grad_out)

    def _buffer(self, key, shape, dtype):
        """A work array of ``shape`` kept between calls (a prefix view when fewer rows)."""
        ws = self.__dict__.get("_ws")
        if ws is None:
            ws = self._ws = {}
        buf = ws.get(key)
        if buf is not None and buf.shape == shape and buf.dtype == dtype:
            return buf  # the common case: a full batch
        if (buf is None or buf.dtype != dtype or buf.shape[1:] != shape[1:]
                or buf.shape[0] < shape[0]):
            buf = ws[key] = np.empty(shape, dtype)
        return buf[:shape[0]]

    def _drop_buffers(self):
        """Free the work arrays (the training loop calls this when it ends)."""
        self.__dict__.pop("_ws", None)

    # ----- graphs -------------------------------------------------------------------------
    def __call__(self, inputs) -> Node:
        """This layer applied to a node (or a list of nodes): a new node of a graph.

        Calling the same layer on two nodes shares its parameters between them.

        Parameters
        ----------
        inputs : Node or list of Node
            One node, or for a layer with several inputs (``n_inputs != 1``) a
            list of them.

        Returns
        -------
        Node
        """
        name = type(self).__name__
        nodes = inputs if isinstance(inputs, (list, tuple)) else None
        if nodes is None and not isinstance(inputs, Node) or nodes is not None and not all(
                isinstance(n, Node) for n in nodes):
            raise TypeError(
                f"{name}: call a layer on a node (an Input or the result of calling a layer); "
                f"got {type(inputs).__name__}. To compute on arrays use forward(x)."
            )
        if self.n_inputs == 1:
            if nodes is not None:
                raise TypeError(f"{name}: takes one node; got a list of {len(nodes)}. Combine "
                                "several nodes with Add, Concatenate or Multiply first.")
            nodes, widths = [inputs], inputs.width
        else:
            if nodes is None:
                raise TypeError(f"{name}: takes a list of nodes (one per input); got one node.")
            want = self.n_inputs
            if len(nodes) < 2 if want is None else len(nodes) != want:
                raise ValueError(f"{name}: takes {'two or more' if want is None else want} "
                                 f"nodes; got {len(nodes)}.")
            widths = tuple(n.width for n in nodes)
        try:  # the widths are checked now, where the user wrote the call
            self.param_specs(widths)
            self.state_specs(widths)
            width = self.output_width(widths)
        except ValueError as exc:
            sources = ", ".join(n.describe() for n in nodes)
            raise ValueError(f"{exc} (called on {sources})") from None
        return Node(self, nodes, width)

    # ----- machinery ---------------------------------------------------------------------
    @property
    def built(self) -> bool:
        """Whether the widths are known and the parameters bound."""
        return self.n_in is not None

    def _bind(self, n_in, params, grads, state=None):
        self.n_in = _width(n_in)
        self.n_out = int(self.output_width(self.n_in))
        self.params = params
        self.grads = grads
        self.state = {} if state is None else state

    def build(self, n_in: int, dtype=np.float64, random_state=None) -> Layer:
        """Allocate and initialise the parameters of a layer used on its own.

        Inside a :class:`~nnlite.Sequential` the network does this instead.

        Parameters
        ----------
        n_in : int or tuple of int
            Input width (a tuple of widths for a layer with several inputs).
        dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        random_state : None, int or numpy.random.RandomState, default=None

        Returns
        -------
        self
        """
        n_in = _width(n_in)
        buf = ParamBuffer([self.param_specs(n_in)], dtype, [self.state_specs(n_in)])
        self._own_buffer = buf
        self._bind(n_in, buf.params[0], buf.grads[0], buf.states[0])
        rng = check_random_state(random_state)
        self.reset_parameters(rng)
        if self._draws_random():  # the seed costs a hash of rng's state: only when needed
            self.seed_rng(_seed_sequence(random_state, rng))
        return self

    def _check_input(self, x):
        """``x`` validated as the input of this layer used on its own."""
        if self.n_inputs != 1:
            return _validation.check_input_list(x, f"{type(self).__name__}.forward",
                                                self.n_in if self.params else None,
                                                self.n_inputs)
        width = self.n_in if self.params else None  # activations take any width
        return _validation.check_X(x, f"{type(self).__name__}.forward", n_features=width,
                                   owner="the layer")

    def _ensure_built(self, x):
        if not self.built:
            if isinstance(x, (list, tuple)):  # a layer with several inputs
                x = _validation.Inputs(x)
            dtype = x.dtype if x.dtype == np.float32 else np.float64
            self.build(x.shape[1], dtype=dtype)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["params"] = state["grads"] = None  # views are rebuilt by the owner
        state["state"] = None
        state.pop("_ws", None)  # work arrays are re-created on demand
        # (Sequential) these refer to layers and work arrays: found again when needed
        for key in ("_relu_pairs", "_step_program", "_previous_x"):
            state.pop(key, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self._own_buffer is not None:
            self.params = self._own_buffer.params[0]
            self.grads = self._own_buffer.grads[0]
            self.state = self._own_buffer.states[0]
        elif self.params is None:
            self.params, self.grads = {}, {}
        if self.__dict__.get("state") is None:  # views rebuilt by the owner, or an old pickle
            self.state = {}

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


def _seed_sequence(random_state, rng):
    """The seed of the layers' own generators, drawn without advancing ``rng``.

    ``rng`` gave the initial weights and (in :func:`~nnlite.train`) goes on to
    shuffle the samples: its state after the weights seeds the generators, so
    neither the weights nor the shuffles depend on whether the network has
    random layers.  With ``random_state=None`` the seed is fresh entropy.
    """
    if random_state is None:
        return np.random.SeedSequence()
    _, key, pos, has_gauss, gauss = rng.get_state()
    digest = hashlib.sha256(key.tobytes() + np.array([pos, has_gauss], np.int64).tobytes()
                            + np.float64(gauss).tobytes()).digest()
    return np.random.SeedSequence(np.frombuffer(digest, np.uint32))  # 624 words, hashed: fast
def _width(n_in):
    """An input width as an int, or a tuple of ints for a layer with several inputs."""
    if isinstance(n_in, (tuple, list)):
        return tuple(int(w) for w in n_in)
    return int(n_in)


def _positive_int(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be a positive int; got {value!r}.")
    if value < 1:
        raise ValueError(f"{what} must be a positive int; got {value!r}.")
    return int(value)
