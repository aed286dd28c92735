"""Dropout: random zeroing of inputs while training, the identity at prediction."""

from __future__ import annotations

import numbers

import numpy as np

from .base import Layer

__all__ = ["Dropout"]


class Dropout(Layer):
    """Inverted dropout: in training, each entry is kept with probability ``1 - rate``
    and scaled by ``1 / (1 - rate)``, or set to 0; at prediction, the identity.

    Only ``forward(x, train=True)`` (what :func:`~nnlite.train` and the gradient
    checks run) drops anything; ``predict`` and ``forward(x, train=False)``
    return ``x`` unchanged, so the expected output is the same in both modes.

    Parameters
    ----------
    rate : float
        Probability of dropping an entry, in ``[0, 1)``.
    random_state : None or int, default=None
        Seed of the layer's own generator of masks (a
        :func:`numpy.random.default_rng`), created when the layer or its network
        is built.  ``None``: the seed is derived from the ``random_state`` that
        builds the network (``train(..., random_state=0)`` for a network it
        builds, else the network's own ``random_state``), without drawing from
        it, so the initial weights of the other layers and the shuffles are
        those of the same network without dropout, and a seeded run repeats
        exactly.  A network built with ``random_state=None`` gets fresh masks
        every time.

    Shape
    -----
    (n_samples, n) -> (n_samples, n).

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dropout(0.5, random_state=0).build(4)
    >>> layer.forward(np.ones((2, 4)))            # training: entries are 0 or 2
    array([[2., 0., 0., 0.],
           [2., 2., 2., 2.]])
    >>> layer.forward(np.ones((2, 4)), train=False)
    array([[1., 1., 1., 1.],
           [1., 1., 1., 1.]])
    """

    def __init__(self, rate: float, random_state: int | None = None):
        super().__init__()
        if isinstance(rate, (bool, np.bool_)) or not isinstance(rate, numbers.Real):
            raise TypeError(f"Dropout: rate must be a real number in [0, 1); got {rate!r}.")
        if not 0 <= rate < 1:  # NaN fails too
            raise ValueError(f"Dropout: rate must be in [0, 1); got {rate!r}.")
        if random_state is not None and (
                isinstance(random_state, (bool, np.bool_))
                or not isinstance(random_state, numbers.Integral)):
            raise TypeError("Dropout: random_state must be None or an int in [0, 2**32); got "
                            f"{random_state!r}.")
        if random_state is not None and not 0 <= random_state < 2**32:
            raise ValueError("Dropout: random_state must be None or an int in [0, 2**32); got "
                             f"{random_state!r}.")
        self.rate = float(rate)
        self.random_state = None if random_state is None else int(random_state)
        self.rng = None
        self._mask = None

    # ----- randomness --------------------------------------------------------------------
    def seed_rng(self, seed):
        self.rng = np.random.default_rng(seed if self.random_state is None
                                         else self.random_state)

    def get_rng_state(self):
        return None if self.rng is None else self.rng.bit_generator.state

    def set_rng_state(self, state):
        if state is not None:
            self.rng.bit_generator.state = state

    # ----- computing ---------------------------------------------------------------------
    def forward(self, x, train=True):
        if self._checks_input:
            x = self._check_input(x)
        return self._forward_fast(x, train, False, False)[0]

    def backward(self, grad_out):
        if self._mask is not None:
            grad_out *= self._mask
        return grad_out

    def _forward_fast(self, x, train, owned, scratch):
        if not self.built:
            self._ensure_built(x)
        if not train or self.rate == 0.0:
            self._mask = None
            return x, owned
        x = np.asarray(x)
        keep = self.rng.random(x.shape) >= self.rate
        mask = np.multiply(keep, 1.0 / (1.0 - self.rate), dtype=x.dtype)
        self._mask = mask
        if owned:
            x *= mask
            return x, True
        return x * mask, True

    def _backward_fast(self, grad_out, need_grad_in, scratch):
        return self.backward(grad_out)

    def extra_repr(self):
        seed = "" if self.random_state is None else f", random_state={self.random_state}"
        return f"rate={self.rate:g}{seed}"
