"""Weight initialisers and the random-state helper.

An initialiser is any callable ``init(rng, shape, fan_in, fan_out)`` that
returns a float64 array of ``shape``; the layer casts it to its own dtype.
Draws are made in float64 so that float32 and float64 networks built from the
same seed start from the same values (as scikit-learn does).
"""

from __future__ import annotations

import numbers
import weakref

import numpy as np

__all__ = ["GlorotUniform", "Zeros", "Constant", "check_random_state"]


def check_random_state(seed) -> np.random.RandomState:
    """Turn ``seed`` into a :class:`numpy.random.RandomState`.

    Parameters
    ----------
    seed : None, int or numpy.random.RandomState
        ``None`` gives numpy's global RandomState, an int a new RandomState
        seeded with it, and a RandomState is returned unchanged.

    Returns
    -------
    numpy.random.RandomState
    """
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.RandomState(seed)
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(
        f"random_state must be None, an int or a numpy.random.RandomState; got {seed!r}."
    )


_REUSED = weakref.WeakKeyDictionary()


def _fresh_random_state(seed, owner) -> np.random.RandomState:
    """``check_random_state(seed)`` for one fit call of ``owner``, cheaper for an int seed.

    ``RandomState(seed)`` first seeds itself from the operating system and then
    from ``seed``: about 90 microseconds, as much as a small minibatch step, paid
    again by every ``partial_fit`` call.  Reseeding the RandomState ``owner``'s
    previous call used gives the same state in about 2 microseconds.  The object
    must not outlive the call: a fit keeps no reference to it.
    """
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        return check_random_state(seed)
    rng = _REUSED.get(owner)
    if rng is None:
        rng = _REUSED[owner] = np.random.RandomState(seed)
    else:
        rng.seed(seed)
    return rng


class GlorotUniform:
    """Uniform draws on ``[-bound, bound]`` with ``bound = sqrt(factor / (fan_in + fan_out))``.

    With ``factor=6`` this is Glorot & Bengio's initialisation; scikit-learn's
    MLP uses ``factor=2`` when the hidden activation is logistic and ``6``
    otherwise, and initialises the biases with the same bound.

    Parameters
    ----------
    factor : float, default=6.0
        Numerator of the bound.

    Examples
    --------
    >>> import numpy as np
    >>> w = GlorotUniform()(np.random.RandomState(0), (3, 2), 3, 2)
    >>> w.shape, bool(np.all(np.abs(w) <= np.sqrt(6 / 5)))
    ((3, 2), True)
    """

    def __init__(self, factor: float = 6.0):
        if not factor > 0:
            raise ValueError(f"GlorotUniform: factor must be > 0; got {factor!r}.")
        self.factor = float(factor)

    def __call__(self, rng, shape, fan_in, fan_out):
        bound = np.sqrt(self.factor / (fan_in + fan_out))
        return rng.uniform(-bound, bound, shape)

    def __repr__(self):
        return f"GlorotUniform(factor={self.factor:g})"


class Constant:
    """Every entry set to ``value`` (no random draw).

    Parameters
    ----------
    value : float, default=0.0
    """

    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def __call__(self, rng, shape, fan_in, fan_out):
        return np.full(shape, self.value)

    def __repr__(self):
        return f"Constant({self.value:g})"


class Zeros(Constant):
    """Every entry zero (no random draw)."""

    def __init__(self):
        super().__init__(0.0)

    def __repr__(self):
        return "Zeros()"
