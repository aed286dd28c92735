"""Cost of one L-BFGS objective evaluation on Dask, beside the same evaluation in process.

Run from the repository root (needs ``pip install ".[dask]"``)::

    python benchmarks/bench_dask.py            # 200,000 x 50 rows, 7 rounds
    python benchmarks/bench_dask.py --quick    # 40,000 rows, 3 rounds

Contenders, each evaluating the objective (loss and gradient) of an MLP with
one hidden layer of 100 units and 10 classes at the same parameters:

``in-process``
    ``Sequential.loss_and_grad`` on the whole numpy array.
``local scheduler``
    :class:`nnlite.dask.BlockObjective` without a cluster: dask's threads in
    this process, BLAS on one thread.
``LocalCluster 1w`` / ``2w``
    the same with a ``distributed.Client`` on a ``LocalCluster`` of one or two
    worker processes (one thread each) on loopback.  Both clusters stay up and
    the rounds switch between them.

Rounds are interleaved (every contender once per round, after an untimed
warm-up); the table gives the median seconds per evaluation, the median of the
paired ratios to in-process, rows per second and the bytes every evaluation
moves: the parameter vector to each worker once and one loss plus gradient per
block back (computed from the sizes, not sniffed from the sockets).  The
results of every contender are checked to agree (bit-identical among the Dask
contenders).  The benchmark is not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import nnlite  # noqa: E402
from nnlite import Dense, LogLoss, ReLU, Sequential, Softmax  # noqa: E402

try:
    import dask.array as da
    import distributed
except ImportError:  # pragma: no cover
    sys.exit("benchmarks/bench_dask.py needs dask: pip install 'nnlite[dask]'")

from nnlite.dask import BlockObjective  # noqa: E402
from nnlite.dask._blocks import Blocks, one_blas_thread  # noqa: E402


def make_data(n, d, k, chunk, seed=0):
    """Lazy dask arrays (the clusters build their blocks; no data travels in the graph)."""
    state = da.random.RandomState(seed)
    Xd = state.normal(size=(n, d), chunks=(chunk, d))
    W = np.random.RandomState(seed).normal(size=(d, k))
    yd = (Xd @ W + state.gumbel(size=(n, k), chunks=(chunk, k))).argmax(axis=1)
    return Xd, yd


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40,000 rows, 3 rounds")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--chunk", type=int, default=20_000, help="rows per block")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    n = args.rows or (40_000 if args.quick else 200_000)
    rounds = args.rounds or (3 if args.quick else 7)
    d, hidden, k, alpha = 50, 100, 10, 1e-4
    Xd, yd = make_data(n, d, k, args.chunk)
    with one_blas_thread():
        X, y = Xd.compute(), yd.compute()
    net = Sequential([Dense(hidden), ReLU(), Dense(k), Softmax()])
    net.build(d, random_state=0)
    theta = net.theta.copy()
    loss = LogLoss()
    target = loss.prepare_target(y, k).astype(np.float64)
    n_blocks = -(-n // args.chunk)
    print(f"nnlite {nnlite.__version__}, dask {distributed.__version__}, numpy {np.__version__}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs; {n:,} x {d} rows, {n_blocks} blocks "
          f"of {args.chunk:,}, MLP {d}-{hidden}-{k} ({theta.size:,} parameters), {rounds} "
          f"rounds; BLAS on one thread; load average {os.getloadavg()[0]:.1f} at the start")

    def in_process():
        with one_blas_thread():
            value, grad = net.loss_and_grad(X, target, loss, alpha)
        return value, grad.copy()

    def objective():
        return BlockObjective(net, Blocks(Xd, yd, None, "bench").persist(), loss, alpha)

    local = objective()
    host = dict(host="127.0.0.1", dashboard_address=":0", threads_per_worker=1,
                processes=True)
    clusters = {w: distributed.LocalCluster(n_workers=w, **host) for w in (1, 2)}
    clients = {w: distributed.Client(c, set_as_default=False) for w, c in clusters.items()}
    remote = {}
    for w, client in clients.items():
        with client.as_current():
            remote[w] = objective()
    contenders = {"in-process": in_process, "local scheduler": lambda: local(theta)}
    for w in (1, 2):
        def run(w=w):
            with clients[w].as_current():
                return remote[w](theta)
        contenders[f"LocalCluster {w}w"] = run
    try:
        results = {name: fn() for name, fn in contenders.items()}  # warm-up, untimed
        times = {name: [] for name in contenders}
        for _ in range(rounds):
            for name, fn in contenders.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    finally:
        for client in clients.values():
            client.close()
        for cluster in clusters.values():
            cluster.close()
    base_value, base_grad = results["in-process"]
    dask_names = [name for name in contenders if name != "in-process"]
    for name in dask_names:
        value, grad = results[name]
        assert np.array_equal(grad, results[dask_names[0]][1]), name
        assert abs(value - base_value) <= 1e-12 * abs(base_value), name
        assert np.max(np.abs(grad - base_grad)) <= 1e-10 * np.max(np.abs(base_grad)), name
    rel = np.max(np.abs(results[dask_names[0]][1] - base_grad)) / np.max(np.abs(base_grad))
    grad_bytes = (theta.size + 1) * 8
    print(f"\n{'contender':<18}{'s/eval':>9}{'x in-proc':>11}{'overhead s':>12}"
          f"{'rows/s':>12}{'bytes out':>12}{'bytes back':>12}")
    base = statistics.median(times["in-process"])
    for name, ts in times.items():
        med = statistics.median(ts)
        ratio = statistics.median(t / b for t, b in zip(ts, times["in-process"]))
        workers = {"local scheduler": 0, "LocalCluster 1w": 1, "LocalCluster 2w": 2}.get(name)
        out = "-" if not workers else f"{workers * theta.nbytes:,}"
        back = "-" if workers is None else f"{n_blocks * grad_bytes:,}"
        print(f"{name:<18}{med:>9.4f}{ratio:>11.2f}{med - base:>12.4f}{n / med:>12,.0f}"
              f"{out:>12}{back:>12}")
    print(f"\nDask contenders bit-identical to each other; largest gradient difference to "
          f"in-process: {rel:.1e} relative; load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
