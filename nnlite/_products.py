"""Training's matrix products, each computed the way measured fastest for it.

During training nnlite holds every BLAS library at one thread (see :mod:`._threads`).
A product that splits well across cores (a wide layer, a full L-BFGS batch) then
leaves the other cores idle, while a small one runs slower on two threads than on
one, and on a machine whose other cores are busy a product on several threads can
stall for milliseconds waiting for a descheduled thread.  No size threshold tells
these apart, so each product decides from measurement:

* **The ways.**  One thread; on two cores, split in two halves of its rows by the
  two-thread runner (:mod:`._rowsplit`: the second half on a worker thread, each
  half one BLAS call on one thread), for products of at least ``_MIN_SPLIT_WORK``
  multiply-adds; where the runner is not available or there are more cores, BLAS's
  own threads, one per core.  On two cores the runner replaces BLAS's threads:
  BLAS's second thread keeps spinning after each call on two threads and would
  take the worker's core.
* **Element-wise passes.**  While the runner splits a training's products, the
  optimizer's update and the gradient's scaling over at least ``_MIN_HALVES``
  parameters run in two halves as well (:func:`halves`).
* **Only where the bits stay.**  A product may use the other way only if its shape,
  layouts and dtypes were found, once per process, to give the same bits on one
  thread and that way, on random data (up to ``_CHECK_ELEMENTS`` elements in all:
  larger products keep one thread).  OpenBLAS splits the rows and columns of the
  output among its threads, which leaves most shapes exact; some (weight gradients
  ``x.T @ g`` over many rows) round differently on two BLAS threads, and keep one
  thread; halves of the rows were exact on every shape tried.  A fit's numbers
  therefore never depend on the way chosen or on the load.
* **Measured while training runs.**  A product alternates one thread and the other
  way on its next calls (``_TRIALS`` each, timed) and keeps the other way only if
  it took at most ``_MARGIN`` of the one-thread time.  It measures again after a
  pause that doubles while the choice stays (from ``_FIRST_PAUSE`` up to
  ``_LAST_PAUSE`` seconds).  Choices are kept per process, so the next fit of the
  same shapes starts from them.  While a trial includes the runner, its worker
  stays awake between the split calls (:func:`._rowsplit.stay_awake`).
* **Backing off under load.**  When another process takes a core, a call on
  several threads can wait milliseconds for a descheduled thread, and threads
  spinning between calls take time from nnlite's own.  So a call split or on
  several threads that takes ``_STALL`` times its measured time (or, in a trial,
  the one-thread time) puts every product of the process on one thread for a
  back-off time, doubled at each stall (``_FIRST_BACKOFF`` to ``_LAST_BACKOFF``
  seconds) and halved by each trial that passes without one.
* **One thread between products.**  A product on several threads sets BLAS back
  to one when it returns, so the training's other BLAS calls (the penalty's dot
  products, the losses, a callback's) keep their one-thread bits; ``os.fork``
  waits for such a product in flight (OpenBLAS's fork handler can hang on one).
* **One switch, one owner.**  The thread count is one process-wide setting; only
  the training that limited BLAS first switches it, and only while nothing else
  (another training, a prediction) holds the limit.  Switching numpy's OpenBLAS
  costs a fraction of a microsecond (its own ``openblas_set_num_threads``).

With ``set_blas_threads(n)`` for an int ``n`` every exact product runs on ``n``
threads, unmeasured; the others run on one.
"""

from __future__ import annotations

import os
import threading
from time import perf_counter

import numpy as np

from . import _rowsplit

#: Timed calls per thread count in one trial.
_TRIALS = 4
#: Several threads are kept only if they take at most this share of one thread's time.
_MARGIN = 0.8
#: Seconds between trials of one product: the first pause, doubled while the choice
#: stays, up to the last.
_FIRST_PAUSE, _LAST_PAUSE = 0.25, 30.0
#: A product on one thread reads the clock (for its next trial) once per this many calls.
_CALLS_PER_CLOCK = 32
#: A call on several threads this many times slower than measured, and slower by at
#: least _MIN_STALL seconds (a scheduler's time slice, not an idle machine's hiccup),
#: means a busy core.
_STALL, _MIN_STALL = 3.0, 2e-3
#: Seconds on one thread after a stall: the first back-off, doubled at each stall, up to
#: the last.
_FIRST_BACKOFF, _LAST_BACKOFF = 1.0, 32.0
#: OpenBLAS keeps products below about this many multiply-adds on one thread anyway.
_MIN_WORK = 200_000
#: Products the runner may split: at least this many multiply-adds.  On smaller ones
#: (case (a)'s, 1M and less) the split won 10-30% of the product's own time in
#: trials, and the step lost more: the next element-wise pass read half the output
#: from the other core's cache.
_MIN_SPLIT_WORK = 2_000_000
#: Element-wise passes over at least this many parameters may run in two halves (case
#: (b)'s 50,826: Adam 65 -> 33 microseconds, the gradient's scaling 34 -> 18, back to
#: back); below, the other core's half of the vectors would cost more to fetch back.
_MIN_HALVES = 32_768
#: After a split call the runner's worker waits for the next one this many times the
#: product's measured time (and at least its own spin): L-BFGS's products, milliseconds
#: each, follow one another with other work between them.
_AWAKE_CALLS = 4
#: Products with more elements (both operands and the result) are not checked, for the
#: memory of the random copies, and keep one thread.  A check on the real operands
#: could pass by chance (an all-zero gradient gives zeros on any thread count).
_CHECK_ELEMENTS = 1 << 24

#: The way of a product split in two halves of its rows, one on the runner's worker.
SPLIT = "split"

_active = None  # the _Switch of the training that owns the thread count, if any
_backoff = {"until": 0.0, "seconds": _FIRST_BACKOFF}  # process-wide: the load is
_sites = {}  # (shapes, strides, dtypes, threads, measured) -> _Site, kept for the process


class _Switch:
    """The thread count of numpy's OpenBLAS, switched by the training that owns it."""

    def __init__(self, setter, lock, held, threads, measured):
        self.setter, self.lock, self.held = setter, lock, held
        self.threads, self.measured = threads, measured
        self.owner = threading.get_ident()
        self.current = 1
        self.last_split = float("-inf")  # perf_counter() after this training's last split

    def use(self, n):
        """Run the next products on ``n`` threads, if this training alone holds BLAS."""
        if n == self.current:
            return
        with self.lock:
            if n > 1 and self.held["count"] != 1:
                return  # a prediction or another training shares BLAS: stay on one thread
            self.setter(n)
            self.current = n

    def one_thread(self, a, b, out):
        """``a @ b`` into ``out`` on one thread."""
        if self.current != 1:
            self.use(1)
        return np.matmul(a, b, out=out)

    def back_to_one(self):
        """One thread again, after a product on several."""
        self.use(1)

    def force_one(self):
        """Back to one thread (called under the lock when another holder arrives)."""
        if self.current != 1:
            # current first: the setter releases the GIL, and a product check of the
            # owner must not read "several" once BLAS is on one thread
            self.current = 1
            self.setter(1)


# A product on several threads is in flight while this is held: os.fork waits for it.
# OpenBLAS's own fork handler hangs when a multithreaded call runs in another thread.
_in_flight = threading.Lock()


def _several(switch, n, a, b, out):
    """``a @ b`` on ``n`` BLAS threads; BLAS is back on one thread afterwards, so that
    the other BLAS calls of the training (the penalty's dot products, the losses, a
    callback's) run on the one thread their bits were promised for."""
    with _in_flight:
        switch.use(n)
        try:
            return np.matmul(a, b, out=out)
        finally:
            switch.back_to_one()


def _split(switch, a, b, out, awake_us=0):
    """``a @ b`` as two halves of its rows, the second on the runner's worker thread,
    each half one BLAS call on one thread (see :mod:`._rowsplit`); the worker then
    stays awake ``awake_us`` microseconds for the next one."""
    with _in_flight:
        if switch.current != 1:
            switch.use(1)
        try:
            _rowsplit.matmul_rows(a, b, out, awake_us)
        except ValueError:
            # operands the runner refuses (checked before it computes anything):
            # unaligned, byte-swapped, overlapping, a matrix and its own transpose
            return np.matmul(a, b, out=out)
        switch.last_split = perf_counter()  # the worker is awake now (see halves)
        return out


def _compute(switch, way, a, b, out, awake_us=0):
    """``a @ b`` into ``out`` the ``way`` given: a BLAS thread count, or ``SPLIT``."""
    if way == 1:
        return switch.one_thread(a, b, out)
    if way == SPLIT:
        return _split(switch, a, b, out, awake_us)
    return _several(switch, way, a, b, out)


def _fork_child():
    global _in_flight
    _in_flight = threading.Lock()


if hasattr(os, "register_at_fork"):  # the lock of the moment, also after earlier forks
    os.register_at_fork(before=lambda: _in_flight.acquire(),
                        after_in_parent=lambda: _in_flight.release(),
                        after_in_child=_fork_child)


class _Site:
    """What is known of one product: the exact ways to compute it, which is fastest."""

    __slots__ = ("exact", "split", "ways", "choice", "due", "pause", "trial", "spent",
                 "typical", "measured", "countdown", "awake_us")

    def __init__(self, exact, split=False, threads=2):
        self.exact = exact  # the same bits on one thread and on ``threads`` (None: unchecked)
        self.split = split  # the same bits on one thread and split by the runner
        # the ways a trial compares: one thread first, then the exact alternative (on
        # two cores the runner's split, else BLAS's threads: both at once would put
        # three spinning threads on two cores)
        self.ways = (1, SPLIT) if split else (1, threads) if exact else (1,)
        self.choice = 1
        self.due = 0.0  # perf_counter() time of the next trial
        self.pause = _FIRST_PAUSE
        self.trial = -1  # calls made in the running trial; -1: none running
        self.spent = [0.0] * len(self.ways)  # trial seconds, per way
        self.typical = 0.0  # seconds per call on the chosen way, from the last trial
        self.measured = None  # seconds per call of each way in the last trial
        self.countdown = 0  # calls on one thread left before the clock is read again
        self.awake_us = 0  # after a split call, the worker waits this long for the next

    def run(self, switch, a, b, out):
        if not switch.measured:  # an int setting: BLAS's threads where exact, unmeasured
            return _compute(switch, switch.threads if self.exact else 1, a, b, out)
        if self.trial < 0:
            if self.countdown > 0:  # on one thread, no trial due yet: the cheapest path
                self.countdown -= 1
                if switch.current != 1:  # switch.one_thread, inlined: the hot path
                    switch.use(1)
                return np.matmul(a, b, out=out)
            start = perf_counter()
            if start < _backoff["until"]:
                return _compute(switch, 1, a, b, out)
            if start < self.due:
                if self.choice == 1:
                    self.countdown = _CALLS_PER_CLOCK
                out = _compute(switch, self.choice, a, b, out, self.awake_us)
                if self.choice != 1 and _stall(perf_counter() - start, self.typical):
                    _stalled()
                    self.due = 0.0  # measure again after the back-off
                return out
            self.trial, self.spent = 0, [0.0] * len(self.ways)
        if self.split:  # between the trial's split calls, the worker stays awake
            _rowsplit.stay_awake(_rowsplit.TRIAL_AWAKE_US)
        ways = len(self.ways)
        way = self.trial % ways  # the ways in turn, one thread first
        start = perf_counter()
        out = _compute(switch, self.ways[way], a, b, out)
        took = perf_counter() - start
        self.spent[way] += took
        self.trial += 1
        one_thread = self.spent[0] / ((self.trial + ways - 1) // ways)
        if way and _stall(took, one_thread):
            _stalled()
            self._decide(1, 0.0)
        elif self.trial == ways * _TRIALS:
            best = min(range(ways), key=self.spent.__getitem__)
            keep = best if self.spent[best] <= _MARGIN * self.spent[0] else 0
            self.measured = tuple(t / _TRIALS for t in self.spent)
            self._decide(self.ways[keep], self.spent[keep] / _TRIALS)
            _backoff["seconds"] = max(_FIRST_BACKOFF, _backoff["seconds"] / 2)
        return out

    def _decide(self, choice, typical):
        self.pause = min(2 * self.pause, _LAST_PAUSE) if choice == self.choice else _FIRST_PAUSE
        self.choice, self.typical, self.trial = choice, typical, -1
        self.due = perf_counter() + self.pause
        # the next split call comes after this product's other work of a step (or of
        # an L-BFGS evaluation): a few times its own time; the worker waits that long
        self.awake_us = int(max(_rowsplit.SPIN_US, _AWAKE_CALLS * typical * 1e6))



def halves(size):
    """Whether an element-wise pass over ``size`` parameters (the optimizer's update, the
    gradient's scaling) should run in two halves, the second on the runner's worker.

    Only in the calling thread's training under ``"auto"``, within the worker's spin
    (``_rowsplit.SPIN_US``) after one of this training's products was split: the runner
    was measured faster than one thread there, so its worker is awake and its core idle.
    And only on at least ``_MIN_HALVES`` parameters, and not during a back-off.  Each
    parameter is computed alone, so the bits are those of one pass.
    """
    switch = _active
    if size < _MIN_HALVES or switch is None or not switch.measured \
            or switch.owner != threading.get_ident():
        return False
    now = perf_counter()
    return now - switch.last_split < _rowsplit.SPIN_US * 1e-6 and now >= _backoff["until"]


def _stall(took, expected):
    return took > _STALL * expected and took - expected > _MIN_STALL


def _stalled():
    """A call on several threads stalled: every product on one thread for a while."""
    _backoff["until"] = perf_counter() + _backoff["seconds"]
    _backoff["seconds"] = min(2 * _backoff["seconds"], _LAST_BACKOFF)


def matmul(a, b, out=None):
    """``np.matmul(a, b, out=out)`` on the thread count chosen for this product.

    Outside training (no owner of the thread count, or called from another thread)
    it is ``np.matmul`` itself.
    """
    switch = _active
    if switch is None or switch.owner != threading.get_ident():
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty((a.shape[0], b.shape[1]), np.result_type(a, b))
    site = _site(switch, a, b, out)
    if len(site.ways) == 1:
        return switch.one_thread(a, b, out)
    return site.run(switch, a, b, out)


def prepared(a, b, out):
    """``(call, args)``: ``call(*args)`` does what ``matmul(a, b, out)`` does.

    For recorded training steps, which replay the same arrays within one training:
    the product's site is looked up once, here, not at every call.
    """
    switch = _active
    if switch is None or switch.owner != threading.get_ident():
        return np.matmul, (a, b, out)
    site = _site(switch, a, b, out)
    if site is _UNCHECKED:
        return matmul, (a, b, out)  # checked at a later call
    if len(site.ways) == 1:
        # BLAS is on one thread at the start of every product of the owner: each
        # product on several threads sets it back when it returns (see _several)
        return np.matmul, (a, b, out)
    return site.run, (switch, a, b, out)


def _site(switch, a, b, out):
    key = (a.shape, a.strides, b.shape, b.strides, a.dtype.char, b.dtype.char, switch.threads,
           switch.measured)
    site = _sites.get(key)
    if site is None:
        worth = _worth_checking(a, b)
        if switch.measured and switch.threads == 2 and _rowsplit.available():
            # On two cores "auto" shares products out by the runner alone (its one
            # worker is the second core): BLAS's own thread, which spins for a while
            # after every call on two threads, would take the worker's core.
            exact = None  # not checked: never used
            split = (worth and a.shape[0] * a.shape[1] * b.shape[1] >= _MIN_SPLIT_WORK
                     and _rowsplit.rows_exact(a, b, out))
        else:
            split = False
            exact = worth and _same_bits(switch, a, b, out)
            if exact is None:  # could not tell now: one thread this time, ask again later
                return _UNCHECKED
        site = _sites[key] = _Site(exact, split, switch.threads)
    return site


#: Stands for a product whose exactness could not be checked yet (see _same_bits).
_UNCHECKED = _Site(False)


def _worth_checking(a, b):
    return (a.ndim == 2 and b.ndim == 2 and _contiguous(a) and _contiguous(b)
            and a.shape[0] * a.shape[1] * b.shape[1] >= _MIN_WORK
            and a.size + b.size + a.shape[0] * b.shape[1] <= _CHECK_ELEMENTS)


def _contiguous(x):
    return x.flags.c_contiguous or x.flags.f_contiguous


def _same_bits(switch, a, b, out):
    """Whether ``a @ b`` gives the same bits on one thread and on ``switch.threads``.

    Checked on random data of the same shapes and layouts: how OpenBLAS splits a
    product among threads depends on those alone, and a split that rounds
    differently shows on most random entries.

    None when that cannot be told now: another holder of BLAS's thread count (a
    prediction, another training) keeps it at one thread, and comparing one thread
    with itself would prove nothing.
    """
    rng = np.random.default_rng(0)
    a, b = _rowsplit._random_like(a, rng), _rowsplit._random_like(b, rng)
    switch.use(1)
    one = np.matmul(a, b, out=np.empty_like(out))
    with _in_flight:
        switch.use(switch.threads)
        try:
            several = np.matmul(a, b, out=np.empty_like(out))
            if switch.current != switch.threads:  # refused, or taken back meanwhile
                return None
        finally:
            switch.back_to_one()
    return np.array_equal(one, several)


def start(setter, lock, held, threads, measured):
    """Make the calling thread's training the owner of the thread count."""
    global _active
    _active = _Switch(setter, lock, held, threads, measured)


def stop():
    """End the ownership; BLAS is back on one thread."""
    global _active
    switch, _active = _active, None
    if switch is not None:
        with switch.lock:
            switch.force_one()


def yield_to_other_holder():
    """Called under the lock when a second holder limits BLAS: back to one thread."""
    if _active is not None:
        _active.force_one()


def report():
    """The products seen in this process, one dict each, for benchmarks and the docs.

    Keys: ``shapes`` (of both operands), ``dtypes``, ``threads`` (the candidate
    count), ``exact`` (same bits on one thread and on ``threads``; None: not checked,
    the runner's split being the way compared), ``split`` (same
    bits on one thread and split in two by the runner), ``ways`` (those compared:
    1, ``threads`` if exact, ``"split"`` if split), ``choice`` (the way in use now)
    and ``seconds`` (per call of each way in the last complete trial, or None).
    """
    return [{"shapes": (sa, sb), "dtypes": ta + tb, "threads": n, "exact": site.exact,
             "split": site.split, "ways": site.ways, "choice": site.choice,
             "seconds": site.measured}
            for (sa, _, sb, _, ta, tb, n, _), site in _sites.items()]
