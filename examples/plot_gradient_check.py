"""Check the gradients of a layer you wrote yourself.

Defines ``Swish``, a layer with one learnable parameter per unit,
``y = x * sigmoid(beta * x)``, keeping its forward and its backward side by
side as every nnlite layer does, and a ``BrokenSwish`` whose backward forgets
one term of the product rule.  :func:`nnlite.gradcheck.check_layer` compares
each layer's analytic gradients with central finite differences, and
:func:`nnlite.gradcheck.check_network` checks a whole network that uses the
layer; the correct layer passes and the broken one fails with the entry that
disagrees most.  The figure plots analytic against numeric derivatives for
both (a correct layer sits on the diagonal) and trains a small network that
uses the layer.

Writes ``gradient_check.png``.

Run ``python examples/plot_gradient_check.py [--quick] [--out-dir DIR]``;
``--quick`` (or ``NNLITE_EXAMPLES_QUICK=1``) uses fewer samples and epochs.
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.special import expit  # noqa: E402

from nnlite import (  # noqa: E402
    Adam,
    Dense,
    Layer,
    LogLoss,
    Sequential,
    Softmax,
    gradcheck,
    train,
)
from nnlite.params import ParamSpec  # noqa: E402


class Swish(Layer):
    """``y = x * sigmoid(beta * x)`` with a learnable ``beta`` per unit.

    Shape
    -----
    x : (n_samples, n_in) -> (n_samples, n_in).  Parameter ``beta``: (n_in,).
    """

    def param_specs(self, n_in):
        return [ParamSpec("beta", (n_in,), penalized=False)]

    def reset_parameters(self, rng):
        self.params["beta"][...] = 1.0

    def forward(self, x, train=True):
        s = expit(self.params["beta"] * x)
        if train:
            self._cache = (x, s)  # all backward needs
        return x * s

    def backward(self, grad_out):
        x, s = self._cache
        beta = self.params["beta"]
        ds = s * (1 - s)  # derivative of the sigmoid at beta * x
        # write the parameter gradient into its view, in place (never rebind it)
        self.grads["beta"][...] = np.sum(grad_out * x * x * ds, axis=0)
        return grad_out * (s + beta * x * ds)


class BrokenSwish(Swish):
    """The same layer with a classic bug: the product rule's ``s`` term is missing."""

    def backward(self, grad_out):
        x, s = self._cache
        beta = self.params["beta"]
        ds = s * (1 - s)
        self.grads["beta"][...] = np.sum(grad_out * x * x * ds, axis=0)
        return grad_out * (beta * x * ds)


def derivatives(layer, x, eps=1e-6, seed=0):
    """Analytic and central-difference derivatives of ``sum(r * layer(x))`` w.r.t. ``x``."""
    r = np.random.RandomState(seed).normal(size=(x.shape[0], layer.n_out))
    layer.forward(x, train=True)
    analytic = layer.backward(r.copy()).ravel()
    numeric = np.empty(x.size)
    flat = x.copy().reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = np.sum(r * layer.forward(flat.reshape(x.shape), train=False))
        flat[i] = old - eps
        down = np.sum(r * layer.forward(flat.reshape(x.shape), train=False))
        flat[i] = old
        numeric[i] = (up - down) / (2 * eps)
    return analytic, numeric


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("NNLITE_EXAMPLES_QUICK") == "1",
                        help="fewer samples and epochs (seconds)")
    parser.add_argument("--out-dir", default=".", help="where the PNG goes (default: .)")
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.RandomState(0)
    x = rng.normal(size=(6, 4))

    reports = {}
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.5))
    for ax, cls in zip(axes[:2], (Swish, BrokenSwish)):
        layer = cls().build(4, random_state=0)
        layer.params["beta"][...] = rng.uniform(0.5, 2.0, size=4)
        report = gradcheck.check_layer(layer, x)
        reports[cls.__name__] = report
        print(f"{cls.__name__}: {report}")
        analytic, numeric = derivatives(layer, x)
        lim = [min(analytic.min(), numeric.min()), max(analytic.max(), numeric.max())]
        ax.plot(lim, lim, color="0.7", lw=1)
        ax.scatter(numeric, analytic, s=14, color="tab:green" if report.passed else "tab:red")
        ax.set_xlabel("numeric derivative (central differences)")
        ax.set_ylabel("analytic derivative (backward)")
        verdict = "passed" if report.passed else "FAILED"
        ax.set_title(f"{cls.__name__}: {verdict}, max rel error {report.max_rel_error:.1e}")

    # the layer inside a network: the full check on a tiny one, then training
    net = Sequential([Dense(8), Swish(), Dense(3), Softmax()], random_state=0)
    X = rng.normal(size=(150 if args.quick else 600, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 0] ** 2 + X[:, 1] ** 2 > 1.5)
    print("network:", gradcheck.check_network(net, X[:5], y[:5], LogLoss(), alpha=1e-3))
    history = train(net, X, y, LogLoss(), Adam(0.01), alpha=1e-4,
                    epochs=100 if args.quick else 300, random_state=0)
    accuracy = np.mean(net.predict(X).argmax(axis=1) == y)
    print(f"{net}\ntraining accuracy {accuracy:.3f}")
    axes[2].plot(np.arange(1, len(history.loss_curve) + 1), history.loss_curve)
    axes[2].set_xlabel("epoch")
    axes[2].set_ylabel("training loss")
    axes[2].set_title(f"a network with Swish, accuracy {accuracy:.2f}")
    fig.tight_layout()
    path = os.path.join(args.out_dir, "gradient_check.png")
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")
    if not reports["Swish"].passed or reports["BrokenSwish"].passed:
        raise SystemExit("unexpected gradient-check outcome")


if __name__ == "__main__":
    main()
