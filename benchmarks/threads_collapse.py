"""Does a fit collapse when BLAS runs one thread per core on a busy 2-core machine?

Runs, interleaved in one process with BLAS allowed two threads (what BLAS does by
default on two cores): nnlite with its own thread choice (``"auto"``), nnlite told to
leave BLAS alone (``"off"``), and scikit-learn. Start a CPU hog on one core first
(``python -c "while True: pass" &``) to reproduce a busy machine.

    python benchmarks/threads_collapse.py [--rounds 3]
"""

import argparse
import os
import time
import warnings

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from sklearn.neural_network import MLPClassifier as SklearnMLP
    from threadpoolctl import threadpool_limits

    import nnlite

    warnings.simplefilter("ignore")
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(5000, 64)), rng.randint(0, 10, 5000)
    threadpool_limits(2)
    params = dict(hidden_layer_sizes=(256, 128), max_iter=3, random_state=0)

    def nnlite_fit(setting):
        nnlite.set_blas_threads(setting)
        nnlite.MLPClassifier(**params).fit(X, y)

    contenders = {
        "nnlite threads=auto": lambda: nnlite_fit("auto"),
        "nnlite threads=off (BLAS: 2)": lambda: nnlite_fit("off"),
        "scikit-learn (BLAS: 2)": lambda: SklearnMLP(**params).fit(X, y),
    }
    times = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, fit in contenders.items():
            start = time.perf_counter()
            fit()
            times[name].append(time.perf_counter() - start)
    print(f"# load average {os.getloadavg()}; 5000 x 64, hidden (256, 128), adam, 3 epochs")
    ref = np.array(times["nnlite threads=auto"])
    for name, t in times.items():
        ratio = np.median(ref / np.array(t))
        print(f"{name:30s} median {np.median(t):.3f} s   nnlite auto / this = {ratio:.2f}")


if __name__ == "__main__":
    main()
