"""The Dask back end: exact L-BFGS on block sums, lazy predictions, out-of-core SGD/Adam, faults.

Clusters are ``LocalCluster(threads_per_worker=1)`` on loopback (threads in
this process, except the fault test, whose worker processes can be killed).
Every test skips without the optional extra ``nnlite[dask]``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import warnings
import weakref
from pathlib import Path

import numpy as np
import pytest

import nnlite
from nnlite import (
    LBFGS,
    Adam,
    Dense,
    LogLoss,
    MLPClassifier,
    MLPRegressor,
    Sequential,
    Softmax,
    Tanh,
    train,
)

ROOT = Path(__file__).resolve().parents[1]


def test_importing_nnlite_does_not_import_dask():
    code = ("import sys, numpy as np, nnlite\n"
            "clf = nnlite.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5)\n"
            "clf.fit(np.eye(4), [0, 1, 0, 1]).predict(np.eye(4))\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
            "assert not bad, bad\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_dask_arrays_are_recognised_by_their_module():
    from nnlite._backends import any_dask, is_dask

    class Fake:
        pass

    Fake.__module__ = "dask.array.core"
    assert is_dask(Fake()) and any_dask(None, Fake())
    assert not is_dask(np.ones(3)) and not any_dask(None, [1.0], np.ones(2))


da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

RNG = np.random.RandomState(3)
N = 3000
X = RNG.normal(size=(N, 6))
Y3 = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.3)
SW = RNG.uniform(0.2, 2.0, size=N)
CHUNKS = 700  # five blocks, the last one short


def relative(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@contextlib.contextmanager
def cluster(n_workers, processes=False):
    # thread workers talk in-process; worker processes over loopback only
    where = dict(host="127.0.0.1") if processes else {}
    with distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                  processes=processes, dashboard_address=":0",
                                  **where) as c, distributed.Client(c) as client:
        yield client


def fit_net(Xa, ya, wa=None, maxiter=40):
    net = Sequential([Dense(12), Tanh(), Dense(3), Softmax()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        history = train(net, Xa, ya, LogLoss(), LBFGS(maxiter=maxiter), alpha=1e-3,
                        random_state=0, sample_weight=wa)
    return net, history


# ----- L-BFGS: exactness -----------------------------------------------------------------------
def test_lbfgs_on_dask_equals_in_memory_within_1e10():
    mem, h_mem = fit_net(X, Y3, SW)
    # y chunked differently from X and with unknown chunk sizes: both are fixed first
    y_odd = da.from_array(Y3, chunks=450)
    y_odd = y_odd[y_odd >= 0]
    assert np.isnan(y_odd.chunks[0][0])
    net, h = fit_net(da.from_array(X, chunks=CHUNKS), y_odd, da.from_array(SW, chunks=1000))
    assert h.n_iter == h_mem.n_iter == 40
    assert abs(h.loss - h_mem.loss) / h_mem.loss < 1e-10
    assert relative(net.theta, mem.theta) < 1e-10


def test_lbfgs_bits_do_not_depend_on_the_number_of_workers():
    Xd, yd, wd = (da.from_array(X, chunks=CHUNKS), da.from_array(Y3, chunks=CHUNKS),
                  da.from_array(SW, chunks=CHUNKS))
    local, h_local = fit_net(Xd, yd, wd, maxiter=10)
    for n in (1, 2, 3):
        with cluster(n):
            net, h = fit_net(Xd, yd, wd, maxiter=10)
        assert np.array_equal(net.theta, local.theta), n
        assert h.loss == h_local.loss


def test_lbfgs_keeps_the_data_on_the_workers():
    from nnlite.dask import _blocks

    Xd = da.from_array(X, chunks=CHUNKS)
    with cluster(2) as client:
        seen = []
        compute = _blocks.compute

        def spy(*collections):
            out = compute(*collections)
            seen.extend(np.asarray(part[1] if isinstance(part, tuple) else part).nbytes
                        for part in out)
            return out

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("nnlite.dask._lbfgs.compute", spy)
            net, _ = fit_net(Xd, Y3, maxiter=5)
        # what came back per block: a loss and a gradient, never rows of X
        assert seen and max(seen) == net.theta.nbytes
        assert client.has_what()  # the blocks were persisted on the workers


# ----- presets ---------------------------------------------------------------------------------
TARGETS = {
    "multiclass-strings": (MLPClassifier, np.array(["ant", "bee", "cat"])[Y3]),
    "binary": (MLPClassifier, (X[:, 2] > 0).astype(int)),
    "multilabel": (MLPClassifier, np.c_[X[:, 0] > 0, X[:, 1] > 0, X[:, 2] > 1].astype(int)),
    "regression": (MLPRegressor, X[:, 0] * 1.5 + np.sin(X[:, 1])),
}


@pytest.mark.parametrize("case", sorted(TARGETS))
def test_lbfgs_presets_equal_in_memory_and_scikit_learn(case):
    cls, y = TARGETS[case]
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=1,
                  alpha=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        mem = cls(**params).fit(X, y, sample_weight=SW)
        est = cls(**params).fit(da.from_array(X, chunks=CHUNKS), da.from_array(y, chunks=CHUNKS),
                                sample_weight=da.from_array(SW, chunks=CHUNKS))
    assert abs(est.loss_ - mem.loss_) / mem.loss_ < 1e-10
    for a, b in zip(est.coefs_ + est.intercepts_, mem.coefs_ + mem.intercepts_):
        assert relative(a, b) < 1e-10
    for name in ("n_iter_", "n_outputs_", "n_layers_", "out_activation_", "n_features_in_",
                 "t_"):
        assert getattr(est, name) == getattr(mem, name), name
    if cls is MLPClassifier:
        assert np.array_equal(est.classes_, mem.classes_)
    sklearn = pytest.importorskip("sklearn")
    from sklearn import neural_network

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = getattr(neural_network, cls.__name__)(**params).fit(X, y, sample_weight=SW)
    assert sklearn.__version__ and abs(est.loss_ - ref.loss_) / ref.loss_ < 1e-10
    assert relative(est.coefs_[0], ref.coefs_[0]) < 1e-10


def test_a_failed_dask_fit_names_the_block_and_keeps_the_fitted_model():
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        clf.fit(X[:200], Y3[:200])
    before = [c.copy() for c in clf.coefs_]
    bad = X.copy()
    bad[1500, 3] = np.nan
    with pytest.raises(ValueError, match=r"block 2 of X \(rows 1400 to 2099\) contains NaN"):
        clf.fit(da.from_array(bad, chunks=CHUNKS), Y3)
    assert all(np.array_equal(a, b) for a, b in zip(clf.coefs_, before))
    assert np.array_equal(clf.predict(X[:50]), clf.predict(X[:50]))


@pytest.mark.parametrize("kwargs, message", [
    (dict(y=Y3[:-1]), "X has 3000 rows but y has 2999"),
    (dict(sample_weight=np.zeros(N)), "at least one non-zero"),
    (dict(sample_weight=-SW), "Negative values"),
])
def test_bad_dask_input_gets_a_clear_error(kwargs, message):
    args = dict(y=Y3, sample_weight=None) | kwargs
    clf = MLPClassifier(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=2)
    with pytest.raises(ValueError, match=message):
        clf.fit(da.from_array(X, chunks=CHUNKS), args["y"], sample_weight=args["sample_weight"])
    assert not hasattr(clf, "coefs_")


def test_lbfgs_on_dask_refuses_layers_that_mix_rows_and_class_weights():
    from nnlite.layers import BatchNorm, Dropout

    for layer in (BatchNorm(), Dropout(0.5, random_state=0)):
        net = Sequential([Dense(4), layer, Dense(3), Softmax()])
        with pytest.raises(ValueError, match=type(layer).__name__ + ".*cannot"):
            train(net, da.from_array(X, chunks=CHUNKS), Y3, LogLoss(), LBFGS(maxiter=2))
    clf = MLPClassifier(hidden_layer_sizes=(3,), solver="lbfgs", class_weight="balanced")
    with pytest.raises(ValueError, match="class_weight is not supported on dask arrays"):
        clf.fit(da.from_array(X, chunks=CHUNKS), Y3)


def test_train_on_dask_refuses_callbacks_and_one_dimensional_x():
    net = Sequential([Dense(3), Softmax()])
    with pytest.raises(ValueError, match="callbacks are not supported on dask arrays"):
        train(net, da.from_array(X), Y3, LogLoss(), Adam(), callbacks=[nnlite.Callback()])
    with pytest.raises(ValueError, match="X must be 2-D"):
        train(net, da.from_array(X[:, 0]), Y3, LogLoss(), LBFGS())


# ----- prediction ------------------------------------------------------------------------------
def test_predictions_are_lazy_one_task_per_block_and_match_in_memory():
    clf = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20,
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        clf.fit(X, TARGETS["multiclass-strings"][1])
    Xd = da.from_array(X, chunks=CHUNKS)
    for method in ("predict", "predict_proba", "predict_log_proba"):
        lazy = getattr(clf, method)(Xd)
        assert isinstance(lazy, da.Array) and lazy.numblocks[0] == Xd.numblocks[0]
        got, want = lazy.compute(), getattr(clf, method)(X)
        assert got.shape == want.shape and got.dtype == want.dtype
        if method == "predict":
            assert np.array_equal(got, want)
        else:
            assert relative(got, want) < 1e-12
    y = TARGETS["multiclass-strings"][1]
    assert clf.score(Xd, da.from_array(y, chunks=500)) == pytest.approx(clf.score(X, y), 1e-12)
    net = clf.network_
    out = net.predict(Xd)
    assert isinstance(out, da.Array) and relative(out.compute(), net.predict(X)) < 1e-12
    with pytest.raises(ValueError, match="X has 5 features, but MLPClassifier is expecting 6"):
        clf.predict(Xd[:, :5])


def test_regressor_predict_and_score_on_dask():
    y = TARGETS["regression"][1]
    reg = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        reg.fit(X, y)
    Xd = da.from_array(X, chunks=CHUNKS)
    assert relative(reg.predict(Xd).compute(), reg.predict(X)) < 1e-12
    score = reg.score(Xd, y, sample_weight=SW)
    assert isinstance(score, float)
    assert score == pytest.approx(reg.score(X, y, sample_weight=SW), rel=1e-12)


# ----- stochastic solvers out of core ----------------------------------------------------------
def lazy_data(n=4000, chunks=500):
    """A dask array whose blocks are computed on demand (not views of one numpy array)."""
    state = da.random.RandomState(5)
    Xd = state.normal(size=(n, 6), chunks=(chunks, 6))
    return Xd, (Xd[:, 0] > 0).astype(int)


def test_stochastic_fit_holds_at_most_two_blocks_in_this_process(monkeypatch):
    from nnlite.dask import _stochastic

    alive, most = [], [0]
    compute_local = _stochastic._compute_local

    def watched(*parts):
        # a block starts computing here: count the blocks still alive in this process
        most[0] = max(most[0], sum(ref() is not None for ref in alive) + 1)
        out = compute_local(*parts)
        alive.append(weakref.ref(out[0]))
        return out

    monkeypatch.setattr(_stochastic, "_compute_local", watched)
    Xd, yd = lazy_data()
    clf = MLPClassifier(hidden_layer_sizes=(6,), solver="adam", max_iter=3, random_state=0,
                        tol=0.0, n_iter_no_change=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        clf.fit(Xd, yd)
    assert len(alive) == 3 * 8  # every block of every epoch came through the stream
    assert most[0] == 2
    assert len(clf.loss_curve_) == 3 and clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.t_ == 3 * 4000


def test_stochastic_fit_is_seeded_and_the_same_on_a_cluster():
    Xd, yd = lazy_data()
    params = dict(hidden_layer_sizes=(6,), solver="sgd", max_iter=2, random_state=4,
                  learning_rate_init=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        local = MLPClassifier(**params).fit(Xd, yd)
        again = MLPClassifier(**params).fit(Xd, yd)
        with cluster(2):
            remote = MLPClassifier(**params).fit(Xd, yd)
    for a, b, c in zip(local.coefs_, again.coefs_, remote.coefs_):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    assert local.loss_curve_ == remote.loss_curve_


def test_early_stopping_holds_out_whole_blocks(monkeypatch):
    from nnlite.dask import _presets

    held = {}
    hold_out = _presets._hold_out_blocks

    def spy(est, blocks, target, rng):
        out = hold_out(est, blocks, target, rng)
        held["X_val"] = out[3][0]
        held["train_rows"] = out[0].shape[0]
        return out

    monkeypatch.setattr(_presets, "_hold_out_blocks", spy)
    sizes = (300, 400, 500, 600, 700, 500)
    Xd = da.from_array(X, chunks=(sizes, 6))
    clf = MLPClassifier(hidden_layer_sizes=(6,), solver="adam", max_iter=4, random_state=0,
                        early_stopping=True, validation_fraction=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        clf.fit(Xd, Y3)
    starts = np.cumsum((0,) + sizes)
    whole = [X[a:b] for a, b in zip(starts[:-1], starts[1:])]
    X_val = held["X_val"]
    # two of six blocks (ceil(0.2 * 6)), whole and in order
    pieces, row = [], 0
    while row < len(X_val):
        match = [b for b in whole if len(b) <= len(X_val) - row
                 and np.array_equal(b, X_val[row:row + len(b)])]
        assert match, "validation rows are not whole blocks"
        pieces.append(match[0])
        row += len(match[0])
    assert len(pieces) == 2 and held["train_rows"] + len(X_val) == N
    assert len(clf.validation_scores_) == clf.n_iter_ and clf.best_loss_ is None
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert all(np.isfinite(v) and v > 0 for v in clf.validation_loss_curve_)


@pytest.mark.parametrize("solver", ["rmsprop", "nadam"])
def test_other_stochastic_solvers_stream_the_blocks_too(solver):
    Xd, yd = lazy_data(n=2000)
    reg = MLPRegressor(hidden_layer_sizes=(4,), solver=solver, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        reg.fit(Xd, yd.astype(float))
    assert reg.n_iter_ == 2 and reg.t_ == 4000 and np.isfinite(reg.loss_)


# ----- faults ----------------------------------------------------------------------------------
def test_a_worker_killed_mid_fit_does_not_change_the_weights(monkeypatch):
    from nnlite.dask import _lbfgs

    Xd, yd = lazy_data(n=4000, chunks=500)
    reference, _ = fit_net(Xd, yd, maxiter=8)
    call = _lbfgs.BlockObjective.__call__
    killed = []

    with cluster(2, processes=True) as client:
        pids = client.run(os.getpid)

        def call_and_kill(self, theta):
            if self.n_evaluations == 3 and not killed:
                victim = sorted(pids)[0]
                os.kill(pids[victim], signal.SIGKILL)
                killed.append(victim)
            return call(self, theta)

        monkeypatch.setattr(_lbfgs.BlockObjective, "__call__", call_and_kill)
        net, history = fit_net(Xd, yd, maxiter=8)
        assert killed and history.n_iter == 8
        # the nanny started a new worker process in place of the killed one
        assert set(client.run(os.getpid).values()).isdisjoint({pids[killed[0]]})
    assert np.array_equal(net.theta, reference.theta)
