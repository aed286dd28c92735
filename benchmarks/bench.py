"""nnlite beside scikit-learn's MLP and PyTorch (CPU), on the same data and settings.

Run from the repository root::

    python benchmarks/bench.py --quick          # under two minutes
    python benchmarks/bench.py                  # the full run, under fifteen
    python benchmarks/bench.py --json out.json  # also write every measurement
    python benchmarks/bench.py --threads stock  # every library on its default threads
    python benchmarks/bench.py --threads both   # pinned to one thread and stock, interleaved

Every case runs its contenders interleaved (nnlite, scikit-learn, PyTorch,
nnlite, ...) in this one process, in one or two *views* of the threads, applied
around every single run: pinned (``--threads N``, default 1: every BLAS and
OpenMP pool, PyTorch and ``nnlite.set_blas_threads`` at N) or stock
(``--threads stock``: nothing limited, scikit-learn and PyTorch on the thread
counts they start with, nnlite with its default ``set_blas_threads("auto")``).
``--threads both`` measures each case in both views, pinned to one thread and
stock, alternating within every round, so that the two tables come from the same
minutes of machine time; ratios are only ever formed within one view.

Per case, view and contender the table gives the median time, the median of the
paired ratios nnlite / peer, samples per second, achieved GFLOP/s and its share
of the matrix-product rate measured in the same round and view, the final
training loss and a score on held-out data (so that speed is never bought with a
worse model), and the peak memory of one extra, untimed run (tracemalloc, which
sees numpy's arrays but not PyTorch's).  Case (p) also times the network's bare
matrix products, and the end of the output checks the goals of the stock view
(``GOALS``).

scikit-learn is a benchmark-only dependency: it provides the reference
implementation and the 8x8 digits data set.  PyTorch is used when importable
(``pip install torch==2.13.0``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import platform
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import nnlite  # noqa: E402

try:
    import sklearn
    from sklearn.datasets import load_digits, make_classification, make_regression
    from sklearn.neural_network import MLPClassifier as SkClassifier
    from sklearn.neural_network import MLPRegressor as SkRegressor
except ImportError:  # pragma: no cover
    sys.exit("benchmarks/bench.py needs scikit-learn (the reference): pip install scikit-learn")

try:
    import torch
except ImportError:
    torch = None

from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

# recorded before anything limits it: the stock view puts PyTorch back to this count
TORCH_START_THREADS = None if torch is None else torch.get_num_threads()

# ----------------------------------------------------------------------------------------
# thread views


@dataclass(frozen=True)
class View:
    """One setting of every library's threads, applied around each single run."""

    name: str
    blas: int | None  # threadpool limit of every BLAS and OpenMP pool; None: no limit
    nnlite: int | str  # nnlite.set_blas_threads
    torch: int | None  # torch.set_num_threads; None: the count PyTorch started with

    @contextlib.contextmanager
    def applied(self):
        # a context per run: leaving it puts every pool back to its original count
        limits = threadpool_limits(self.blas) if self.blas else contextlib.nullcontext()
        with limits:
            nnlite.set_blas_threads(self.nnlite)
            if torch is not None:
                torch.set_num_threads(self.torch or TORCH_START_THREADS)
            yield


def pinned_view(n):
    return View(f"pinned-{n}", blas=n, nnlite=n, torch=n)


STOCK = View("stock", blas=None, nnlite="auto", torch=None)


def views_for(threads):
    """The views of ``--threads``: an int N, 'stock' or 'both' (pinned to 1, then stock)."""
    if threads == "both":
        return [pinned_view(1), STOCK]
    if threads == "stock":
        return [STOCK]
    return [pinned_view(threads)]


def threads_seen():
    """The thread count of every pool in the process, as a run sees it."""
    seen = {f"{d['internal_api']} {d['version']} ({os.path.basename(d['filepath'])})":
            d["num_threads"] for d in threadpool_info()}
    seen["torch"] = None if torch is None else torch.get_num_threads()
    seen["nnlite set_blas_threads"] = nnlite.get_blas_threads()
    return seen

# ----------------------------------------------------------------------------------------
# data and flop counts


def synthetic_classification(n, d, k, seed=0, n_test=5000):
    X, y = make_classification(n_samples=n + n_test, n_features=d, n_informative=min(d, 30),
                               n_redundant=0, n_classes=k, n_clusters_per_class=1,
                               class_sep=1.5, random_state=seed)
    return X[:n], y[:n], X[n:], y[n:]


def synthetic_regression(n, d, seed=0, n_test=5000):
    X, y = make_regression(n_samples=n + n_test, n_features=d, n_informative=min(d, 30),
                           noise=5.0, random_state=seed)
    y = y / y.std()
    return X[:n], y[:n], X[n:], y[n:]


def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    rng = np.random.RandomState(0)
    test = rng.rand(len(y)) < 0.25
    return X[~test], y[~test], X[test], y[test]


def weights_count(sizes):
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def train_flops(sizes, samples_times_epochs):
    """Multiply-adds x2 of forward, weight gradients and input gradients (none for layer 0)."""
    w = weights_count(sizes)
    return 2.0 * samples_times_epochs * (3 * w - sizes[0] * sizes[1])


def matmul_rate(dtype, n=1024, repeats=7, warmup=True):
    """GFLOP/s of one large square product, median of ``repeats``."""
    rng = np.random.RandomState(0)
    a = rng.normal(size=(n, n)).astype(dtype)
    b = rng.normal(size=(n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    if warmup:
        np.matmul(a, b, out=out)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        np.matmul(a, b, out=out)
        times.append(time.perf_counter() - t)
    return 2.0 * n**3 / np.median(times) / 1e9


# ----------------------------------------------------------------------------------------
# contenders: each returns a callable ``run() -> (model, loss)`` and a scorer


def sk_model(kind, hidden, solver, dtype, epochs, **kw):
    cls = SkClassifier if kind == "clf" else SkRegressor
    params = dict(hidden_layer_sizes=hidden, solver=solver, max_iter=epochs, tol=0.0,
                  random_state=0, **kw)
    return cls(**params)


def nn_model(kind, hidden, solver, dtype, epochs, **kw):
    cls = nnlite.MLPClassifier if kind == "clf" else nnlite.MLPRegressor
    return cls(hidden_layer_sizes=hidden, solver=solver, max_iter=epochs, tol=0.0,
               random_state=0, **kw)


def nn_custom_adam(hidden, epochs, batch_size=200, graph=False):
    """Case (a) through the core API: a hand-built Sequential (or the same chain written as
    a Graph) and nnlite.train."""
    def fit(X, y):
        n_classes = int(y.max()) + 1
        layers = []
        for h in hidden:
            layers += [nnlite.Dense(h), nnlite.ReLU()]
        layers += [nnlite.Dense(n_classes), nnlite.Softmax()]
        if graph:
            x = node = nnlite.Input(X.shape[1])
            for layer in layers:
                node = layer(node)
            net = nnlite.Graph(inputs=x, outputs=node)
        else:
            net = nnlite.Sequential(layers)
        hist = nnlite.train(net, X, y, nnlite.LogLoss(), nnlite.Adam(1e-3), alpha=1e-4,
                            batch_size=batch_size, epochs=epochs, random_state=0)
        return net, hist.loss
    return fit


def torch_fit(kind, hidden, solver, epochs, batch_size=200, lr=1e-3, alpha=1e-4,
              momentum=0.9):
    """The same network and hyperparameters in PyTorch float32 (a straightforward loop)."""
    def fit(X, y):
        torch.manual_seed(0)
        Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        if kind == "clf":
            yt = torch.from_numpy(y.astype(np.int64))
            n_out = int(y.max()) + 1
            crit = torch.nn.CrossEntropyLoss()
        else:
            yt = torch.from_numpy(y.astype(np.float32)).reshape(-1, 1)
            n_out = 1
            crit = torch.nn.MSELoss()
        layers, width = [], X.shape[1]
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        model = torch.nn.Sequential(*layers, torch.nn.Linear(width, n_out))
        weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
        biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
        # scikit-learn's penalty alpha/(2 n_batch) ||W||^2 is weight decay alpha/n_batch
        groups = [{"params": weights, "weight_decay": alpha / batch_size},
                  {"params": biases, "weight_decay": 0.0}]
        if solver == "adam":
            opt = torch.optim.Adam(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)
        else:
            opt = torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=True)
        n = Xt.shape[0]
        total = 0.0
        for _ in range(epochs):
            perm = torch.randperm(n)
            total = 0.0
            for start in range(0, n, batch_size):
                idx = perm[start:start + batch_size]
                xb, yb = Xt.index_select(0, idx), yt.index_select(0, idx)
                opt.zero_grad(set_to_none=True)
                out = model(xb)
                loss = crit(out, yb) * (0.5 if kind == "reg" else 1.0)
                loss.backward()
                opt.step()
                total += float(loss) * len(idx)
        return model, total / n
    return fit


def torch_score(kind, model, X, y):
    with torch.no_grad():
        out = model(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))).numpy()
    if kind == "clf":
        return float(np.mean(out.argmax(1) == y))
    return r2(y, out.ravel())


def r2(y, p):
    return float(1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2))


# ----------------------------------------------------------------------------------------
# measurement


#: Seconds of sleep before every timed run (--settle): a BLAS library that ran on
#: several threads leaves them spinning for a while after its last call, which slows
#: down whatever runs next on the other cores (a prediction of case (p) took 50 ms
#: instead of 37 right after a two-thread product), whichever library it is.
SETTLE = 0.2


def timed(fn):
    time.sleep(SETTLE)
    gc.collect()
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def peak_memory(fn):
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak / 2**20


RATE_DTYPES = ("float64", "float32")


def run_case(name, contenders, repeats, work_flops, samples, views, memory=True):
    """Time ``contenders`` (name -> dict(run, dtype, score)) interleaved, every view in turn
    within each round; return the rows, one per view and contender."""
    names = list(contenders)
    times = {(v.name, k): [] for v in views for k in names}
    results = {}
    for v in views:
        for k in names:  # warm-up (imports, first-call allocations, thread pools), untimed
            if contenders[k].get("warmup", True):
                with v.applied():
                    contenders[k]["run"]()
    # the reference product is timed in every round and view too: on a shared machine its
    # rate moves during a run, and a share is only meaningful against the rate of its moment
    dtypes = sorted({contenders[k]["dtype"] for k in names} & set(RATE_DTYPES))
    round_rates = {(v.name, d): [] for v in views for d in dtypes}
    for _ in range(repeats):
        for v in views:
            if work_flops:
                with v.applied():
                    for d in dtypes:
                        round_rates[v.name, d].append(
                            matmul_rate(np.dtype(d), repeats=2, warmup=False))
            for k in names:
                with v.applied():
                    dt, res = timed(contenders[k]["run"])
                times[v.name, k].append(dt)
                results[v.name, k] = res
    # allocations do not depend on the thread count: one untimed run, in the first view
    peaks = {}
    for k in names:
        if memory and contenders[k].get("memory", True):
            with views[0].applied():
                peaks[k] = peak_memory(contenders[k]["run"])
    rows = []
    for v in views:
        for k in names:
            c = contenders[k]
            ref = c.get("ref", names[0])
            row = {"case": name, "view": v.name, "contender": k, "dtype": c["dtype"]}
            row.update(timing_figures(times[v.name, k], work_flops, samples,
                                      round_rates.get((v.name, c["dtype"]))))
            if k != ref:  # a ratio pairs the runs of one round, in one view
                row["compared_with"] = ref
                row["ratio_nnlite_over_this"] = float(np.median(
                    [a / b for a, b in zip(times[v.name, ref], times[v.name, k])]))
            row.update(c["score"](results[v.name, k]))
            if k in peaks:
                row["peak_mib"] = peaks[k]
            rows.append(row)
    return add_share_of_bare_products(rows)


def timing_figures(times, work_flops, samples, rates):
    """Median time, samples/s, GFLOP/s and its median share of the matrix-product rate of
    each round (``rates``, in the order of ``times``)."""
    med = float(np.median(times))
    gflops = work_flops / med / 1e9 if work_flops else None
    share = None
    if gflops and rates:
        share = float(np.median([work_flops / t / 1e9 / r for t, r in zip(times, rates)]))
    return {"times": times, "median_s": med, "samples_per_s": samples / med if samples else None,
            "gflops": gflops, "share_of_matmul": share, "matmul_rates_per_round": rates}


BARE = "bare products"


def add_share_of_bare_products(rows):
    """Give every nnlite row whose case, view and dtype also have a bare-products row the
    figure ``pct_of_bare_products``: bare-products median time / nnlite median time x 100
    (100: nnlite as fast as its matrix products alone)."""
    bare = {(r["case"], r["view"], r["dtype"]): r["median_s"]
            for r in rows if r["contender"].startswith(BARE)}
    for r in rows:
        key = (r["case"], r["view"], r["dtype"])
        if r["contender"].startswith("nnlite") and key in bare:
            r["pct_of_bare_products"] = 100.0 * bare[key] / r["median_s"]
    return rows


def bare_products_notes(rows):
    """One line per row with a share of bare products, for under its table."""
    return [f"# {r['case']}: {r['contender']} at {r['pct_of_bare_products']:.0f}% of "
            f"{BARE} (their median time over its median time)"
            for r in rows if "pct_of_bare_products" in r]


def fmt_row(r):
    def f(v, spec):  # noqa: E306
        return format(v, spec) if v is not None else "-"
    ratio = r.get("ratio_nnlite_over_this")
    return (f"| {r['case']} | {r['contender']} | {f(r['median_s'], '.3f')} | "
            f"{f(ratio, '.2f') if ratio is not None else '(ref)'} | "
            f"{f(r['samples_per_s'], ',.0f')} | {f(r['gflops'], '.1f')} | "
            f"{f(r['share_of_matmul'] * 100 if r['share_of_matmul'] else None, '.0f')}% | "
            f"{f(r.get('loss'), '.4f')} | {f(r.get('score'), '.4f')} | "
            f"{f(r.get('peak_mib'), '.1f')} |")


HEADER = ("| case | contender | median s | nnlite/this | samples/s | GFLOP/s | % of matmul | "
          "loss | score | peak MiB |\n|---|---|---|---|---|---|---|---|---|---|")


def print_rows(rows):
    for r in rows:
        print(fmt_row(r), flush=True)
    for line in bare_products_notes(rows):
        print(line, flush=True)


def print_tables(rows):
    """One table per view, in the order the views were measured."""
    for view in dict.fromkeys(r["view"] for r in rows):
        print(f"\n## view {view}\n{HEADER}")
        print_rows([r for r in rows if r["view"] == view])


# ----------------------------------------------------------------------------------------
# goals

#: The goals hold for the libraries as users run them; the pinned view is a reference.
GOAL_VIEW = "stock"

#: (goal, case, contender, row field, "<=" or ">=", bound, format of value and bound)
GOALS = (
    ("(a) adam (100,) nnlite/sklearn", "(a)", "sklearn", "ratio_nnlite_over_this", "<=", 0.30,
     "{:.3f}"),
    ("(e) sgd nesterov nnlite/sklearn", "(e)", "sklearn", "ratio_nnlite_over_this", "<=", 0.30,
     "{:.3f}"),
    ("(r) regression nnlite/sklearn", "(r)", "sklearn", "ratio_nnlite_over_this", "<=", 0.30,
     "{:.3f}"),
    ("(b) (256,128) float64 nnlite/sklearn", "(b)", "sklearn 64", "ratio_nnlite_over_this",
     "<=", 0.45, "{:.3f}"),
    ("(p) nnlite float32, % of bare products", "(p)", "nnlite 32", "pct_of_bare_products",
     ">=", 90.0, "{:.1f}%"),
)


def goal_results(rows, view):
    """Each goal as measured in ``view``: dicts with the goal, its target, the value (None
    when the case was not run) and a verdict: 'met', 'missed', 'not run', or 'reference'
    in a view other than ``GOAL_VIEW``."""
    out = []
    for goal, case, contender, field, op, bound, spec in GOALS:
        value = next((r.get(field) for r in rows
                      if r["view"] == view and r["case"].startswith(case + " ")
                      and r["contender"] == contender), None)
        if value is None:
            verdict = "not run"
        elif view != GOAL_VIEW:
            verdict = "reference"
        else:
            verdict = "met" if (value <= bound if op == "<=" else value >= bound) else "missed"
        out.append({"goal": goal, "view": view, "target": f"{op} {spec.format(bound)}",
                    "value": value, "shown": "-" if value is None else spec.format(value),
                    "verdict": verdict})
    return out


def print_goals(results, view):
    title = ("goals" if view == GOAL_VIEW
             else f"reference values (the goals are for the {GOAL_VIEW} view)")
    print(f"# {title}, view {view}:")
    for g in results:
        print(f"#   {g['goal']:<40} {g['shown']:>6}   target {g['target']:<9} {g['verdict']}")


# ----------------------------------------------------------------------------------------
# the cases


def scorer(kind, Xt, yt, dtype):
    """``score((model, loss)) -> {"loss", "score"}`` on the held-out data."""
    def score(model_loss):
        model, loss = model_loss
        if torch is not None and isinstance(model, torch.nn.Module):
            return {"loss": float(loss), "score": torch_score(kind, model, Xt, yt)}
        if isinstance(model, (nnlite.Sequential, nnlite.Graph)):
            p = model.predict(Xt.astype(dtype))
            s = (float(np.mean(p.argmax(1) == yt)) if kind == "clf"
                 else r2(yt, p.ravel()))
            return {"loss": float(loss), "score": s}
        return {"loss": float(loss), "score": float(model.score(Xt.astype(dtype), yt))}
    return score


def partial_fit_contenders(hidden, data, n_blocks, block=200):
    """One ``partial_fit`` call per block of ``block`` rows, as streaming code runs it."""
    X, y, Xt, yt = data
    classes = np.unique(y)

    def loop(cls):
        def run():
            m = cls(hidden_layer_sizes=hidden, random_state=0)
            for start in range(0, n_blocks * block, block):
                m.partial_fit(X[start:start + block], y[start:start + block], classes=classes)
            return m, m.loss_
        return run
    score = scorer("clf", Xt, yt, "float64")
    return {"nnlite": {"run": loop(nnlite.MLPClassifier), "dtype": "float64", "score": score},
            "sklearn": {"run": loop(SkClassifier), "dtype": "float64", "score": score}}


def fit_contenders(kind, hidden, solver, data, epochs, dtypes=("float64",), batch_size=200,
                   torch_ok=True, custom=False, **kw):
    X, y, Xt, yt = data
    out = {}

    skw = dict(kw)
    if solver != "lbfgs":
        skw["batch_size"] = batch_size
    for dt in dtypes:
        Xd = X.astype(dt)
        tag = "" if len(dtypes) == 1 else f" {dt[-2:]}"  # "nnlite 64", "nnlite 32"

        def nn_run(Xd=Xd, dt=dt):
            m = nn_model(kind, hidden, solver, dt, epochs, **skw).fit(Xd, y)
            return m, m.loss_

        def sk_run(Xd=Xd, dt=dt):
            m = sk_model(kind, hidden, solver, dt, epochs, **skw).fit(Xd, y)
            return m, m.loss_

        out[f"nnlite{tag}"] = {"run": nn_run, "dtype": dt, "score": scorer(kind, Xt, yt, dt),
                               "ref": f"nnlite{tag}"}
        out[f"sklearn{tag}"] = {"run": sk_run, "dtype": dt, "score": scorer(kind, Xt, yt, dt),
                                "ref": f"nnlite{tag}"}
    if custom:
        # the preset with a ProgressBar and an EarlyStopping that never fires; its ratio is
        # against the preset without callbacks (target: within 5%)
        def nn_callbacks_run():
            from nnlite.callbacks import EarlyStopping, ProgressBar
            hooks = [ProgressBar(stream=io.StringIO()),
                     EarlyStopping(monitor="loss", patience=10 * epochs)]
            m = nn_model(kind, hidden, solver, "float64", epochs, callbacks=hooks,
                         **skw).fit(X, y)
            return m, m.loss_
        out["nnlite + callbacks"] = {"run": nn_callbacks_run, "dtype": "float64",
                                     "score": scorer(kind, Xt, yt, "float64"),
                                     "ref": "nnlite"}
        fit = nn_custom_adam(hidden, epochs, batch_size)
        out["nnlite core API"] = {"run": lambda: fit(X, y), "dtype": "float64",
                                  "score": scorer(kind, Xt, yt, "float64")}
        # the same chain as a Graph; its ratio is against the Sequential just above
        fit_g = nn_custom_adam(hidden, epochs, batch_size, graph=True)
        out["nnlite Graph (chain)"] = {"run": lambda: fit_g(X, y), "dtype": "float64",
                                       "score": scorer(kind, Xt, yt, "float64"),
                                       "ref": "nnlite core API"}
    if torch is not None and torch_ok:
        lr = kw.get("learning_rate_init", 1e-3)
        fit_t = torch_fit(kind, hidden, solver, epochs, batch_size, lr=lr,
                          alpha=kw.get("alpha", 1e-4))
        out["pytorch f32"] = {"run": lambda: fit_t(X, y), "dtype": "float32",
                              "ref": "nnlite 32" if "nnlite 32" in out else "nnlite",
                              "score": scorer(kind, Xt, yt, "float32"), "memory": False}
    return out


def describe_view(view):
    """What the runs of ``view`` see: every pool's thread count and the matmul rates."""
    with view.applied():
        return {"name": view.name, "threads_seen": threads_seen(),
                "matmul_gflops_1024": {d: matmul_rate(np.dtype(d)) for d in RATE_DTYPES}}


def print_header(env):
    print(f"# nnlite benchmark ({'quick' if env['quick'] else 'full'}), {env['repeats']} "
          f"interleaved repeats; views: {', '.join(v['name'] for v in env['views'])}")
    print(f"# torch: {env['torch']}; load average at start: {env['load_average']}")
    in_use = "in use" if env["nnlite_compiled_kernels"] else "NOT in use"
    print(f"# nnlite compiled kernels: {in_use}")
    for v in env["views"]:
        rates = v["matmul_gflops_1024"]
        print(f"# view {v['name']}: matmul 1024^3 at the start: float64 {rates['float64']:.1f} "
              f"GFLOP/s, float32 {rates['float32']:.1f} GFLOP/s; threads seen by its runs:")
        for pool, n in v["threads_seen"].items():
            print(f"#   {pool}: {n}")


P_ROWS = 100_000  # rows predicted in case (p)
P_SIZES = [50, 256, 128, 10]


def predict_contenders(cls_data, n_rows):
    """Case (p): predict_proba of a fitted (256, 128) network in float32 and float64, beside
    the same network's matrix products alone ("bare products": a floor for nnlite)."""
    X, y, _, _ = cls_data
    Xp = np.random.RandomState(2).normal(size=(n_rows, P_SIZES[0]))
    c = {}
    for dt in ("float32", "float64"):
        m = nnlite.MLPClassifier((256, 128), max_iter=2, random_state=0).fit(X.astype(dt), y)
        s = SkClassifier((256, 128), max_iter=2, random_state=0).fit(X.astype(dt), y)
        Xd = Xp.astype(dt)
        tag = dt[-2:]
        common = {"dtype": dt, "score": lambda r: {}, "ref": f"nnlite {tag}"}
        c[f"nnlite {tag}"] = {"run": lambda m=m, Xd=Xd: (m.predict_proba(Xd), None), **common}
        c[f"sklearn {tag}"] = {"run": lambda s=s, Xd=Xd: (s.predict_proba(Xd), None), **common}
        c[f"{BARE} {tag}"] = {"run": bare_products(m.coefs_, Xd), **common}
    if torch is not None:
        tm = torch.nn.Sequential(torch.nn.Linear(50, 256), torch.nn.ReLU(),
                                 torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                 torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1))
        Xt32 = torch.from_numpy(Xp.astype(np.float32))

        def torch_predict():
            with torch.no_grad():
                return tm(Xt32).numpy(), None
        c["pytorch f32"] = {"run": torch_predict, "dtype": "float32", "ref": "nnlite 32",
                            "score": lambda r: {}, "memory": False}
    return c


def bare_products(coefs, X):
    """``run()`` computing only the forward pass's matrix products, ``X @ W1 @ W2 @ ...``
    (no bias, no activation), with the model's own weights."""
    assert all(W.dtype == X.dtype for W in coefs), "weights and rows of different dtypes"

    def run():
        out = X
        for W in coefs:
            out = out @ W
        return out, None
    return run


def threads_arg(text):
    if text in ("stock", "both"):
        return text
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected an int >= 1, 'stock' or 'both'; got {text!r}")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and epochs (< 2 min)")
    ap.add_argument("--threads", type=threads_arg, default=1,
                    help="BLAS threads for every library (default 1); 'stock': every "
                         "library on its own default, as users run them; 'both': each case "
                         "pinned to 1 and stock, interleaved (two tables)")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--cases", default="a,b,c,d,e,r,i,p,t,sweep")
    ap.add_argument("--json", default=None, help="write all measurements to this file")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    ap.add_argument("--settle", type=float, default=SETTLE,
                    help=f"seconds of sleep before every timed run (default {SETTLE}), so "
                         "that BLAS threads left spinning by the run before are not "
                         "charged to it")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    # the views set nnlite's and PyTorch's process-wide choices: put them back afterwards
    nn_setting = nnlite.get_blas_threads()
    try:
        return run_benchmark(args)
    finally:
        nnlite.set_blas_threads(nn_setting)
        if torch is not None:
            torch.set_num_threads(TORCH_START_THREADS)


def run_benchmark(args):
    warnings.simplefilter("ignore")
    quick = args.quick
    repeats = args.repeats or (3 if quick else 5)
    ep = 4 if quick else 20  # epochs of cases a, b, e, r
    cases = set(args.cases.split(","))
    memory = not args.no_memory

    views = views_for(args.threads)
    env = {
        "python": platform.python_version(), "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(), "numpy": np.__version__, "nnlite": nnlite.__version__,
        "sklearn": sklearn.__version__, "torch": None if torch is None else torch.__version__,
        "threads": args.threads, "quick": quick, "repeats": repeats,
        "blas": [{k: d.get(k) for k in ("internal_api", "version", "num_threads", "filepath")}
                 for d in threadpool_info()],
        "views": [describe_view(v) for v in views], "command": " ".join(["python"] + sys.argv),
        "load_average": os.getloadavg(),
        "nnlite_compiled_kernels": nnlite.show_config(print_out=False)["compiled_kernels"],
    }
    print_header(env)
    # one view streams its rows as they come; two are printed as two tables at the end
    streaming = len(views) == 1
    if streaming:
        print(HEADER)
    rows = []

    def emit(new):
        rows.extend(new)
        if streaming:
            print_rows(new)
        else:
            print(f"# measured {new[0]['case']} ({time.perf_counter() - t0:.0f} s so far)",
                  flush=True)

    t0 = time.perf_counter()
    cls_data = synthetic_classification(20000, 50, 10)
    if "a" in cases:
        c = fit_contenders("clf", (100,), "adam", cls_data, ep, custom=True)
        emit(run_case(f"(a) adam (100,) {ep} ep", c, repeats,
                      train_flops([50, 100, 10], 20000 * ep), 20000 * ep, views, memory))
    if "b" in cases:
        c = fit_contenders("clf", (256, 128), "adam", cls_data, ep,
                           dtypes=("float64", "float32"))
        emit(run_case(f"(b) adam (256,128) {ep} ep", c, max(2, repeats - 2),
                      train_flops([50, 256, 128, 10], 20000 * ep), 20000 * ep, views, memory))
    if "c" in cases:
        dig = digits()
        ep_c = 50 if quick else 200
        c = fit_contenders("clf", (100,), "adam", dig, ep_c)
        n = len(dig[1])
        emit(run_case(f"(c) digits adam (100,) {ep_c} ep", c, repeats,
                      train_flops([64, 100, 10], n * ep_c), n * ep_c, views, memory))
    if "d" in cases:
        data = synthetic_classification(5000, 20, 10, seed=1)
        it = 50 if quick else 200
        c = fit_contenders("clf", (50,), "lbfgs", data, it, torch_ok=False)
        emit(run_case(f"(d) lbfgs (50,) {it} it", c, repeats, None, None, views, memory))
    if "e" in cases:
        c = fit_contenders("clf", (100,), "sgd", cls_data, ep, learning_rate_init=0.01,
                           momentum=0.9, nesterovs_momentum=True)
        emit(run_case(f"(e) sgd nesterov (100,) {ep} ep", c, repeats,
                      train_flops([50, 100, 10], 20000 * ep), 20000 * ep, views, memory))
    if "r" in cases:
        data = synthetic_regression(20000, 50)
        c = fit_contenders("reg", (100,), "adam", data, ep)
        emit(run_case(f"(r) regression adam (100,) {ep} ep", c, repeats,
                      train_flops([50, 100, 1], 20000 * ep), 20000 * ep, views, memory))
    if "i" in cases:
        n_blocks = 20 if quick else 100
        for hidden in ((100,), (256, 256)):
            c = partial_fit_contenders(hidden, cls_data, n_blocks)
            sizes = [50, *hidden, 10]
            emit(run_case(f"(i) partial_fit {n_blocks} x 200 rows {hidden}", c, repeats,
                          train_flops(sizes, n_blocks * 200), n_blocks * 200, views, memory))
    if "p" in cases:
        with views[0].applied():  # the untimed fits, as in a run of that view alone
            c = predict_contenders(cls_data, P_ROWS)
        flops = 2.0 * P_ROWS * weights_count(P_SIZES)
        emit(run_case(f"(p) predict_proba {P_ROWS // 1000}k (256,128)", c, repeats + 2, flops,
                      P_ROWS, views, memory))
    if "t" in cases:
        # nnlite's own thread choice against BLAS's default of one thread per core: a view
        # of its own, whatever --threads says
        cores = os.cpu_count() or 2
        data = (cls_data[0][:10000], cls_data[1][:10000], cls_data[2], cls_data[3])
        ep_t = 2 if quick else 5
        c = {}
        for setting in ("auto", "off"):
            def run(setting=setting):
                nnlite.set_blas_threads(setting)
                m = nn_model("clf", (100,), "adam", "float64", ep_t).fit(data[0], data[1])
                return m, m.loss_
            c[f"nnlite threads={setting}"] = {
                "run": run, "dtype": "float64", "ref": "nnlite threads=auto",
                "score": lambda r: {"loss": float(r[1])}}
        c[f"sklearn {cores} threads"] = {
            "run": lambda: (lambda m: (m, m.loss_))(sk_model(
                "clf", (100,), "adam", "float64", ep_t, batch_size=200).fit(
                data[0], data[1])),
            "dtype": "float64", "ref": "nnlite threads=auto",
            "score": lambda r: {"loss": float(r[1])}}
        blas_at_cores = View(f"BLAS at {cores}", blas=cores, nnlite="auto", torch=None)
        emit(run_case(f"(t) threads: BLAS at {cores}, 10k (100,) {ep_t} ep", c, repeats,
                      train_flops([50, 100, 10], 10000 * ep_t), 10000 * ep_t,
                      [blas_at_cores], False))
    if "sweep" in cases:
        sweep_n = [5000, 20000] if quick else [5000, 10000, 20000, 40000, 80000]
        sweep_w = [64, 256] if quick else [64, 128, 256, 512, 1024]
        ep_s = 2 if quick else 3
        big = synthetic_classification(max(sweep_n), 50, 10, seed=3, n_test=1000)
        for n in sweep_n:
            data = (big[0][:n], big[1][:n], big[2], big[3])
            c = fit_contenders("clf", (100,), "adam", data, ep_s, torch_ok=False)
            emit(run_case(f"sweep n={n} (100,) {ep_s} ep", c, 2,
                          train_flops([50, 100, 10], n * ep_s), n * ep_s, views, False))
        n_w = 2000 if quick else 5000
        for w in sweep_w:
            data = (big[0][:n_w], big[1][:n_w], big[2], big[3])
            c = fit_contenders("clf", (w, w), "adam", data, ep_s, torch_ok=False)
            emit(run_case(f"sweep width={w} ({w},{w}) {n_w // 1000}k {ep_s} ep", c, 2,
                          train_flops([50, w, w, 10], n_w * ep_s), n_w * ep_s, views, False))
    elapsed = time.perf_counter() - t0
    if not streaming:
        print_tables(rows)
    goals = [g for v in views for g in goal_results(rows, v.name)]
    for v in views:
        print_goals([g for g in goals if g["view"] == v.name], v.name)
    print(f"# total {elapsed:.0f} s; load average at end: {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"env": env, "elapsed_s": elapsed, "rows": rows, "goals": goals}, fh,
                      indent=1)
        print(f"# wrote {args.json}")
    return rows


if __name__ == "__main__":
    main()
