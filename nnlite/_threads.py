"""How many BLAS threads nnlite's matrix products use.

A BLAS library starts one thread per core.  On minibatch-sized products those
threads can spend more time waiting for each other than computing, and when
another process keeps one of two cores busy a fit on two threads can run ten
times slower than on one; on wide layers and full batches, on an idle machine,
the second core is worth up to two times.  nnlite therefore decides itself:

``"auto"`` (the default)
    training holds every BLAS library at one thread, and each of its matrix
    products that gives the same bits another way runs the way measured fastest
    while training runs: one thread; on two cores, split in two row halves by
    the two-thread runner (:mod:`nnlite._rowsplit`); with more cores, one BLAS
    thread per core BLAS started with (see :mod:`nnlite._products`), BLAS back
    on one thread after it.
    Predictions hold BLAS at one thread; on large inputs they run blocks of rows
    on that many Python threads;
an int ``n >= 1``
    the same, with every such product on ``n`` threads, unmeasured, and
    predictions on ``n`` threads;
``"off"``
    never touch the BLAS settings (scikit-learn's behaviour; its numbers then
    depend on the thread count).

Numbers never depend on the choice (except with ``"off"``): a product runs on
several threads only where that was checked to give its one-thread bits.

Set it with the environment variable ``NNLITE_BLAS_THREADS`` (read on first
use) or with :func:`set_blas_threads`.  Limiting needs the optional package
``threadpoolctl`` (``pip install nnlite[threads]``), imported only when needed;
without it nnlite leaves the thread count to BLAS (``OPENBLAS_NUM_THREADS=1``
or ``OMP_NUM_THREADS=1`` set before Python starts have the same effect).
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

from . import _products

__all__ = ["set_blas_threads", "get_blas_threads", "for_training", "for_prediction",
           "blas_single_threaded"]

_setting = None
_controller = None


def _parse(value, where):
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("auto", "off"):
            return text
        if text.isdigit() and int(text) >= 1:
            return int(text)
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return int(value)
    raise ValueError(f"{where}: expected 'auto', 'off' or an int >= 1; got {value!r}.")


def set_blas_threads(value="auto") -> None:
    """Choose how many BLAS threads nnlite's matrix products use.

    Parameters
    ----------
    value : {'auto', 'off'} or int >= 1, default='auto'
        ``'auto'``: training holds BLAS at one thread, and each of its products
        that gives the same bits another way (checked once per shape and process)
        runs the way measured fastest while training runs: on two cores, split
        in two row halves by nnlite's two-thread runner (products of at least
        2,000,000 multiply-adds), with more cores on one BLAS thread per core;
        after such a call stalls (another process took a core), every product
        runs on one thread for a back-off time.  Large
        predictions run blocks of rows on one thread per core, each block with
        BLAS on one thread; smaller ones hold BLAS at one thread too.  An int
        ``n``: the same with ``n`` threads, unmeasured.
        ``'off'``: BLAS is never touched; results then depend on its thread count,
        as scikit-learn's do.  Except with ``'off'``, results never depend on the
        setting, the number of cores or the load.

    Notes
    -----
    The setting is process-wide; the environment variable ``NNLITE_BLAS_THREADS``
    gives its initial value.  Changing BLAS's thread count needs the optional
    package ``threadpoolctl``; without it nnlite leaves BLAS alone.  The
    performance guide (``docs/performance.md``, "BLAS threads") has the
    measurements.

    Examples
    --------
    >>> import nnlite
    >>> nnlite.set_blas_threads(1)
    >>> nnlite.get_blas_threads()
    1
    >>> nnlite.set_blas_threads("auto")
    """
    global _setting
    _setting = _parse(value, "set_blas_threads")


def get_blas_threads():
    """The current choice: ``'auto'``, ``'off'`` or an int."""
    global _setting
    if _setting is None:
        _setting = _parse(os.environ.get("NNLITE_BLAS_THREADS", "auto"), "NNLITE_BLAS_THREADS")
    return _setting


def _get_controller():
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # optional: without it BLAS keeps its own setting
            _controller = False
        else:
            _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def _raw_setter(lib):
    """OpenBLAS's own ``openblas_set_num_threads`` for a library on its own threads, or None.

    threadpoolctl lets only the first Python thread that set a limit set it again
    (later callers are silently ignored), but a training may run in any thread;
    OpenBLAS's own setter costs a fraction of a microsecond.
    """
    if lib.filepath not in _raw_setters:  # looked up once: called at every training
        _raw_setters[lib.filepath] = _find_raw_setter(lib)
    return _raw_setters[lib.filepath]


def _find_raw_setter(lib):
    if lib.internal_api != "openblas" or getattr(lib, "threading_layer", None) != "pthreads":
        return None
    for prefix in ("", "scipy_"):
        for suffix in ("", "64_", "_64"):
            setter = getattr(lib.dynlib, f"{prefix}openblas_set_num_threads{suffix}", None)
            if setter is not None:
                return setter
    return None


_raw_setters = {}  # library path -> its raw setter, or None


def _set_threads(lib, n):
    setter = _raw_setter(lib)
    if setter is None:
        lib.set_num_threads(n)
    else:
        setter(n)


def _numpy_blas(libs):
    """Index of the BLAS library numpy's products call, or None if unknown."""
    if len(libs) == 1:
        return 0
    # asked at every training and prediction: the paths are resolved once
    paths = tuple(lib.filepath for lib in libs)
    if paths not in _numpy_blas_found:
        # wheels ship it in numpy.libs/ beside the package, other builds inside numpy/
        numpy_dir = os.path.realpath(os.path.dirname(np.__file__))
        homes = (numpy_dir + os.sep, numpy_dir + ".libs" + os.sep)
        found = [i for i, path in enumerate(paths)
                 if os.path.realpath(path).startswith(homes)]
        _numpy_blas_found[paths] = found[0] if len(found) == 1 else None
    return _numpy_blas_found[paths]


_numpy_blas_found = {}  # library paths -> index of numpy's BLAS among them, or None


def _usable_cores():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# BLAS's thread count is one setting for the whole process: overlapping calls (threads
# predicting at once, a prediction inside a training loop) share one limit, set by the
# first to enter and put back by the last to leave.
_lock = threading.Lock()
_held = {"count": 0, "original": None}


@contextlib.contextmanager
def _limit(n):
    with _lock:
        controller = _get_controller()
        if controller is not False:
            if _held["count"] == 0:
                libs = controller.lib_controllers
                _held["original"] = [lib.num_threads for lib in libs]
                for lib in libs:
                    _set_threads(lib, n)
            else:  # a training that switched numpy's BLAS to more threads steps back
                _products.yield_to_other_holder()
            _held["count"] += 1  # a different n while held keeps the held limit
    if controller is False:
        yield
        return
    try:
        yield
    finally:
        with _lock:
            _held["count"] -= 1
            if _held["count"] == 0:
                for lib, original in zip(controller.lib_controllers, _held["original"]):
                    _set_threads(lib, original)


def _reset_after_fork():
    # the child has only the thread that forked: a lock another thread held stays held
    # for good, and a training running in another thread is not there any more
    global _lock
    _lock = threading.Lock()
    switch = _products._active
    if switch is not None:
        switch.lock = _lock
        if switch.owner != threading.get_ident():
            _products._active = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _threads_to_use(setting):
    """Threads for exact products and prediction blocks, under a held limit (else 1)."""
    controller = _get_controller()
    if controller is False or setting == "off":
        return 1
    if isinstance(setting, int):
        return setting
    i = _numpy_blas(controller.lib_controllers)
    if i is None or not _held["original"]:
        return 1
    return max(1, min(_held["original"][i], _usable_cores()))


@contextlib.contextmanager
def for_training():
    """Context of a training run: BLAS on one thread, exact products on the chosen count.

    See :mod:`nnlite._products`.  With ``"off"`` BLAS is left alone.
    """
    setting = get_blas_threads()
    if setting == "off":
        yield
        return
    with _limit(1):
        owner = False
        with _lock:
            controller = _get_controller()
            threads = _threads_to_use(setting)
            if threads > 1 and _held["count"] == 1 and _products._active is None:
                i = _numpy_blas(controller.lib_controllers)
                setter = None if i is None else _raw_setter(controller.lib_controllers[i])
                if setter is not None:
                    _products.start(setter, _lock, _held, threads, setting == "auto")
                    owner = True
        try:
            yield
        finally:
            if owner:
                _products.stop()


@contextlib.contextmanager
def for_prediction():
    """Context of a prediction in row blocks: yields how many threads may run blocks.

    Every block must run on one BLAS thread (see :mod:`nnlite.models._rowblocks`),
    so BLAS is held at one thread while it lasts.  Yields 0 where that cannot be
    done (setting ``"off"``, or no ``threadpoolctl``) and BLAS does not already
    run one thread: the caller then keeps the whole-array path.
    """
    setting = get_blas_threads()
    if setting == "off" or _get_controller() is False:
        yield 1 if blas_single_threaded() else 0
        return
    with _limit(1):
        with _lock:
            threads = _threads_to_use(setting)
        yield threads


def blas_single_threaded() -> bool:
    """Whether every BLAS library in the process runs one thread now (False if unknown).

    Known through ``threadpoolctl`` when it is installed, else from the environment
    variables BLAS reads when it starts, or from a single CPU.
    """
    controller = _get_controller()
    if controller is not False:
        return all(lib.num_threads == 1 for lib in controller.lib_controllers)
    if os.cpu_count() == 1:
        return True
    for name in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value:  # the first one set is the one OpenBLAS reads
            return value == "1"
    return False
