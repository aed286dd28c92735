"""Input checks of the presets, with scikit-learn's wording where users compare them."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from scipy import sparse

from . import exceptions
from ._validation import _all_finite

__all__ = ["check_X", "check_scale", "check_y", "check_sample_weight", "check_feature_names",
           "feature_names_of", "check_consistent_length"]


def _reject_nonfinite(values, input_name, owner):
    if _all_finite(values):
        return
    if np.isnan(values).any():
        msg = f"Input {input_name} contains NaN."
        if input_name == "X":
            msg += (f"\n{owner} does not accept missing values encoded as NaN natively. "
                    "Impute them first (for example with a mean or median), or drop the "
                    "samples or features that contain them.")
        raise ValueError(msg)
    raise ValueError(
        f"Input {input_name} contains infinity or a value too large for {values.dtype!r}."
    )


def _is_missing(value):
    return value is None or type(value).__name__ in ("NAType", "NaTType")


def _to_numeric(array, input_name, float_dtypes):
    """Cast to float64 unless already one of ``float_dtypes``; refuse complex data."""
    if array.dtype.kind == "c":
        raise ValueError(f"Complex data not supported\n{array}\n")
    if (float_dtypes and array.dtype not in float_dtypes) or (
            not float_dtypes and array.dtype.kind in "OUSV"):
        if array.dtype == object and any(_is_missing(v) for v in array.flat):
            raise ValueError(f"Input {input_name} contains NaN.")  # None or pandas.NA
        return array.astype(np.float64)
    return array


def check_X(X, owner, *, float_dtypes=(np.float64, np.float32), input_name="X"):
    """2-D finite numeric ``X`` (dense, or CSR/CSC sparse) with at least one sample and feature.

    ``float_dtypes`` are kept as they are and anything else becomes float64;
    ``float_dtypes=()`` only converts non-numeric input (what predict needs).
    """
    if X is None:
        raise ValueError(f"{owner} requires {input_name} to be passed; got None.")
    if sparse.issparse(X):
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
        X = X.copy() if X.dtype not in float_dtypes and float_dtypes else X
        if float_dtypes and X.dtype not in float_dtypes:
            X = X.astype(np.float64)
        if X.dtype.kind == "c":
            raise ValueError("Complex data not supported")
        _reject_nonfinite(X.data, input_name, owner)
        n_samples, n_features = X.shape
    else:
        if hasattr(X, "dtypes") and hasattr(X, "to_numpy"):  # a DataFrame
            X = X.to_numpy()
        X = np.asarray(X)
        if X.ndim == 0:
            raise ValueError(
                f"Expected 2D array, got scalar array instead:\narray={X!r}.\n"
                "Reshape your data either using array.reshape(-1, 1) if your data has a single "
                "feature or array.reshape(1, -1) if it contains a single sample."
            )
        if X.ndim == 1:
            raise ValueError(
                f"Expected 2D array, got 1D array instead:\narray={X!r}.\n"
                "Reshape your data either using array.reshape(-1, 1) if your data has a single "
                "feature or array.reshape(1, -1) if it contains a single sample."
            )
        if X.ndim > 2:
            raise ValueError(f"Found array with dim {X.ndim}. {owner} expected <= 2.")
        X = _to_numeric(X, input_name, float_dtypes)
        if X.dtype.kind not in "biuf":
            raise ValueError(f"{owner}: {input_name} must hold numbers; got dtype {X.dtype}.")
        _reject_nonfinite(X, input_name, owner)
        n_samples, n_features = X.shape
    if n_samples < 1:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 "
                         f"is required by {owner}.")
    if n_features < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 "
                         f"is required by {owner}.")
    return X


def check_scale(X, owner):
    """Refuse features too large for training: their squares overflow ``X``'s dtype.

    Above ``sqrt(finfo(dtype).max)`` (about 1.3e154 for float64, 1.8e19 for float32)
    the squares training forms (squared error, Adam's second moment, the L2
    penalty of weights grown to the data's scale) overflow, and what comes out is
    garbage or non-finite weights depending on the solver.
    """
    values = X.data if sparse.issparse(X) else X
    if values.size == 0 or values.dtype.kind != "f":
        return
    largest = max(float(values.max()), -float(values.min()))
    limit = float(np.sqrt(np.finfo(values.dtype).max))
    if largest > limit:
        raise ValueError(
            f"{owner}: X holds values up to {largest:.3g} in magnitude, too large for the "
            f"network: in {values.dtype} the squares its training computes overflow above "
            f"{limit:.3g}. Scale the features first (for example with "
            "sklearn.preprocessing.StandardScaler)."
        )


def check_y(y, owner, *, numeric):
    """``y`` as an array of 1 or 2 dimensions, finite if numeric; raveled if a column."""
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None.")
    if sparse.issparse(y):  # e.g. a sparse multilabel indicator matrix
        y = y.toarray()
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    y = np.asarray(y)
    if y.ndim == 0 or y.ndim > 2:
        raise ValueError(f"{owner}: y must be 1-D or 2-D; got an array of dimension {y.ndim}.")
    if numeric:
        if y.dtype.kind == "c":
            raise ValueError(f"Complex data not supported\n{y}\n")
        if y.dtype.kind not in "biuf":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError) as err:
                raise ValueError(f"{owner}: y must be numeric for regression; {err}") from None
    _reject_nonfinite(y, "y", owner)
    if y.dtype == object:
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in y.ravel()):
            raise ValueError("Input y contains NaN.")
    if y.ndim == 2 and y.shape[1] == 1:
        exceptions.warn(
            exceptions.DataConversionWarning,
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples, ), for example using ravel().",
            stacklevel=4,
        )
        y = y.ravel()
    return y


def check_consistent_length(*arrays):
    lengths = [a.shape[0] for a in arrays if a is not None]
    if len(set(lengths)) > 1:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: {lengths}"
        )


def check_sample_weight(sample_weight, n_samples, dtype):
    """1-D finite, non-negative weights of length ``n_samples``, not all zero (``None`` kept)."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=dtype)
    else:
        if hasattr(sample_weight, "to_numpy"):
            sample_weight = sample_weight.to_numpy()
        sample_weight = np.asarray(sample_weight)
        if sample_weight.dtype.kind not in "biuf":
            raise ValueError("sample_weight must hold numbers; got dtype "
                             f"{sample_weight.dtype}.")
        sample_weight = np.array(sample_weight, dtype=dtype, order="C")
        if sample_weight.ndim != 1:
            raise ValueError(
                f"Sample weights must be 1D array or scalar, got {sample_weight.ndim}D array. "
                f"Expected either a scalar value or a 1D array of length {n_samples}."
            )
        if sample_weight.shape != (n_samples,):
            raise ValueError(
                f"sample_weight.shape == {sample_weight.shape}, expected {(n_samples,)}!"
            )
    _reject_nonfinite(sample_weight, "sample_weight", "")
    if np.any(sample_weight < 0):
        raise ValueError("Negative values in data passed to `sample_weight`: weights must be "
                         ">= 0.")
    if np.all(sample_weight == 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight


def feature_names_of(X):
    """Column names of a DataFrame-like ``X`` if they are all strings, else ``None``."""
    columns = getattr(X, "columns", None)
    if columns is None or sparse.issparse(X):
        return None
    names = np.asarray(list(columns), dtype=object)
    kinds = {isinstance(n, str) for n in names}
    if kinds == {True, False}:
        types = sorted({type(n).__name__ for n in names})
        raise TypeError(
            "Feature names are only supported if all input features have string names, but "
            f"your input has {types} as feature name / column name types. If you want feature "
            "names to be stored and validated, you must convert them all to strings, by using "
            "X.columns = X.columns.astype(str) for example. Otherwise you can remove feature / "
            "column names from your input data, or convert them all to a non-string data type."
        )
    return names if kinds == {True} else None


def check_feature_names(estimator, X, *, reset):
    """Record (``reset``) or compare the feature names of ``X``."""
    names = feature_names_of(X)
    if reset:
        if names is not None:
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    owner = type(estimator).__name__
    if fitted is None and names is None:
        return
    if fitted is not None and names is None:
        warnings.warn(f"X does not have valid feature names, but {owner} was fitted with "
                      "feature names", UserWarning, stacklevel=4)
        return
    if fitted is None:
        warnings.warn(f"X has feature names, but {owner} was fitted without feature names",
                      UserWarning, stacklevel=4)
        return
    if len(fitted) != len(names) or np.any(fitted != names):
        unseen = [n for n in names if n not in set(fitted)]
        missing = [n for n in fitted if n not in set(names)]
        msg = "The feature names should match those that were passed during fit.\n"
        if unseen:
            msg += "Feature names unseen at fit time:\n" + "".join(f"- {n}\n" for n in unseen)
        if missing:
            msg += ("Feature names seen at fit time, yet now missing:\n"
                    + "".join(f"- {n}\n" for n in missing))
        if not unseen and not missing:
            msg += "Feature names must be in the same order as they were in fit.\n"
        raise ValueError(msg)
