"""nnlite: a small, exact and fast neural-network library on numpy and scipy."""

from . import gradcheck
from . import tabular as _tabular  # noqa: F401  (registers ScaledModel with nnlite.load)
from ._config import show_config
from ._threads import get_blas_threads, set_blas_threads
from .estimators import MLPClassifier, MLPRegressor
from .exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError
from .init import Constant, GlorotUniform, Zeros
from .io import load, save
from .layers import (
    Add,
    Concatenate,
    Dense,
    Exp,
    Identity,
    Layer,
    Logistic,
    Multiply,
    ReLU,
    Softmax,
    Tanh,
)
from .losses import BinaryLogLoss, LogLoss, Loss, PoissonLoss, SquaredError
from .models import Graph, Input, Sequential
from .optimizers import LBFGS, SGD, Adam, Optimizer
from .training import History, train

__version__ = "0.1.0"

__all__ = [
    "Layer", "Dense", "Identity", "Tanh", "ReLU", "Logistic", "Softmax", "Exp",
    "Add", "Concatenate", "Multiply",
    "Sequential", "Graph", "Input",
    "Loss", "SquaredError", "LogLoss", "BinaryLogLoss", "PoissonLoss",
    "Optimizer", "SGD", "Adam", "LBFGS",
    "GlorotUniform", "Zeros", "Constant",
    "train", "History",
    "MLPClassifier", "MLPRegressor",
    "ConvergenceWarning", "DataConversionWarning", "NotFittedError",
    "gradcheck",
    "save", "load",
    "set_blas_threads", "get_blas_threads",
    "show_config",
]
