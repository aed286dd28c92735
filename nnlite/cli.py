"""The ``nnlite`` command line (also ``python -m nnlite``)."""

from __future__ import annotations

import argparse
import sys

import numpy as np

__all__ = ["main", "demo"]


def _spirals(n_per_class=200, n_classes=3, noise=0.2, random_state=0):
    """Interleaved 2-D spirals: a small problem no linear model solves."""
    rng = np.random.RandomState(random_state)
    X, y = [], []
    for k in range(n_classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        angle = np.linspace(0, 3.5, n_per_class) + 2 * np.pi * k / n_classes
        angle += rng.normal(scale=noise, size=n_per_class)
        X.append(np.c_[r * np.sin(angle), r * np.cos(angle)])
        y.append(np.full(n_per_class, k))
    return np.vstack(X), np.concatenate(y)


def demo(out=sys.stdout, epochs=300) -> float:
    """Train a small network on generated spirals and report what it learned.

    Returns
    -------
    float
        Accuracy on held-out samples.
    """
    from . import Adam, Dense, LogLoss, Sequential, Softmax, Tanh, train

    X, y = _spirals()
    rng = np.random.RandomState(1)
    order = rng.permutation(len(y))
    test, fit = order[:150], order[150:]
    net = Sequential([Dense(32), Tanh(), Dense(32), Tanh(), Dense(3), Softmax()])
    history = train(net, X[fit], y[fit], LogLoss(), Adam(learning_rate=0.01), epochs=epochs,
                    batch_size=64, random_state=0)
    accuracy = float(np.mean(net.predict(X[test]).argmax(axis=1) == y[test]))
    print("nnlite demo: 3 interleaved spirals, 2 features, "
          f"{len(fit)} training and {len(test)} held-out samples", file=out)
    print(net, file=out)
    print(f"loss: {history.loss_curve[0]:.4f} after epoch 1, "
          f"{history.loss_curve[-1]:.4f} after epoch {len(history.loss_curve)}", file=out)
    print(f"held-out accuracy: {accuracy:.3f} (chance: 0.333)", file=out)
    return accuracy


def main(argv=None) -> int:
    """Entry point of the ``nnlite`` command."""
    parser = argparse.ArgumentParser(prog="nnlite", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="train a small network on built-in data and report it")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
