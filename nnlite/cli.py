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
import math
import os
import re
import sys
import time
import warnings

import numpy as np

from . import _metrics

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


def _fit(est, fit, show_progress):
    """Run ``fit()``, which fits ``est``; return the warnings it raised as one-line messages.

    With ``show_progress`` the estimator reports each epoch (or, for L-BFGS, the
    iterations at the end) through a :class:`~nnlite.callbacks.ProgressBar` on stderr.
    """
    from .callbacks import ProgressBar
    from .exceptions import ConvergenceWarning

    if show_progress:
        est.set_params(callbacks=[ProgressBar()])  # stderr as it is when the fit runs
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit()
    finally:
        est.set_params(callbacks=None)  # the saved model keeps no progress bar
    messages = []
    for w in caught:
        text = str(w.message).strip().splitlines()[0]
        if issubclass(w.category, ConvergenceWarning):
            text += " Raise --max-iter to train longer."
        messages.append(text)
    return messages


class _ReadProgress:
    """``reading FILE: N rows`` on stderr, redrawn in place at most every ``interval`` seconds."""

    def __init__(self, stream, name, interval=0.2, always=False):
        self.stream, self.name, self.interval, self.always = stream, name, interval, always
        self.last, self.drawn, self.state = 0.0, False, None

    def __call__(self, stage, rows, force=False):
        self.state = stage, rows
        now = time.monotonic()
        if not force and now - self.last < self.interval:
            return
        self.last, self.drawn = now, True
        self.stream.write(f"\r{stage} {self.name}: {rows:,} rows   ")
        self.stream.flush()

    def finish(self):
        if self.state is not None and (self.drawn or self.always):
            self(*self.state, force=True)  # the final count
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _column_list(text):
    return [name.strip() for name in text.split(",") if name.strip()] if text else []


def train_command(args, out=None):
    """``nnlite train``: read and encode, choose the task, fit, report, save."""
    out = sys.stdout if out is None else out  # looked up now: callers may redirect it
    from . import io as nnlite_io
    from .preprocessing import TableEncoder, TableError, TabularModel

    if not 0 <= args.test_size < 1:
        raise CommandError(f"--test-size must be in [0, 1); got {args.test_size}")
    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):  # before training, not after
        raise CommandError(f"{args.output}: cannot write the model (no folder {folder})")
    _make_estimator(args, "regression")  # the options are checked before the data is read
    if args.plot:
        _pyplot()
        plot_folder = os.path.dirname(os.path.abspath(args.plot))
        if not os.path.isdir(plot_folder):
            raise CommandError(f"{args.plot}: cannot write the plot (no folder {plot_folder})")
    encoder = TableEncoder(categorical=_column_list(args.categorical),
                           numeric=_column_list(args.numeric), ignore=_column_list(args.ignore),
                           max_categories=args.max_categories, task=args.task,
                           embed_many=args.embedding, delimiter=args.delimiter)
    show = "always" if args.progress else (args.progress is None and sys.stderr.isatty())
    reading = _ReadProgress(sys.stderr, os.path.basename(args.data),
                            always=show == "always") if show else None
    try:
        X_fit, X_test, y_fit, y_test = encoder.fit_split(
            args.data, args.target, test_size=args.test_size, random_state=args.random_state,
            progress=reading)
    except TableError as exc:
        raise CommandError(str(exc)) from None
    finally:
        if reading is not None:
            reading.finish()
    task = encoder.task_
    est = _make_estimator(args, task)
    if encoder.embedding_sizes_:
        est = _embedding_network(args, encoder, est)
    model = TabularModel(encoder, est)
    info = model.info
    info.update(data=os.path.basename(args.data), n_train=int(len(y_fit)),
                n_test=int(len(y_test)))
    start = time.perf_counter()
    try:
        messages = _fit(est, lambda: model.fit_encoded(X_fit, y_fit), show)
    except ValueError as exc:
        raise CommandError(f"training failed: {exc}") from None
    seconds = time.perf_counter() - start
    info["train_seconds"] = round(seconds, 3)
    for message in messages:
        print(f"nnlite: warning: {message}", file=sys.stderr)
    p = lambda *a: print(*a, file=out)  # noqa: E731
    if encoder.delimiter_ != ",":
        p(f"read {args.data} with delimiter {encoder.delimiter_!r}")
    if task == "classification":
        kind = "binary" if len(est.classes_) == 2 else "multiclass"
        p(f"task: {kind} classification of {args.target!r} ({len(est.classes_)} classes: "
          f"{_short_list(est.classes_)})")
    else:
        p(f"task: regression of {args.target!r} (numeric target, standardised for training: "
          f"mean {encoder.target_mean_:.6g}, scale {encoder.target_scale_:.6g})")
    used = encoder.used_columns
    p(f"columns: {len(used)} used, {len(encoder.columns_) - len(used)} ignored -> "
      f"{len(encoder.feature_names_out_)} features, encoded inside the model:")
    for line in encoder.describe():
        p(f"  {line}")
    epochs = "iterations" if est.solver == "lbfgs" else "epochs"
    p(f"trained {type(est).__name__} {est.hidden_layer_sizes} on {len(y_fit)} rows in "
      f"{seconds:.2f} s: {est.n_iter_} {epochs}, final loss {est.loss_:.4g}")
    cm = None
    if len(y_test):
        pred = model.predict_encoded(X_test)
        if task == "classification":
            cm = _metrics.confusion_matrix(y_test, pred, est.classes_)
            scores = {"accuracy": _metrics.accuracy(y_test, pred),
                      "balanced accuracy": _metrics.balanced_accuracy(y_test, pred)}
        else:
            scores = {"R^2": _metrics.r2(y_test, pred),
                      "MAE": _metrics.mean_absolute_error(y_test, pred)}
        for metric, score in scores.items():
            p(f"held-out {metric} on {len(y_test)} rows: {score:.4f}")
            info["test_" + metric.replace(" ", "_").replace("^", "")] = score
        metric = next(iter(scores))
        info.update(test_score=scores[metric], test_metric=metric)
        if cm is not None:
            p("confusion matrix (rows: true class, columns: predicted):")
            for line in _matrix_lines(cm, est.classes_):
                p(f"  {line}")
    else:
        p("no held-out rows (--test-size 0): no score reported")
    if args.plot:
        _plot_report(args.plot, est, cm)
        p(f"wrote the plots to {args.plot}")
    try:
        nnlite_io.save(model, args.output)
    except OSError as exc:
        raise CommandError(f"{args.output}: cannot write the model ({exc.strerror or exc})") \
            from None
    p(f"saved the model to {args.output}")
    return model


def _embedding_network(args, encoder, preset):
    """The network for a table with embedded columns, with the preset's hyperparameters."""
    from .embedding_network import EmbeddingNetwork

    embedded = [c["name"] for c in encoder.columns_ if c.get("encoding") == "embedding"]
    why = (f"column {embedded[0]!r} has more than {encoder.max_categories} categories and "
           "goes to an embedding, which trains with")
    if args.solver != "adam":
        raise CommandError(f"--solver {args.solver}: {why} adam; use --solver adam or "
                           "--no-embedding")
    if args.early_stopping:
        raise CommandError(f"--early-stopping: {why}out early stopping; use --no-embedding "
                           "to keep it")
    if args.activation == "logistic":
        raise CommandError(f"--activation logistic: {why} relu, tanh or identity")
    return EmbeddingNetwork(
        encoder.n_dense_, encoder.embedding_sizes_, encoder.task_,
        hidden_layer_sizes=preset.hidden_layer_sizes, activation=args.activation,
        alpha=args.alpha, learning_rate_init=args.learning_rate_init, max_iter=args.max_iter,
        batch_size=args.batch_size or 200, random_state=args.random_state)


def _matrix_lines(cm, classes):
    names = [str(c) for c in classes]
    width = max(max(len(n) for n in names), len(str(cm.max())))
    lines = [" " * width + "".join(f"  {n:>{width}}" for n in names)]
    for name, row in zip(names, cm):
        lines.append(f"{name:<{width}}" + "".join(f"  {v:>{width}}" for v in row))
    return lines


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")  # files only: no window, no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise CommandError("--plot needs matplotlib, which is not installed; install it with "
                           'pip install "nnlite[plot]"') from None
    return plt


def _plot_report(path, est, cm):
    """The loss curves (and the confusion matrix for a classifier) as one image."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 1 if cm is None else 2, figsize=(5 if cm is None else 10, 4),
                             squeeze=False)
    ax = axes[0, 0]
    curve = getattr(est, "loss_curve_", None)
    if curve:
        ax.plot(range(1, len(curve) + 1), curve, label="training loss")
        val = getattr(est, "validation_loss_curve_", None)  # with early stopping
        if val:
            ax.plot(range(1, len(val) + 1), val, label="validation loss", linestyle="--")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no loss curve (solver lbfgs)", ha="center", va="center")
        ax.set_axis_off()
    if cm is not None:
        ax = axes[0, 1]
        ax.imshow(cm, cmap="Blues")
        classes = [str(c) for c in est.classes_]
        ax.set_xticks(range(len(classes)), classes, rotation=45)
        ax.set_yticks(range(len(classes)), classes)
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title("held-out confusion matrix")
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise CommandError(f"{path}: cannot write the plot ({exc.strerror or exc})") from None
    finally:
        plt.close(fig)


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
    from .preprocessing import TabularModel
    from .tabular import ScaledModel

    model = _load_model(args.model)
    classifier = hasattr(model, "classes_") or (
        isinstance(model, (ScaledModel, TabularModel)) and model.is_classifier)
    if args.proba and not classifier:
        raise CommandError("--proba needs a classifier; this model predicts numbers")
    if isinstance(model, TabularModel):
        cols, chunks = _predict_table(model, args)
    else:
        cols, chunks = _predict_numeric(model, args)
    if args.output:
        try:
            target = open(args.output, "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{args.output}: cannot write ({exc.strerror or exc})") from None
    else:
        target = contextlib.nullcontext(out)
    n = 0
    with target as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(cols)
        for table in chunks:
            writer.writerows(table)
            n += len(table)
    if isinstance(model, TabularModel):
        _report_unseen(model.encoder.report_)
    if args.output:
        print(f"wrote {n} predictions to {args.output}", file=sys.stderr)


def _rows_of(pred, proba=None):
    """CSV cells of predictions (and probabilities)."""
    pred = np.asarray(pred)
    table = [[_fmt(v)] for v in pred] if pred.ndim == 1 else [[_fmt(v) for v in r]
                                                               for r in pred]
    if proba is not None:
        table = [r + [_fmt(v) for v in p] for r, p in zip(table, proba)]
    return table


def _predict_table(model, args):
    from .preprocessing import TableError

    encoder = model.encoder
    encoder.delimiter = args.delimiter
    try:
        chunks = encoder.transform_chunks(args.data)
        first = next(chunks)
    except TableError as exc:
        raise CommandError(str(exc)) from None
    extra = encoder.report_.get("extra_columns")
    if extra:
        print(f"nnlite: note: ignored columns the model does not use: {_short_list(extra)}",
              file=sys.stderr)
    n_out = model.estimator.n_outputs_ if hasattr(model.estimator, "n_outputs_") else 1
    target = model.target or "prediction"
    cols = [target] if (n_out == 1 or model.is_classifier) else [
        f"{target}_{k}" for k in range(n_out)]
    if args.proba:
        cols += [f"proba_{c}" for c in model.classes_]

    def rows_of(X):
        proba = model.estimator.predict_proba(X) if args.proba else None
        return _rows_of(model.predict_encoded(X), proba)

    def rows():
        yield rows_of(first)
        try:
            for X in chunks:
                yield rows_of(X)
        except TableError as exc:
            raise CommandError(str(exc)) from None

    return cols, rows()


def _report_unseen(report):
    """One note line for the categories (and missing values) training never saw."""
    parts = []
    for name, r in report.items():
        if name == "extra_columns":
            continue
        if r["unseen"]:
            parts.append(f"{name}: {r['unseen']} unseen ({', '.join(r['examples'])}"
                         f"{', ...' if r['unseen'] > len(r['examples']) else ''})")
        if r["missing"]:
            parts.append(f"{name}: {r['missing']} missing")
    if parts:
        print("nnlite: note: values not seen in training, encoded as all zeros (categories) or "
              f"the training median (numbers): {'; '.join(parts)}", file=sys.stderr)


def _predict_numeric(model, args):
    """Presets, ScaledModel and Sequential models: numeric columns only."""
    from .models import Sequential
    from .preprocessing import TableError, _CSVSource

    try:
        src = _CSVSource(args.data, args.delimiter)
        rows = [(n, row) for lines, chunk in src.chunks(8192) for n, row in zip(lines, chunk)]
    except TableError as exc:
        raise CommandError(str(exc)) from None
    header = src.header
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
    width = model.n_in if isinstance(model, Sequential) else getattr(model, "n_features_in_",
                                                                     None)
    if width is not None and X.shape[1] != width:
        raise CommandError(f"{args.data}: {X.shape[1]} feature columns, but the model takes "
                           f"{width}")
    if isinstance(model, Sequential):
        pred = model.predict(X)
        return [f"output_{k}" for k in range(pred.shape[1])], [_rows_of(pred)]
    target = getattr(model, "target", None) or "prediction"
    pred = np.asarray(model.predict(X))
    cols = [target] if pred.ndim == 1 else [f"{target}_{k}" for k in range(pred.shape[1])]
    if args.proba:
        cols += [f"proba_{c}" for c in model.classes_]
    table = _rows_of(pred, model.predict_proba(X) if args.proba else None)
    return cols, [table]


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
    from .preprocessing import TabularModel
    from .tabular import ScaledModel

    model = _load_model(args.model)
    p = lambda *a: print(*a, file=out)  # noqa: E731
    est = model.estimator if isinstance(model, (ScaledModel, TabularModel)) else model
    p(f"model file: {args.model}")
    if isinstance(model, TabularModel):
        enc = model.encoder
        p(f"model: {type(est).__name__} behind a table encoding (nnlite train)")
        task = enc.task_
        if task == "regression":
            task += (f", target standardised for training (mean {enc.target_mean_:.6g}, "
                     f"scale {enc.target_scale_:.6g})")
        p(f"target: {model.target} ({task})")
        p(f"columns ({len(enc.columns_)}):")
        for line in enc.describe():
            p(f"  {line}")
        p(f"features ({len(enc.feature_names_out_)}): {_short_list(enc.feature_names_out_)}")
    elif isinstance(model, ScaledModel):
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
    from .models import Graph

    if isinstance(net, Graph):  # its own table: node, layer, width, parameters, inputs
        p("layers:")
        for line in str(net.summary()).splitlines():
            p(f"  {line}")
        _training_summary(p, est, getattr(model, "info", {}))
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
        metrics = {"accuracy": "test_accuracy", "balanced accuracy": "test_balanced_accuracy",
                   "R^2": "test_R2", "MAE": "test_MAE"}
        shown = [f"{m} {info[k]:.4f}" for m, k in metrics.items() if k in info] or [
            f"{info.get('test_metric', 'score')}: {info['test_score']:.4f}"]
        p(f"  held-out {', '.join(shown)} on {info.get('n_test')} rows (trained on "
          f"{info.get('n_train')} rows of {info.get('data')}"
          + (f" in {info['train_seconds']:.2f} s)" if "train_seconds" in info else ")"))


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
                       "header line, as it comes: numeric columns are standardised (missing "
                       "values: median plus an indicator column), text columns one-hot encoded "
                       "(missing: a category of its own), ids left out; the encoding is saved "
                       "inside the model.")
    t.add_argument("data", metavar="DATA.csv", help="CSV file with a header line")
    t.add_argument("--target", required=True, metavar="COLUMN", help="the column to predict")
    t.add_argument("-o", "--output", required=True, metavar="MODEL",
                   help="where to save the model (nnlite model file)")
    t.add_argument("--categorical", metavar="COLUMNS", default="",
                   help="comma-separated columns to one-hot encode whatever they hold")
    t.add_argument("--numeric", metavar="COLUMNS", default="",
                   help="comma-separated columns to read as numbers (never as an id)")
    t.add_argument("--ignore", metavar="COLUMNS", default="",
                   help="comma-separated columns to leave out")
    t.add_argument("--max-categories", type=_positive_int, default=100, metavar="N",
                   help="text columns with more distinct values go to an embedding (up to "
                   "10,000 values; default: 100)")
    t.add_argument("--no-embedding", dest="embedding", action="store_false",
                   help="leave out text columns with more than --max-categories categories "
                   "instead of feeding them to an embedding")
    t.add_argument("--delimiter", metavar="CHAR", default=None,
                   help="the CSV delimiter (default: the most frequent of , ; and tab on the "
                   "header line)")
    t.add_argument("--plot", metavar="OUT.png", default=None,
                   help="write the loss curves (and the held-out confusion matrix of a "
                   "classifier) to this image (needs matplotlib)")
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
                     help="show the reading and training progress on stderr (default: only "
                     "on a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false",
                     help="never show the progress")

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
    pr.add_argument("--delimiter", metavar="CHAR", default=None,
                    help="the CSV delimiter (default: detected from the header line)")

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
