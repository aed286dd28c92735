"""Layers: each keeps its forward and its backward side by side.

The contract every layer follows (and a user-written layer overrides):

``param_specs(n_in)``
    The trainable arrays the layer needs for input width ``n_in`` (default: none).
``output_width(n_in)``
    Width of the output for input width ``n_in`` (default: unchanged).
``reset_parameters(rng)``
    Fill ``self.params`` in place (default: nothing to fill).
``forward(x, train=True)``
    Return the output; when ``train`` is true, cache only what ``backward`` needs.
``backward(grad_out)``
    Return the gradient with respect to the input and *write* the gradients of
    the parameters into the views ``self.grads[name]`` (never rebind them).
    ``grad_out`` belongs to the layer after the call: it may be overwritten.

A layer never allocates its parameters itself: :meth:`Layer.build` (for a layer
used alone) or :class:`~nnlite.Sequential` (for a stack) hands it views into one
flat buffer.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.special import expit

from . import _accel, _validation
from .init import GlorotUniform, check_random_state
from .params import ParamBuffer, ParamSpec

__all__ = ["Layer", "Dense", "Identity", "Tanh", "ReLU", "Logistic", "Softmax", "Exp"]


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
    """

    #: Set by layers whose ``backward`` accepts ``need_grad_in=False`` to skip
    #: computing a gradient nobody will read (the first layer of a network).
    can_skip_grad_in = False

    #: Whether ``forward`` validates its input: true for a layer used on its own,
    #: set to false by the network that feeds it (which validated the data once).
    _checks_input = True

    def __init__(self):
        self.n_in = None
        self.n_out = None
        self.params = {}
        self.grads = {}
        self._own_buffer = None

    # ----- the part a subclass overrides -------------------------------------------------
    def param_specs(self, n_in: int) -> list:
        """Trainable arrays needed for input width ``n_in``.

        Returns
        -------
        list of :class:`~nnlite.params.ParamSpec`
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

    # ----- machinery ---------------------------------------------------------------------
    @property
    def built(self) -> bool:
        """Whether the widths are known and the parameters bound."""
        return self.n_in is not None

    def _bind(self, n_in, params, grads):
        self.n_in = int(n_in)
        self.n_out = int(self.output_width(self.n_in))
        self.params = params
        self.grads = grads

    def build(self, n_in: int, dtype=np.float64, random_state=None) -> Layer:
        """Allocate and initialise the parameters of a layer used on its own.

        Inside a :class:`~nnlite.Sequential` the network does this instead.

        Parameters
        ----------
        n_in : int
            Input width.
        dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        random_state : None, int or numpy.random.RandomState, default=None

        Returns
        -------
        self
        """
        buf = ParamBuffer([self.param_specs(int(n_in))], dtype)
        self._own_buffer = buf
        self._bind(n_in, buf.params[0], buf.grads[0])
        self.reset_parameters(check_random_state(random_state))
        return self

    def _check_input(self, x):
        """``x`` validated as the input of this layer used on its own."""
        width = self.n_in if self.params else None  # activations take any width
        return _validation.check_X(x, f"{type(self).__name__}.forward", n_features=width,
                                   owner="the layer")

    def _ensure_built(self, x):
        if not self.built:
            dtype = x.dtype if x.dtype == np.float32 else np.float64
            self.build(x.shape[1], dtype=dtype)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["params"] = state["grads"] = None  # views are rebuilt by the owner
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
        elif self.params is None:
            self.params, self.grads = {}, {}

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


class Dense(Layer):
    """Affine map ``y = x @ W + b``.

    Parameters
    ----------
    n_out : int
        Output width.
    n_in : int, optional
        Input width; inferred from the data on the first ``forward`` if omitted.
    weight_init, bias_init : callable, default=GlorotUniform()
        Initialisers ``init(rng, shape, fan_in, fan_out)``; the weights are drawn
        first, then the biases (the order scikit-learn uses).
    bias : bool, default=True
        Whether to learn a bias.

    Shape
    -----
    x : (n_samples, n_in), dense or scipy.sparse -> (n_samples, n_out).
    Parameters ``W``: (n_in, n_out) (penalized by ``alpha``), ``b``: (n_out,).

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dense(2).build(3, random_state=0)
    >>> layer.forward(np.ones((4, 3))).shape
    (4, 2)
    """

    can_skip_grad_in = True

    def __init__(self, n_out: int, n_in: int | None = None, *, weight_init=None,
                 bias_init=None, bias: bool = True):
        super().__init__()
        self.units = _positive_int(n_out, "Dense: n_out")
        self.input_width = None if n_in is None else _positive_int(n_in, "Dense: n_in")
        self.weight_init = GlorotUniform() if weight_init is None else weight_init
        self.bias_init = GlorotUniform() if bias_init is None else bias_init
        self.bias = bool(bias)
        self._x = None

    def param_specs(self, n_in):
        if self.input_width is not None and n_in != self.input_width:
            raise ValueError(
                f"Dense: this layer was declared with n_in={self.input_width} but receives "
                f"inputs of width {n_in}."
            )
        specs = [ParamSpec("W", (n_in, self.units), penalized=True)]
        if self.bias:
            specs.append(ParamSpec("b", (self.units,), penalized=False))
        return specs

    def output_width(self, n_in):
        return self.units

    def reset_parameters(self, rng):
        shape = (self.n_in, self.n_out)
        self.params["W"][...] = self.weight_init(rng, shape, self.n_in, self.n_out)
        if self.bias:
            self.params["b"][...] = self.bias_init(rng, (self.n_out,), self.n_in, self.n_out)

    def forward(self, x, train=True):
        if self._checks_input:
            x = self._check_input(x)
        return self._forward_fast(x, train, False, False)[0]  # a fresh output array

    def backward(self, grad_out, need_grad_in=True):
        return self._backward_fast(grad_out, need_grad_in, False)

    def _forward_fast(self, x, train, owned, scratch, relu=None):
        # ``relu``: the ReLU layer that follows, applied here in the same pass as the bias
        if self.n_in is None:
            self._ensure_built(x)
        W = self.params["W"]
        self._x = x if train else None
        if type(x) is not np.ndarray and sparse.issparse(x):
            out = x @ W
        elif scratch:
            dtype = W.dtype if x.dtype == W.dtype else np.result_type(x.dtype, W.dtype)
            out = self._buffer("out", (x.shape[0], self.units), dtype)
            np.matmul(x, W, out=out)
        else:
            out = np.matmul(x, W)
        add_bias_relu(out, self.params["b"] if self.bias else None, relu is not None)
        if relu is not None:
            relu._z = out if train else None
        return out, True

    def _backward_fast(self, grad_out, need_grad_in, scratch, relu=None):
        # ``relu``: the ReLU layer that followed in the forward pass; its derivative is
        # applied to ``grad_out`` here, in the same pass as the bias gradient
        x = self._x
        if relu is not None:
            sums = self.grads["b"] if self.bias else None
            if not _accel.relu_backward(grad_out, relu._z, sums):
                relu._derivative_inplace(relu._z, grad_out)
                if sums is not None:
                    np.sum(grad_out, axis=0, out=sums)
        elif self.bias and not _accel.column_sums(grad_out, self.grads["b"]):
            np.sum(grad_out, axis=0, out=self.grads["b"])
        if type(x) is not np.ndarray and sparse.issparse(x):
            self.grads["W"][...] = x.T @ grad_out
        else:
            np.matmul(x.T, grad_out, out=self.grads["W"])
        if not need_grad_in:
            return None
        W = self.params["W"]
        if not scratch:
            return grad_out @ W.T
        dtype = W.dtype if grad_out.dtype == W.dtype else np.result_type(grad_out.dtype, W.dtype)
        out = self._buffer("grad_in", (grad_out.shape[0], self.n_in), dtype)
        return np.matmul(grad_out, W.T, out=out)

    def extra_repr(self):
        n_in = self.n_in if self.n_in is not None else self.input_width
        return f"{self.units}" + (f", n_in={n_in}" if n_in is not None else "")


class _Activation(Layer):
    """Element-wise map whose derivative is expressed through its output."""

    def forward(self, x, train=True):
        if self._checks_input:
            x = self._check_input(x)
        return self._forward_fast(x, train, False, False)[0]  # never writes the caller's x

    def backward(self, grad_out):
        return self._derivative_times(self._z, grad_out)

    def _apply_inplace(self, x):
        """``_apply(x)`` written into ``x``."""
        x[...] = self._apply(x)
        return x

    def _derivative_inplace(self, z, g):
        """``_derivative_times(z, g)`` using work arrays kept by the layer."""
        return self._derivative_times(z, g)

    def _forward_fast(self, x, train, owned, scratch):
        if not self.built:
            self._bind(x.shape[1], {}, {})
        z = self._apply_inplace(x) if owned else self._apply(np.asarray(x))
        self._z = z if train else None
        return z, True

    def _backward_fast(self, grad_out, need_grad_in, scratch):
        return self._derivative_inplace(self._z, grad_out)


class Identity(_Activation):
    """``f(x) = x``.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).
    """

    @staticmethod
    def _apply(x):  # used by the fused Identity + SquaredError pair
        return x

    def forward(self, x, train=True):
        if self._checks_input:
            x = self._check_input(x)
        if not self.built:
            self._bind(x.shape[1], {}, {})
        return x

    def backward(self, grad_out):
        return grad_out

    @staticmethod
    def _apply_inplace(x):
        return x

    def _forward_fast(self, x, train, owned, scratch):
        if not self.built:
            self._bind(x.shape[1], {}, {})
        return x, owned

    def _backward_fast(self, grad_out, need_grad_in, scratch):
        return grad_out


class Tanh(_Activation):
    """``f(x) = tanh(x)``; ``f' = 1 - f**2``.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).
    """

    @staticmethod
    def _apply(x):
        return np.tanh(x)

    @staticmethod
    def _apply_inplace(x):
        return np.tanh(x, out=x)

    @staticmethod
    def _derivative_times(z, g):
        g *= 1 - z**2
        return g

    def _derivative_inplace(self, z, g):
        tmp = self._buffer("tmp", z.shape, z.dtype)
        np.multiply(z, z, out=tmp)
        np.subtract(1, tmp, out=tmp)
        g *= tmp
        return g


class ReLU(_Activation):
    """``f(x) = max(x, 0)``; the derivative at 0 is taken as 0.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).
    """

    @staticmethod
    def _apply(x):
        return np.maximum(x, 0)

    @staticmethod
    def _apply_inplace(x):
        return add_bias_relu(x, None, True)

    @staticmethod
    def _derivative_times(z, g):
        g *= z > 0
        return g

    def _derivative_inplace(self, z, g):
        if _accel.relu_backward(g, z):
            return g
        # scikit-learn's delta[Z == 0] = 0, as a masked copy (faster than the scatter)
        mask = self._buffer("mask", z.shape, np.bool_)
        np.equal(z, 0, out=mask)
        np.copyto(g, 0, where=mask)
        return g


class Logistic(_Activation):
    """``f(x) = 1 / (1 + exp(-x))`` (overflow-free); ``f' = f (1 - f)``.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).
    """

    @staticmethod
    def _apply(x):
        return expit(x)

    @staticmethod
    def _apply_inplace(x):
        return expit(x, out=x)

    @staticmethod
    def _derivative_times(z, g):
        g *= z
        g *= 1 - z
        return g

    def _derivative_inplace(self, z, g):
        tmp = self._buffer("tmp", z.shape, z.dtype)
        g *= z
        np.subtract(1, z, out=tmp)
        g *= tmp
        return g


class Exp(_Activation):
    """``f(x) = exp(x)``, the inverse link of the Poisson loss.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).
    """

    @staticmethod
    def _apply(x):
        return np.exp(x)

    @staticmethod
    def _apply_inplace(x):
        return np.exp(x, out=x)

    @staticmethod
    def _derivative_times(z, g):
        g *= z
        return g


def add_bias_relu(out, b, relu):
    """``out += b`` (unless ``b`` is None), then ``out = max(out, 0)`` if ``relu``; in place.

    One pass with the compiled kernels, two numpy operations otherwise; the same bits.
    """
    if (b is not None or relu) and not _accel.add_bias_relu(out, b, relu):
        if b is not None:
            out += b
        if relu:
            np.maximum(out, 0, out=out)
    return out


def softmax_parts(x):
    """Row-wise softmax of ``x`` with the pieces a log-loss reuses.

    Returns
    -------
    shifted : ndarray
        ``x - max(x, axis=1)``.
    sums : ndarray of shape (n_samples, 1)
        ``sum(exp(shifted), axis=1)``.
    p : ndarray
        ``exp(shifted) / sums``.
    """
    shifted = x - x.max(axis=1)[:, np.newaxis]
    p = np.exp(shifted)
    sums = p.sum(axis=1)[:, np.newaxis]
    p /= sums
    return shifted, sums, p


def softmax_inplace(x):
    """Row-wise softmax written into ``x``, with the operations of :func:`softmax_parts`."""
    if not _accel.softmax_shift(x):  # numpy's row maximum is slow on narrow rows
        x -= x.max(axis=1)[:, np.newaxis]
    np.exp(x, out=x)
    if not _accel.softmax_normalise(x):
        x /= x.sum(axis=1)[:, np.newaxis]
    return x


class Softmax(_Activation):
    """Row-wise ``exp(x_k) / sum_j exp(x_j)``, computed with the row maximum removed.

    The backward pass is the vectorised Jacobian product
    ``p * (g - sum(g * p, axis=1))``.

    Shape
    -----
    (n_samples, n) -> (n_samples, n), rows summing to 1.
    """

    @staticmethod
    def _apply(x):
        return softmax_parts(x)[2]

    @staticmethod
    def _apply_inplace(x):
        return softmax_inplace(x)

    @staticmethod
    def _derivative_times(p, g):
        return p * (g - (g * p).sum(axis=1, keepdims=True))


def _positive_int(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be a positive int; got {value!r}.")
    if value < 1:
        raise ValueError(f"{what} must be a positive int; got {value!r}.")
    return int(value)
