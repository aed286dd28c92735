"""Training's thread policy: more BLAS threads only where the bits stay (nnlite._products)."""

import contextlib
import os
import threading
import time
import warnings

import numpy as np
import pytest

import nnlite
from nnlite import _products, _rowsplit, _threads

threadpoolctl = pytest.importorskip("threadpoolctl")

two_cores = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2 if hasattr(os, "sched_getaffinity") else True,
    reason="needs two usable cores")


@pytest.fixture
def fresh_policy(monkeypatch):
    """A clean slate of measured products, and the setting put back afterwards."""
    saved = _threads._setting
    monkeypatch.setattr(_products, "_sites", {})
    # no back-off left by an earlier test's stall (which would keep every product on one
    # thread for up to 32 s)
    monkeypatch.setattr(_products, "_backoff",
                        {"until": 0.0, "seconds": _products._FIRST_BACKOFF})
    yield
    _threads._setting = saved


def _numpy_blas_threads():
    info = [d for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"]
    i = _threads._numpy_blas([type("Lib", (), {"filepath": d["filepath"]}) for d in info])
    return info[i]["num_threads"]


def _fit_weights(setting, solver="adam", blas=2):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(3000, 64))
    y = (X[:, :3] @ rng.normal(size=3) > 0).astype(int) + (X[:, 3] > 0.5)
    nnlite.set_blas_threads(setting)
    model = nnlite.MLPClassifier((256, 128), solver=solver, max_iter=3, batch_size=400,
                                 random_state=0)
    limits = (contextlib.nullcontext() if blas is None
              else threadpoolctl.threadpool_limits(blas, user_api="blas"))
    with warnings.catch_warnings(), limits:
        warnings.simplefilter("ignore")  # max_iter reached
        model.fit(X, y)
    return np.concatenate([a.ravel() for a in model.coefs_ + model.intercepts_])


@two_cores
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_one_and_two_threads_fit_identical_weights(fresh_policy, monkeypatch, solver):
    one = _fit_weights(1, solver)
    two = _fit_weights(2, solver)
    exact = [row for row in _products.report() if row["threads"] == 2 and row["exact"]]
    assert exact, "no product of this network was found exact on two threads"
    np.testing.assert_array_equal(one, two)
    # measured choices, trialled on every call: alternating one thread and the other
    # way (the runner's split where it is available, else two BLAS threads) mid-fit
    monkeypatch.setattr(_products, "_FIRST_PAUSE", 0.0)
    monkeypatch.setattr(_products, "_LAST_PAUSE", 0.0)
    runner = _rowsplit._module()
    before = runner.worker_stats() if runner is not None else None
    np.testing.assert_array_equal(one, _fit_weights("auto", solver))
    if runner is not None:
        assert any(row["split"] for row in _products.report())
        after = runner.worker_stats()
        assert after["worker_ranges"] + after["caller_ranges"] > (
            before["worker_ranges"] + before["caller_ranges"])  # split products ran


def _record_thread_counts(monkeypatch):
    """The list of every thread count the training's switch will set BLAS to."""
    counts = []
    real_start = _products.start

    def spy_start(setter, *args):
        def recording_setter(n):
            counts.append(n)
            setter(n)
        real_start(recording_setter, *args)

    monkeypatch.setattr(_products, "start", spy_start)
    return counts


@two_cores
def test_products_not_exact_on_two_threads_stay_on_one(fresh_policy, monkeypatch):
    monkeypatch.setattr(_products, "_same_bits", lambda *args: False)
    counts = _record_thread_counts(monkeypatch)
    _fit_weights(2)
    assert all(n == 1 for n in counts)  # the switch starts on one thread and never left it
    assert _products.report() and not any(row["exact"] for row in _products.report())


@two_cores
@pytest.mark.skipif(not _rowsplit.available(), reason="needs the two-thread runner")
def test_on_two_cores_auto_shares_products_by_the_runner_alone(fresh_policy, monkeypatch):
    # BLAS's own second thread, spinning after each call on two threads, would take
    # the runner's core: "auto" never switches BLAS to two threads, trials included
    monkeypatch.setattr(_products, "_FIRST_PAUSE", 0.0)
    monkeypatch.setattr(_products, "_LAST_PAUSE", 0.0)
    counts = _record_thread_counts(monkeypatch)
    before = _rowsplit._module().worker_stats()
    _fit_weights("auto")
    after = _rowsplit._module().worker_stats()
    assert all(n == 1 for n in counts)
    rows = _products.report()
    assert rows and all(row["ways"] in ((1,), (1, _products.SPLIT)) for row in rows)
    split = [row for row in rows if row["split"]]
    assert split and all(np.prod(row["shapes"][0]) * row["shapes"][1][1]
                         >= _products._MIN_SPLIT_WORK for row in split)
    assert after["worker_ranges"] + after["caller_ranges"] > (
        before["worker_ranges"] + before["caller_ranges"])


@two_cores
def test_operands_the_runner_refuses_fall_back_to_one_thread(fresh_policy):
    # an unaligned input: checked exact on aligned random copies, refused by the runner
    rng = np.random.RandomState(0)
    buf = np.zeros(3000 * 64 * 8 + 1, np.uint8)
    X = np.frombuffer(buf.data, np.float64, 3000 * 64, offset=1).reshape(3000, 64)
    X[...] = rng.normal(size=(3000, 64))
    assert not X.flags.aligned
    y = X[:, 0] + X[:, 1] ** 2
    weights = []
    for setting in (1, "auto"):
        nnlite.set_blas_threads(setting)
        model = nnlite.MLPRegressor(hidden_layer_sizes=(256,), solver="lbfgs", max_iter=5,
                                    random_state=0)
        with warnings.catch_warnings(), threadpoolctl.threadpool_limits(2, user_api="blas"):
            warnings.simplefilter("ignore")
            model.fit(X, y)
        weights.append(np.concatenate([w.ravel() for w in model.coefs_]))
    np.testing.assert_array_equal(*weights)


@two_cores
@pytest.mark.skipif(not _rowsplit.available(), reason="needs the two-thread runner")
def test_optimizer_and_scaling_in_halves_fit_identical_weights(fresh_policy, monkeypatch):
    one = _fit_weights(1)
    monkeypatch.setattr(_products, "halves", lambda size: True)  # every pass in halves
    _rowsplit.stay_awake(200_000)
    stats = _rowsplit._module().worker_stats

    def halves_run():  # second halves, by the worker or (busy machine) by the caller
        return stats()["worker_ranges"] + stats()["caller_ranges"]

    before = halves_run()
    np.testing.assert_array_equal(one, _fit_weights("auto"))
    assert halves_run() > before


def test_halves_only_for_large_vectors_right_after_a_split_product(fake_clock, monkeypatch):
    switch = fake_clock(2.0)
    monkeypatch.setattr(_products, "_active", switch)
    switch.owner, switch.last_split = threading.get_ident(), float("-inf")
    big, spin = _products._MIN_HALVES, _rowsplit.SPIN_US * 1e-6
    assert not _products.halves(big)  # nothing split yet: the worker may be asleep
    switch.last_split = switch.clock  # a product was just split: the worker spins
    assert _products.halves(big) and not _products.halves(big - 1)
    switch.clock += 2 * spin  # past the worker's spin
    assert not _products.halves(big)
    switch.last_split = switch.clock
    _products._backoff["until"] = switch.clock + 1.0  # a back-off: one thread for all
    assert not _products.halves(big)
    _products._backoff["until"] = 0.0
    switch.owner = -1  # another thread's training
    assert not _products.halves(big)
    switch.owner, switch.measured = threading.get_ident(), False  # an int setting
    assert not _products.halves(big)
    monkeypatch.setattr(_products, "_active", None)  # no training
    assert not _products.halves(big)


@two_cores
@pytest.mark.skipif(not _rowsplit.available(), reason="needs the two-thread runner")
def test_halves_end_with_the_training_that_split_products(fresh_policy, monkeypatch):
    calls = []
    real = _products.halves

    def spy(size):
        calls.append(real(size))
        return calls[-1]

    monkeypatch.setattr(_products, "halves", spy)
    # the split kept whenever trialled, and no back-off, even on a busy machine
    monkeypatch.setattr(_products, "_MARGIN", 100.0)
    monkeypatch.setattr(_products, "_stall", lambda took, expected: False)
    _fit_weights("auto")  # splits its wide products, and halves its passes
    assert any(calls)
    calls.clear()
    _fit_weights(2)  # an int setting right after: BLAS's threads, no halves
    assert calls and not any(calls)


@two_cores
def test_exactness_is_checked_on_real_blas(fresh_policy):
    # the check itself: every shape it calls exact gives equal bits on 1 and 2 threads
    nnlite.set_blas_threads(2)
    rng = np.random.RandomState(1)
    shapes = [((400, 64), (64, 256)), ((400, 256), (256, 128)), ((256, 400), (400, 128)),
              ((128, 400), (400, 256)), ((3000, 64), (64, 256))]
    with threadpoolctl.threadpool_limits(2, user_api="blas"), _threads.for_training():
        switch = _products._active
        for sa, sb in shapes:
            a, b = rng.normal(size=sa), rng.normal(size=sb)
            _products.matmul(a, b)
            site = _products._sites[a.shape, a.strides, b.shape, b.strides, "d", "d", 2, False]
            results = []
            for n in (1, 2):
                switch.use(n)
                results.append(a @ b)
            switch.use(1)
            if site.exact:
                np.testing.assert_array_equal(results[0], results[1])


class _FakeSwitch:
    """Records thread counts; its products cost 1 ms on one thread, ``cost2`` ms on two."""

    measured, threads = True, 2

    def __init__(self, cost2):
        self.current, self.cost = 1, {1: 1e-3, 2: cost2 * 1e-3}  # well below the pauses
        self.clock = 0.0

    def use(self, n):
        # every product starts by choosing its thread count: the product that follows
        # takes the time of that count
        self.current = self.last = n
        self.clock += self.cost[n]

    def one_thread(self, a, b, out):
        self.use(1)
        return np.matmul(a, b, out=out)

    def back_to_one(self):
        self.current = 1

    def perf_counter(self):
        return self.clock


@pytest.fixture
def fake_clock(monkeypatch):
    """A switch whose calls take fake times, on a fake clock; no back-off running."""
    def make(cost2):
        switch = _FakeSwitch(cost2)
        monkeypatch.setattr(_products, "perf_counter", switch.perf_counter)
        monkeypatch.setattr(_products, "_backoff",
                            {"until": 0.0, "seconds": _products._FIRST_BACKOFF})
        return switch
    return make


@pytest.mark.parametrize("cost2, expect", [(0.5, 2), (0.95, 1), (2.0, 1)])
def test_a_trial_keeps_two_threads_only_when_clearly_faster(fake_clock, cost2, expect):
    switch = fake_clock(cost2)
    site = _products._Site(exact=True)
    a = np.ones((2, 2))
    for _ in range(2 * _products._TRIALS):  # a trial: alternately one thread and two
        site.run(switch, a, a, np.empty((2, 2)))
    assert site.trial == -1 and site.choice == expect
    assert site.measured == pytest.approx((1e-3, cost2 * 1e-3))
    # the next trial after a pause: the first one after a change, twice that after none
    pause = _products._FIRST_PAUSE * (1 if expect == 2 else 2)
    assert site.due == pytest.approx(switch.clock + pause, abs=0.01)


@pytest.mark.parametrize("cost_split, expect", [(0.5, _products.SPLIT), (0.85, 1)])
def test_where_the_runner_splits_exactly_a_trial_compares_one_thread_and_split(
        fake_clock, monkeypatch, cost_split, expect):
    switch = fake_clock(2.0)
    switch.cost[_products.SPLIT] = cost_split * 1e-3

    def fake_split(switch, a, b, out, awake_us=0):  # the runner's split, on the fake clock
        switch.use(_products.SPLIT)
        switch.current = 1
        return np.matmul(a, b, out=out)

    monkeypatch.setattr(_products, "_split", fake_split)
    site = _products._Site(exact=True, split=True)
    assert site.ways == (1, _products.SPLIT)  # on two cores: the runner or one thread
    a = np.ones((2, 2))
    for _ in range(2 * _products._TRIALS):
        site.run(switch, a, a, np.empty((2, 2)))
    assert site.trial == -1 and site.choice == expect
    assert site.measured == pytest.approx((1e-3, cost_split * 1e-3))
    site.run(switch, a, a, np.empty((2, 2)))
    assert switch.last == expect  # the choice is used until the next trial
    assert _products._Site(exact=False, split=True).ways == (1, _products.SPLIT)
    assert _products._Site(exact=False).ways == (1,)


@pytest.mark.skipif(not _rowsplit.available(), reason="needs the two-thread runner")
def test_the_worker_stays_awake_while_a_trial_compares_the_split(fake_clock, monkeypatch):
    switch = fake_clock(2.0)
    switch.cost[_products.SPLIT] = 0.5e-3
    awake = []

    def fake_split(switch, a, b, out, awake_us=0):
        awake.append(awake_us)
        switch.use(_products.SPLIT)
        switch.current = 1
        return np.matmul(a, b, out=out)

    monkeypatch.setattr(_products, "_split", fake_split)
    stats = _rowsplit._module().worker_stats
    deadline = time.perf_counter() + 2.0  # a keep-awake left by an earlier test ends
    while stats()["awake_us_left"] and time.perf_counter() < deadline:
        time.sleep(0.01)
    site = _products._Site(exact=None, split=True)
    a = np.ones((2, 2))
    site.run(switch, a, a, np.empty((2, 2)))  # the trial's first call, on one thread
    assert stats()["awake_us_left"] > _rowsplit.TRIAL_AWAKE_US // 2
    deadline = time.perf_counter() + 2.0  # woken now: it runs within a scheduler's tick
    while stats()["worker_sleeping"] and time.perf_counter() < deadline:
        time.sleep(1e-3)
    assert not stats()["worker_sleeping"]
    for _ in range(2 * _products._TRIALS - 1):
        site.run(switch, a, a, np.empty((2, 2)))
    assert site.trial == -1 and site.choice == _products.SPLIT
    # after the trial a split call keeps it awake a few times the product's time
    site.run(switch, a, a, np.empty((2, 2)))
    expected = max(_rowsplit.SPIN_US, _products._AWAKE_CALLS * 0.5e-3 * 1e6)
    assert awake[-1] == pytest.approx(expected)
    # the keep-awake ends by itself
    time.sleep(_rowsplit.TRIAL_AWAKE_US * 1e-6 + 0.01)
    assert stats()["awake_us_left"] == 0


def test_a_stall_on_two_threads_backs_off_then_measures_again(fake_clock):
    switch = fake_clock(0.5)
    site, other = _products._Site(exact=True), _products._Site(exact=True)
    a = np.ones((2, 2))

    def call(s=site):
        s.run(switch, a, a, np.empty((2, 2)))
        assert switch.current == 1  # back on one thread after every product
        return switch.last  # the count the product ran on

    for _ in range(2 * _products._TRIALS):
        call()
    assert site.choice == 2 and site.due > switch.clock
    assert call() == 2
    switch.cost[2] = 10e-3  # another process took the second core: this call stalls
    call()
    backoff = _products._backoff
    assert site.due == 0.0 and backoff["until"] > switch.clock
    assert backoff["seconds"] == 2 * _products._FIRST_BACKOFF  # the next one is longer
    # every product of the process stays on one thread until the back-off ends
    assert call() == 1 and call(other) == 1 and site.trial == -1 and other.trial == -1
    switch.clock = backoff["until"]
    for _ in range(2 * _products._TRIALS):  # a trial, whose two-thread calls stall again
        call()
    assert site.choice == 1 and backoff["seconds"] == 4 * _products._FIRST_BACKOFF
    switch.cost[2] = 0.5e-3  # the core is free again
    switch.clock = max(backoff["until"], site.due)
    for _ in range(2 * _products._TRIALS):
        call()
    assert site.choice == 2 and backoff["seconds"] == 2 * _products._FIRST_BACKOFF


@two_cores
def test_a_second_holder_puts_training_back_on_one_thread(fresh_policy):
    nnlite.set_blas_threads(2)
    with _threads.for_training():
        switch = _products._active
        assert switch is not None and switch.owner == threading.get_ident()
        switch.use(2)
        assert _numpy_blas_threads() == 2
        with _threads._limit(1):  # a prediction inside the training (or from another thread)
            assert switch.current == 1 and _numpy_blas_threads() == 1
            switch.use(2)
            assert switch.current == 1  # refused while shared
        switch.use(2)
        assert _numpy_blas_threads() == 2
    assert _products._active is None


def test_products_outside_training_are_plain_matmul(fresh_policy):
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(_products.matmul(a, a.T), a @ a.T)
    assert _products._sites == {}


def test_off_and_missing_threadpoolctl_never_switch(fresh_policy, monkeypatch):
    nnlite.set_blas_threads("off")
    with _threads.for_training():
        assert _products._active is None
    monkeypatch.setattr(_threads, "_controller", False)
    nnlite.set_blas_threads(2)
    with _threads.for_training():
        assert _products._active is None


def test_a_product_on_one_thread_reads_the_clock_only_now_and_then(fake_clock):
    switch = fake_clock(2.0)
    site = _products._Site(exact=True)
    a = np.ones((2, 2))
    for _ in range(2 * _products._TRIALS):
        site.run(switch, a, a, np.empty((2, 2)))
    assert site.choice == 1
    readings = []
    clock = _products.perf_counter
    _products.perf_counter = lambda: readings.append(1) or clock()
    try:
        for _ in range(1 + _products._CALLS_PER_CLOCK):
            site.run(switch, a, a, np.empty((2, 2)))
    finally:
        _products.perf_counter = clock
    assert len(readings) == 1 and switch.last == 1


def _predictor(seed):
    """A fitted one-layer classifier and 20,000 rows to predict, large enough for blocks."""
    rng = np.random.RandomState(seed)
    X, y = rng.normal(size=(500, 64)), rng.randint(0, 3, 500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        model = nnlite.MLPClassifier((128,), max_iter=1, random_state=1).fit(X, y)
    return model, rng.normal(size=(20_000, 64))


@two_cores
def test_training_on_two_threads_beside_predictions_from_another_thread(fresh_policy):
    # the training owns BLAS's thread count; a large prediction from another thread holds
    # BLAS at one thread while its row blocks run: both keep their one-thread bits
    # BLAS allowed two threads for the whole test: threadpoolctl changes the count for
    # the whole process, so it is not called while the other thread predicts
    with warnings.catch_warnings(), threadpoolctl.threadpool_limits(2, user_api="blas"):
        warnings.simplefilter("ignore")
        nnlite.set_blas_threads(1)
        predictor, Xp = _predictor(2)
        with threadpoolctl.threadpool_limits(1, user_api="blas"):
            want_proba = predictor.network_._forward_fast(Xp, False, False, False)[0]
        want = _fit_weights(1, blas=None)
        nnlite.set_blas_threads(2)
        # a check refused while a prediction holds BLAS is made again later; on a busy
        # machine a whole fit can pass without one: then the fit is run again
        for _ in range(3):
            got, errors = {}, []

            def train(got=got, errors=errors):
                try:
                    got["weights"] = _fit_weights(2, blas=None)
                except Exception as exc:  # reported below
                    errors.append(exc)

            worker = threading.Thread(target=train)
            worker.start()
            deadline = time.perf_counter() + 10
            while (_products._active is None and worker.is_alive()
                   and time.perf_counter() < deadline):
                time.sleep(0.0005)  # until the training holds BLAS and owns its count
            while worker.is_alive():  # predictions with gaps, where training may use 2
                if not np.array_equal(predictor.predict_proba(Xp), want_proba):
                    errors.append("prediction")
                time.sleep(0.003)
            worker.join()
            assert not errors
            np.testing.assert_array_equal(got["weights"], want)
            if any(row["exact"] for row in _products.report() if row["threads"] == 2):
                break
    assert any(row["exact"] for row in _products.report() if row["threads"] == 2)


@two_cores
def test_row_block_pool_in_a_forked_child():
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    model, Xp = _predictor(4)
    saved = _threads.get_blas_threads()
    nnlite.set_blas_threads(2)
    try:
        want = model.predict_proba(Xp)  # the parent's pool is running now
        pid = os.fork()
        if pid == 0:  # the child: a pool of its own, the same bits
            ok = np.array_equal(model.predict_proba(Xp), want)
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        nnlite.set_blas_threads(saved)


@two_cores
def test_blas_is_back_on_one_thread_after_a_product_on_two(fresh_policy):
    # the training's other BLAS calls (the penalty's dot products, losses, callbacks)
    # must keep the one-thread bits
    nnlite.set_blas_threads(2)
    rng = np.random.RandomState(5)
    a, b = rng.normal(size=(400, 256)), rng.normal(size=(256, 128))
    with threadpoolctl.threadpool_limits(2, user_api="blas"), _threads.for_training():
        _products.matmul(a, b)
        assert _products._sites and _numpy_blas_threads() == 1


@two_cores
@pytest.mark.parametrize("seed", [1, 5, 6])
def test_lbfgs_with_a_large_penalty_on_two_threads(fresh_policy, seed):
    # long penalty dot products after the last product of the step: seen to differ when
    # BLAS stayed on two threads after it
    rng = np.random.RandomState(seed)
    X, y = rng.normal(size=(200, 64)), rng.normal(size=200)
    fits = []
    for setting in (1, 2):
        nnlite.set_blas_threads(setting)
        with warnings.catch_warnings(), threadpoolctl.threadpool_limits(2, user_api="blas"):
            warnings.simplefilter("ignore")
            model = nnlite.MLPRegressor(hidden_layer_sizes=(512, 128), solver="lbfgs",
                                        alpha=1e-2, max_iter=15, random_state=seed)
            model.fit(X, y)
        fits.append((model.loss_, np.concatenate([c.ravel() for c in model.coefs_])))
    assert fits[0][0] == fits[1][0]
    np.testing.assert_array_equal(fits[0][1], fits[1][1])


@two_cores
def test_small_predictions_hold_blas_at_one_thread(fresh_policy, monkeypatch):
    from nnlite import Dense
    seen = []
    real = Dense._forward_fast

    def spy(self, *args, **kwargs):
        seen.append(_numpy_blas_threads())
        return real(self, *args, **kwargs)

    net = nnlite.Sequential([Dense(8), nnlite.ReLU(), Dense(2)], random_state=0).build(4)
    monkeypatch.setattr(Dense, "_forward_fast", spy)
    nnlite.set_blas_threads("auto")
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        net.predict(np.ones((5, 4)))
        assert seen and set(seen) == {1}
        assert _numpy_blas_threads() == 2  # put back afterwards
        nnlite.set_blas_threads("off")
        seen.clear()
        net.predict(np.ones((5, 4)))
        assert set(seen) == {2}


@two_cores
def test_fork_while_a_training_runs_products_on_two_threads(tmp_path):
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    import subprocess
    import sys

    script = tmp_path / "fork_during_training.py"
    script.write_text(
        "import os, threading, warnings\n"
        "import numpy as np, nnlite\n"
        "warnings.simplefilter('ignore')\n"
        "nnlite.set_blas_threads(2)\n"
        "rng = np.random.RandomState(0)\n"
        "X, y = rng.normal(size=(3000, 64)), rng.randint(0, 3, 3000)\n"
        "fit = threading.Thread(target=lambda: nnlite.MLPClassifier(\n"
        "    (256, 128), max_iter=5, random_state=0).fit(X, y))\n"
        "fit.start()\n"
        "forks = 0\n"
        "while fit.is_alive() and forks < 40:\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os._exit(0)\n"
        "    os.waitpid(pid, 0)\n"
        "    forks += 1\n"
        "fit.join()\n"
        "print('forks', forks)\n")
    env = dict(os.environ)
    env.pop("OPENBLAS_NUM_THREADS", None)
    env.pop("OMP_NUM_THREADS", None)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(nnlite.__file__)))]
        + [p for p in [env.get("PYTHONPATH")] if p])
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("forks")


@two_cores
def test_predictions_while_the_pool_grows(fresh_policy):
    model, Xp = _predictor(6)
    want = model.predict_proba(Xp)
    errors, stop = [], threading.Event()

    def predict():
        while not stop.is_set():
            try:
                if not np.array_equal(model.predict_proba(Xp), want):
                    errors.append("bits")
            except Exception as exc:  # reported below
                errors.append(exc)

    workers = [threading.Thread(target=predict) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        for n in range(2, 12):  # every new setting asks for a larger pool
            nnlite.set_blas_threads(n)
            time.sleep(0.02)
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert not errors


def test_show_config_reports_the_runner_and_says_when_threadpoolctl_is_missing(
        monkeypatch, capsys):
    info = nnlite.show_config()
    assert info["two_thread_runner"] is _rowsplit.available()
    assert "threadpoolctl is not installed" not in capsys.readouterr().out
    monkeypatch.setattr(_threads, "_controller", False)  # as if it were absent
    nnlite.show_config()
    assert 'pip install "nnlite[threads]"' in capsys.readouterr().out
