"""Which training products use the second core: nnlite's thread policy, product by product.

Fits the networks of the benchmark's cases (a), (b) (float64 and float32) and
(d) with nnlite's default thread setting (``"auto"``) and BLAS on its stock
threads, then prints every matrix product the fits made: its shapes, whether it
was found to give the same bits on one thread as on several BLAS threads and as
split in two by the runner (``nnlite._rowsplit``), the ways its trials compare,
the way chosen at the end, and the time per call of each way in its last trial.

Then the profile: each fit again, on one thread and with ``"auto"``, interleaved
(``--rounds`` times, medians), split into the time spent in the matrix products
and the rest of the step (element-wise passes, optimizer, Python), per step.

    python benchmarks/thread_choices.py [--epochs 5]

Run it on an idle machine for the idle view, beside a CPU hog
(``python -c "while True: pass" &``) for the busy one.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import nnlite  # noqa: E402
from nnlite import _products  # noqa: E402


def fits(epochs):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20000, 50))
    y = rng.randint(0, 10, 20000)
    yield "(a) adam (100,)", lambda: nnlite.MLPClassifier((100,), max_iter=epochs,
                                                         random_state=0).fit(X, y)
    for dt in (np.float64, np.float32):
        Xd = X.astype(dt)
        yield (f"(b) adam (256,128) {np.dtype(dt).name}",
               lambda Xd=Xd: nnlite.MLPClassifier((256, 128), max_iter=epochs,
                                                  random_state=0).fit(Xd, y))
    yield "(d) lbfgs (50,)", lambda: nnlite.MLPClassifier((50,), solver="lbfgs", max_iter=50,
                                                         random_state=0).fit(X, y)


def profile(fits_, rounds):
    """Median seconds per fit, and in its products, on one thread and with "auto"."""
    spent = [0.0]

    def timed(call):
        def run(*args):
            start = time.perf_counter()
            try:
                return call(*args)
            finally:
                spent[0] += time.perf_counter() - start
        return run

    plain_matmul, plain_prepared = _products.matmul, _products.prepared
    times = {}
    # the layers call matmul per product; recorded steps take their calls from prepared
    _products.matmul = timed(plain_matmul)
    _products.prepared = lambda a, b, out: (lambda c: (timed(c[0]), c[1]))(
        plain_prepared(a, b, out))
    try:
        for _ in range(rounds):
            for name, fit in fits_:
                for setting in (1, "auto"):
                    nnlite.set_blas_threads(setting)
                    spent[0] = 0.0
                    start = time.perf_counter()
                    fit()
                    total = time.perf_counter() - start
                    times.setdefault((name, setting), []).append((total, spent[0]))
    finally:
        _products.matmul, _products.prepared = plain_matmul, plain_prepared
        nnlite.set_blas_threads("auto")
    return {key: np.median(np.array(v), axis=0) for key, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    nnlite.set_blas_threads("auto")
    print(f"# load average {os.getloadavg()}; nnlite {nnlite.__version__}")
    print("| fit | product | dtypes | exact on n BLAS threads | exact split | compared | "
          "chosen | us/call on 1 | us/call the other way |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, fit in fits(args.epochs):
        _products._sites.clear()
        fit()
        for row in _products.report():
            (ma, ka), (kb, nb) = row["shapes"]
            seconds = row["seconds"] or ()
            times = [f"{t * 1e6:.0f}" for t in seconds] + ["-"] * (2 - len(seconds))
            exact = {True: "yes", False: "no", None: "not checked"}[row["exact"]]
            split = "yes" if row["split"] else "no"
            ways = ", ".join(map(str, row["ways"]))
            print(f"| {name} | ({ma}x{ka}) @ ({kb}x{nb}) | {row['dtypes']} | {exact} "
                  f"(n={row['threads']}) | {split} | {ways} | {row['choice']} | "
                  f"{times[0]} | {times[1]} |")
    steps = {"(a)": args.epochs * 100, "(b)": args.epochs * 100, "(d)": None}
    print(f"\n# profile: medians of {args.rounds} interleaved rounds; microseconds per "
          "minibatch step (whole fit for L-BFGS)")
    print("| fit | one thread: step | products | rest | auto: step | products | rest |")
    print("|---|---|---|---|---|---|---|")
    medians = profile(list(fits(args.epochs)), args.rounds)
    for name, _ in fits(args.epochs):
        n = steps[name[:3]]
        scale = 1e6 / n if n else 1e6
        cells = []
        for setting in (1, "auto"):
            total, products = medians[name, setting] * scale
            cells += [f"{total:.0f}", f"{products:.0f}", f"{total - products:.0f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
