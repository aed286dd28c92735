"""EmbeddingNetwork: an MLP on a table's dense features plus a learned vector per category.

What ``nnlite train`` fits when a :class:`~nnlite.preprocessing.TableEncoder`
feeds a column with many categories to an embedding (``embed_many=True``): the
encoder's output holds the dense features first and then one column of category
codes per embedded column.  The network is a :class:`~nnlite.Graph`: one
:class:`~nnlite.Input` for the dense part, one per code column, each code
column through its own :class:`~nnlite.Embedding`, all concatenated, then the
hidden :class:`~nnlite.Dense` layers and the output layer (Softmax for a
classifier, identity for a regressor), trained with Adam by :func:`nnlite.train`.
"""

from __future__ import annotations

import numpy as np

from . import io as nnlite_io
from .layers import Concatenate, Dense, Embedding, Identity, ReLU, Softmax, Tanh
from .losses import LogLoss, SquaredError
from .models import Graph, Input
from .optimizers import Adam
from .training import train

__all__ = ["EmbeddingNetwork"]

_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "identity": Identity}


class EmbeddingNetwork:
    """A classifier or regressor on dense features and category codes.

    Parameters
    ----------
    n_dense : int
        Number of leading dense columns of ``X``.
    embedding_sizes : list of int
        Number of codes of each code column that follows (categories plus one
        for an unseen category).
    task : {"classification", "regression"}
    hidden_layer_sizes : tuple of int, default=(100,)
    embedding_width : int, optional
        Length of each learned vector (default: ``min(16, (size + 1) // 2)``
        per column).
    activation : {"relu", "tanh", "identity"}, default="relu"
    alpha : float, default=1e-4
        L2 penalty (weights and embedding vectors).
    learning_rate_init : float, default=1e-3
        Adam's step size.
    max_iter : int, default=200
        Epochs.
    batch_size : int, default=200
    random_state : int, default=0
    callbacks : list of Callback, optional
        Passed to :func:`nnlite.train`.

    Attributes
    ----------
    network_ : Graph
    classes_ : ndarray of shape (n_classes,)
        Classifier only.
    n_iter_, loss_, loss_curve_ : int, float, list of float
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite.embedding_network import EmbeddingNetwork
    >>> rng = np.random.RandomState(0)
    >>> X = np.c_[rng.normal(size=(60, 2)), rng.randint(0, 30, 60)]  # 2 dense, 1 code column
    >>> y = (X[:, 2] % 2 == 0)
    >>> net = EmbeddingNetwork(2, [31], "classification", hidden_layer_sizes=(8,), max_iter=5)
    >>> net.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    solver = "adam"

    def __init__(self, n_dense, embedding_sizes, task, *, hidden_layer_sizes=(100,),
                 embedding_width=None, activation="relu", alpha=1e-4,
                 learning_rate_init=1e-3, max_iter=200, batch_size=200, random_state=0,
                 callbacks=None):
        if task not in ("classification", "regression"):
            raise ValueError(f"task must be 'classification' or 'regression'; got {task!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}; got "
                             f"{activation!r}")
        self.n_dense = int(n_dense)
        self.embedding_sizes = [int(s) for s in embedding_sizes]
        self.task = task
        self.hidden_layer_sizes = tuple(int(h) for h in hidden_layer_sizes)
        self.embedding_width = embedding_width
        self.activation = activation
        self.alpha = float(alpha)
        self.learning_rate_init = float(learning_rate_init)
        self.max_iter = int(max_iter)
        self.batch_size = int(batch_size)
        self.random_state = random_state
        self.callbacks = callbacks

    _PARAMS = ("n_dense", "embedding_sizes", "task", "hidden_layer_sizes", "embedding_width",
               "activation", "alpha", "learning_rate_init", "max_iter", "batch_size",
               "random_state")

    def get_params(self) -> dict:
        """The constructor's parameters (but ``callbacks``), by name."""
        return {k: getattr(self, k) for k in self._PARAMS}

    def set_params(self, **params):
        """Set constructor parameters; returns self."""
        for k, v in params.items():
            if k not in self._PARAMS + ("callbacks",):
                raise ValueError(f"EmbeddingNetwork has no parameter {k!r}")
            setattr(self, k, v)
        return self

    @property
    def n_features_in_(self) -> int:
        return self.n_dense + len(self.embedding_sizes)

    def _split(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"EmbeddingNetwork: X must have shape (n_samples, "
                             f"{self.n_features_in_}); got {X.shape}")
        d = self.n_dense
        return [X[:, :d]] + [X[:, d + k:d + k + 1] for k in range(len(self.embedding_sizes))]

    def _build(self, n_out):
        dense = Input(self.n_dense)
        inputs, parts = [dense], [dense]
        for size in self.embedding_sizes:
            codes = Input(1)
            width = self.embedding_width or min(16, (size + 1) // 2)
            inputs.append(codes)
            parts.append(Embedding(size, width)(codes))
        h = Concatenate()(parts)
        for units in self.hidden_layer_sizes:
            h = _ACTIVATIONS[self.activation]()(Dense(units)(h))
        out = Dense(n_out)(h)
        if self.task == "classification":
            out = Softmax()(out)
        return Graph(inputs, out)

    def fit(self, X, y):
        """Train on ``X`` and ``y``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_dense + len(embedding_sizes))
            Dense features, then one column of codes per embedded column.
        y : ndarray of shape (n_samples,)
            Labels (classifier) or values (regressor).

        Returns
        -------
        self
        """
        parts = self._split(X)
        y = np.asarray(y)
        if self.task == "classification":
            self.classes_, codes = np.unique(y, return_inverse=True)
            if len(self.classes_) < 2:
                raise ValueError("EmbeddingNetwork: a classifier needs at least two classes")
            target, loss = codes, LogLoss()
            n_out = len(self.classes_)
        else:
            target, loss, n_out = y.astype(np.float64).reshape(-1, 1), SquaredError(), 1
        net = self._build(n_out)
        history = train(net, parts, target, loss, Adam(self.learning_rate_init),
                        alpha=self.alpha, batch_size=min(self.batch_size, len(y)),
                        epochs=self.max_iter, random_state=self.random_state,
                        callbacks=self.callbacks)
        self.network_ = net
        self.n_iter_ = history.n_iter
        self.loss_ = history.loss
        self.loss_curve_ = list(history.loss_curve)
        return self

    def _output(self, X):
        if not hasattr(self, "network_"):
            raise ValueError("this EmbeddingNetwork is not fitted yet; call fit first")
        return self.network_.predict(self._split(X))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (classifier only).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_dense + len(embedding_sizes))

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        if self.task != "classification":
            raise AttributeError("EmbeddingNetwork: a regressor has no predict_proba.")
        return self._output(X)

    def predict(self, X) -> np.ndarray:
        """Predicted labels or values.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_dense + len(embedding_sizes))

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        out = self._output(X)
        if self.task == "classification":
            return self.classes_[out.argmax(axis=1)]
        return out[:, 0]

    def __repr__(self):
        return (f"EmbeddingNetwork(n_dense={self.n_dense}, "
                f"embedding_sizes={self.embedding_sizes}, task={self.task!r})")

    # ----- nnlite.save / nnlite.load ---------------------------------------------------------
    def __nnlite_getstate__(self):
        if not hasattr(self, "network_"):
            raise ValueError("this EmbeddingNetwork is not fitted yet; call fit first")
        node, arrays = nnlite_io.get_state(self.network_)
        params = self.get_params()
        params["hidden_layer_sizes"] = list(params["hidden_layer_sizes"])
        classes = self.classes_.tolist() if self.task == "classification" else None
        config = {"params": params, "network": node, "n_iter": int(self.n_iter_),
                  "loss": float(self.loss_), "loss_curve": [float(v) for v in self.loss_curve_],
                  "classes": classes}
        return config, {f"network/{k}": v for k, v in arrays.items()}

    @classmethod
    def __nnlite_setstate__(cls, config, arrays):
        if not isinstance(config, dict) or set(config) != {"params", "network", "n_iter",
                                                           "loss", "loss_curve", "classes"}:
            raise ValueError("an EmbeddingNetwork state holds params, network, n_iter, loss, "
                             "loss_curve, classes")
        params = config["params"]
        if not isinstance(params, dict) or set(params) != set(cls._PARAMS):
            raise ValueError(f"EmbeddingNetwork params must be {', '.join(cls._PARAMS)}")
        est = cls(**params)
        sub = {k[len("network/"):]: v for k, v in arrays.items() if k.startswith("network/")}
        if len(sub) != len(arrays):
            raise ValueError("unexpected arrays in an EmbeddingNetwork state")
        net = nnlite_io.from_state(config["network"], sub)
        if not isinstance(net, Graph):
            raise ValueError("the network of an EmbeddingNetwork must be a Graph")
        if est.task == "classification":
            classes = config["classes"]
            if not (isinstance(classes, list) and len(classes) >= 2 and all(
                    isinstance(c, (str, int)) and not isinstance(c, bool) for c in classes)):
                raise ValueError("an EmbeddingNetwork classifier needs its classes: a list of "
                                 "at least two strings or integers")
            est.classes_ = np.array(classes)
        est.network_ = net
        est.n_iter_, est.loss_ = int(config["n_iter"]), float(config["loss"])
        est.loss_curve_ = [float(v) for v in config["loss_curve"]]
        return est


nnlite_io.register_model_class(EmbeddingNetwork)
