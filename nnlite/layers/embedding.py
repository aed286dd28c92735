"""Embedding: a learned vector per category code."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..params import ParamSpec
from .base import Layer, _positive_int

__all__ = ["Embedding"]


def _code(value):
    """A code for a message: ``5`` rather than ``5.0``."""
    value = value.item()
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(value)


class Embedding(Layer):
    """Looks up a learned row of ``W`` for every integer code of its input.

    The input holds category codes in ``[0, n_categories)``: integers, or
    floats with integral values (the networks' inputs are float arrays).  Each
    of its ``k`` columns is looked up in the same table, and the output puts
    the ``k`` rows side by side (a single column gives ``width`` outputs).  A
    code that is not an integer or is outside the range raises a
    ``ValueError`` naming the code and its place.

    The backward pass adds each row of ``grad_out`` into the row of ``W`` its
    code selected (repeated codes add up); the input, being discrete, gets a
    zero gradient (``differentiable_input`` is False, so the gradient checks
    do not perturb it).  Put an ``Embedding`` first in its branch.

    Parameters
    ----------
    n_categories : int
        Number of codes (rows of the table).
    width : int
        Length of each learned vector.

    Shape
    -----
    codes : (n_samples, k) -> (n_samples, k * width).
    Parameter ``W``: (n_categories, width), drawn from a standard normal
    distribution (PyTorch's default), penalized by ``alpha`` like a weight.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Embedding(4, 2).build(1, random_state=0)
    >>> out = layer.forward(np.array([[3], [1], [3]]))
    >>> out.shape, bool(np.all(out[0] == layer.params["W"][3]))
    ((3, 2), True)
    """

    can_skip_grad_in = True
    differentiable_input = False

    def __init__(self, n_categories: int, width: int):
        super().__init__()
        self.n_categories = _positive_int(n_categories, "Embedding: n_categories")
        self.width = _positive_int(width, "Embedding: width")
        self._codes = None

    def param_specs(self, n_in):
        return [ParamSpec("W", (self.n_categories, self.width), penalized=True)]

    def output_width(self, n_in):
        return n_in * self.width

    def reset_parameters(self, rng):
        self.params["W"][...] = rng.standard_normal((self.n_categories, self.width))

    def _check_codes(self, x):
        if type(x) is not np.ndarray and sparse.issparse(x):
            raise TypeError("Embedding: its input must be a dense array of integer codes; got "
                            "a scipy.sparse matrix. Convert it with .toarray().")
        x = np.asarray(x)
        bad = (x < 0) | (x >= self.n_categories)
        if bad.any():  # before the cast, which huge floats would overflow
            i, j = np.argwhere(bad)[0]
            raise ValueError(f"Embedding: input codes must be in [0, n_categories="
                             f"{self.n_categories}); got {_code(x[i, j])} at row {i}, "
                             f"column {j}.")
        if x.dtype.kind in "iu":
            return x
        codes = x.astype(np.intp)
        bad = codes != x
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(f"Embedding: input codes must be integers; got {_code(x[i, j])} at "
                             f"row {i}, column {j}.")
        return codes

    def forward(self, x, train=True):
        if self._checks_input:
            x = self._check_input(x)
        return self._forward_fast(x, train, False, False)[0]

    def _forward_fast(self, x, train, owned, scratch):
        codes = self._check_codes(x)
        self._ensure_built(np.asarray(x))
        self._codes = codes if train else None
        out = self.params["W"][codes]  # (n, k, width): a fresh array
        return out.reshape(codes.shape[0], -1), True

    def backward(self, grad_out, need_grad_in=True):
        codes = self._codes
        gW = self.grads["W"]
        gW[...] = 0
        np.add.at(gW, codes.ravel(), grad_out.reshape(-1, self.width))
        return np.zeros(codes.shape, grad_out.dtype) if need_grad_in else None

    def extra_repr(self):
        return f"{self.n_categories}, {self.width}"
