"""One flat parameter buffer and one flat gradient buffer, with per-layer views.

Every trainable array of a network lives in a single contiguous vector, so an
optimizer updates all parameters with a handful of vectorised in-place
operations and L-BFGS sees the vector it needs without packing.  Layers only
ever receive *views* into the two buffers; the buffers are never reallocated
after binding, so a view handed out once stays valid.

Non-trainable state (such as a normalisation layer's running statistics) lives
in a third flat vector of the same kind: saved, loaded and rolled back with the
parameters, but never seen by the optimizer or the L2 penalty.

Penalized parameters (weights) of all layers come first, then the others
(biases).  That layout keeps the L2 penalty one contiguous slice and matches
the packing scikit-learn uses for L-BFGS, whose iterates depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ParamSpec", "ParamBuffer"]


@dataclass(frozen=True)
class ParamSpec:
    """Declaration of one trainable array of a layer.

    Parameters
    ----------
    name : str
        Name of the array inside its layer, e.g. ``"W"``.
    shape : tuple of int
        Shape of the array.
    penalized : bool, default=True
        Whether the L2 penalty ``alpha`` applies to it (weights yes, biases no).
    """

    name: str
    shape: tuple
    penalized: bool = True

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


class ParamBuffer:
    """Flat storage for the parameters of several owners (layers).

    Parameters
    ----------
    specs : list of list of ParamSpec
        ``specs[k]`` declares the arrays of owner ``k``.
    dtype : numpy dtype, default=float64
        Floating dtype of the buffers.
    state_specs : list of list of ParamSpec, optional
        ``state_specs[k]`` declares the non-trainable arrays of owner ``k``
        (``penalized`` is ignored for them).

    Attributes
    ----------
    theta : ndarray of shape (n_params,)
        All parameters.
    grad : ndarray of shape (n_params,)
        Gradient of the same layout.
    n_penalized : int
        ``theta[:n_penalized]`` holds every penalized array.
    params, grads : list of dict
        Per owner, name -> view of ``theta`` / ``grad`` with the declared shape.
    state : ndarray of shape (n_state,)
        All non-trainable arrays (empty when no owner declares any).
    states : list of dict
        Per owner, name -> view of ``state``.
    """

    def __init__(self, specs, dtype=np.float64, state_specs=None):
        self.specs = [list(s) for s in specs]
        self.dtype = np.dtype(dtype)
        if state_specs is None:
            state_specs = [[] for _ in self.specs]
        self.state_specs = [list(s) for s in state_specs]
        self.state_offsets, start = [], 0
        for owner_specs in self.state_specs:
            offsets = {}
            for spec in owner_specs:
                offsets[spec.name] = (start, start + spec.size, tuple(spec.shape))
                start += spec.size
            self.state_offsets.append(offsets)
        self.state = np.zeros(start, dtype=self.dtype)
        self.offsets = []  # per owner: name -> (start, stop, shape)
        layout = [{} for _ in self.specs]
        start = 0
        for want_penalized in (True, False):
            for k, owner_specs in enumerate(self.specs):
                for spec in owner_specs:
                    if spec.penalized == want_penalized:
                        layout[k][spec.name] = (start, start + spec.size, tuple(spec.shape))
                        start += spec.size
            if want_penalized:
                self.n_penalized = start
        # keep each owner's arrays in declaration order
        self.offsets = [
            {s.name: layout[k][s.name] for s in owner_specs}
            for k, owner_specs in enumerate(self.specs)
        ]
        self.theta = np.zeros(start, dtype=self.dtype)
        self.grad = np.zeros(start, dtype=self.dtype)
        self._make_views()

    def _make_views(self):
        self.params = [self._views(self.theta, o) for o in self.offsets]
        self.grads = [self._views(self.grad, o) for o in self.offsets]
        self.states = [self._views(self.state, o) for o in self.state_offsets]

    @staticmethod
    def _views(flat, offsets):
        return {name: flat[a:b].reshape(shape) for name, (a, b, shape) in offsets.items()}

    @property
    def size(self) -> int:
        return self.theta.size

    def __getstate__(self):
        return {"specs": self.specs, "dtype": self.dtype, "offsets": self.offsets,
                "n_penalized": self.n_penalized, "theta": self.theta, "grad": self.grad,
                "state_specs": self.state_specs, "state_offsets": self.state_offsets,
                "state": self.state}

    def __setstate__(self, state):
        if "state" not in state:  # pickled before non-trainable state existed
            state = dict(state, state_specs=[[] for _ in state["specs"]],
                         state_offsets=[{} for _ in state["specs"]],
                         state=np.zeros(0, state["dtype"]))
        self.__dict__.update(state)
        self._make_views()
