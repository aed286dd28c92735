"""Layers: each keeps its forward and its backward side by side.

The contract every layer follows (and a user-written layer overrides) is
documented on :class:`~nnlite.layers.base.Layer`; one module per family:

``base``
    :class:`Layer`, the contract.
``dense``
    :class:`Dense`.
``activations``
    :class:`Identity`, :class:`Tanh`, :class:`ReLU`, :class:`Logistic`,
    :class:`Exp`, :class:`Softmax`, :class:`LeakyReLU`, :class:`ELU`,
    :class:`GELU`, :class:`Softplus`, :class:`SiLU`.
``dropout``
    :class:`Dropout`.
``normalization``
    :class:`LayerNorm`, :class:`BatchNorm`.
``embedding``
    :class:`Embedding`.
``merge``
    :class:`Add`, :class:`Concatenate`, :class:`Multiply` (several inputs).
``node``
    :class:`Node` (what calling a layer on a node returns) and :class:`Input`.
"""

from .activations import (
    ELU,
    GELU,
    Exp,
    Identity,
    LeakyReLU,
    Logistic,
    ReLU,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
    add_bias_relu,
    softmax_inplace,
    softmax_parts,
)
from .base import Layer
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding
from .merge import Add, Concatenate, Multiply
from .node import Input, Node
from .normalization import BatchNorm, LayerNorm

__all__ = ["Layer", "Dense", "Identity", "Tanh", "ReLU", "Logistic", "Softmax", "Exp",
           "LeakyReLU", "ELU", "GELU", "Softplus", "SiLU", "Dropout", "LayerNorm", "BatchNorm",
           "Embedding", "Add", "Concatenate", "Multiply", "Input", "Node",
           "add_bias_relu", "softmax_parts", "softmax_inplace"]
