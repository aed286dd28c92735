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
from .normalization import BatchNorm, LayerNorm

__all__ = ["Layer", "Dense", "Identity", "Tanh", "ReLU", "Logistic", "Softmax", "Exp",
           "LeakyReLU", "ELU", "GELU", "Softplus", "SiLU", "Dropout", "LayerNorm", "BatchNorm",
           "Embedding", "add_bias_relu", "softmax_parts", "softmax_inplace"]
