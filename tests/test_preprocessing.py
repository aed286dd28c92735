"""TableEncoder and TabularModel from Python: tables as they come (nnlite.preprocessing)."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

import nnlite
from nnlite import _metrics
from nnlite.preprocessing import TableEncoder, TableError, TabularModel


def write_csv(path, header, rows, delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def people(n=120, seed=0):
    """A mixed table: an id, a text column with a missing cell, numbers with gaps, a label."""
    rng = np.random.RandomState(seed)
    city = rng.choice(["paris", "rome", "oslo"], n).tolist()
    age = rng.uniform(18, 80, n).round(1).tolist()
    income = rng.normal(3000, 800, n).round(2).tolist()
    label = ["yes" if (c == "rome" or a > 60) else "no" for c, a in zip(city, age)]
    city[3] = ""
    age[5] = age[9] = ""
    return {"id": list(range(1, n + 1)), "city": city, "age": age, "income": income,
            "code": [f"u{7 * i % 1009}" for i in range(n)], "label": label}


@pytest.fixture
def people_csv(tmp_path):
    t = people()
    return write_csv(tmp_path / "people.csv", list(t), list(zip(*t.values())))


def test_column_kinds_are_inferred_with_reasons(people_csv):
    enc = TableEncoder().fit(people_csv, "label")
    kinds = {c["name"]: (c["kind"], c["reason"]) for c in enc.columns_}
    assert kinds["id"][0] == "ignored" and "rise" in kinds["id"][1]
    assert kinds["code"][0] == "ignored" and "every value is different" in kinds["code"][1]
    assert kinds["city"] == ("categorical", "text")
    assert kinds["age"] == ("numeric", "numbers") and kinds["income"][0] == "numeric"
    assert enc.feature_names_out_ == ["city=oslo", "city=paris", "city=rome", "city (missing)",
                                      "age", "age (missing)", "income"]
    assert enc.task_ == "classification" and enc.target_ == "label"
    assert enc.used_columns == ["city", "age", "income"]
    described = enc.describe()
    assert described[1] == ("city: categorical, one-hot 4 categories: oslo, paris, rome, "
                            "(missing)")
    assert described[2] == "age: numeric, standardised; missing -> median + indicator column"
    assert repr(enc) == "TableEncoder(2 numeric, 1 categorical, 2 ignored -> 7 features)"


def test_the_encoding_by_hand(people_csv):
    t = people()
    X, y = TableEncoder().fit_transform(people_csv, "label")
    assert y.tolist() == t["label"]
    city = np.array(t["city"])
    for k, c in enumerate(["oslo", "paris", "rome", ""]):
        np.testing.assert_array_equal(X[:, k], city == c)
    age = np.array([np.nan if a == "" else a for a in t["age"]], dtype=float)
    missing = np.isnan(age)
    np.testing.assert_array_equal(X[:, 5], missing)
    filled = np.where(missing, np.median(age[~missing]), age)
    np.testing.assert_allclose(X[:, 4], (filled - filled.mean()) / filled.std(), rtol=1e-12)
    income = np.array(t["income"])
    np.testing.assert_allclose(X[:, 6], (income - income.mean()) / income.std(), rtol=1e-12)


def test_same_encoding_as_scikit_learn(people_csv):
    pytest.importorskip("sklearn")
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    enc = TableEncoder()
    X, _ = enc.fit_transform(people_csv, "label")
    frame = pd.read_csv(people_csv, keep_default_na=False, na_values=[""])
    frame["city"] = frame["city"].fillna("~missing")  # sorts last, as nnlite puts it
    ct = ColumnTransformer([
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["city"]),
        ("age", make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                              StandardScaler()), ["age"]),
        ("inc", StandardScaler(), ["income"])])
    ref = ct.fit_transform(frame)
    np.testing.assert_allclose(X[:, :4], ref[:, :4])
    np.testing.assert_allclose(X[:, 4], ref[:, 4], rtol=1e-12)
    np.testing.assert_array_equal(X[:, 5], ref[:, 5] > 0)  # sklearn scaled the indicator too
    np.testing.assert_allclose(X[:, 6], ref[:, 6], rtol=1e-12)
    new = pd.DataFrame({"city": ["berlin", "rome"], "age": [np.nan, 30.0],
                        "income": [1.0, 2.0]})
    Xn = enc.transform({"city": ["berlin", "rome"], "age": [None, 30.0], "income": [1.0, 2.0]})
    np.testing.assert_allclose(Xn[:, :4], ct.transform(new)[:, :4])  # unseen: all zeros


def test_overrides_and_their_errors(people_csv):
    enc = TableEncoder(categorical=["id"], numeric=[], ignore=["city", "code"],
                       max_categories=200).fit(people_csv, "label")
    kinds = {c["name"]: c["kind"] for c in enc.columns_}
    assert kinds == {"id": "categorical", "city": "ignored", "age": "numeric",
                     "income": "numeric", "code": "ignored"}
    assert len(enc.feature_names_out_) == 120 + 3
    enc = TableEncoder(numeric=["id"], categorical=["code"], max_categories=200)
    enc.fit(people_csv, "label")
    assert {c["name"]: c["kind"] for c in enc.columns_}["id"] == "numeric"
    with pytest.raises(TableError, match=r"line 2: column 'city' has 'paris', which is not a "
                       r"number \(the column is given as numeric\)"):
        TableEncoder(numeric=["city"]).fit(people_csv, "label")
    with pytest.raises(TableError, match="column 'code' has more than 100 distinct values"):
        TableEncoder(categorical=["code"]).fit(people_csv, "label")
    with pytest.raises(TableError, match="ignore: no column 'zip'"):
        TableEncoder(ignore=["zip"]).fit(people_csv, "label")
    with pytest.raises(TableError, match="'age' is both categorical and numeric"):
        TableEncoder(categorical=["age"], numeric=["age"]).fit(people_csv, "label")
    with pytest.raises(TableError, match="numeric: 'label' is the target"):
        TableEncoder(numeric=["label"]).fit(people_csv, "label")
    with pytest.raises(ValueError, match="max_categories must be a positive integer"):
        TableEncoder(max_categories=0).fit(people_csv, "label")


def test_chunks_change_nothing_and_a_mapping_reads_like_the_file(people_csv):
    X, y = TableEncoder().fit_transform(people_csv, "label")
    Xc, yc = TableEncoder(chunk_rows=7).fit_transform(people_csv, "label")
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(y, yc)
    t = people()
    t["age"] = [None if a == "" else a for a in t["age"]]
    Xm, ym = TableEncoder().fit_transform(t, "label")
    np.testing.assert_array_equal(X, Xm)
    pd = pytest.importorskip("pandas")
    Xd, _ = TableEncoder().fit_transform(pd.DataFrame(t), "label")
    np.testing.assert_array_equal(X, Xd)
    # pandas' own missing values (NA in nullable columns) are missing too
    t["age"] = pd.array([None if a is None else a for a in t["age"]], dtype="Float64")
    t["city"] = pd.array([c or None for c in t["city"]], dtype="string")
    frame = pd.DataFrame(t)
    frame.loc[frame["city"].isna(), "city"] = pd.NA
    np.testing.assert_array_equal(TableEncoder().fit_transform(frame, "label")[0], X)
    enc = TableEncoder(chunk_rows=5).fit(people_csv, "label")
    assert len(list(enc.transform_chunks(people_csv))) == 24
    np.testing.assert_array_equal(enc.transform(people_csv), X)


def test_fit_split_learns_from_the_training_rows_only_without_copying(people_csv):
    enc = TableEncoder()
    X_fit, X_test, y_fit, y_test = enc.fit_split(people_csv, "label", test_size=0.25,
                                                 random_state=3)
    assert len(y_fit) == 90 and len(y_test) == 30
    assert X_fit.base is X_test.base and X_fit.base is not None  # one array
    np.testing.assert_allclose(X_fit[:, 6].mean(), 0, atol=1e-12)
    np.testing.assert_allclose(X_fit[:, 6].std(), 1, rtol=1e-12)
    assert abs(X_test[:, 6].mean()) > 1e-6  # the held-out rows did not shape the scaling
    # stratified: both sides keep the class shares
    share = np.mean(np.r_[y_fit, y_test] == "yes")
    assert abs(np.mean(y_test == "yes") - share) < 0.05
    # the same rows as transform gives, in the split's order
    X_all = enc.transform(people_csv)
    t = people()
    rows = {tuple(r) for r in X_all.round(12).tolist()}
    assert all(tuple(r) in rows for r in np.r_[X_fit, X_test].round(12).tolist())
    assert sorted(np.r_[y_fit, y_test].tolist()) == sorted(t["label"])


def test_unseen_values_missing_and_extra_columns_at_predict_time(people_csv):
    enc = TableEncoder().fit(people_csv, "label")
    new = {"income": [3000.0, 2000.0, None], "city": ["berlin", "rome", "madrid"],
           "age": [30.0, None, 50.0], "note": ["a", "b", "c"]}
    X = enc.transform(new)
    np.testing.assert_array_equal(X[[0, 2], :4], 0)  # unseen: all zeros
    np.testing.assert_array_equal(X[1, :4], [0, 0, 1, 0])
    assert X[1, 5] == 1 and X[0, 5] == 0  # the age indicator
    assert enc.report_ == {"extra_columns": ["note"],
                           "city": {"unseen": 2, "examples": ["berlin", "madrid"], "missing": 0},
                           "income": {"unseen": 0, "examples": [], "missing": 1}}
    median = (enc.median_[1] - enc.mean_[1]) / enc.scale_[1]
    assert X[2, 6] == median  # income had no gaps in training: the median fills it
    with pytest.raises(TableError, match="no column 'age', which the model needs"):
        enc.transform({"income": [1.0], "city": ["rome"]})
    with pytest.raises(ValueError, match="not fitted"):
        TableEncoder().transform(new)


@pytest.mark.parametrize("case, message", [
    ("no_target", "people.csv: no column 'price'; the columns are: id, city"),
    ("one_class", "the target 'label' has a single class (no)"),
    ("empty_col", "column 'age' is empty in every row; leave it out with --ignore age"),
    ("ragged", "people.csv, line 4: 5 fields, but the header has 6"),
    ("latin1", "people.csv, line 3: not a CSV text file (it is not valid UTF-8)"),
    ("empty_target", "people.csv, line 5: the target 'label' is empty"),
    ("pipes", "no column 'label'; the columns are: id|city|age|income|code|label (read with "
              "delimiter ','; pass --delimiter"),
])
def test_bad_tables_are_one_clear_error(tmp_path, case, message):
    t = people(10)
    path = tmp_path / "people.csv"
    rows = [list(r) for r in zip(*t.values())]
    target = "price" if case == "no_target" else "label"
    if case == "one_class":
        for r in rows:
            r[-1] = "no"
    if case == "empty_col":
        for r in rows:
            r[2] = ""
    if case == "ragged":
        rows[2] = rows[2][:5]
    if case == "empty_target":
        rows[3][-1] = ""
    write_csv(path, list(t), rows, delimiter="|" if case == "pipes" else ",")
    if case == "latin1":
        text = path.read_text().splitlines()
        text[2] = text[2].replace("paris", "pärïs").replace("rome", "römé").replace(
            "oslo", "ösló")
        path.write_bytes("\n".join(text).encode("latin-1"))
    with pytest.raises(TableError) as info:
        TableEncoder().fit_split(path, target)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_files_are_detected(tmp_path, people_csv, delimiter):
    t = people()
    path = write_csv(tmp_path / "other.csv", list(t), list(zip(*t.values())), delimiter)
    enc = TableEncoder()
    X, _ = enc.fit_transform(path, "label")
    assert enc.delimiter_ == delimiter
    np.testing.assert_array_equal(X, TableEncoder().fit_transform(people_csv, "label")[0])
    X2, _ = TableEncoder(delimiter=delimiter).fit_transform(path, "label")
    np.testing.assert_array_equal(X, X2)


def test_a_target_in_the_thousands_trains_as_one_near_one():
    rng = np.random.RandomState(0)
    x = rng.uniform(-2, 2, 200)
    colour = rng.choice(["red", "blue"], 200)
    y = np.sin(x) + (colour == "red")
    preds = []
    for factor, shift in ((1.0, 0.0), (1000.0, 5000.0)):
        table = {"x": x, "colour": colour, "y": y * factor + shift}
        model = TabularModel(TableEncoder(), nnlite.MLPRegressor(
            hidden_layer_sizes=(8,), solver="lbfgs", max_iter=300, random_state=0))
        assert model.fit(table, "y") is model
        assert model.encoder.task_ == "regression"
        # the network itself sees the standardised target
        inner = model.estimator.predict(model.encoder.transform(table))
        assert abs(inner.mean()) < 0.05 and abs(inner.std() - 1) < 0.05
        preds.append((model.predict(table) - shift) / factor)
        assert _metrics.r2(y, preds[-1]) > 0.95
    # the same problem in other units: the same fit up to rounding (L-BFGS amplifies it a bit)
    np.testing.assert_allclose(preds[1], preds[0], atol=0.05)


def test_a_tabular_model_saves_and_loads_without_pickle(tmp_path, people_csv):
    model = TabularModel(TableEncoder(), nnlite.MLPClassifier(
        hidden_layer_sizes=(6,), solver="lbfgs", random_state=0), {"data": "people.csv"})
    model.fit(people_csv, "label")
    nnlite.save(model, tmp_path / "m.nnlite")
    back = nnlite.load(tmp_path / "m.nnlite")
    assert isinstance(back, TabularModel) and back.info == {"data": "people.csv"}
    assert back.encoder.columns_ == model.encoder.columns_
    np.testing.assert_array_equal(back.predict_proba(people_csv),
                                  model.predict_proba(people_csv))
    assert list(back.predict(people_csv)) == list(model.predict(people_csv))
    node, arrays = nnlite.io.get_state(back)
    bad = dict(node, config=dict(node["config"], info={"k": [1]}))
    with pytest.raises(nnlite.io.ModelFileError, match="info"):
        nnlite.io.from_state(bad, arrays)
    enc_node, enc_arrays = nnlite.io.get_state(back.encoder)
    for change in ({"scale": -enc_arrays["scale"]}, {"median": np.zeros(7)}):
        with pytest.raises(nnlite.io.ModelFileError, match="TableEncoder"):
            nnlite.io.from_state(enc_node, {**enc_arrays, **change})
    columns = [dict(c) for c in enc_node["config"]["columns"]]
    columns[1]["kind"] = "text"
    with pytest.raises(nnlite.io.ModelFileError, match="columns are malformed"):
        nnlite.io.from_state(dict(enc_node, config=dict(enc_node["config"], columns=columns)),
                             enc_arrays)
    with pytest.raises(ValueError, match="not fitted"):
        nnlite.io.get_state(TableEncoder())


def test_a_failed_fit_leaves_the_fitted_encoder_and_model_usable(tmp_path, people_csv):
    enc = TableEncoder().fit(people_csv, "label")
    before = enc.transform(people_csv)
    state = nnlite.io.get_state(enc)[0]
    (tmp_path / "bad.csv").write_text("a,b,label\n1,,x\n2,,y\n")
    with pytest.raises(TableError, match="column 'b' is empty in every row"):
        enc.fit(tmp_path / "bad.csv", "label")
    with pytest.raises(TableError, match="has a single class"):
        enc.fit_split({"a": [1, 2, 3], "label": ["x", "x", "x"]}, "label")
    assert nnlite.io.get_state(enc)[0] == state
    np.testing.assert_array_equal(enc.transform(people_csv), before)

    model = TabularModel(TableEncoder(), nnlite.MLPClassifier(
        hidden_layer_sizes=(4,), solver="lbfgs", max_iter=50, random_state=0))
    model.fit(people_csv, "label")
    proba = model.predict_proba(people_csv)
    # the encoder fits the new table, then the estimator refuses it
    model.estimator.set_params(alpha=-1.0)
    other = {"u": [1.0, 3.0, 2.0, 4.0], "label": ["a", "b", "a", "b"]}
    with pytest.raises(ValueError, match="alpha"):
        model.fit(other, "label")
    model.estimator.set_params(alpha=1e-4)
    assert model.encoder.target_ == "label" and model.encoder.used_columns[0] == "city"
    np.testing.assert_array_equal(model.predict_proba(people_csv), proba)


def test_the_reported_metrics_match_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.RandomState(0)
    t = rng.choice(["a", "b", "c"], 50, p=[0.6, 0.3, 0.1])
    p = np.where(rng.rand(50) < 0.7, t, rng.choice(["a", "b", "c"], 50))
    np.testing.assert_array_equal(_metrics.confusion_matrix(t, p, ["a", "b", "c"]),
                                  metrics.confusion_matrix(t, p, labels=["a", "b", "c"]))
    assert _metrics.balanced_accuracy(t, p) == pytest.approx(
        metrics.balanced_accuracy_score(t, p), abs=1e-15)
    u, v = rng.normal(size=30), rng.normal(size=30)
    assert _metrics.mean_absolute_error(u, v) == pytest.approx(
        metrics.mean_absolute_error(u, v), abs=1e-15)


def test_import_nnlite_imports_no_plotting_library():
    code = "import sys, nnlite; print('matplotlib' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]


def _numbers_csv(path, n, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 6)).round(4)
    colour = np.array(["red", "green", "blue"])[rng.randint(3, size=n)]
    with open(path, "w", encoding="utf-8") as f:
        f.write("a,b,c,d,e,f,colour,y\n")
        for row, c in zip(X.tolist(), colour):
            f.write(",".join(map(repr, row)) + f",{c},{row[0] > 0}\n")
    return path


def test_reading_memory_grows_by_the_encoded_array_only(tmp_path):
    import tracemalloc

    peaks = {}
    for n in (20_000, 60_000):  # both several chunks of 8,192 rows
        path = _numbers_csv(tmp_path / f"n{n}.csv", n)
        tracemalloc.start()
        try:
            X_fit, X_test, y_fit, y_test = TableEncoder().fit_split(path, "y")
            peaks[n] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert X_fit.shape[1] == 9
        del X_fit, X_test
    # 40,000 more rows cost their encoded floats (9 x 8 bytes), their labels (the
    # target as text of 5 characters, 4 bytes each) and a row index (8 bytes); holding
    # their cells as Python strings would cost over 400 bytes a row
    per_row = (peaks[60_000] - peaks[20_000]) / 40_000
    assert per_row < 9 * 8 + 5 * 4 + 8 + 16


def shops(n=1500, n_shops=150, seed=0):
    """Sales driven by a shop (many categories), a number and a colour."""
    rng = np.random.RandomState(seed)
    names = np.array([f"s{k:03d}" for k in range(n_shops)])
    effect = rng.normal(size=n_shops) * 2
    k = rng.randint(n_shops, size=n)
    x = rng.normal(size=n)
    colour = rng.choice(["red", "blue"], n)
    sales = effect[k] + x + (colour == "red") + rng.normal(scale=0.1, size=n)
    level = np.where(sales > np.median(sales), "high", "low")
    return {"shop": names[k].tolist(), "x": x.tolist(), "colour": colour.tolist(),
            "sales": sales.tolist(), "level": level.tolist()}


def test_many_categories_go_to_an_embedding_when_asked():
    t = shops()
    plain = TableEncoder(ignore=["sales"]).fit(t, "level")
    assert plain.columns_[0]["kind"] == "ignored" and plain.embedding_sizes_ == []
    enc = TableEncoder(ignore=["sales"], embed_many=True)
    X, y = enc.fit_transform(t, "level")
    shop = enc.columns_[0]
    assert shop["kind"] == "categorical" and shop["encoding"] == "embedding"
    assert len(shop["categories"]) == 150 and enc.embedding_sizes_ == [151]
    assert enc.feature_names_out_ == ["x", "colour=blue", "colour=red", "shop (code)"]
    assert enc.n_dense_ == 3
    np.testing.assert_array_equal(X[:, 3], [shop["categories"].index(s) for s in t["shop"]])
    assert enc.describe()[0] == ("shop: categorical, embedding of 150 categories (+1 for "
                                 "unseen): more than 100 distinct values: a learned vector "
                                 "per category")
    new = enc.transform({"shop": ["s001", "nowhere"], "x": [0.0, 0.0],
                         "colour": ["red", "red"]})
    assert new[:, 3].tolist() == [1.0, 150.0]  # unseen: the extra code
    assert enc.report_["shop"]["unseen"] == 1
    back = nnlite.io.from_state(*nnlite.io.get_state(enc))
    np.testing.assert_array_equal(back.transform(t), X)


def test_an_embedding_network_learns_per_category_and_saves(tmp_path):
    from nnlite.embedding_network import EmbeddingNetwork

    t = shops()
    enc = TableEncoder(ignore=["sales"], embed_many=True)
    X_fit, X_test, y_fit, y_test = enc.fit_split(t, "level", random_state=0)
    net = EmbeddingNetwork(enc.n_dense_, enc.embedding_sizes_, enc.task_,
                           hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=60)
    model = TabularModel(enc, net).fit_encoded(X_fit, y_fit)
    accuracy = np.mean(model.predict_encoded(X_test) == y_test)
    # without the shop the best accuracy is far lower: the embedding learned its effect
    blind = nnlite.MLPClassifier(hidden_layer_sizes=(16,), max_iter=60, random_state=0,
                                 learning_rate_init=0.01)
    blind.fit(X_fit[:, :3], y_fit)
    assert accuracy > 0.85 and accuracy > blind.score(X_test[:, :3], y_test) + 0.1
    assert list(net.classes_) == ["high", "low"] and len(net.loss_curve_) == 60
    nnlite.save(model, tmp_path / "shops.nnlite")
    back = nnlite.load(tmp_path / "shops.nnlite")
    assert isinstance(back.estimator, EmbeddingNetwork)
    np.testing.assert_array_equal(back.predict_proba(t), model.predict_proba(t))
    reg = EmbeddingNetwork(enc.n_dense_, enc.embedding_sizes_, "regression",
                           hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=60)
    y = np.array(t["sales"])
    X = enc.transform(t)
    assert _metrics.r2(y, reg.fit(X, y).predict(X)) > 0.9
    with pytest.raises(AttributeError, match="regressor has no predict_proba"):
        reg.predict_proba(X)
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 4\)"):
        reg.predict(X[:, :3])
