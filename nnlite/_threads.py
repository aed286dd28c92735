"""How many BLAS threads nnlite's matrix products use.

A BLAS library starts one thread per core.  On minibatch-sized products those
threads spend more time waiting for each other than computing, and when another
process keeps one of two cores busy a fit can run ten times slower than with a
single thread.  nnlite therefore decides itself:

``"auto"`` (the default)
    one thread for training whose steps are small (a minibatch step or an L-BFGS
    evaluation below about 5e7 multiply-adds); BLAS's own setting for larger ones,
    which split well across cores;
an int ``n >= 1``
    exactly ``n`` threads for all training;

Predictions never change the setting: it is one setting for the whole process, and
programs predict from many threads at once.
``"off"``
    never touch the BLAS settings.

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

__all__ = ["set_blas_threads", "get_blas_threads", "blas_threads_for", "blas_single_threaded"]

#: Calls with fewer multiply-adds than this run on one thread in "auto" mode.
SMALL_WORK = 50_000_000

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
    """Choose how many BLAS threads nnlite uses (see the module docstring).

    Parameters
    ----------
    value : {'auto', 'off'} or int >= 1, default='auto'

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
                    lib.set_num_threads(n)
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
                    lib.set_num_threads(original)


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


def blas_threads_for(work):
    """Context manager limiting BLAS threads for calls of ``work`` multiply-adds."""
    setting = get_blas_threads()
    if setting == "off":
        return contextlib.nullcontext()
    if setting == "auto":
        return _limit(1) if work < SMALL_WORK else contextlib.nullcontext()
    return _limit(setting)
