"""Training control: early stopping, a learning rate cut on plateaus, and checkpoints.

A network classifies the 8x8 handwritten digits (1,797 images shipped inside
scikit-learn, nothing downloaded) with a quarter of the images held out. Three
callbacks steer the run:

- ``EarlyStopping(monitor="val_loss", patience=8)`` stops once the validation
  loss has not improved for 8 epochs and ends the run on the best epoch;
- ``ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=3)`` cuts the
  learning rate whenever the validation loss stalls for 3 epochs;
- ``ModelCheckpoint`` keeps the best network in nnlite's safe format.

The figure shows the training and validation losses per epoch with the
learning rate on a second axis, and marks the epoch that was kept.

Writes ``training_control.png``.

Run ``python examples/plot_training_control.py [--quick] [--out-dir DIR]``;
``--quick`` (or ``NNLITE_EXAMPLES_QUICK=1``) runs at most 6 epochs.
"""

import argparse
import os
import tempfile

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nnlite import (  # noqa: E402
    SGD,
    Dense,
    LogLoss,
    ReLU,
    Sequential,
    Softmax,
    load,
    train,
)
from nnlite.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("NNLITE_EXAMPLES_QUICK") == "1",
                        help="at most 6 epochs (seconds)")
    parser.add_argument("--out-dir", default=".", help="where the PNG goes (default: .)")
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)

    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    order = np.random.RandomState(0).permutation(len(X))
    X, y = X[order], y[order]
    n_val = len(X) // 4
    X_val, y_val, X_fit, y_fit = X[:n_val], y[:n_val], X[n_val:], y[n_val:]

    net = Sequential([Dense(128), ReLU(), Dense(64), ReLU(), Dense(10), Softmax()],
                     random_state=0)
    checkpoint = os.path.join(tempfile.mkdtemp(), "best.nnlite")
    stopper = EarlyStopping(monitor="val_loss", patience=8)
    history = train(net, X_fit, y_fit, LogLoss(), SGD(0.1, momentum=0.9),
                    epochs=6 if args.quick else 300, batch_size=32, alpha=1e-4,
                    validation_data=(X_val, y_val), random_state=0,
                    callbacks=[stopper,
                               ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=3),
                               ModelCheckpoint(checkpoint, monitor="val_loss")])

    best = int(np.argmin(history.validation_loss_curve))
    kept = load(checkpoint)
    accuracy = np.mean(net.predict(X_val).argmax(axis=1) == y_val)
    print(f"{history.n_iter} epochs run (stopped after epoch {stopper.stopped_epoch}); "
          f"best epoch {best + 1} with validation loss "
          f"{history.validation_loss_curve[best]:.4f}")
    print("learning rates used:", sorted(set(history.learning_rates), reverse=True))
    print(f"validation accuracy of the kept network: {accuracy:.3f}; checkpoint equals it: "
          f"{np.array_equal(kept.theta, net.theta)}")

    epochs = np.arange(1, history.n_iter + 1)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(epochs, history.loss_curve, label="training loss", color="tab:blue")
    ax.plot(epochs, history.validation_loss_curve, label="validation loss", color="tab:red")
    ax.axvline(best + 1, color="grey", linestyle=":", label=f"kept: epoch {best + 1}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("log loss (with the L2 term)")
    rate_ax = ax.twinx()
    rate_ax.step(epochs, history.learning_rates, where="post", color="tab:green",
                 label="learning rate")
    rate_ax.set_yscale("log")
    rate_ax.set_ylabel("learning rate")
    lines = ax.get_legend_handles_labels()
    more = rate_ax.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper right")
    ax.set_title("EarlyStopping + ReduceLROnPlateau + ModelCheckpoint on the digits")
    fig.tight_layout()
    path = os.path.join(args.out_dir, "training_control.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print("wrote", path)


if __name__ == "__main__":
    main()
