"""A fitted preset behind a standardisation of its features: what ``nnlite train`` saves.

:class:`ScaledModel` stores the per-feature mean and scale it subtracts and
divides by, the names of the feature columns and of the target, and the
estimator trained on the standardised features, so a loaded model predicts
from raw data with no separate preprocessing step.  It is registered with
:mod:`nnlite.io`, so :func:`nnlite.save` and :func:`nnlite.load` handle it.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import io as nnlite_io

__all__ = ["ScaledModel"]


class ScaledModel:
    """Standardise the features, then predict with a fitted estimator.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        Fitted on features already standardised with ``mean`` and ``scale``.
    mean, scale : array-like of shape (n_features,)
        ``predict(X)`` feeds ``(X - mean) / scale`` to the estimator; every
        ``scale`` entry must be positive.
    feature_names : list of str, optional
        Names of the feature columns, in the order of ``X``'s columns.
    target : str, optional
        Name of the target column.
    info : dict, optional
        JSON-able facts about the training run (data file, held-out score...),
        saved with the model and shown by ``nnlite info``.

    Attributes
    ----------
    n_features_in_ : int
    classes_ : ndarray
        Class labels (classifiers only).

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import MLPRegressor
    >>> from nnlite.tabular import ScaledModel
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(loc=100.0, scale=20.0, size=(80, 2)); y = X[:, 0] / 20
    >>> mean, scale = X.mean(axis=0), X.std(axis=0)
    >>> reg = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    >>> model = ScaledModel(reg.fit((X - mean) / scale, y), mean, scale, ["a", "b"], "y")
    >>> model.predict(X[:3]).shape
    (3,)
    """

    def __init__(self, estimator, mean, scale, feature_names=None, target=None, info=None):
        self.estimator = estimator
        self.mean = np.asarray(mean, dtype=np.float64).ravel()
        self.scale = np.asarray(scale, dtype=np.float64).ravel()
        if self.mean.shape != self.scale.shape:
            raise ValueError("ScaledModel: mean and scale must have the same length; got "
                             f"{self.mean.size} and {self.scale.size}.")
        if not (np.isfinite(self.mean).all() and np.isfinite(self.scale).all()
                and (self.scale > 0).all()):
            raise ValueError("ScaledModel: mean must be finite and scale finite and positive.")
        n_in = getattr(estimator, "n_features_in_", self.mean.size)
        if n_in != self.mean.size:
            raise ValueError(f"ScaledModel: the estimator takes {n_in} features but mean and "
                             f"scale have {self.mean.size}.")
        if feature_names is not None:
            feature_names = [str(n) for n in feature_names]
            if len(feature_names) != self.mean.size:
                raise ValueError(f"ScaledModel: {len(feature_names)} feature names for "
                                 f"{self.mean.size} features.")
        self.feature_names = feature_names
        self.target = None if target is None else str(target)
        self.info = dict(info or {})

    @property
    def n_features_in_(self) -> int:
        return int(self.mean.size)

    @property
    def classes_(self):
        return self.estimator.classes_

    @property
    def is_classifier(self) -> bool:
        """Whether the wrapped estimator is a classifier."""
        return hasattr(self.estimator, "classes_")

    def transform(self, X) -> np.ndarray:
        """The standardised features ``(X - mean) / scale``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.mean.size:
            raise ValueError(f"ScaledModel: X must have shape (n_samples, {self.mean.size}); "
                             f"got {X.shape}.")
        return (X - self.mean) / self.scale

    def predict(self, X) -> np.ndarray:
        """Predicted class labels or values for raw (unscaled) ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        return self.estimator.predict(self.transform(X))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities for raw ``X`` (classifiers only).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of :attr:`classes_`.
        """
        if not self.is_classifier:
            raise AttributeError("ScaledModel: a regressor has no predict_proba.")
        return self.estimator.predict_proba(self.transform(X))

    def score(self, X, y) -> float:
        """Accuracy (classifier) or R^2 (regressor) of the predictions for raw ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        float
        """
        return float(self.estimator.score(self.transform(X), y))

    def __repr__(self):
        return (f"ScaledModel({type(self.estimator).__name__}, n_features={self.mean.size}, "
                f"target={self.target!r})")

    # ----- nnlite.save / nnlite.load ---------------------------------------------------------
    def __nnlite_getstate__(self):
        node, sub = nnlite_io.get_state(self.estimator)
        arrays = {"mean": self.mean, "scale": self.scale}
        arrays.update({f"estimator/{k}": v for k, v in sub.items()})
        config = {"estimator": node, "feature_names": self.feature_names,
                  "target": self.target, "info": self.info}
        return config, arrays

    @classmethod
    def __nnlite_setstate__(cls, config, arrays):
        if not isinstance(config, dict) or set(config) != {"estimator", "feature_names",
                                                           "target", "info"}:
            raise ValueError("a ScaledModel state holds estimator, feature_names, target, info")
        sub = {k[len("estimator/"):]: v for k, v in arrays.items()
               if k.startswith("estimator/")}
        if set(arrays) - {"mean", "scale"} - {f"estimator/{k}" for k in sub}:
            raise ValueError("unexpected arrays in a ScaledModel state")
        if "mean" not in arrays or "scale" not in arrays:
            raise ValueError("a ScaledModel state needs the arrays mean and scale")
        estimator = nnlite_io.from_state(config["estimator"], sub)
        if not hasattr(estimator, "n_features_in_"):
            raise ValueError("the estimator of a ScaledModel must be a fitted preset")
        names, target, info = config["feature_names"], config["target"], config["info"]
        if names is not None and not (isinstance(names, list)
                                      and all(isinstance(n, str) for n in names)):
            raise ValueError("feature_names must be a list of strings")
        if target is not None and not isinstance(target, str):
            raise ValueError("target must be a string")
        if not isinstance(info, dict) or not all(
                isinstance(v, (str, numbers.Real, type(None))) for v in info.values()):
            raise ValueError("info must map names to strings or numbers")
        return cls(estimator, arrays["mean"], arrays["scale"], names, target, info)


nnlite_io.register_model_class(ScaledModel)
