"""Optimizers, in order of increasing complexity.

SGD; Adam and its relatives AdamW and Nadam; RMSProp; Adagrad; L-BFGS.  The
stochastic ones work on the network's single flat parameter vector:
``init(theta)`` allocates their state once, ``step(theta, grad)`` updates
``theta`` in place with a few vectorised operations.  SGD's and Adam's
element-wise arithmetic is scikit-learn's, operation for operation, so that
the presets reproduce its weights bit for bit; RMSProp, Adagrad, AdamW and
Nadam follow PyTorch's definitions.  Every stochastic optimizer takes a
learning rate or a schedule (:mod:`nnlite.schedules`) and clips gradients on
request (``clip_norm``, ``clip_value``).
"""

from .adagrad import Adagrad
from .adam import Adam, AdamW, Nadam
from .base import Optimizer
from .lbfgs import LBFGS
from .rmsprop import RMSProp
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Nadam", "RMSProp", "Adagrad", "LBFGS"]
