"""Plots of what users look at most: loss curves, decision boundaries, first-layer weights.

Optional: matplotlib is imported inside each function, never by the rest of
nnlite.  Install it with ``pip install "nnlite[plot]"``.  Every function
draws on an axes (or figure) it is given, or on a new one, and returns it, so
plots compose and the caller decides where they go (``fig.savefig(...)``).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["plot_loss_curve", "plot_decision_boundary", "plot_first_layer_weights"]

_MISSING = ('nnlite.plotting needs matplotlib, which is not installed; install it with '
            'pip install "nnlite[plot]" (or pip install matplotlib).')


def _pyplot():
    """matplotlib.pyplot, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(_MISSING) from exc
    return plt


def _new_axes(ax):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots()
    return ax


def _curves(model):
    """``(loss_curve, validation_scores or None)`` of a preset or a History."""
    if hasattr(model, "loss_curve_") or hasattr(model, "validation_scores_"):
        loss = getattr(model, "loss_curve_", None)
        scores = getattr(model, "validation_scores_", None)
    elif hasattr(model, "loss_curve") and hasattr(model, "validation_scores"):
        loss, scores = model.loss_curve, model.validation_scores
    elif getattr(model, "solver", None) == "lbfgs" and hasattr(model, "network_"):
        raise ValueError("plot_loss_curve: a model trained with solver='lbfgs' records no loss "
                         "curve; use solver='sgd' or 'adam'.")
    elif hasattr(model, "solver"):
        raise ValueError(f"plot_loss_curve: this {type(model).__name__} is not fitted yet; "
                         "call fit first.")
    else:
        raise TypeError("plot_loss_curve: expected a fitted MLPClassifier/MLPRegressor or an "
                        f"nnlite.History; got {type(model).__name__}.")
    if loss is None or len(loss) == 0:
        raise ValueError("plot_loss_curve: the model has no loss curve yet (fit it first with "
                         "solver='sgd' or 'adam').")
    return list(loss), (list(scores) if scores else None)


def plot_loss_curve(model, ax=None, *, label=None, **kwargs):
    """Plot the training loss per epoch, and the validation score when there is one.

    Parameters
    ----------
    model : MLPClassifier, MLPRegressor or History
        A preset fitted with ``solver='sgd'`` or ``'adam'`` (its ``loss_curve_``
        and, with ``early_stopping=True``, ``validation_scores_``), or the
        :class:`~nnlite.History` returned by :func:`~nnlite.train`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made if omitted.
    label : str, optional
        Legend label of the loss line (default ``"training loss"``).
    **kwargs
        Passed to ``ax.plot`` for the loss line (``color``, ``linestyle``...).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.  When validation scores are drawn they are on a second y axis
        sharing the epochs, available as ``ax.validation_axes``.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    ValueError
        If the model has no loss curve (unfitted, or trained with L-BFGS).

    Examples
    --------
    >>> import numpy as np
    >>> from nnlite import Adam, Dense, LogLoss, Sequential, Softmax, Tanh, train
    >>> from nnlite.plotting import plot_loss_curve
    >>> X = np.random.RandomState(0).normal(size=(60, 2)); y = (X[:, 0] > 0).astype(int)
    >>> net = Sequential([Dense(5), Tanh(), Dense(2), Softmax()])
    >>> history = train(net, X, y, LogLoss(), Adam(0.01), epochs=20, random_state=0)
    >>> ax = plot_loss_curve(history)  # doctest: +SKIP
    >>> ax.figure.savefig("loss.png")  # doctest: +SKIP
    """
    loss, scores = _curves(model)
    ax = _new_axes(ax)
    epochs = np.arange(1, len(loss) + 1)
    (line,) = ax.plot(epochs, loss, label=label or "training loss", **kwargs)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    handles = [line]
    if scores is not None:
        twin = ax.twinx()
        (vline,) = twin.plot(np.arange(1, len(scores) + 1), scores, color="tab:orange",
                             linestyle="--", label="validation score")
        best = int(np.nanargmax(scores))
        twin.plot([best + 1], [scores[best]], "o", color="tab:orange")
        twin.set_ylabel("validation score")
        ax.validation_axes = twin
        handles.append(vline)
    # the twin axes is drawn over ax: a legend on ax would sit below its line
    (ax.validation_axes if scores is not None else ax).legend(handles=handles,
                                                              loc="center right")
    return ax


def _class_grid(model, grid):
    """Predicted class index and, for two classes, the positive probability on ``grid``."""
    if hasattr(model, "predict_proba") and hasattr(model, "classes_"):
        proba = model.predict_proba(grid)
    elif hasattr(model, "layers") and callable(getattr(model, "predict", None)):
        proba = np.asarray(model.predict(grid))
        if proba.ndim == 1:
            proba = proba[:, None]
    else:
        raise TypeError("plot_decision_boundary: expected a fitted classifier (an "
                        "MLPClassifier, or a Sequential whose output is class probabilities); "
                        f"got {type(model).__name__}.")
    if proba.shape[1] == 1:
        proba = np.hstack([1 - proba, proba])
    if proba.ndim != 2:
        raise ValueError("plot_decision_boundary: the model's output must be 2-D.")
    return proba.argmax(axis=1), (proba[:, 1] if proba.shape[1] == 2 else None), proba.shape[1]


def plot_decision_boundary(model, X, y=None, ax=None, *, resolution=200, margin=0.5,
                           cmap="RdBu", show_proba=True, scatter=True):
    """Colour the plane by predicted class and draw the samples on top.

    Parameters
    ----------
    model : MLPClassifier or Sequential
        Fitted on 2 input features.  A ``Sequential`` must output class
        probabilities: one column (``Logistic``, positive class) or one column
        per class (``Softmax``).
    X : array-like of shape (n_samples, 2)
        Samples to draw; the plotted region is their bounding box plus ``margin``.
    y : array-like of shape (n_samples,), optional
        Their classes (colours of the points).  For a preset, labels as given to
        ``fit``; for a ``Sequential``, class indices.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made if omitted.
    resolution : int, default=200
        Grid points along each axis.
    margin : float, default=0.5
        Added on every side of the samples' bounding box.
    cmap : str or Colormap, default="RdBu"
    show_proba : bool, default=True
        With two classes, shade by the positive-class probability (with the
        0.5 contour drawn) instead of the hard class.
    scatter : bool, default=True
        Draw the samples (coloured by ``y`` when given); false draws only the
        regions, for callers that draw their own points.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    ValueError
        If ``X`` does not have exactly 2 columns.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError("plot_decision_boundary: X must have shape (n_samples, 2); got "
                         f"{X.shape}.")
    resolution = int(resolution)
    if resolution < 2:
        raise ValueError(f"plot_decision_boundary: resolution must be >= 2; got {resolution}.")
    ax = _new_axes(ax)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.c_[xx.ravel(), yy.ravel()]
    labels, positive, n_classes = _class_grid(model, grid)
    if positive is not None and show_proba:
        zz = positive.reshape(xx.shape)
        ax.contourf(xx, yy, zz, levels=np.linspace(0, 1, 11), cmap=cmap, alpha=0.8)
        ax.contour(xx, yy, zz, levels=[0.5], colors="k", linewidths=1)
    else:
        zz = labels.reshape(xx.shape)
        ax.contourf(xx, yy, zz, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.8)
    if not scatter:
        pass
    elif y is not None:
        y = np.asarray(y)
        classes = getattr(model, "classes_", None)
        if classes is not None:
            codes = np.searchsorted(np.asarray(classes), y)
        else:
            codes = y.astype(int)
        ax.scatter(X[:, 0], X[:, 1], c=codes, cmap=cmap, vmin=0, vmax=max(n_classes - 1, 1),
                   edgecolors="k", linewidths=0.5, s=18)
    else:
        ax.scatter(X[:, 0], X[:, 1], c="k", s=8)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    return ax


def _first_weights(model):
    if hasattr(model, "coefs_"):
        return np.asarray(model.coefs_[0])
    layers = getattr(model, "layers", None)
    if layers is not None:
        for layer in layers:
            if "W" in getattr(layer, "params", {}):
                return np.asarray(layer.params["W"])
        raise ValueError("plot_first_layer_weights: the network has no built Dense layer.")
    W = np.asarray(model)
    if W.ndim != 2:
        raise TypeError("plot_first_layer_weights: expected a fitted preset, a built "
                        "Sequential or a 2-D weight matrix; got "
                        f"{type(model).__name__}.")
    return W


def plot_first_layer_weights(model, image_shape=None, *, max_units=None, n_cols=None, fig=None,
                             cmap="gray"):
    """Show each first-layer unit's incoming weights as an image.

    Parameters
    ----------
    model : MLPClassifier, MLPRegressor, Sequential or ndarray
        A fitted preset (``coefs_[0]``), a built ``Sequential`` (its first
        ``Dense`` layer's ``W``) or a weight matrix of shape
        ``(n_features, n_units)``.
    image_shape : tuple of int, optional
        Shape of one image, e.g. ``(8, 8)`` for scikit-learn's digits; inferred
        when ``n_features`` is a perfect square.
    max_units : int, optional
        Show only the first ``max_units`` units.
    n_cols : int, optional
        Images per row (default: about the square root of the number shown).
    fig : matplotlib.figure.Figure, optional
        Where to draw; a new figure is made if omitted.
    cmap : str or Colormap, default="gray"

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    ValueError
        If ``image_shape`` does not match the number of input features.

    Notes
    -----
    Every image uses one colour scale symmetric about 0 (the largest absolute
    weight shown), so images compare with each other.
    """
    W = _first_weights(model)
    n_features, n_units = W.shape
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(f"plot_first_layer_weights: {n_features} input features are not a "
                             "square image; pass image_shape=(height, width).")
        image_shape = (side, side)
    image_shape = tuple(int(s) for s in image_shape)
    if int(np.prod(image_shape)) != n_features:
        raise ValueError(f"plot_first_layer_weights: image_shape={image_shape} holds "
                         f"{int(np.prod(image_shape))} values but there are {n_features} input "
                         "features.")
    shown = n_units if max_units is None else max(1, min(int(max_units), n_units))
    n_cols = n_cols or math.ceil(math.sqrt(shown))
    n_rows = math.ceil(shown / n_cols)
    plt = _pyplot()
    if fig is None:
        fig = plt.figure(figsize=(1.2 * n_cols, 1.2 * n_rows))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    vmax = float(np.abs(W[:, :shown]).max()) or 1.0
    for k, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if k < shown:
            ax.imshow(W[:, k].reshape(image_shape), cmap=cmap, vmin=-vmax, vmax=vmax,
                      interpolation="nearest")
        else:
            ax.axis("off")
    return fig
