"""A residual MLP with Dropout and LayerNorm against a plain MLP of the same size.

Both networks classify the 8x8 handwritten digits (1,797 images shipped inside
scikit-learn, nothing downloaded) with three hidden layers of the same width:

- plain: ``Dense -> ReLU`` three times;
- residual: one ``Dense -> ReLU`` layer, then two residual blocks
  ``h + Dropout(ReLU(Dense(LayerNorm(h))))`` and a final ``LayerNorm``, built as
  a :class:`~nnlite.Graph`.

Both train with Adam on the same minibatches; every epoch records the training
loss and the validation loss (from a held-out quarter of the images), and the
figure shows both learning curves of both networks in one plot.

Writes ``residual_vs_plain.png``.

Run ``python examples/plot_residual_mlp.py [--quick] [--out-dir DIR]``;
``--quick`` (or ``NNLITE_EXAMPLES_QUICK=1``) trains for 5 epochs.
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nnlite import (  # noqa: E402
    Adam,
    Add,
    Dense,
    Dropout,
    Graph,
    Input,
    LayerNorm,
    LogLoss,
    ReLU,
    Sequential,
    Softmax,
    train,
)

WIDTH = 64


def plain_mlp(n_in, n_classes):
    return Sequential([Dense(WIDTH), ReLU(), Dense(WIDTH), ReLU(), Dense(WIDTH), ReLU(),
                       Dense(n_classes), Softmax()], n_in=n_in, random_state=0)


def residual_mlp(n_in, n_classes, dropout=0.1):
    x = Input(n_in)
    h = ReLU()(Dense(WIDTH)(x))
    for _ in range(2):  # h + f(h): the block learns a correction to h
        h = Add()([h, Dropout(dropout)(ReLU()(Dense(WIDTH)(LayerNorm()(h))))])
    out = Softmax()(Dense(n_classes)(LayerNorm()(h)))  # pre-norm blocks end in a norm
    return Graph(inputs=x, outputs=out, random_state=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("NNLITE_EXAMPLES_QUICK") == "1",
                        help="5 epochs (seconds)")
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
    epochs = 5 if args.quick else 40

    curves = {}
    for name, net in (("plain MLP", plain_mlp(X.shape[1], 10)),
                      ("residual MLP (Dropout, LayerNorm)", residual_mlp(X.shape[1], 10))):
        history = train(net, X_fit, y_fit, LogLoss(), Adam(0.002), epochs=epochs,
                        batch_size=64, validation_data=(X_val, y_val), random_state=0)
        accuracy = np.mean(net.predict(X_val).argmax(axis=1) == y_val)
        n_params = net.theta.size
        curves[name] = (history.loss_curve, history.validation_loss_curve)
        print(f"{name}: {n_params} parameters, final training loss "
              f"{history.loss_curve[-1]:.4f}, best validation loss "
              f"{min(history.validation_loss_curve):.4f}, validation accuracy {accuracy:.3f}")
        if name.startswith("residual"):
            print(net.summary())

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (name, (fit, val)), color in zip(curves.items(), ("tab:blue", "tab:red")):
        epochs_axis = np.arange(1, len(fit) + 1)
        ax.plot(epochs_axis, fit, color=color, label=f"{name}: training")
        ax.plot(epochs_axis, val, color=color, linestyle="--", label=f"{name}: validation")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("log loss")
    ax.set_title("Digits: residual MLP with Dropout and LayerNorm vs plain MLP")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(args.out_dir, "residual_vs_plain.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print("wrote", path)


if __name__ == "__main__":
    main()
