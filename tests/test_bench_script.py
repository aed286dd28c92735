"""benchmarks/bench.py: its arguments, thread views, goals and one tiny run (nothing timed here)."""

import functools
import importlib.util
import json
import pathlib
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")  # the script's reference, imported when it loads
pytest.importorskip("threadpoolctl")

from threadpoolctl import threadpool_info  # noqa: E402

import nnlite  # noqa: E402

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.fixture
def thread_settings_kept(bench):
    """The views change process-wide choices: every test leaves them as it found them."""
    setting = nnlite.get_blas_threads()
    yield
    nnlite.set_blas_threads(setting)
    if bench.torch is not None:
        bench.torch.set_num_threads(bench.TORCH_START_THREADS)


def blas_counts():
    return [d["num_threads"] for d in threadpool_info()]


# ----------------------------------------------------------------------------------------
# arguments


@pytest.mark.parametrize("text, expected", [("both", "both"), ("stock", "stock"), ("1", 1),
                                            ("3", 3)])
def test_threads_argument(bench, text, expected):
    assert bench.parse_args(["--threads", text]).threads == expected


def test_threads_default_is_one(bench):
    assert bench.parse_args([]).threads == 1


@pytest.mark.parametrize("text", ["0", "-1", "two", "Both", "1.5", ""])
def test_bad_threads_argument_is_a_usage_error(bench, text, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.parse_args(["--threads", text])
    assert exc.value.code == 2
    assert "expected an int >= 1, 'stock' or 'both'" in capsys.readouterr().err


def test_views_of_each_threads_argument(bench):
    assert [v.name for v in bench.views_for("both")] == ["pinned-1", "stock"]
    assert [v.name for v in bench.views_for("stock")] == ["stock"]
    assert [v.name for v in bench.views_for(2)] == ["pinned-2"]


# ----------------------------------------------------------------------------------------
# views applied and removed around each run


def test_views_apply_and_remove_their_limits(bench, thread_settings_kept):
    original = blas_counts()
    pinned, stock = bench.views_for("both")
    for _ in range(2):  # pinned, stock, pinned, stock: each must undo the one before
        with pinned.applied():
            assert set(blas_counts()) == {1}
            assert nnlite.get_blas_threads() == 1
            if bench.torch is not None:
                assert bench.torch.get_num_threads() == 1
        assert blas_counts() == original
        with stock.applied():
            assert blas_counts() == original
            assert nnlite.get_blas_threads() == "auto"
            if bench.torch is not None:
                assert bench.torch.get_num_threads() == bench.TORCH_START_THREADS


# ----------------------------------------------------------------------------------------
# % of bare products


def row(contender, median_s, view="stock", dtype="float32", case="(p) predict", **extra):
    return {"case": case, "view": view, "contender": contender, "dtype": dtype,
            "median_s": median_s, **extra}


def test_share_of_bare_products_is_bare_time_over_nnlite_time(bench):
    rows = bench.add_share_of_bare_products([
        row("nnlite 32", 0.20), row("sklearn 32", 0.40), row("bare products 32", 0.18),
        row("nnlite 64", 0.50, dtype="float64"), row("bare products 64", 0.60, dtype="float64"),
        row("nnlite 32", 0.10, view="pinned-1"),  # no bare products in its view
    ])
    assert rows[0]["pct_of_bare_products"] == pytest.approx(90.0)
    assert rows[3]["pct_of_bare_products"] == pytest.approx(120.0)
    assert "pct_of_bare_products" not in rows[1]
    assert "pct_of_bare_products" not in rows[5]
    notes = bench.bare_products_notes(rows)
    assert notes == ["# (p) predict: nnlite 32 at 90% of bare products (their median time "
                     "over its median time)",
                     "# (p) predict: nnlite 64 at 120% of bare products (their median time "
                     "over its median time)"]


def test_bare_products_are_the_forward_products(bench):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(7, 5))
    coefs = [rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=(3, 2))]
    out, _ = bench.bare_products(coefs, X)()
    np.testing.assert_allclose(out, X @ coefs[0] @ coefs[1] @ coefs[2])


# ----------------------------------------------------------------------------------------
# goals


def goal_rows(view="stock", a=0.25, b=0.45, p=95.0):
    ratio = "ratio_nnlite_over_this"
    return [
        row("nnlite", 1.0, view, "float64", "(a) adam (100,) 4 ep"),
        row("sklearn", 4.0, view, "float64", "(a) adam (100,) 4 ep", **{ratio: a}),
        row("pytorch f32", 2.0, view, "float32", "(a) adam (100,) 4 ep", **{ratio: 0.1}),
        row("sklearn 64", 3.0, view, "float64", "(b) adam (256,128) 4 ep", **{ratio: b}),
        row("sklearn 32", 3.0, view, "float32", "(b) adam (256,128) 4 ep", **{ratio: 0.9}),
        row("nnlite 32", 0.2, view, "float32", "(p) predict_proba 100k (256,128)",
            pct_of_bare_products=p),
    ]


def verdicts(results):
    return {g["goal"].split()[0]: (g["verdict"], g["shown"]) for g in results}


def test_goals_met_missed_and_not_run(bench):
    got = verdicts(bench.goal_results(goal_rows(a=0.25, b=0.45, p=95.0), "stock"))
    assert got == {"(a)": ("met", "0.250"), "(b)": ("met", "0.450"),  # the bound itself is met
                   "(p)": ("met", "95.0%"), "(e)": ("not run", "-"), "(r)": ("not run", "-")}
    got = verdicts(bench.goal_results(goal_rows(a=0.31, b=0.46, p=89.0), "stock"))
    assert got["(a)"] == ("missed", "0.310")
    assert got["(b)"] == ("missed", "0.460")
    assert got["(p)"] == ("missed", "89.0%")


def test_goals_read_only_their_view(bench):
    rows = goal_rows(view="pinned-1", a=0.9) + goal_rows(view="stock", a=0.2)
    assert verdicts(bench.goal_results(rows, "stock"))["(a)"] == ("met", "0.200")
    pinned = verdicts(bench.goal_results(rows, "pinned-1"))
    assert pinned["(a)"] == ("reference", "0.900")
    assert pinned["(e)"] == ("not run", "-")


# ----------------------------------------------------------------------------------------
# one tiny run of case (p) in both views


@pytest.fixture
def tiny(bench, monkeypatch):
    full_data = bench.synthetic_classification
    monkeypatch.setattr(bench, "synthetic_classification",
                        lambda n, d, k, seed=0, n_test=5000: full_data(300, d, k, seed, 100))
    monkeypatch.setattr(bench, "matmul_rate", functools.partial(bench.matmul_rate, n=64))
    monkeypatch.setattr(bench, "P_ROWS", 2000)


def test_both_views_in_one_run(bench, tiny, thread_settings_kept, tmp_path, capsys):
    original = blas_counts()
    setting = nnlite.get_blas_threads()
    out = tmp_path / "bench.json"
    rows = bench.main(["--threads", "both", "--cases", "p", "--repeats", "1", "--no-memory",
                       "--json", str(out)])
    printed = capsys.readouterr().out

    assert nnlite.get_blas_threads() == setting  # main puts nnlite's choice back
    per_view = 7 if bench.torch is not None else 6  # nnlite, sklearn, bare x 2 dtypes, torch
    assert [r["view"] for r in rows] == ["pinned-1"] * per_view + ["stock"] * per_view
    for view in ("pinned-1", "stock"):
        mine = {r["contender"]: r for r in rows if r["view"] == view}
        assert len(mine["nnlite 32"]["times"]) == 3  # repeats + 2
        # ratios pair the runs of one view only
        pairs = zip(mine["nnlite 64"]["times"], mine["sklearn 64"]["times"])
        assert mine["sklearn 64"]["ratio_nnlite_over_this"] == pytest.approx(
            sorted(a / b for a, b in pairs)[1])
        for tag in ("32", "64"):
            assert mine[f"nnlite {tag}"]["pct_of_bare_products"] == pytest.approx(
                100 * mine[f"bare products {tag}"]["median_s"] / mine[f"nnlite {tag}"]["median_s"])

    saved = json.loads(out.read_text())
    assert [r["view"] for r in saved["rows"]] == [r["view"] for r in rows]
    seen = {v["name"]: v["threads_seen"] for v in saved["env"]["views"]}
    blas_seen = {name: [n for pool, n in s.items() if pool.startswith(("openblas", "openmp",
                                                                       "mkl", "blis"))]
                 for name, s in seen.items()}
    assert set(blas_seen["pinned-1"]) == {1}
    assert sorted(blas_seen["stock"]) == sorted(original)  # the limits were removed
    assert {g["view"] for g in saved["goals"]} == {"pinned-1", "stock"}

    assert "## view pinned-1" in printed and "## view stock" in printed
    assert printed.index("## view pinned-1") < printed.index("## view stock")
    assert "# goals, view stock:" in printed
    assert "# reference values (the goals are for the stock view), view pinned-1:" in printed
    assert "of bare products (their median time over its median time)" in printed
