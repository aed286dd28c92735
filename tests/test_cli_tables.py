"""``nnlite train/predict/info`` on CSV files as they come, driven in a subprocess.

Mixed columns (text, gaps, ids), delimiters, overrides, the report after
training and the notes at prediction time.  The Python side of the same
preprocessing is tested in tests/test_preprocessing.py.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest

import nnlite
from nnlite.preprocessing import TabularModel
from tests.test_cli import nnlite_cmd, write_csv
from tests.test_preprocessing import people


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    d = tmp_path_factory.mktemp("tables")
    t = people(200)
    write_csv(d / "people.csv", list(t), list(zip(*t.values())))
    write_csv(d / "people_semi.csv", list(t), list(zip(*t.values())))
    text = (d / "people.csv").read_text()
    (d / "people_semi.csv").write_text(text.replace(",", ";"))
    (d / "people_tab.csv").write_text(text.replace(",", "\t"))
    write_csv(d / "new.csv", ["income", "note", "age", "city"],
              [[2500, "x", 30, "rome"], [3100, "y", "", "berlin"], ["", "z", 75, "paris"],
               [2000, "w", 20, "madrid"]])
    write_csv(d / "no_age.csv", ["income", "city"], [[2500, "rome"]])
    proc = nnlite_cmd("train", "people.csv", "--target", "label", "--hidden", "8",
                      "--solver", "lbfgs", "--max-iter", "300", "-o", "people.nnlite", cwd=d)
    assert proc.returncode == 0, proc.stderr
    return d, proc


def test_train_on_a_mixed_csv_reports_what_it_did(mixed):
    d, proc = mixed
    out = proc.stdout
    assert "task: binary classification of 'label' (2 classes: no, yes)" in out
    assert "columns: 3 used, 2 ignored -> 7 features, encoded inside the model:" in out
    assert "  id: ignored: an id: integers that rise (or fall) row by row" in out
    assert "  code: ignored: an id: every value is different" in out
    assert "  city: categorical, one-hot 4 categories: oslo, paris, rome, (missing)" in out
    assert "  age: numeric, standardised; missing -> median + indicator column" in out
    assert re.search(r"trained MLPClassifier \(8,\) on 160 rows in [0-9.]+ s: \d+ iterations",
                     out)
    accuracy = float(re.search(r"held-out accuracy on 40 rows: ([0-9.]+)", out).group(1))
    balanced = float(re.search(r"held-out balanced accuracy on 40 rows: ([0-9.]+)", out)
                     .group(1))
    assert accuracy > 0.8 and balanced > 0.8
    lines = out.splitlines()
    at = lines.index("confusion matrix (rows: true class, columns: predicted):")
    assert lines[at + 1].split() == ["no", "yes"]
    cm = np.array([[int(v) for v in lines[at + k].split()[1:]] for k in (2, 3)])
    assert cm.sum() == 40 and np.trace(cm) / 40 == pytest.approx(accuracy, abs=5e-5)
    model = nnlite.load(d / "people.nnlite")
    assert isinstance(model, TabularModel)
    assert model.info["test_accuracy"] == pytest.approx(accuracy, abs=5e-5)
    assert proc.stderr == ""


def test_predict_applies_the_saved_preprocessing_and_notes_what_is_new(mixed):
    d, _ = mixed
    proc = nnlite_cmd("predict", "people.nnlite", "new.csv", "--proba", cwd=d)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["label", "proba_no", "proba_yes"] and len(rows) == 5
    model = nnlite.load(d / "people.nnlite")
    table = {"income": [2500, 3100, None, 2000], "age": [30, None, 75, 20],
             "city": ["rome", "berlin", "paris", "madrid"]}
    assert [r[0] for r in rows[1:]] == list(model.predict(table))
    np.testing.assert_array_equal(np.array([r[1:] for r in rows[1:]], float),
                                  model.predict_proba(table))
    notes = proc.stderr.splitlines()
    assert notes == [
        "nnlite: note: ignored columns the model does not use: note",
        "nnlite: note: values not seen in training, encoded as all zeros (categories) or the "
        "training median (numbers): city: 2 unseen (berlin, madrid); income: 1 missing"]


def test_predict_names_a_missing_column(mixed):
    d, _ = mixed
    proc = nnlite_cmd("predict", "people.nnlite", "no_age.csv", "-o", "out.csv", cwd=d)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "nnlite: error: no_age.csv: no column 'age', which the model needs (its columns: "
        "city, age, income)"]
    assert not (d / "out.csv").exists()


def test_info_shows_the_preprocessing(mixed):
    d, _ = mixed
    proc = nnlite_cmd("info", "people.nnlite", cwd=d)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "model: MLPClassifier behind a table encoding (nnlite train)" in out
    assert "target: label (classification)" in out
    assert "columns (5):\n  id: ignored: an id" in out
    assert "  city: categorical, one-hot 4 categories: oslo, paris, rome, (missing)" in out
    assert ("features (7): city=oslo, city=paris, city=rome, city (missing), age, "
            "age (missing), income") in out
    assert "(0) Dense          7 -> 8" in out
    assert re.search(r"held-out accuracy [01]\.\d+, balanced accuracy [01]\.\d+ on 40 rows "
                     r"\(trained on 160 rows of people.csv in [0-9.]+ s\)", out)


@pytest.mark.parametrize("name, shown", [("people_semi.csv", "';'"),
                                         ("people_tab.csv", "'\\t'")])
def test_semicolons_and_tabs_are_detected(mixed, name, shown):
    d, first = mixed
    proc = nnlite_cmd("train", name, "--target", "label", "--hidden", "8", "--solver",
                      "lbfgs", "--max-iter", "300", "-o", "other.nnlite", cwd=d)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"read {name} with delimiter {shown}"
    scrub = lambda text: re.sub(r"in [0-9.]+ s:|saved the model to \S+", "", text)  # noqa: E731
    assert scrub("\n".join(lines[1:])) == scrub(first.stdout.rstrip("\n"))


def test_overrides_from_the_command_line(mixed):
    d, _ = mixed
    proc = nnlite_cmd("train", "people.csv", "--target", "label", "--numeric", "id",
                      "--ignore", "city,income", "--categorical", "code", "--max-categories",
                      "300", "--hidden", "4", "--solver", "lbfgs", "--max-iter", "20",
                      "--test-size", "0", "-o", "over.nnlite", cwd=d)
    assert proc.returncode == 0, proc.stderr
    kinds = {c["name"]: c["kind"] for c in nnlite.load(d / "over.nnlite").encoder.columns_}
    assert kinds == {"id": "numeric", "city": "ignored", "age": "numeric",
                     "income": "ignored", "code": "categorical"}
    assert "  city: ignored: given" in proc.stdout


def test_a_regression_target_in_the_thousands(tmp_path):
    rng = np.random.RandomState(0)
    x = rng.uniform(-2, 2, 300)
    colour = rng.choice(["red", "blue", ""], 300)
    price = 20000 + 3000 * np.sin(x) + 2000 * (colour == "red")
    write_csv(tmp_path / "prices.csv", ["x", "colour", "price"],
              [[repr(float(a)), c, repr(float(p))] for a, c, p in zip(x, colour, price)])
    proc = nnlite_cmd("train", "prices.csv", "--target", "price", "--hidden", "16",
                      "--solver", "lbfgs", "--max-iter", "400", "-o", "p.nnlite", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "task: regression of 'price' (numeric target, standardised for training: mean 2" \
        in proc.stdout
    r2 = float(re.search(r"held-out R\^2 on 60 rows: ([0-9.]+)", proc.stdout).group(1))
    mae = float(re.search(r"held-out MAE on 60 rows: ([0-9.]+)", proc.stdout).group(1))
    assert r2 > 0.95 and mae < 300
    pred = nnlite_cmd("predict", "p.nnlite", "prices.csv", cwd=tmp_path)
    values = np.array([float(r[0]) for r in list(csv.reader(io.StringIO(pred.stdout)))[1:]])
    np.testing.assert_allclose(values, price, rtol=0.05)  # in the target's own units


def test_plot_writes_the_curves_and_the_confusion_matrix(mixed):
    pytest.importorskip("matplotlib")
    d, _ = mixed
    proc = nnlite_cmd("train", "people.csv", "--target", "label", "--hidden", "4",
                      "--max-iter", "30", "--early-stopping", "--learning-rate-init", "0.01",
                      "--plot", "report.png", "-o", "plotted.nnlite", cwd=d)
    assert proc.returncode == 0, proc.stderr
    assert "wrote the plots to report.png" in proc.stdout
    assert (d / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reading_progress_when_asked(mixed):
    d, _ = mixed
    proc = nnlite_cmd("train", "people.csv", "--target", "label", "--hidden", "4",
                      "--solver", "lbfgs", "--max-iter", "3", "--progress", "-o", "prog.nnlite",
                      cwd=d)
    assert proc.returncode == 0, proc.stderr
    assert "encoding people.csv: 200 rows" in proc.stderr
    assert re.search(r"\n3 L-BFGS iterations: loss [0-9.]+, 00:00", proc.stderr)
    assert "encoding" not in proc.stdout


def test_plot_without_matplotlib_is_a_clear_error_before_training(mixed, monkeypatch, capsys):
    import sys

    from nnlite import cli

    d, _ = mixed
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    status = cli.main(["train", str(d / "people.csv"), "--target", "label", "--plot",
                       str(d / "x.png"), "-o", str(d / "never.nnlite")])
    captured = capsys.readouterr()
    assert status == 1 and captured.out == ""
    assert captured.err == ("nnlite: error: --plot needs matplotlib, which is not installed; "
                            "install it with pip install \"nnlite[plot]\"\n")
    assert not (d / "never.nnlite").exists()


@pytest.fixture(scope="module")
def shop_files(tmp_path_factory):
    from tests.test_preprocessing import shops

    d = tmp_path_factory.mktemp("shops")
    t = shops()
    write_csv(d / "shops.csv", list(t), list(zip(*t.values())))
    write_csv(d / "new_shops.csv", ["shop", "x", "colour"],
              [["s001", 0.5, "red"], ["nowhere", 0.1, "blue"]])
    return d


def test_a_column_with_many_categories_goes_to_an_embedding(shop_files):
    d = shop_files
    proc = nnlite_cmd("train", "shops.csv", "--target", "level", "--ignore", "sales",
                      "--hidden", "16", "--max-iter", "60", "--learning-rate-init", "0.01",
                      "-o", "shops.nnlite", cwd=d)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert ("  shop: categorical, embedding of 150 categories (+1 for unseen): more than 100 "
            "distinct values: a learned vector per category") in out
    assert "trained EmbeddingNetwork (16,) on 1200 rows in " in out
    accuracy = float(re.search(r"held-out accuracy on 300 rows: ([0-9.]+)", out).group(1))
    assert accuracy > 0.85
    info = nnlite_cmd("info", "shops.nnlite", cwd=d).stdout
    assert "model: EmbeddingNetwork behind a table encoding" in info
    assert "Embedding(151, 16)" in info and "features (4): x, colour=blue, colour=red, " \
        "shop (code)" in info
    pred = nnlite_cmd("predict", "shops.nnlite", "new_shops.csv", cwd=d)
    assert pred.returncode == 0, pred.stderr
    assert len(pred.stdout.splitlines()) == 3
    assert "shop: 1 unseen (nowhere)" in pred.stderr
    # without the embedding the column is left out, and the score drops
    plain = nnlite_cmd("train", "shops.csv", "--target", "level", "--ignore", "sales",
                       "--no-embedding", "--hidden", "16", "--max-iter", "60",
                       "--learning-rate-init", "0.01", "-o", "plain.nnlite", cwd=d)
    assert "  shop: ignored: more than 100 distinct values" in plain.stdout
    assert "trained MLPClassifier" in plain.stdout
    blind = float(re.search(r"held-out accuracy on 300 rows: ([0-9.]+)", plain.stdout)
                  .group(1))
    assert accuracy > blind + 0.1


def test_an_embedding_refuses_options_it_cannot_honour(shop_files):
    proc = nnlite_cmd("train", "shops.csv", "--target", "level", "--solver", "lbfgs",
                      "-o", "x.nnlite", cwd=shop_files)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "nnlite: error: --solver lbfgs: column 'shop' has more than 100 categories and goes "
        "to an embedding, which trains with adam; use --solver adam or --no-embedding"]
    assert not (shop_files / "x.nnlite").exists()
