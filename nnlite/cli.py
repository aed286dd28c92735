"""The ``nnlite`` command line (also ``python -m nnlite``).

Commands: ``demo`` (train on built-in data), ``train`` (a classifier or
regressor from a CSV file), ``predict`` (predictions for a CSV file) and
``info`` (what a saved model holds).  Errors are one line on stderr and a
non-zero exit status.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import os
import re
import sys
import time
import warnings

import numpy as np

from ._split import validation_split

__all__ = ["main", "demo", "CommandError"]


def demo(out=sys.stdout, epochs=300) -> float:
    """Train a small network on generated spirals and report what it learned.

    Returns
    -------
    float
        Accuracy on held-out samples.
    """
    from . import Adam, Dense, LogLoss, Sequential, Softmax, Tanh, train
    from .datasets import make_spirals

    X, y = make_spirals()
    rng = np.random.RandomState(1)
    order = rng.permutation(len(y))
    test, fit = order[:150], order[150:]
    net = Sequential([Dense(32), Tanh(), Dense(32), Tanh(), Dense(3), Softmax()])
    history = train(net, X[fit], y[fit], LogLoss(), Adam(learning_rate=0.01), epochs=epochs,
                    batch_size=64, random_state=0)
    accuracy = float(np.mean(net.predict(X[test]).argmax(axis=1) == y[test]))
    print("nnlite demo: 3 interleaved spirals, 2 features, "
          f"{len(fit)} training and {len(test)} held-out samples", file=out)
    print(net, file=out)
    print(f"loss: {history.loss_curve[0]:.4f} after epoch 1, "
          f"{history.loss_curve[-1]:.4f} after epoch {len(history.loss_curve)}", file=out)
    print(f"held-out accuracy: {accuracy:.3f} (chance: 0.333)", file=out)
    return accuracy



# ----- errors -------------------------------------------------------------------------------
class CommandError(Exception):
    """A user error: printed as one line ``nnlite: error: ...`` with exit status 1."""


# ----- reading tables -----------------------------------------------------------------------
def read_table(path):
    """Header and rows of a CSV file with a header line (comma-separated, UTF-8).

    Returns
    -------
    header : list of str
    rows : list of (line number, list of str)
        Blank lines are skipped.

    Raises
    ------
    CommandError
        If the file cannot be read or is not a well-formed table.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, strict=True)
            lines = [(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"{path}: is a directory, not a CSV file") from None
    except OSError as exc:
        raise CommandError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not a CSV text file (it is not valid UTF-8)") from None
    except csv.Error as exc:
        raise CommandError(f"{path}: not a valid CSV file (line {reader.line_num}: {exc})") \
            from None
    lines = [(n, row) for n, row in lines if any(cell.strip() for cell in row)]
    if not lines:
        raise CommandError(f"{path}: the file is empty; expected a header line and data rows")
    (_, header), rows = lines[0], lines[1:]
    header = [h.strip() for h in header]
    if any(not h for h in header):
        raise CommandError(f"{path}: the header line has an empty column name")
    seen = set()
    for h in header:
        if h in seen:
            raise CommandError(f"{path}: the header names column {h!r} twice")
        seen.add(h)
    if not rows:
        raise CommandError(f"{path}: no data rows after the header line")
    for n, row in rows:
        if len(row) != len(header):
            raise CommandError(f"{path}, line {n}: {len(row)} fields, but the header has "
                               f"{len(header)}; not a well-formed CSV table")
    return header, rows


def _column_index(path, header, name):
    if name not in header:
        shown = ", ".join(header[:20]) + (" ..." if len(header) > 20 else "")
        raise CommandError(f"{path}: no column {name!r}; the columns are: {shown}")
    return header.index(name)


def _number(text):
    """``float(text)`` for a finite number, else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def numeric_columns(path, header, rows, columns):
    """The given columns as a float matrix, or a CommandError naming the first bad cell."""
    try:  # fast path; the loop below finds the first bad cell when there is one
        X = np.array([[row[c] for c in columns] for _, row in rows], dtype=np.float64)
        if np.isfinite(X).all():
            return X.reshape(len(rows), len(columns))
    except ValueError:
        pass
    X = np.empty((len(rows), len(columns)))
    for i, (n, row) in enumerate(rows):
        for j, c in enumerate(columns):
            value = _number(row[c])
            if value is None:
                cell = row[c].strip()
                what = "is empty" if not cell else f"has {cell!r}, which is not a finite number"
                raise CommandError(f"{path}, line {n}: column {header[c]!r} {what}; features "
                                   "must be numbers (no missing values)")
            X[i, j] = value
    return X


# ----- train --------------------------------------------------------------------------------
def choose_task(values):
    """'classification' for non-numeric targets or integers with at most 20 distinct values."""
    numbers = [_number(v) for v in values]
    if any(v is None for v in numbers):
        return "classification"
    distinct = set(numbers)
    if all(float(v).is_integer() for v in distinct) and len(distinct) <= 20:
        return "classification"
    return "regression"


def _target(path, name, values, task):
    if task == "regression":
        y = np.empty(len(values))
        for i, (n, text) in enumerate(values):
            value = _number(text)
            if value is None:
                raise CommandError(f"{path}, line {n}: the target {name!r} has {text.strip()!r},"
                                   " which is not a number; a regression needs a numeric target"
                                   " (use --task classification for labels)")
            y[i] = value
        return y
    labels = [text.strip() for _, text in values]
    for (n, _), label in zip(values, labels):
        if not label:
            raise CommandError(f"{path}, line {n}: the target {name!r} is empty")
    numbers = [_number(v) for v in labels]
    # integers only when every label reads back as itself ("01" and "1" stay two labels)
    if all(v is not None and v.is_integer() and abs(v) < 2**53 and str(int(v)) == label
           for v, label in zip(numbers, labels)):
        return np.array([int(v) for v in numbers])
    return np.array(labels)


def _split(y, test_size, seed, classification):
    """Training and held-out rows; classes keep their proportions on both sides when possible."""
    n = len(y)
    n_test = int(math.ceil(test_size * n)) if test_size > 0 else 0
    if not n_test:
        return np.arange(n), np.arange(0)
    if n - n_test < 2:
        raise CommandError(f"--test-size {test_size} leaves fewer than 2 training rows of {n}")
    rng = np.random.RandomState(seed)
    if classification:
        codes = np.unique(y, return_inverse=True)[1]
        try:
            return validation_split(n, test_size, rng, strata=codes)
        except ValueError:  # a class too rare to stratify: fall back to a plain split
            rng = np.random.RandomState(seed)
    return validation_split(n, test_size, rng)


#: Seconds of training before the progress bar appears on a terminal (short runs show none).
_PROGRESS_DELAY = 0.5


class _Progress(io.TextIOBase):
    """Reads the presets' verbose lines and draws a progress bar on a terminal stream."""

    def __init__(self, stream, total, width=30, delay=0.5, interval=0.1):
        self.stream, self.total, self.width = stream, max(int(total), 1), width
        self.epoch, self.loss, self.score, self._partial = 0, None, None, ""
        self.drawn = False
        # short runs show nothing; long ones redraw at most every `interval` seconds
        self.start, self.delay, self.interval, self.last = time.monotonic(), delay, interval, 0.0

    def writable(self):
        return True

    def write(self, text):
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            if line.startswith("Iteration "):
                head, _, loss = line.partition("loss = ")
                self.epoch = int(head.split()[1].rstrip(","))
                self.loss = float(loss)
                self.draw()
            elif line.startswith("Validation score: "):
                self.score = float(line.split(": ", 1)[1])
        return len(text)

    def draw(self, force=False):
        now = time.monotonic()
        if not force and (now - self.start < self.delay or now - self.last < self.interval):
            return
        self.last = now
        done = min(self.epoch / self.total, 1.0)
        filled = int(round(done * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        extra = f"  loss {self.loss:.4g}" if self.loss is not None else ""
        if self.score is not None:
            extra += f"  validation {self.score:.4g}"
        self.stream.write(f"\rtraining [{bar}] {self.epoch}/{self.total} epochs{extra}   ")
        self.stream.flush()
        self.drawn = True

    def finish(self):
        if self.drawn:
            self.draw(force=True)
            self.stream.write("\n")
            self.stream.flush()


#: estimator parameter -> command-line flag (without the leading dashes), where they differ
_FLAGS = {"hidden_layer_sizes": "hidden"}


def _make_estimator(args, task):
    from .estimators import MLPClassifier, MLPRegressor

    try:
        hidden = tuple(int(h) for h in args.hidden.split(",")) if args.hidden.strip() else ()
    except ValueError:
        raise CommandError(f"--hidden must be comma-separated integers such as 100,50; got "
                           f"{args.hidden!r}") from None
    if any(h < 1 for h in hidden):
        raise CommandError(f"--hidden sizes must be positive; got {args.hidden!r}")
    cls = MLPClassifier if task == "classification" else MLPRegressor
    params = dict(hidden_layer_sizes=hidden, activation=args.activation, solver=args.solver,
                  alpha=args.alpha, max_iter=args.max_iter,
                  learning_rate_init=args.learning_rate_init, random_state=args.random_state,
                  early_stopping=args.early_stopping)
    if args.batch_size is not None:
        params["batch_size"] = args.batch_size
    est = cls(**params)
    try:
        est._validate_params()
    except ValueError as exc:
        # speak of the command's flags, not of the estimator class behind them
        match = re.match(r"The '(\w+)' parameter of \w+ must be (.*)\. Got (.*) instead\.$",
                         str(exc))
        if match is None:
            raise CommandError(f"invalid hyperparameter: {exc}") from None
        name, allowed, got = match.groups()
        flag = "--" + _FLAGS.get(name, name).replace("_", "-")
        raise CommandError(f"{flag} must be {allowed}; got {got}") from None
    return est


def _fit(est, X, y, show_progress):
    """Fit ``est``; return the warnings it raised as one-line messages."""
    from .exceptions import ConvergenceWarning
    progress = None
    if show_progress and est.solver != "lbfgs":
        progress = _Progress(sys.stderr, est.max_iter, delay=0.0 if show_progress == "always"
                             else _PROGRESS_DELAY)
        est.set_params(verbose=True)
    elif show_progress:
        sys.stderr.write("training (lbfgs) ...\n")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with contextlib.redirect_stdout(progress) if progress else contextlib.nullcontext():
                est.fit(X, y)
    finally:
        if progress is not None:
            progress.finish()
            est.set_params(verbose=False)
    messages = []
    for w in caught:
        text = str(w.message).strip().splitlines()[0]
        if issubclass(w.category, ConvergenceWarning):
            text += " Raise --max-iter to train longer."
        messages.append(text)
    return messages


def train_command(args, out=None):
    """``nnlite train``: read, choose the task, scale, fit, score, save."""
    out = sys.stdout if out is None else out  # looked up now: callers may redirect it
    from . import io as nnlite_io
    from .tabular import ScaledModel

    if not 0 <= args.test_size < 1:
        raise CommandError(f"--test-size must be in [0, 1); got {args.test_size}")
    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):  # before training, not after
        raise CommandError(f"{args.output}: cannot write the model (no folder {folder})")
    _make_estimator(args, "regression")  # the options are checked before the data is read
    header, rows = read_table(args.data)
    t = _column_index(args.data, header, args.target)
    features = [j for j in range(len(header)) if j != t]
    if not features:
        raise CommandError(f"{args.data}: no feature columns besides the target {args.target!r}")
    X = numeric_columns(args.data, header, rows, features)
    task = args.task if args.task != "auto" else choose_task([row[t] for _, row in rows])
    y = _target(args.data, args.target, [(n, row[t]) for n, row in rows], task)
    if task == "classification" and len(np.unique(y)) < 2:
        raise CommandError(f"{args.data}: the target {args.target!r} has a single class "
                           f"({y[0]}); a classifier needs at least two")
    fit, test = _split(y, args.test_size, args.random_state, task == "classification")
    mean = X[fit].mean(axis=0)
    scale = X[fit].std(axis=0)
    scale[scale == 0] = 1.0  # a constant column stays constant (zero) after scaling
    est = _make_estimator(args, task)
    show = "always" if args.progress else (args.progress is None and sys.stderr.isatty())
    try:
        messages = _fit(est, (X[fit] - mean) / scale, y[fit], show)
    except ValueError as exc:
        raise CommandError(f"training failed: {exc}") from None
    for message in messages:
        print(f"nnlite: warning: {message}", file=sys.stderr)
    names = [header[j] for j in features]
    info = {"data": os.path.basename(args.data), "n_train": int(len(fit)),
            "n_test": int(len(test))}
    model = ScaledModel(est, mean, scale, names, args.target, info)
    metric = "accuracy" if task == "classification" else "R^2"
    kind = type(est).__name__
    what = (f"{len(est.classes_)} classes: {_short_list(est.classes_)}"
            if task == "classification" else "numeric target")
    print(f"task: {task} of {args.target!r} ({what})", file=out)
    print(f"features: {len(names)} columns, standardised inside the model", file=out)
    epochs = "iterations" if est.solver == "lbfgs" else "epochs"
    print(f"trained {kind} {est.hidden_layer_sizes} on {len(fit)} rows: {est.n_iter_} {epochs}, "
          f"final loss {est.loss_:.4g}", file=out)
    if len(test):
        score = model.score(X[test], y[test])
        model.info.update(test_score=score, test_metric=metric)
        print(f"held-out {metric} on {len(test)} rows: {score:.4f}", file=out)
    else:
        print("no held-out rows (--test-size 0): no score reported", file=out)
    try:
        nnlite_io.save(model, args.output)
    except OSError as exc:
        raise CommandError(f"{args.output}: cannot write the model ({exc.strerror or exc})") \
            from None
    print(f"saved the model to {args.output}", file=out)
    return model


def _short_list(values, limit=10):
    values = [str(v) for v in values]
    return ", ".join(values[:limit]) + (f", ... ({len(values)} in all)"
                                        if len(values) > limit else "")


# ----- loading models -----------------------------------------------------------------------
def _load_model(path):
    from . import io as nnlite_io

    if os.path.isdir(path):
        raise CommandError(f"{path}: is a directory, not a model file")
    try:
        return nnlite_io.load(path)
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except OSError as exc:
        raise CommandError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except nnlite_io.ModelFileError as exc:
        raise CommandError(str(exc).splitlines()[0]) from None


def _network_of(model):
    from .models import Sequential

    if isinstance(model, Sequential):
        return model
    est = getattr(model, "estimator", model)
    return getattr(est, "network_", None)


# ----- predict ------------------------------------------------------------------------------
def predict_command(args, out=None):
    """``nnlite predict``: predictions (and probabilities) for every row of a CSV file."""
    out = sys.stdout if out is None else out  # looked up now: callers may redirect it
    from .models import Sequential
    from .tabular import ScaledModel

    model = _load_model(args.model)
    classifier = hasattr(model, "classes_") or (
        isinstance(model, ScaledModel) and model.is_classifier)
    if args.proba and not classifier:
        raise CommandError("--proba needs a classifier; this model predicts numbers")
    header, rows = read_table(args.data)
    names = getattr(model, "feature_names", None)
    if names is None and getattr(model, "feature_names_in_", None) is not None:
        names = [str(n) for n in model.feature_names_in_]
    if names is not None:
        missing = [n for n in names if n not in header]
        if missing:
            raise CommandError(f"{args.data}: no column {missing[0]!r}, which the model needs "
                               f"(its features: {_short_list(names)})")
        columns = [header.index(n) for n in names]
    else:
        columns = list(range(len(header)))
    X = numeric_columns(args.data, header, rows, columns)
    if isinstance(model, Sequential):
        width = model.n_in
    else:
        width = getattr(model, "n_features_in_", None)
    if width is not None and X.shape[1] != width:
        raise CommandError(f"{args.data}: {X.shape[1]} feature columns, but the model takes "
                           f"{width}")
    target = getattr(model, "target", None) or "prediction"
    if isinstance(model, Sequential):
        pred = model.predict(X)
        cols = [f"output_{k}" for k in range(pred.shape[1])]
        table = [[_fmt(v) for v in r] for r in pred]
    else:
        pred = np.asarray(model.predict(X))
        if pred.ndim == 1:
            cols, table = [target], [[_fmt(v)] for v in pred]
        else:
            cols = [f"{target}_{k}" for k in range(pred.shape[1])]
            table = [[_fmt(v) for v in r] for r in pred]
        if args.proba:
            proba = model.predict_proba(X)
            cols += [f"proba_{c}" for c in model.classes_]
            table = [r + [_fmt(v) for v in p] for r, p in zip(table, proba)]
    if args.output:
        try:
            target = open(args.output, "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{args.output}: cannot write ({exc.strerror or exc})") from None
    else:
        target = contextlib.nullcontext(out)
    with target as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(cols)
        writer.writerows(table)
    if args.output:
        print(f"wrote {len(table)} predictions to {args.output}", file=sys.stderr)


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, (np.bool_, bool)):
        return str(bool(v))
    return str(v.item() if isinstance(v, np.generic) else v)


# ----- info ---------------------------------------------------------------------------------
def info_command(args, out=None):
    """``nnlite info``: layer stack, shapes, parameter count and training summary."""
    out = sys.stdout if out is None else out  # looked up now: callers may redirect it
    from .tabular import ScaledModel

    model = _load_model(args.model)
    p = lambda *a: print(*a, file=out)  # noqa: E731
    est = model.estimator if isinstance(model, ScaledModel) else model
    p(f"model file: {args.model}")
    if isinstance(model, ScaledModel):
        p(f"model: {type(est).__name__} behind a feature standardisation (nnlite train)")
        p(f"target: {model.target}")
        p(f"features ({model.n_features_in_}): {_short_list(model.feature_names or [])}")
    else:
        p(f"model: {type(model).__name__}")
    if hasattr(est, "classes_"):
        p(f"classes ({len(est.classes_)}): {_short_list(est.classes_)}")
    net = _network_of(model)
    if net is None or not getattr(net, "built", False):
        p("network: not built (the model was saved before training)")
        return
    p("layers:")
    width = net.n_in
    for i, layer in enumerate(net.layers):
        shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in layer.params.items())
        n = sum(v.size for v in layer.params.values())
        p((f"  ({i}) {type(layer).__name__:<10s} {width:>5d} -> {layer.n_out:<5d}"
           + (f"  {shapes}, {n} parameters" if n else "")).rstrip())
        width = layer.n_out
    p(f"parameters: {net.theta.size} ({net.dtype})")
    if est is not net:
        _training_summary(p, est, getattr(model, "info", {}))


def _training_summary(p, est, info):
    p("training:")
    p(f"  solver {est.solver}, activation {est.activation}, alpha {est.alpha:g}, "
      f"learning_rate_init {est.learning_rate_init:g}, max_iter {est.max_iter}")
    curve = getattr(est, "loss_curve_", None)
    unit = "iterations" if est.solver == "lbfgs" else "epochs"
    p(f"  {est.n_iter_} {unit} in the last fit" + (
        f", final loss {est.loss_:.6g}" if getattr(est, "loss_", None) is not None else ""))
    if curve:
        p(f"  loss curve: {len(curve)} epochs, first {curve[0]:.6g}, best {min(curve):.6g}, "
          f"last {curve[-1]:.6g}")
    scores = getattr(est, "validation_scores_", None)
    if scores:
        p(f"  validation scores: best {max(scores):.6g} at epoch "
          f"{int(np.argmax(scores)) + 1} of {len(scores)}")
    if "test_score" in info:
        p(f"  held-out {info.get('test_metric', 'score')}: {info['test_score']:.4f} on "
          f"{info.get('n_test')} rows (trained on {info.get('n_train')} rows of "
          f"{info.get('data')})")


# ----- export -------------------------------------------------------------------------------
def export_command(args, out=None):
    """``nnlite export``: a saved model as an ONNX file (needs ``nnlite[onnx]``)."""
    out = sys.stdout if out is None else out
    model = _load_model(args.model)
    try:
        from .onnx import to_onnx
    except ImportError as exc:
        raise CommandError(f"nnlite export needs the onnx package ({exc}); install it with "
                           'pip install "nnlite[onnx]"') from None
    try:
        proto = to_onnx(model, args.output, dtype=args.dtype, opset=args.opset)
    except (ValueError, TypeError, OSError) as exc:
        raise CommandError(str(exc).removeprefix("to_onnx: ")) from None
    graph = proto.graph
    print(f"wrote {args.output}: opset {proto.opset_import[0].version}, input "
          f"{graph.input[0].name}, outputs {', '.join(o.name for o in graph.output)}", file=out)


# ----- the parser ---------------------------------------------------------------------------
def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``nnlite`` command."""
    parser = argparse.ArgumentParser(
        prog="nnlite", description="nnlite: small, exact neural networks on numpy and scipy.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"nnlite {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("demo", help="train a small network on built-in data and report it")

    t = sub.add_parser("train", help="train a classifier or regressor on a CSV file",
                       description="Train an MLPClassifier or MLPRegressor on a CSV file with a "
                       "header line; every column but the target is a numeric feature, "
                       "standardised inside the saved model.")
    t.add_argument("data", metavar="DATA.csv", help="CSV file with a header line")
    t.add_argument("--target", required=True, metavar="COLUMN", help="the column to predict")
    t.add_argument("-o", "--output", required=True, metavar="MODEL",
                   help="where to save the model (nnlite model file)")
    t.add_argument("--task", choices=("auto", "classification", "regression"), default="auto",
                   help="default auto: classification for a non-numeric target or integers "
                   "with at most 20 distinct values, else regression")
    t.add_argument("--hidden", default="100", metavar="SIZES",
                   help="hidden layer sizes, comma-separated (default: 100)")
    t.add_argument("--activation", choices=("identity", "logistic", "tanh", "relu"),
                   default="relu", help="hidden activation (default: relu)")
    t.add_argument("--solver", choices=("lbfgs", "sgd", "adam"), default="adam",
                   help="optimizer (default: adam)")
    t.add_argument("--alpha", type=float, default=1e-4, help="L2 penalty (default: 0.0001)")
    t.add_argument("--max-iter", type=_positive_int, default=200,
                   help="maximum epochs, or L-BFGS iterations (default: 200)")
    t.add_argument("--learning-rate-init", type=float, default=1e-3,
                   help="initial step size of sgd and adam (default: 0.001)")
    t.add_argument("--batch-size", type=_positive_int, default=None,
                   help="minibatch size of sgd and adam (default: min(200, rows))")
    t.add_argument("--early-stopping", action="store_true",
                   help="hold out 10%% of the training rows and stop when their score stalls")
    t.add_argument("--random-state", type=int, default=0,
                   help="seed of the split, the initial weights and the shuffles (default: 0)")
    t.add_argument("--test-size", type=float, default=0.2,
                   help="fraction of rows held out to report a score (default: 0.2; 0: none)")
    bar = t.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", default=None,
                     help="show a progress bar on stderr (default: only on a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false",
                     help="never show the progress bar")

    pr = sub.add_parser("predict", help="predict every row of a CSV file with a saved model",
                        description="Write predictions as CSV (one row per input row) to "
                        "stdout or a file.")
    pr.add_argument("model", metavar="MODEL", help="a model saved by nnlite train or nnlite.save")
    pr.add_argument("data", metavar="DATA.csv",
                    help="CSV file with a header line holding the model's feature columns "
                    "(other columns, such as the target, are ignored)")
    pr.add_argument("--proba", action="store_true",
                    help="add one probability column per class (classifiers)")
    pr.add_argument("-o", "--output", metavar="OUT.csv", help="write here instead of stdout")

    i = sub.add_parser("info", help="show a saved model's layers, shapes and training history")
    i.add_argument("model", metavar="MODEL")

    e = sub.add_parser("export", help="convert a saved model to an ONNX file",
                       description="Write a saved model (a network, a preset or a model from "
                       "nnlite train, its scaling included) as ONNX, for onnxruntime.")
    e.add_argument("model", metavar="MODEL", help="a model saved by nnlite train or nnlite.save")
    e.add_argument("-o", "--output", required=True, metavar="OUT.onnx", help="the ONNX file")
    e.add_argument("--opset", type=int, default=None,
                   help="ONNX operator set (default: the newest onnxruntime supports)")
    e.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help="floating type of the graph (default: the model's own)")
    return parser


def main(argv=None) -> int:
    """Entry point of the ``nnlite`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 on an error (reported as one line on
        stderr), 2 on a usage error, 130 when interrupted.
    """
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            demo()
        elif args.command == "train":
            train_command(args)
        elif args.command == "predict":
            predict_command(args)
        elif args.command == "export":
            export_command(args)
        else:
            info_command(args)
    except CommandError as exc:
        print(f"nnlite: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nnlite: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. nnlite predict ... | head: the reader has gone
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout
        return 1
    except Exception as exc:  # a bug: still one line, with what to report
        print(f"nnlite: error: unexpected {type(exc).__name__}: {exc} (please report this)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
