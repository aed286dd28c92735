"""Layers: each keeps its forward and its backward side by side.

The contract every layer follows (and a user-written layer overrides) is
documented on :class:`~nnlite.layers.base.Layer`; one module per family:

``base``
    :class:`Layer`, the contract.
``dense``
    :class:`Dense`.
``activations``
    :class:`Identity`, :class:`Tanh`, :class:`ReLU`, :class:`Logistic`,
    :class:`Exp`, :class:`Softmax`.
"""

from .activations import (
    Exp,
    Identity,
    Logistic,
    ReLU,
    Softmax,
    Tanh,
    add_bias_relu,
    softmax_inplace,
    softmax_parts,
)
from .base import Layer
from .dense import Dense

__all__ = ["Layer", "Dense", "Identity", "Tanh", "ReLU", "Logistic", "Softmax", "Exp",
           "add_bias_relu", "softmax_parts", "softmax_inplace"]
