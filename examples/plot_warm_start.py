"""More control with ``warm_start``: monitor training one epoch at a time.

With ``warm_start=True`` and ``max_iter=1`` every call to ``fit`` runs one
more epoch from where the previous one stopped (the loss curve keeps
growing), so the loop around it can watch anything: here the training and
test accuracy after every epoch, a learning rate halved by hand whenever the
test accuracy has not improved for a while, and a stopping rule of its own
(stop once the test accuracy has not improved for ``patience`` epochs).

Data: two noisy, overlapping spirals in 2-D generated with numpy.

Writes ``warm_start_monitoring.png``.

Run ``python examples/plot_warm_start.py [--quick] [--out-dir DIR]``;
``--quick`` (or ``NNLITE_EXAMPLES_QUICK=1``) runs at most 20 epochs.
"""

import argparse
import os
import warnings

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nnlite import ConvergenceWarning, MLPClassifier  # noqa: E402


def two_spirals(n, noise=0.25, seed=0):
    """Two interleaved spirals with noise, so the test accuracy peaks and flattens."""
    rng = np.random.RandomState(seed)
    t = np.sqrt(rng.uniform(0, 1, n)) * 2.5 * np.pi
    y = np.arange(n) % 2
    sign = np.where(y == 0, 1.0, -1.0)
    X = sign[:, None] * np.c_[t * np.cos(t), t * np.sin(t)] / 3
    return X + rng.normal(scale=noise, size=X.shape), y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("NNLITE_EXAMPLES_QUICK") == "1",
                        help="at most 20 epochs (seconds)")
    parser.add_argument("--out-dir", default=".", help="where the PNG goes (default: .)")
    args = parser.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)

    X, y = two_spirals(600)
    X_train, X_test, y_train, y_test = X[:400], X[400:], y[:400], y[400:]
    clf = MLPClassifier(hidden_layer_sizes=(50, 50), solver="sgd", learning_rate_init=0.05,
                        batch_size=32, momentum=0.9, max_iter=1, warm_start=True,
                        random_state=1)
    max_epochs, patience = (20, 5) if args.quick else (400, 40)
    train_acc, test_acc, rates = [], [], []
    best, since_best = -1.0, 0
    for epoch in range(1, max_epochs + 1):
        with warnings.catch_warnings():
            # one epoch per call never "converges": that is the point of the loop
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X_train, y_train)
        rates.append(clf.learning_rate_init)
        train_acc.append(clf.score(X_train, y_train))
        test_acc.append(clf.score(X_test, y_test))
        if test_acc[-1] > best:
            best, since_best = test_acc[-1], 0
        else:
            since_best += 1
        if since_best and since_best % max(patience // 2, 1) == 0:
            # changing a parameter between calls takes effect on the next epoch
            clf.set_params(learning_rate_init=clf.learning_rate_init / 2)
        if since_best >= patience:
            print(f"stopping after epoch {epoch}: no better test accuracy for {patience} "
                  "epochs")
            break
    print(f"epochs: {len(clf.loss_curve_)} (loss curve length), best test accuracy "
          f"{best:.3f}, last learning rate {clf.learning_rate_init:g}")

    epochs = np.arange(1, len(train_acc) + 1)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    top.plot(epochs, train_acc, label="training accuracy")
    top.plot(epochs, test_acc, label="test accuracy")
    top.axhline(best, color="0.6", lw=0.8, linestyle=":")
    top.set_ylabel("accuracy")
    top.legend(loc="lower right")
    top.set_title("warm_start=True, max_iter=1: one epoch per fit call")
    bottom.plot(epochs, clf.loss_curve_, color="tab:green", label="training loss")
    bottom.set_ylabel("training loss")
    bottom.set_xlabel("epoch")
    rate_ax = bottom.twinx()
    rate_ax.step(epochs, rates, where="post", color="tab:red", linestyle="--")
    rate_ax.set_ylabel("learning_rate_init", color="tab:red")
    fig.tight_layout()
    path = os.path.join(args.out_dir, "warm_start_monitoring.png")
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
