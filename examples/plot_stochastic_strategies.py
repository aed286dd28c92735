"""Compare stochastic learning strategies: loss curves of SGD variants and Adam.

Trains :class:`nnlite.MLPClassifier` with seven solver settings (SGD with a
constant or an inverse-scaling learning rate, each without momentum, with
momentum and with Nesterov's momentum; and Adam) on several small data sets,
and draws the training loss after every epoch, one panel per data set.

The data sets are generated with numpy (blobs in 4 dimensions, two moons,
two circles); scikit-learn's 8x8 handwritten digits are added when
scikit-learn is installed (the digits ship inside scikit-learn).

Writes ``stochastic_strategies.png``.

Run ``python examples/plot_stochastic_strategies.py [--quick] [--out-dir DIR]``;
``--quick`` (or the environment variable ``NNLITE_EXAMPLES_QUICK=1``) uses
fewer samples and epochs and finishes in a few seconds.
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

STRATEGIES = [
    ("constant learning-rate",
     dict(solver="sgd", learning_rate="constant", momentum=0, learning_rate_init=0.2)),
    ("constant with momentum",
     dict(solver="sgd", learning_rate="constant", momentum=0.9, nesterovs_momentum=False,
          learning_rate_init=0.2)),
    ("constant with Nesterov's momentum",
     dict(solver="sgd", learning_rate="constant", momentum=0.9, nesterovs_momentum=True,
          learning_rate_init=0.2)),
    ("inv-scaling learning-rate",
     dict(solver="sgd", learning_rate="invscaling", momentum=0, learning_rate_init=0.2)),
    ("inv-scaling with momentum",
     dict(solver="sgd", learning_rate="invscaling", momentum=0.9, nesterovs_momentum=False,
          learning_rate_init=0.2)),
    ("inv-scaling with Nesterov's momentum",
     dict(solver="sgd", learning_rate="invscaling", momentum=0.9, nesterovs_momentum=True,
          learning_rate_init=0.2)),
    ("adam", dict(solver="adam", learning_rate_init=0.01)),
]
STYLES = [
    dict(c="red", linestyle="-"), dict(c="green", linestyle="-"), dict(c="blue", linestyle="-"),
    dict(c="red", linestyle="--"), dict(c="green", linestyle="--"),
    dict(c="blue", linestyle="--"), dict(c="black", linestyle="-"),
]


def blobs(n, rng):
    """Three Gaussian blobs in 4 dimensions (an iris-like problem)."""
    centers = rng.uniform(-2, 2, size=(3, 4))
    y = np.arange(n) % 3
    return centers[y] + rng.normal(scale=1.0, size=(n, 4)), y


def data_sets(quick):
    """``(name, X, y, epochs)`` of every data set, features standardised."""
    rng = np.random.RandomState(0)
    n = 120 if quick else 300
    epochs = 15 if quick else 400
    sets = [("blobs", *blobs(n, rng), epochs),
            ("moons", *make_moons(n, noise=0.2, random_state=rng), epochs),
            ("circles", *make_circles(n, noise=0.1, random_state=rng), epochs)]
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        print("scikit-learn is not installed: the digits panel is left out "
              '(pip install "nnlite[examples]").')
    else:
        X, y = load_digits(return_X_y=True)
        if quick:
            X, y = X[:300], y[:300]
        sets.append(("digits", X, y, 5 if quick else 15))
    out = []
    for name, X, y, ep in sets:
        X = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        out.append((name, X, y, ep))
    return out


def plot_on_dataset(ax, name, X, y, epochs):
    """Fit every strategy on one data set and draw its loss curve."""
    print(f"\nlearning on {name}")
    for (label, params), style in zip(STRATEGIES, STYLES):
        clf = MLPClassifier(random_state=0, max_iter=epochs, **params)
        with warnings.catch_warnings():
            # short runs stop at max_iter on purpose; the curves show how far they got
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        print(f"  {label:38s} training accuracy {clf.score(X, y):.3f}, "
              f"final loss {clf.loss_:.4f}")
        ax.plot(np.arange(1, len(clf.loss_curve_) + 1), clf.loss_curve_, label=label, **style)
    ax.set_title(name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("NNLITE_EXAMPLES_QUICK") == "1",
                        help="small data and few epochs (seconds)")
    parser.add_argument("--out-dir", default=".", help="where the PNG goes (default: .)")
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    sets = data_sets(args.quick)
    fig, axes = plt.subplots(1, len(sets), figsize=(4.5 * len(sets), 4.5))
    for ax, (name, X, y, epochs) in zip(np.atleast_1d(axes), sets):
        plot_on_dataset(ax, name, X, y, epochs)
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    fig.legend(handles, labels, ncol=4, loc="upper center")
    fig.tight_layout(rect=(0, 0, 1, 0.86))
    path = os.path.join(args.out_dir, "stochastic_strategies.png")
    fig.savefig(path, dpi=80)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
