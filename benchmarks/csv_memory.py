"""Peak memory of ``nnlite train`` on a large generated CSV file (not part of the test suite).

Writes a CSV of ``--rows`` rows and 30 columns (24 numeric, 1 in 20 of their
cells empty in four of them; 4 text columns of 3 to 12 categories; an id
column; the target), then runs ``nnlite train`` on it under ``/usr/bin/time -v``
and prints the peak resident memory next to the size of the encoded float array
and of a bare ``import nnlite``.

    python benchmarks/csv_memory.py --rows 1000000 --dir /tmp/big
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_csv(path, n, seed=0, chunk=100_000):
    rng = np.random.RandomState(seed)
    cats = [np.array([f"c{k}_{v}" for v in range(m)]) for k, m in enumerate((3, 5, 8, 12))]
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(["id"] + [f"x{j}" for j in range(24)] + [f"t{k}" for k in range(4)]
                         + ["y"]) + "\n")
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            X = rng.normal(size=(m, 24))
            T = [rng.randint(len(c), size=m) for c in cats]
            y = X[:, 0] - 2 * X[:, 1] + T[0] + rng.normal(scale=0.1, size=m)
            cells = np.char.mod("%.6g", X).astype(object)
            for j in range(4):  # some missing values
                cells[rng.rand(m) < 0.05, j] = ""
            lines = [",".join([str(start + i)] + list(cells[i])
                              + [cats[k][T[k][i]] for k in range(4)] + [f"{y[i]:.6g}"])
                     for i in range(m)]
            f.write("\n".join(lines) + "\n")


def peak_kib(args):
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, *args], env=env,
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time .*: (\S+)", proc.stderr).group(1)
    return kib, wall, proc.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", default=".")
    args = parser.parse_args()
    path = os.path.join(args.dir, f"big_{args.rows}.csv")
    if not os.path.exists(path):
        write_csv(path, args.rows)
    print(f"{path}: {os.path.getsize(path) / 2**20:.0f} MiB")
    base, _, _ = peak_kib(["-c", "import nnlite"])
    model = os.path.join(args.dir, "big.nnlite")
    kib, wall, out = peak_kib(["-m", "nnlite", "train", path, "--target", "y", "--hidden", "16",
                               "--max-iter", "2", "--no-progress", "-o", model])
    features = int(re.search(r"-> (\d+) features", out).group(1))
    n_train = int(re.search(r"on (\d+) rows", out).group(1))
    encoded = args.rows * features * 8 / 2**20
    print(out)
    print(f"peak RSS of `import nnlite`: {base / 1024:.0f} MiB")
    print(f"peak RSS of nnlite train: {kib / 1024:.0f} MiB (wall {wall})")
    print(f"encoded float array: {args.rows} rows x {features} features x 8 bytes = "
          f"{encoded:.0f} MiB (training part {n_train} rows)")


if __name__ == "__main__":
    main()
