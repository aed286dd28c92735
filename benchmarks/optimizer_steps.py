"""The cost of one update of every stochastic optimizer on case (a)'s flat vector.

Case (a)'s network (50 -> 100 -> 10) has 6,110 parameters.  Every optimizer's
``step(theta, grad)`` is timed in turn, round after round (interleaved), in
process time on one BLAS thread; the table shows the median over rounds in
microseconds and the ratio to Adam's step (measured in the same rounds), then
the same with a schedule and with clipping.  SGD and Adam use the compiled
kernels when they are installed (``nnlite.show_config()``); the others are numpy.

    python benchmarks/optimizer_steps.py [--size 6110] [--rounds 15]
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads BLAS

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from nnlite import SGD, Adagrad, Adam, AdamW, Nadam, RMSProp, _accel  # noqa: E402
from nnlite.schedules import CosineDecay  # noqa: E402

CONTENDERS = {
    "SGD": lambda: SGD(0.01),
    "Adam": lambda: Adam(0.001),
    "Adam + CosineDecay": lambda: Adam(CosineDecay(0.001, 10**6)),
    "Adam + clip_norm": lambda: Adam(0.001, clip_norm=1.0),
    "AdamW": lambda: AdamW(),
    "Nadam": lambda: Nadam(),
    "RMSProp": lambda: RMSProp(),
    "Adagrad": lambda: Adagrad(),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=6110)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    rng = np.random.RandomState(0)
    grad = rng.normal(scale=1e-3, size=args.size)
    opts = {name: make().init(np.zeros(args.size)) for name, make in CONTENDERS.items()}
    thetas = {name: np.zeros(args.size) for name in CONTENDERS}
    times = {name: [] for name in CONTENDERS}
    for _ in range(args.rounds):
        for name, opt in opts.items():
            theta, step = thetas[name], opt.step
            start = time.process_time()
            for _ in range(args.steps):
                step(theta, grad)
            times[name].append((time.process_time() - start) / args.steps * 1e6)
    adam = np.array(times["Adam"])
    print(f"# {args.size} parameters, float64, {args.rounds} interleaved rounds of "
          f"{args.steps} steps; compiled kernels: {_accel.active()}")
    print("| optimizer | median us/step | ratio to Adam (median of paired ratios) |")
    print("|---|---|---|")
    for name, t in times.items():
        t = np.array(t)
        print(f"| {name} | {np.median(t):.1f} | {np.median(t / adam):.2f} |")


if __name__ == "__main__":
    main()
