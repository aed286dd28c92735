"""L-BFGS on a million rows held by a Dask cluster, with lazy predictions.

Builds a dask array of 1,000,000 x 20 rows lazily (each block is generated on
the worker that holds it; nothing is built in this process), starts a
``LocalCluster`` of two worker processes on loopback, trains a
:class:`nnlite.Sequential` with L-BFGS on it (every objective evaluation sums
the blocks' losses and gradients on the workers), predicts lazily (one task
per block) and plots the objective at every evaluation.

Writes ``dask_lbfgs_loss.png``.

Needs dask (``pip install "nnlite[dask]"``); without it the example prints why
it is skipped and exits with status 0.

Run ``python examples/plot_dask_lbfgs.py [--quick] [--out-dir DIR]``;
``--quick`` (or ``NNLITE_EXAMPLES_QUICK=1``) uses 40,000 rows and 5 iterations.
"""

import argparse
import os
import sys
import time
import warnings

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nnlite import (  # noqa: E402
    LBFGS,
    ConvergenceWarning,
    Dense,
    LogLoss,
    Sequential,
    Softmax,
    Tanh,
    train,
)


class RecordingLBFGS(LBFGS):
    """L-BFGS that keeps the objective's value at every evaluation."""

    def minimize(self, fun, theta0):
        self.values = []

        def recorded(theta):
            value, grad = fun(theta)
            self.values.append(value)
            return value, grad

        return super().minimize(recorded, theta0)


def make_data(n_rows, chunk):
    """Lazy features and labels: three classes separated by two noisy planes."""
    import dask.array as da

    state = da.random.RandomState(0)
    X = state.normal(size=(n_rows, 20), chunks=(chunk, 20))
    noise = state.normal(scale=0.5, size=n_rows, chunks=chunk)
    y = (X[:, 0] + X[:, 1] + noise > 0).astype(int) + (X[:, 2] - X[:, 3] > 1)
    return X, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("NNLITE_EXAMPLES_QUICK") == "1",
                        help="40,000 rows and 5 iterations (seconds)")
    parser.add_argument("--out-dir", default=".", help="where the PNG goes (default: .)")
    args = parser.parse_args(argv)
    try:
        import dask.array as da
        from distributed import Client, LocalCluster
    except ImportError:
        print("skipped: this example needs dask; install it with "
              'pip install "nnlite[dask]".', file=sys.stderr)
        return 0
    os.makedirs(args.out_dir, exist_ok=True)
    n_rows, chunk, maxiter = (40_000, 10_000, 5) if args.quick else (1_000_000, 100_000, 100)
    X, y = make_data(n_rows, chunk)
    print(f"X: {X.shape[0]:,} x {X.shape[1]} in {X.numblocks[0]} blocks (lazy)")

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=":0") as cluster, Client(cluster):
        net = Sequential([Dense(32), Tanh(), Dense(3), Softmax()])
        optimizer = RecordingLBFGS(maxiter=maxiter)
        began = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # the quick run stops early
            history = train(net, X, y, LogLoss(), optimizer, alpha=1e-4, random_state=0)
        seconds = time.perf_counter() - began
        print(f"L-BFGS: {history.n_iter} iterations, {len(optimizer.values)} evaluations, "
              f"{seconds:.1f} s, final loss {history.loss:.4f}")
        proba = net.predict(X)  # lazy: one task per block
        print(f"prediction: a lazy {type(proba).__name__} of {proba.numblocks[0]} blocks")
        accuracy = da.mean(proba.argmax(axis=1) == y).compute()
        print(f"training accuracy: {accuracy:.4f}")

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.arange(1, len(optimizer.values) + 1), optimizer.values, marker=".")
    ax.set_yscale("log")
    ax.set_xlabel("objective evaluation")
    ax.set_ylabel("loss (log scale)")
    ax.set_title(f"L-BFGS on {n_rows:,} rows, two Dask workers")
    fig.tight_layout()
    path = os.path.join(args.out_dir, "dask_lbfgs_loss.png")
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
