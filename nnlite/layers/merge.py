"""Merge layers: several inputs in, one output out (``Add``, ``Concatenate``, ``Multiply``).

They follow the contract for several inputs (see :mod:`nnlite.layers.base`):
``n_inputs = None`` (two or more), ``n_in`` a tuple of widths, ``forward`` takes a
list of arrays with the same number of rows and ``backward`` returns one
gradient per input, each its own array.  In a graph: ``Add()([a, b])``.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .base import Layer

__all__ = ["Add", "Concatenate", "Multiply"]


class _Merge(Layer):
    """What the merges share: several inputs, no parameters, input checks when used alone."""

    n_inputs = None

    def _inputs(self, xs):
        if self._checks_input:  # used on its own: validate, and (re)build for these widths
            xs = self._check_input(xs).arrays
            self._bind(tuple(x.shape[1] for x in xs), {}, {})
        # merges compute on dense arrays (a sparse Input may feed one)
        return [x.toarray() if sparse.issparse(x) else x for x in xs]

    def _same_widths(self, n_in):
        if len(set(n_in)) != 1:
            name = type(self).__name__
            raise ValueError(f"{name}: the inputs have widths {list(n_in)}; {name} needs "
                             "the same width for all.")


class Add(_Merge):
    """Element-wise sum of two or more inputs of the same width (a residual connection).

    Shape
    -----
    xs : list of (n_samples, n) -> (n_samples, n).

    Examples
    --------
    >>> import numpy as np
    >>> Add().forward([np.ones((2, 3)), np.ones((2, 3))])
    array([[2., 2., 2.],
           [2., 2., 2.]])
    """

    def output_width(self, n_in):
        self._same_widths(n_in)
        return n_in[0]

    def forward(self, xs, train=True):
        xs = self._inputs(xs)
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out += x
        return out

    def backward(self, grad_out):
        # every input receives grad_out; each its own array (a receiver may overwrite it)
        return [grad_out] + [grad_out.copy() for _ in self.n_in[1:]]


class Multiply(_Merge):
    """Element-wise product of two or more inputs of the same width (gating).

    Shape
    -----
    xs : list of (n_samples, n) -> (n_samples, n).

    Examples
    --------
    >>> import numpy as np
    >>> Multiply().forward([np.full((1, 2), 2.0), np.full((1, 2), 3.0)])
    array([[6., 6.]])
    """

    def output_width(self, n_in):
        self._same_widths(n_in)
        return n_in[0]

    def forward(self, xs, train=True):
        xs = self._inputs(xs)
        self._xs = xs if train else None
        out = xs[0] * xs[1]
        for x in xs[2:]:
            out *= x
        return out

    def backward(self, grad_out):
        # d(x_0 * ... * x_m)/dx_k: the product of the others
        xs, grads = self._xs, []
        for k in range(len(xs)):
            g = grad_out.copy()
            for j, x in enumerate(xs):
                if j != k:
                    g *= x
            grads.append(g)
        return grads


class Concatenate(_Merge):
    """The inputs side by side, along the features (any widths).

    Shape
    -----
    xs : list of (n_samples, n_k) -> (n_samples, sum of n_k).

    Examples
    --------
    >>> import numpy as np
    >>> Concatenate().forward([np.zeros((2, 1)), np.ones((2, 2))]).shape
    (2, 3)
    """

    def output_width(self, n_in):
        return int(sum(n_in))

    def forward(self, xs, train=True):
        xs = self._inputs(xs)
        dtype = np.result_type(*xs)
        return np.concatenate(xs, axis=1, dtype=dtype)

    def backward(self, grad_out):
        edges = np.cumsum((0,) + tuple(self.n_in))
        return [np.ascontiguousarray(grad_out[:, a:b]) for a, b in zip(edges[:-1], edges[1:])]
