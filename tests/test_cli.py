"""The command line, driven as a user drives it: ``python -m nnlite ...`` in a subprocess.

Every run gets small CSV files generated here.  Errors must be exactly one line
on stderr starting ``nnlite: error:``, with exit status 1 and no traceback.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import nnlite
from nnlite import cli
from nnlite.preprocessing import TabularModel
from nnlite.tabular import ScaledModel

ROOT = Path(__file__).resolve().parents[1]


def nnlite_cmd(*args, cwd, timeout=120):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return subprocess.run([sys.executable, "-W", "error", "-m", "nnlite", *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def _r(v):
    return repr(float(v))


def _table(X):
    return {"f1": X[:, 0], "f2": X[:, 1], "f3": X[:, 2]}


def _data(n=200, seed=0):
    """Three features on wildly different scales; a 3-class label and a smooth target."""
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(n, 3))
    X = Z * [1.0, 1000.0, 0.01] + [5.0, -20000.0, 3.0]  # scaling is the model's job
    label = np.where(Z[:, 0] + Z[:, 1] > 0.5, "high", np.where(Z[:, 2] > 0, "mid", "low"))
    value = np.sin(Z[:, 0]) + 0.5 * Z[:, 1] - Z[:, 2] ** 2
    return X, label, value


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    X, label, value = _data()
    write_csv(d / "labels.csv", ["f1", "f2", "f3", "kind"],
              [[*map(_r, x), s] for x, s in zip(X, label)])
    write_csv(d / "values.csv", ["f1", "f2", "f3", "y"],
              [[*map(_r, x), _r(v)] for x, v in zip(X, value)])
    # the same features in another column order, plus an unused column, no target
    write_csv(d / "new.csv", ["f3", "note", "f1", "f2"],
              [[_r(x[2]), "n/a", _r(x[0]), _r(x[1])] for x in X[:25]])
    return d


@pytest.fixture(scope="module")
def classifier(work):
    proc = nnlite_cmd("train", "labels.csv", "--target", "kind", "--hidden", "16",
                      "--solver", "lbfgs", "--max-iter", "300", "-o", "clf.nnlite", cwd=work)
    assert proc.returncode == 0, proc.stderr
    return proc


# ----- train ------------------------------------------------------------------------------
def test_train_a_classifier_reports_a_held_out_score_and_saves(work, classifier):
    out = classifier.stdout
    assert "task: multiclass classification of 'kind' (3 classes: high, low, mid)" in out
    assert "columns: 3 used, 0 ignored -> 3 features, encoded inside the model" in out
    assert "  f2: numeric, standardised\n" in out
    assert "held-out accuracy on 40 rows:" in out
    score = float(out.split("held-out accuracy on 40 rows:")[1].split()[0])
    assert score > 0.85
    assert "saved the model to clf.nnlite" in out
    model = nnlite.load(work / "clf.nnlite")  # a plain nnlite.load knows the class
    assert isinstance(model, TabularModel)
    assert model.encoder.feature_names_out_ == ["f1", "f2", "f3"] and model.target == "kind"
    assert list(model.classes_) == ["high", "low", "mid"]
    assert model.info["test_score"] == pytest.approx(score, abs=5e-5)
    assert model.estimator.hidden_layer_sizes == (16,)


def test_the_scaling_lives_inside_the_model(work, classifier):
    model = nnlite.load(work / "clf.nnlite")
    X, label, _ = _data()
    # mean and scale are the training rows' (80% of them), so close to the whole data's
    enc = model.encoder
    assert np.all(np.abs(enc.mean_ - X.mean(axis=0)) < 0.2 * X.std(axis=0))
    np.testing.assert_allclose(enc.scale_, X.std(axis=0), rtol=0.2)
    assert np.mean(model.predict(_table(X)) == label) > 0.85  # raw features in
    np.testing.assert_allclose(enc.transform(_table(X)).std(axis=0), 1, rtol=0.2)


def test_train_chooses_regression_for_a_real_valued_target(work):
    proc = nnlite_cmd("train", "values.csv", "--target", "y", "--hidden", "16,8",
                      "--activation", "tanh", "--solver", "lbfgs", "--max-iter", "400",
                      "--alpha", "0.001", "--test-size", "0.25", "-o", "reg.nnlite", cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert "task: regression of 'y' (numeric target, standardised for training" in proc.stdout
    r2 = float(proc.stdout.split("held-out R^2 on 50 rows:")[1].split()[0])
    assert r2 > 0.8
    model = nnlite.load(work / "reg.nnlite")
    assert type(model.estimator).__name__ == "MLPRegressor"
    assert model.estimator.get_params()["activation"] == "tanh"
    assert model.estimator.alpha == 0.001


def test_small_integer_targets_are_classes_unless_told(tmp_path):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0)  # 0..3
    write_csv(tmp_path / "d.csv", ["a", "b", "c"], [[*x, v] for x, v in zip(X, y)])
    proc = nnlite_cmd("train", "d.csv", "--target", "c", "--hidden", "4", "--max-iter", "5",
                      "-o", "m1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "multiclass classification" in proc.stdout and "4 classes: 0, 1, 2, 3" in proc.stdout
    assert nnlite.load(tmp_path / "m1").classes_.dtype.kind == "i"
    proc = nnlite_cmd("train", "d.csv", "--target", "c", "--task", "regression", "--hidden",
                      "4", "--max-iter", "5", "--test-size", "0", "-o", "m2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "regression" in proc.stdout and "no held-out rows" in proc.stdout


def test_convergence_warning_is_one_line(work):
    proc = nnlite_cmd("train", "labels.csv", "--target", "kind", "--hidden", "4",
                      "--max-iter", "2", "-o", "short.nnlite", cwd=work)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnlite: warning:")
    assert "--max-iter" in lines[0]


def test_progress_bar_only_when_asked_or_on_a_terminal(work):
    args = ("train", "labels.csv", "--target", "kind", "--hidden", "4", "--max-iter", "30",
            "--learning-rate-init", "0.01", "-o", "p.nnlite")
    shown = nnlite_cmd(*args, "--progress", cwd=work)
    assert shown.returncode == 0, shown.stderr
    # nnlite.callbacks.ProgressBar: on a pipe, one plain line per epoch
    lines = [ln for ln in shown.stderr.splitlines() if ln.startswith("epoch ")]
    assert len(lines) == 30 and lines[0].startswith("epoch 1/30: loss ")
    assert lines[-1].startswith("epoch 30/30: loss ") and "elapsed, ETA" in lines[-1]
    assert "epoch " not in shown.stdout
    hidden = nnlite_cmd(*args, cwd=work)  # stderr is a pipe here, not a terminal
    assert "epoch " not in hidden.stderr
    # same model, same report (but for the time it took)
    assert _no_time(hidden.stdout) == _no_time(shown.stdout)


def _no_time(text):
    import re
    return re.sub(r"in [0-9.]+ s:", "in _ s:", text)


@pytest.mark.parametrize("values, task", [
    (["a", "b"], "classification"), (["1", "2", "2.0"], "classification"),
    ([str(i) for i in range(21)], "regression"), (["0.5", "1"], "regression")])
def test_the_task_is_chosen_from_the_target(values, task):
    from nnlite.preprocessing import TableEncoder

    enc = TableEncoder().fit({"x": list(range(len(values)))[::-1][:1] * len(values),
                              "t": values}, "t")
    assert enc.task_ == task


# ----- predict ----------------------------------------------------------------------------
def test_predict_writes_labels_in_row_order(work, classifier):
    proc = nnlite_cmd("predict", "clf.nnlite", "new.csv", cwd=work)
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(proc.stdout)
    assert header == ["kind"] and len(rows) == 25
    model = nnlite.load(work / "clf.nnlite")
    X, _, _ = _data()
    assert [r[0] for r in rows] == list(model.predict(_table(X[:25])))


def test_predict_probabilities_to_a_file(work, classifier):
    proc = nnlite_cmd("predict", "clf.nnlite", "labels.csv", "--proba", "-o", "out.csv",
                      cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    header, rows = read_csv((work / "out.csv").read_text())
    assert header == ["kind", "proba_high", "proba_low", "proba_mid"]
    proba = np.array([[float(v) for v in r[1:]] for r in rows])
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    labels = np.array(["high", "low", "mid"])[proba.argmax(axis=1)]
    assert list(labels) == [r[0] for r in rows]
    model = nnlite.load(work / "clf.nnlite")
    X, _, _ = _data()
    np.testing.assert_array_equal(proba, model.predict_proba(_table(X)))  # repr() round-trips


def test_predict_regression_values(work):
    if not (work / "reg.nnlite").exists():
        pytest.skip("needs the regression model of an earlier test")
    proc = nnlite_cmd("predict", "reg.nnlite", "values.csv", cwd=work)
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(proc.stdout)
    assert header == ["y"]
    X, _, _ = _data()
    np.testing.assert_array_equal([float(r[0]) for r in rows],
                                  nnlite.load(work / "reg.nnlite").predict(_table(X)))


def test_predict_and_info_with_models_saved_from_python(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    write_csv(tmp_path / "x.csv", ["u", "v"], X.tolist())
    clf = nnlite.MLPClassifier(hidden_layer_sizes=(3,), solver="lbfgs", random_state=0)
    nnlite.save(clf.fit(X, y), tmp_path / "preset.nnlite")
    net = nnlite.Sequential([nnlite.Dense(3), nnlite.Tanh(), nnlite.Dense(2)], n_in=2,
                            random_state=0)
    nnlite.save(net, tmp_path / "net.nnlite")

    proc = nnlite_cmd("predict", "preset.nnlite", "x.csv", "--proba", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(proc.stdout)
    assert header == ["prediction", "proba_0", "proba_1"]
    assert [int(r[0]) for r in rows] == list(clf.predict(X))
    proc = nnlite_cmd("predict", "net.nnlite", "x.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(proc.stdout)
    assert header == ["output_0", "output_1"]
    np.testing.assert_array_equal(np.array(rows, float), net.predict(X))

    info = nnlite_cmd("info", "net.nnlite", cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    assert "model: Sequential" in info.stdout and "parameters: 17 (float64)" in info.stdout
    assert "training:" not in info.stdout
    info = nnlite_cmd("info", "preset.nnlite", cwd=tmp_path)
    assert "model: MLPClassifier" in info.stdout and "solver lbfgs" in info.stdout


# ----- info -------------------------------------------------------------------------------
def test_info_shows_layers_shapes_parameters_and_history(work, classifier):
    proc = nnlite_cmd("info", "clf.nnlite", cwd=work)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "MLPClassifier behind a table encoding" in out
    assert "target: kind (classification)" in out
    assert "columns (3):\n  f1: numeric, standardised\n" in out
    assert "features (3): f1, f2, f3" in out and "classes (3): high, low, mid" in out
    assert "(0) Dense          3 -> 16     W (3, 16), b (16,), 64 parameters" in out
    assert "(1) ReLU" in out and "(2) Dense" in out and "(3) Softmax" in out
    assert "W (16, 3), b (3,), 51 parameters" in out
    assert "parameters: 115 (float64)" in out
    assert "solver lbfgs" in out and "iterations in the last fit" in out
    assert "held-out accuracy 0." in out and ", balanced accuracy 0." in out
    assert "trained on 160 rows of labels.csv in " in out


def test_info_of_a_stochastic_run_summarises_the_loss_curve(work):
    proc = nnlite_cmd("train", "labels.csv", "--target", "kind", "--hidden", "5",
                      "--early-stopping", "--max-iter", "15", "--solver", "sgd",
                      "--learning-rate-init", "0.05", "-o", "es.nnlite", cwd=work)
    assert proc.returncode == 0, proc.stderr
    out = nnlite_cmd("info", "es.nnlite", cwd=work).stdout
    est = nnlite.load(work / "es.nnlite").estimator
    assert f"loss curve: {len(est.loss_curve_)} epochs" in out
    assert f"last {est.loss_curve_[-1]:.6g}" in out
    assert "validation scores: best" in out


# ----- errors: one line, exit status 1, never a traceback --------------------------------
def _bad_files(d):
    write_csv(d / "ragged.csv", ["a", "b", "y"], [[1, 2, 3], [4, 5]])
    write_csv(d / "text.csv", ["a", "b", "y"], [[1, 2, 0], [3, "abc", 1]])
    write_csv(d / "empty_col.csv", ["a", "b", "y"], [[1, "", 0], [3, "", 1], [2, "", 1]])
    (d / "pipes.csv").write_text("a|b|y\n1|2|0\n3|4|1\n")
    write_csv(d / "one_class.csv", ["a", "y"], [[1, "x"], [2, "x"], [3, "x"]])
    write_csv(d / "labels_y.csv", ["a", "y"], [[1, "x"], [2, "z"], [3, "x"]])
    write_csv(d / "dup.csv", ["a", "a", "y"], [[1, 2, 0]])
    (d / "header_only.csv").write_text("a,b,y\n")
    (d / "empty.csv").write_text("")
    (d / "quote.csv").write_text('a,b,y\n1,"2,3\n')
    (d / "latin1.csv").write_bytes("a,b,y\n1,2,\xe9t\xe9\n".encode("latin-1"))
    (d / "notes.nnlite").write_text("not a model\n")
    with zipfile.ZipFile(d / "other.zip", "w") as zf:
        zf.writestr("readme.txt", "a zip, but no nnlite model")
    (d / "folder").mkdir()


ERRORS = [
    # missing files
    (["train", "missing.csv", "--target", "y", "-o", "m"], "missing.csv: no such file"),
    (["predict", "missing.nnlite", "text.csv"], "missing.nnlite: no such file"),
    (["predict", "clf.nnlite", "missing.csv"], "missing.csv: no such file"),
    (["info", "missing.nnlite"], "missing.nnlite: no such file"),
    (["train", "folder", "--target", "y", "-o", "m"], "folder: is a directory"),
    # bad CSV
    (["train", "ragged.csv", "--target", "y", "-o", "m"],
     "ragged.csv, line 3: 2 fields, but the header has 3"),
    (["train", "quote.csv", "--target", "y", "-o", "m"], "quote.csv: not a valid CSV file"),
    (["train", "latin1.csv", "--target", "y", "-o", "m"],
     "latin1.csv, line 2: not a CSV text file"),
    (["train", "empty.csv", "--target", "y", "-o", "m"], "empty.csv: the file is empty"),
    (["train", "header_only.csv", "--target", "y", "-o", "m"],
     "header_only.csv: no data rows"),
    (["train", "dup.csv", "--target", "y", "-o", "m"], "names column 'a' twice"),
    (["predict", "clf.nnlite", "ragged.csv"], "ragged.csv, line 3"),
    # unknown column
    (["train", "text.csv", "--target", "price", "-o", "m"],
     "text.csv: no column 'price'; the columns are: a, b, y"),
    (["predict", "clf.nnlite", "text.csv"], "text.csv: no column 'f1', which the model needs"),
    (["train", "pipes.csv", "--target", "y", "-o", "m"],
     "pipes.csv: no column 'y'; the columns are: a|b|y (read with delimiter ','; pass "
     "--delimiter if the file uses another)"),
    # columns that cannot be used
    (["train", "text.csv", "--target", "y", "--numeric", "b", "-o", "m"],
     "text.csv, line 3: column 'b' has 'abc', which is not a number"),
    (["train", "empty_col.csv", "--target", "y", "-o", "m"],
     "empty_col.csv: column 'b' is empty in every row; leave it out with --ignore b"),
    (["train", "text.csv", "--target", "y", "--categorical", "zz", "-o", "m"],
     "categorical: no column 'zz'"),
    (["predict", "net.nnlite", "text.csv"], "column 'b' has 'abc'"),
    # not an nnlite model
    (["predict", "notes.nnlite", "text.csv"], "notes.nnlite: not an nnlite model file"),
    (["info", "other.zip"], "other.zip: not an nnlite model file"),
    (["info", "text.csv"], "text.csv: not an nnlite model file"),
    (["info", "folder"], "folder: is a directory"),
    # targets and options
    (["train", "labels_y.csv", "--target", "y", "--task", "regression", "-o", "m"],
     "a regression needs a numeric target"),
    (["train", "one_class.csv", "--target", "y", "-o", "m"], "has a single class"),
    (["train", "text.csv", "--target", "y", "--hidden", "8,x", "-o", "m"],
     "--hidden must be comma-separated integers"),
    (["train", "labels_y.csv", "--target", "y", "--alpha", "-1", "-o", "m"],
     "--alpha must be a float in the range [0.0, inf); got -1.0"),
    (["train", "labels_y.csv", "--target", "y", "--test-size", "1.5", "-o", "m"],
     "--test-size must be in [0, 1)"),
    (["train", "labels_y.csv", "--target", "y", "-o", "no/such/dir/m"], "cannot write the model"),
    (["predict", "net.nnlite", "labels_y.csv", "--proba"], "--proba needs a classifier"),
    (["train", "labels_y.csv", "--target", "y", "--plot", "no/dir/p.png", "-o", "m"],
     "no/dir/p.png: cannot write the plot (no folder"),
]


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    _bad_files(d)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3))
    nnlite.save(ScaledModel(
        nnlite.MLPClassifier(hidden_layer_sizes=(2,), solver="lbfgs", random_state=0)
        .fit(X, X[:, 0] > 0), np.zeros(3), np.ones(3), ["f1", "f2", "f3"], "kind"),
        d / "clf.nnlite")
    nnlite.save(nnlite.Sequential([nnlite.Dense(1)], n_in=2), d / "net.nnlite")
    return d


@pytest.fixture(scope="module")
def error_runs(bad):
    # one interpreter start per case, a few at a time: the cases are independent
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda case: nnlite_cmd(*case[0], cwd=bad), ERRORS))
    return {" ".join(args): proc for (args, _), proc in zip(ERRORS, runs)}


@pytest.mark.parametrize("args, message", ERRORS, ids=[" ".join(a[:2]) + f"-{i}"
                                                       for i, (a, _) in enumerate(ERRORS)])
def test_errors_are_one_clear_line(bad, error_runs, args, message):
    proc = error_runs[" ".join(args)]
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("nnlite: error: ")
    assert message in lines[0]
    assert not (bad / "m").exists()


def test_usage_errors_exit_with_status_2(tmp_path):
    proc = nnlite_cmd("train", "x.csv", cwd=tmp_path)  # --target and -o are required
    assert proc.returncode == 2 and "--target" in proc.stderr and "Traceback" not in proc.stderr
    proc = nnlite_cmd("fly", cwd=tmp_path)
    assert proc.returncode == 2


def test_help_lists_every_command(tmp_path):
    proc = nnlite_cmd("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for command in ("demo", "train", "predict", "info"):
        assert command in proc.stdout


def test_a_scaled_model_refuses_a_tampered_state():
    clf = nnlite.MLPClassifier(hidden_layer_sizes=(2,), solver="lbfgs", random_state=0)
    X = np.random.RandomState(0).normal(size=(20, 2))
    model = ScaledModel(clf.fit(X, X[:, 0] > 0), [0, 0], [1, 1], ["a", "b"], "t", {"k": 1})
    node, arrays = nnlite.io.get_state(model)
    assert isinstance(nnlite.io.from_state(node, arrays), ScaledModel)
    for change in ({"scale": np.array([1.0, 0.0])}, {"mean": np.zeros(3)}):
        with pytest.raises(nnlite.io.ModelFileError, match="ScaledModel"):
            nnlite.io.from_state(node, {**arrays, **change})
    bad = dict(node, config=dict(node["config"], feature_names=["a"]))
    with pytest.raises(nnlite.io.ModelFileError, match="feature names"):
        nnlite.io.from_state(bad, arrays)
    bad = dict(node, config=dict(node["config"], info={"k": [1]}))
    with pytest.raises(nnlite.io.ModelFileError, match="info"):
        nnlite.io.from_state(bad, arrays)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_by_default_on_a_terminal(work, monkeypatch, capsys):
    # in-process, with stderr pretending to be a terminal: one line redrawn in place
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    args = ["train", str(work / "labels.csv"), "--target", "kind", "--hidden", "4",
            "--max-iter", "40", "--learning-rate-init", "0.01", "-o", str(work / "t.nnlite")]
    assert cli.main(args) == 0
    text = terminal.getvalue()
    assert "\repoch 1/40: loss " in text and "\repoch 40/40: loss " in text
    assert "\rencoding labels.csv: 200 rows" in text  # the reading line, in place too
    # each in-place line ends once: the reading line and the bar's
    assert text.count("\n") == 2 + text.count("nnlite: warning")
    terminal.seek(0)
    terminal.truncate()
    assert cli.main(args + ["--no-progress"]) == 0
    assert "epoch " not in terminal.getvalue()
    assert "held-out accuracy" in capsys.readouterr().out


def test_labels_that_differ_as_text_stay_distinct_and_the_split_is_stratified(tmp_path):
    from nnlite.preprocessing import TableEncoder, _split_rows

    _, y = TableEncoder().fit_transform({"x": [1, 2, 2, 1], "c": ["01", "1", "01", "1"]}, "c")
    assert sorted(set(y.tolist())) == ["01", "1"]
    labels = np.repeat([0, 1, 2], [40, 40, 8])
    fit, held_out = _split_rows(len(labels), 0.25, 0, strata=labels)
    assert np.bincount(labels[held_out]).tolist() == [10, 10, 2]
    assert sorted(np.r_[fit, held_out].tolist()) == list(range(88))
