"""nnlite: a small, exact and fast neural-network library on numpy and scipy."""

from . import embedding_network as _embedding_network  # noqa: F401  (registers it)
from . import gradcheck
from . import preprocessing as _preprocessing  # noqa: F401  (registers TableEncoder, TabularModel)
from . import tabular as _tabular  # noqa: F401  (registers ScaledModel with nnlite.load)
from ._config import show_config
from ._sklearn_convert import from_sklearn, to_sklearn
from ._threads import get_blas_threads, set_blas_threads
from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    ReduceLROnPlateau,
)
from .estimators import MLPClassifier, MLPRegressor
from .exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError
from .init import Constant, GlorotUniform, Zeros
from .io import load, save
from .layers import (
    ELU,
    GELU,
    Add,
    BatchNorm,
    Concatenate,
    Dense,
    Dropout,
    Embedding,
    Exp,
    Identity,
    Layer,
    LayerNorm,
    LeakyReLU,
    Logistic,
    Multiply,
    ReLU,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .losses import (
    AbsoluteError,
    BinaryLogLoss,
    Huber,
    LogLoss,
    Loss,
    PoissonLoss,
    SquaredError,
)
from .models import Graph, Input, Sequential
from .optimizers import LBFGS, SGD, Adagrad, Adam, AdamW, Nadam, Optimizer, RMSProp
from .training import History, train

__version__ = "0.1.0"

__all__ = [
    "Layer", "Dense", "Identity", "Tanh", "ReLU", "Logistic", "Softmax", "Exp",
    "LeakyReLU", "ELU", "GELU", "Softplus", "SiLU", "Dropout", "LayerNorm", "BatchNorm",
    "Embedding", "Add", "Concatenate", "Multiply",
    "Sequential", "Graph", "Input",
    "Loss", "SquaredError", "LogLoss", "BinaryLogLoss", "PoissonLoss", "Huber", "AbsoluteError",
    "Optimizer", "SGD", "Adam", "AdamW", "Nadam", "RMSProp", "Adagrad", "LBFGS",
    "GlorotUniform", "Zeros", "Constant",
    "train", "History",
    "Callback", "EarlyStopping", "ModelCheckpoint", "ProgressBar", "ReduceLROnPlateau",
    "LearningRateScheduler", "CSVLogger",
    "MLPClassifier", "MLPRegressor",
    "ConvergenceWarning", "DataConversionWarning", "NotFittedError",
    "gradcheck",
    "save", "load",
    "from_sklearn", "to_sklearn",
    "set_blas_threads", "get_blas_threads",
    "show_config",
]
