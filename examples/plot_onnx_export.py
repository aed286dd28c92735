"""Export to ONNX and compare nnlite with onnxruntime: predictions and timings.

Trains a preset (:class:`nnlite.MLPClassifier`, float64) and a custom
:class:`nnlite.Sequential` stack (float32, trained with :func:`nnlite.train`),
exports both with :func:`nnlite.onnx.to_onnx`, runs the files in onnxruntime
and prints a table: the largest relative difference of the outputs, whether
the labels agree, and the median time to predict a batch of rows in each
library (single-threaded, the two interleaved).  The figure shows the times.

Writes ``onnx_export_timings.png``.

Needs the onnx extra (``pip install "nnlite[onnx]"``); without it the example
prints why it is skipped and exits with status 0.

Run ``python examples/plot_onnx_export.py [--quick] [--out-dir DIR]``;
``--quick`` (or ``NNLITE_EXAMPLES_QUICK=1``) uses fewer rows, epochs and repeats.
The labels compared are ``predict``'s and the graph's ``label`` output (the
preset), and the argmax of the outputs (the stack).
"""

import argparse
import os
import sys
import tempfile
import time
import warnings

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nnlite import (  # noqa: E402
    Adam,
    ConvergenceWarning,
    Dense,
    LogLoss,
    MLPClassifier,
    ReLU,
    Sequential,
    Softmax,
    Tanh,
    set_blas_threads,
    train,
)
from nnlite.datasets import make_spirals  # noqa: E402


def median_times(calls, repeats):
    """Median seconds of each call, the calls interleaved so that load hits them alike."""
    times = [[] for _ in calls]
    for _ in range(repeats):
        for k, call in enumerate(calls):
            start = time.perf_counter()
            call()
            times[k].append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def compare(name, ours, theirs, dtype, repeats):
    """One table row: output difference, label agreement and timings of two predictors.

    ``ours`` and ``theirs`` are ``(predict, labels)``: ``predict()`` returns the
    outputs (the call timed), ``labels()`` the predicted labels.
    """
    out_ours, out_theirs = ours[0](), theirs[0]()
    rel = np.max(np.abs(out_theirs - out_ours) / np.maximum(np.abs(out_ours), 1e-300))
    same = bool(np.array_equal(ours[1](), theirs[1]()))
    t_ours, t_theirs = median_times([ours[0], theirs[0]], repeats)
    print(f"| {name:<30} | {np.dtype(dtype).name:>7} | {rel:9.2e} | {str(same):>6} | "
          f"{t_ours * 1e3:9.3f} | {t_theirs * 1e3:9.3f} | {t_ours / t_theirs:5.2f} |")
    return t_ours, t_theirs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("NNLITE_EXAMPLES_QUICK") == "1",
                        help="fewer rows, epochs and repeats (seconds)")
    parser.add_argument("--out-dir", default=".", help="where the PNG goes (default: .)")
    args = parser.parse_args(argv)
    try:
        import onnxruntime as ort

        from nnlite.onnx import to_onnx
    except ImportError as exc:
        print(f"plot_onnx_export.py: skipped, the onnx extra is missing ({exc}); install it "
              'with pip install "nnlite[onnx]"', file=sys.stderr)
        return
    os.makedirs(args.out_dir, exist_ok=True)
    set_blas_threads(1)  # compare one thread with one thread
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1

    def session(proto):
        return ort.InferenceSession(proto.SerializeToString(), options,
                                    providers=["CPUExecutionProvider"])

    X, y = make_spirals(300 if args.quick else 1000)
    rows = np.tile(X, (2 if args.quick else 10, 1))  # the batch both libraries predict
    repeats = 5 if args.quick else 30

    clf = MLPClassifier(hidden_layer_sizes=(64, 64), max_iter=30 if args.quick else 300,
                        random_state=0)
    net = Sequential([Dense(64), ReLU(), Dense(32), Tanh(), Dense(3), Softmax()],
                     dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the quick run stops early
        clf.fit(X, y)
        train(net, X.astype(np.float32), y, LogLoss(), Adam(learning_rate=0.01),
              epochs=20 if args.quick else 200, random_state=0)
    rows32 = rows.astype(np.float32)

    with tempfile.TemporaryDirectory() as tmp:  # export to files, as a server would load them
        to_onnx(clf, os.path.join(tmp, "classifier.onnx"))
        to_onnx(net, os.path.join(tmp, "stack.onnx"))
        import onnx

        clf_session = session(onnx.load(os.path.join(tmp, "classifier.onnx")))
        net_session = session(onnx.load(os.path.join(tmp, "stack.onnx")))

    print(f"{rows.shape[0]} rows of {rows.shape[1]} features, median of {repeats} runs, "
          "1 thread; times in ms of predict_proba (preset) or predict (stack) against one "
          "onnxruntime run\n")
    print("| model                          |   dtype | max rel d | labels | nnlite ms | "
          "ort ms    | ratio |")
    print("|" + "|".join("-" * w for w in (32, 9, 11, 8, 11, 11, 7)) + "|")
    results = {
        "MLPClassifier (64, 64)": compare(
            "MLPClassifier (64, 64)",
            (lambda: clf.predict_proba(rows), lambda: clf.predict(rows)),
            (lambda: clf_session.run(None, {"X": rows})[1],
             lambda: clf_session.run(None, {"X": rows})[0]),
            np.float64, repeats),
        "Sequential 64-32-3": compare(
            "Sequential 64-32-3 (custom)",
            (lambda: net.predict(rows32), lambda: net.predict(rows32).argmax(axis=1)),
            (lambda: net_session.run(None, {"X": rows32})[0],
             lambda: net_session.run(None, {"X": rows32})[0].argmax(axis=1)),
            np.float32, repeats),
    }

    fig, ax = plt.subplots(figsize=(7, 4))
    width, pos = 0.38, np.arange(len(results))
    ours = [1e3 * v[0] for v in results.values()]
    theirs = [1e3 * v[1] for v in results.values()]
    ax.bar(pos - width / 2, ours, width, label="nnlite")
    ax.bar(pos + width / 2, theirs, width, label="onnxruntime")
    ax.set_xticks(pos, list(results))
    ax.set_ylabel(f"ms to predict {rows.shape[0]} rows (median)")
    ax.set_title("the same models in nnlite and in onnxruntime (1 thread)")
    ax.legend()
    fig.tight_layout()
    path = os.path.join(args.out_dir, "onnx_export_timings.png")
    fig.savefig(path, dpi=80)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
