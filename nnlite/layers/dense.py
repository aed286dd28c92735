"""Dense: the affine layer ``y = x @ W + b``."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .. import _accel, _products
from ..init import GlorotUniform
from ..params import ParamSpec
from .activations import add_bias_relu
from .base import Layer, _positive_int

__all__ = ["Dense"]


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
            out = _products.matmul(x, W, self._buffer("out", (x.shape[0], self.units), dtype))
        else:
            out = _products.matmul(x, W)
        add_bias_relu(out, self.params["b"] if self.bias else None, relu is not None)
        if relu is not None:
            relu._z = out if train else None
            return out, not train  # kept as the ReLU's output for backward
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
            _products.matmul(x.T, grad_out, self.grads["W"])
        if not need_grad_in:
            return None
        W = self.params["W"]
        out = None
        if scratch:
            dtype = W.dtype if grad_out.dtype == W.dtype \
                else np.result_type(grad_out.dtype, W.dtype)
            out = self._buffer("grad_in", (grad_out.shape[0], self.n_in), dtype)
        if self.units == 1:  # an outer product, which GEMM computes slowly (see _accel)
            target = out if out is not None else np.empty((grad_out.shape[0], self.n_in),
                                                          W.dtype)
            if _accel.outer_product(grad_out, W.T, target):
                return target
        return _products.matmul(grad_out, W.T, out)

    def extra_repr(self):
        n_in = self.n_in if self.n_in is not None else self.input_width
        return f"{self.units}" + (f", n_in={n_in}" if n_in is not None else "")
