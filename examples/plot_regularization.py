"""Varying the regularization ``alpha``: decision boundaries on 2-D data sets.

A larger ``alpha`` (the L2 penalty on the weights) fights overfitting with
smaller weights and smoother, less curved decision boundaries; a smaller one
fights underfitting and lets the boundary bend around single points.  Each
row is one data set generated with numpy (two moons, two circles, a linearly
separable pair of blobs), each column one value of ``alpha``; the shading is
the predicted probability of the positive class, training points are
outlined, test points are translucent, and the test accuracy is in the
corner.

Writes ``regularization_alpha.png``.

Run ``python examples/plot_regularization.py [--quick] [--out-dir DIR]``;
``--quick`` (or ``NNLITE_EXAMPLES_QUICK=1``) uses three values of ``alpha``,
fewer samples and a coarser grid, and finishes in a few seconds.
"""

import argparse
import os
import warnings

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nnlite import ConvergenceWarning, MLPClassifier  # noqa: E402
from nnlite.datasets import make_circles, make_moons  # noqa: E402
from nnlite.plotting import plot_decision_boundary  # noqa: E402


def linearly_separable(n, rng):
    """Two blobs a straight line almost separates."""
    y = np.arange(n) % 2
    X = rng.normal(scale=0.8, size=(n, 2)) + np.where(y[:, None] == 1, 1.5, -0.5)
    return X, y


def split(X, y, rng, test_fraction=0.4):
    """Standardise with the training part's statistics and split."""
    order = rng.permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, fit = order[:n_test], order[n_test:]
    mean, std = X[fit].mean(axis=0), X[fit].std(axis=0)
    X = (X - mean) / std
    return X[fit], X[test], y[fit], y[test]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("NNLITE_EXAMPLES_QUICK") == "1",
                        help="fewer alphas, samples and grid points (seconds)")
    parser.add_argument("--out-dir", default=".", help="where the PNG goes (default: .)")
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)

    alphas = np.logspace(-1, 1, 3 if args.quick else 5)
    n = 100 if args.quick else 200
    resolution = 60 if args.quick else 200
    max_iter = 200 if args.quick else 2000
    rng = np.random.RandomState(3)
    sets = [("moons", make_moons(n, noise=0.3, random_state=rng)),
            ("circles", make_circles(n, noise=0.2, random_state=rng)),
            ("linearly separable", linearly_separable(n, rng))]

    fig, axes = plt.subplots(len(sets), len(alphas),
                             figsize=(3 * len(alphas), 3 * len(sets)), squeeze=False)
    for row, (name, (X, y)) in zip(axes, sets):
        X_train, X_test, y_train, y_test = split(X, y, rng)
        for ax, alpha in zip(row, alphas):
            clf = MLPClassifier(solver="lbfgs", alpha=alpha, hidden_layer_sizes=(10, 10),
                                max_iter=max_iter, random_state=1)
            with warnings.catch_warnings():
                # the quick run stops L-BFGS early on purpose
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X_train, y_train)
            score = clf.score(X_test, y_test)
            print(f"{name:20s} alpha={alpha:7.3f}  test accuracy {score:.3f}")
            both = np.vstack([X_train, X_test])
            plot_decision_boundary(clf, both, ax=ax, resolution=resolution, margin=0.5,
                                   scatter=False)
            ax.scatter(X_train[:, 0], X_train[:, 1], c=y_train, cmap="RdBu", vmin=0, vmax=1,
                       edgecolors="k", s=18)
            ax.scatter(X_test[:, 0], X_test[:, 1], c=y_test, cmap="RdBu", vmin=0, vmax=1,
                       alpha=0.5, s=18)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.text(0.97, 0.03, f"{score:.2f}", transform=ax.transAxes, ha="right",
                    fontsize=13, bbox=dict(facecolor="white", alpha=0.7, lw=0))
            if name == sets[0][0]:
                ax.set_title(f"alpha {alpha:.2f}")
        row[0].set_ylabel(name)
    fig.tight_layout()
    path = os.path.join(args.out_dir, "regularization_alpha.png")
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
