"""First-layer weights of a network trained on handwritten digits.

Trains :class:`nnlite.MLPClassifier` with 16 hidden units on scikit-learn's
8x8 handwritten digits (1,797 images shipped inside scikit-learn, no
download) with SGD and early stopping, then shows each hidden unit's 64
incoming weights as an 8x8 image: strokes and blobs the unit responds to
(light) or against (dark).  A second figure shows the loss curve with the
validation score that early stopping watched.

Writes ``digits_first_layer_weights.png`` and ``digits_loss_curve.png``.

Needs scikit-learn for the data (``pip install "nnlite[examples]"``); without
it the example prints why it is skipped and exits with status 0.

Run ``python examples/plot_digits_weights.py [--quick] [--out-dir DIR]``;
``--quick`` (or ``NNLITE_EXAMPLES_QUICK=1``) trains for a few epochs only.
"""

import argparse
import os
import sys
import warnings

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nnlite import ConvergenceWarning, MLPClassifier  # noqa: E402
from nnlite.plotting import plot_first_layer_weights, plot_loss_curve  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("NNLITE_EXAMPLES_QUICK") == "1",
                        help="a few epochs only (seconds)")
    parser.add_argument("--out-dir", default=".", help="where the PNGs go (default: .)")
    args = parser.parse_args(argv)
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        print("skipped: this example needs scikit-learn for its 8x8 digits data; "
              'install it with pip install "nnlite[examples]".', file=sys.stderr)
        return 0
    os.makedirs(args.out_dir, exist_ok=True)

    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixel intensities 0..16 -> 0..1, so weights read as images
    rng = np.random.RandomState(0)
    order = rng.permutation(len(y))
    test, fit = order[:400], order[400:]
    clf = MLPClassifier(hidden_layer_sizes=(16,), alpha=1e-4, solver="sgd",
                        learning_rate_init=0.1, early_stopping=True, n_iter_no_change=10,
                        max_iter=8 if args.quick else 200, random_state=1)
    with warnings.catch_warnings():
        # the quick run stops at max_iter on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X[fit], y[fit])
    print(f"epochs run: {clf.n_iter_}")
    print(f"training accuracy: {clf.score(X[fit], y[fit]):.3f}")
    print(f"test accuracy:     {clf.score(X[test], y[test]):.3f}")

    fig = plot_first_layer_weights(clf, image_shape=(8, 8), n_cols=8)
    fig.suptitle("first-layer weights, one 8x8 image per hidden unit")
    path = os.path.join(args.out_dir, "digits_first_layer_weights.png")
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")

    fig, ax = plt.subplots(figsize=(6, 4))
    plot_loss_curve(clf, ax=ax)
    ax.set_title("digits: training loss and validation accuracy")
    fig.tight_layout()
    path = os.path.join(args.out_dir, "digits_loss_curve.png")
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
