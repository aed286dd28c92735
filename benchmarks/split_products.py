"""The five products of a small training step, whole and split in two row ranges.

For a network 50-100-10 on batches of 200 (float64 and float32): the forward
products x @ W1 and h @ W2, and the backward ones h.T @ g, g @ W2.T and x.T @ g1.
Each is timed as ``np.matmul(a, b, out=out)`` on one BLAS thread and as
``nnlite._rowsplit.matmul_rows`` (half the rows on a second core), interleaved
in rounds; the table gives medians in microseconds per call, the median of the
paired ratios split / whole, and whether the split gave the same bits.

    python benchmarks/split_products.py [--rounds 31] [--calls 200] [--gap-us 0]

``--gap-us`` busy-waits that long between calls, as the rest of a training step
does between its products.  ``--split`` replaces the row where products are split
(default: ``nnlite._rowsplit.split_row``) by a fraction of the rows, to compare.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir))


def products(dtype, rng):
    """``(name, a, b)`` for the five products, laid out as a training step has them."""
    x = rng.standard_normal((200, 50)).astype(dtype)
    W1 = rng.standard_normal((50, 100)).astype(dtype)
    h = rng.standard_normal((200, 100)).astype(dtype)
    W2 = rng.standard_normal((100, 10)).astype(dtype)
    g = rng.standard_normal((200, 10)).astype(dtype)
    g1 = rng.standard_normal((200, 100)).astype(dtype)
    return [("x @ W1", x, W1), ("h @ W2", h, W2), ("h.T @ g", h.T, g),
            ("g @ W2.T", g, W2.T), ("x.T @ g1", x.T, g1)]


def per_call(fn, calls, gap):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
        if gap:
            until = time.perf_counter() + gap
            while time.perf_counter() < until:
                pass
    return (time.perf_counter() - start) / calls - gap


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--gap-us", type=float, default=0.0)
    parser.add_argument("--split", type=float, default=None,
                        help="split at this fraction of the rows instead of split_row")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    from nnlite import _rowsplit

    if not _rowsplit.available():
        sys.exit("the two-thread runner is not available (build _nnlite_split)")
    ext = _rowsplit._module()
    threadpool_limits(1, user_api="blas")
    rng = np.random.default_rng(0)
    gap = args.gap_us * 1e-6
    print(f"# load average {os.getloadavg()}; {os.cpu_count()} cores; BLAS on 1 thread; "
          f"{args.calls} calls x {args.rounds} rounds; gap {args.gap_us:g} us")
    print('# for a busy core, run python3 -c "while True: pass" & first (then kill %1)')
    print(f"{'product':<10} {'dtype':<8} {'shape':<22} {'split':>5} {'whole us':>9} "
          f"{'split us':>9} {'split/whole':>11}  bits")
    for dtype in (np.float64, np.float32):
        for name, a, b in products(dtype, rng):
            out_whole = np.empty((a.shape[0], b.shape[1]), dtype)
            out_split = np.empty_like(out_whole)
            m = a.shape[0]
            row = _rowsplit.split_row(m) if args.split is None else int(round(args.split * m))

            def whole(a=a, b=b, out=out_whole):
                np.matmul(a, b, out=out)

            def split(a=a, b=b, out=out_split, row=row):
                ext.matmul_rows(a, b, out, row)

            whole()
            split()
            same = np.array_equal(out_whole.view(f"u{a.itemsize}"),
                                  out_split.view(f"u{a.itemsize}"))
            t_whole, t_split = [], []
            for _ in range(args.rounds):
                t_whole.append(per_call(whole, args.calls, gap))
                t_split.append(per_call(split, args.calls, gap))
            t_whole, t_split = np.array(t_whole) * 1e6, np.array(t_split) * 1e6
            shape = f"{a.shape}@{b.shape}".replace(" ", "")
            print(f"{name:<10} {np.dtype(dtype).name:<8} {shape:<22} {row:>5} "
                  f"{np.median(t_whole):>9.1f} {np.median(t_split):>9.1f} "
                  f"{np.median(t_split / t_whole):>11.2f}  {'same' if same else 'DIFFER'}")
    stats = ext.worker_stats()
    print(f"# second ranges run by the worker {stats['worker_ranges']}, by the caller "
          f"{stats['caller_ranges']}; calls that found the slot busy {stats['busy_calls']}")


if __name__ == "__main__":
    main()
