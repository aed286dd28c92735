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
``merge``
    :class:`Add`, :class:`Concatenate`, :class:`Multiply` (several inputs).
``node``
    :class:`Node` (what calling a layer on a node returns) and :class:`Input`.
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
from .merge import Add, Concatenate, Multiply
from .node import Input, Node

__all__ = ["Layer", "Dense", "Identity", "Tanh", "ReLU", "Logistic", "Softmax", "Exp",
           "Add", "Concatenate", "Multiply", "Input", "Node",
           "add_bias_relu", "softmax_parts", "softmax_inplace"]
