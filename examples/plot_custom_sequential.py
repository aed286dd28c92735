"""A custom :class:`nnlite.Sequential` stack trained with :func:`nnlite.train`.

Builds a three-hidden-layer network by hand (``Dense`` layers with ReLU and
Tanh activations and a ``Softmax`` output), trains it with Adam and the
``LogLoss`` on three interleaved spirals, holds out a validation set that
:func:`~nnlite.train` scores after every epoch (stopping when it stops
improving and restoring the best parameters), and uses a callback to record
the training accuracy.  The figure shows the loss curve with the validation
score, and the decision regions the network learned.

Writes ``custom_sequential.png``.

Run ``python examples/plot_custom_sequential.py [--quick] [--out-dir DIR]``;
``--quick`` (or ``NNLITE_EXAMPLES_QUICK=1``) trains for 40 epochs only.
"""

import argparse
import os
import warnings

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nnlite import (  # noqa: E402
    Adam,
    ConvergenceWarning,
    Dense,
    LogLoss,
    ReLU,
    Sequential,
    Softmax,
    Tanh,
    train,
)
from nnlite.datasets import make_spirals  # noqa: E402
from nnlite.plotting import plot_decision_boundary, plot_loss_curve  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("NNLITE_EXAMPLES_QUICK") == "1",
                        help="40 epochs only (seconds)")
    parser.add_argument("--out-dir", default=".", help="where the PNG goes (default: .)")
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)

    X, y = make_spirals(200)
    order = np.random.RandomState(1).permutation(len(y))
    val, fit = order[:120], order[120:]

    net = Sequential([Dense(64), ReLU(), Dense(64), ReLU(), Dense(32), Tanh(),
                      Dense(3), Softmax()])
    accuracy = []

    def record(net, history):
        # called after every epoch; returning True would stop training
        accuracy.append(float(np.mean(net.predict(X[fit]).argmax(axis=1) == y[fit])))
        return False

    with warnings.catch_warnings():
        # the quick run stops at its epoch limit on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        history = train(net, X[fit], y[fit], LogLoss(), Adam(learning_rate=0.005),
                        alpha=1e-4, batch_size=32, epochs=40 if args.quick else 400,
                        random_state=0, tol=1e-4, n_iter_no_change=30,
                        validation_data=(X[val], y[val]), callback=record)
    print(net)
    print(f"parameters: {net.theta.size}")
    print(f"epochs run: {len(history.loss_curve)}, stopped on the validation score: "
          f"{history.stopped}")
    print(f"training accuracy (last epoch): {accuracy[-1]:.3f}")
    val_accuracy = np.mean(net.predict(X[val]).argmax(axis=1) == y[val])
    print(f"validation accuracy (best parameters): {val_accuracy:.3f}")

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    plot_loss_curve(history, ax=left)
    left.set_title("loss and validation score (minus validation loss)")
    plot_decision_boundary(net, X, y, ax=right, resolution=80 if args.quick else 250,
                           margin=0.1, cmap="viridis")
    right.set_title(f"decision regions, validation accuracy {val_accuracy:.2f}")
    fig.tight_layout()
    path = os.path.join(args.out_dir, "custom_sequential.png")
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
