"""What a call of ``fit``/``partial_fit`` may change, saved cheaply to put back on failure.

A fit is transactional: if it raises, the estimator is left exactly as it was.
Deep-copying the estimator before every call costs as much as a minibatch step
for a wide network, and ``partial_fit`` runs one call per block of rows.  A
fit changes an estimator in two ways only, and each is saved for what it costs:

* it rebinds attributes (a new network, ``classes_``, ``n_iter_``, ...): a
  shallow copy of ``__dict__`` undoes that;
* it changes a few objects in place: the network's flat parameter vector (and,
  for L-BFGS on float32 data, its dtype), its state vector and its dropout
  generators, the optimizer's state arrays (Adam's
  moments, SGD's velocity; its scratch arrays, named ``_...``, hold nothing
  between steps) and scalars, the training history (its scalars and
  the lists ``loss_curve_``/``validation_scores_``, which a call appends to:
  their lengths and last entries suffice), and a ``RandomState`` given as
  ``random_state`` (its draws).

The copies are made into arrays kept from the estimator's previous call (outside
its attributes: they are neither pickled nor saved), so an estimator trained
further keeps one copy of its parameter vector and optimizer state besides.

The tests compare every attribute, recursively, before a failed call and
after it (``tests/test_transactions.py``).
"""

from __future__ import annotations

import weakref

import numpy as np

__all__ = ["Snapshot"]

# estimator -> {name: array}: where its previous call kept its copies.  A partial_fit loop
# would otherwise allocate them anew on every call, and fresh arrays of this size cost far
# more than the copying (three of 650 kB: about 0.6 ms against 0.05 ms, as the allocator
# hands the memory back to the system between calls and takes it again, page by page).
_SPARE = weakref.WeakKeyDictionary()


class Snapshot:
    """The state of ``estimator`` now; :meth:`restore` puts it back.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
    """

    def __init__(self, estimator):
        self.estimator = estimator
        state = estimator.__dict__
        self.attrs = dict(state)
        self.copies = []  # (array, its copy): the arrays changed in place
        net = state.get("network_")
        self.net = None if net is None else (net, net._own_buffer, net.dtype)
        if net is not None:
            self._copy("theta", net.theta)
            self._copy("state", net.state_vector)  # running statistics, if any
            self.net_rng = net.get_rng_state() if net._draws_random() else None  # dropout
        opt = state.get("_optimizer")
        opt = getattr(opt, "core", opt)  # the presets' view under scikit-learn's names
        self.opt = None if opt is None else (opt, dict(vars(opt)))
        if opt is not None:
            # its state arrays; scratch arrays (named with a leading underscore) are
            # overwritten before they are read
            for k, v in vars(opt).items():
                if isinstance(v, np.ndarray) and not k.startswith("_"):
                    self._copy("optimizer." + k, v)
        hist = state.get("_history")
        self.hist = None if hist is None else (hist, dict(vars(hist)), [
            (v, len(v), v[-1:]) for v in vars(hist).values() if isinstance(v, list)])
        rng = state.get("random_state")
        self.rng = (rng, rng.get_state()) if isinstance(rng, np.random.RandomState) else None

    def _copy(self, name, a):
        spare = _SPARE.setdefault(self.estimator, {})
        copy = spare.get(name)
        if copy is None or copy.shape != a.shape or copy.dtype != a.dtype:
            copy = spare[name] = np.empty_like(a)
        np.copyto(copy, a)
        self.copies.append((a, copy))

    def restore(self):
        """Put the estimator back as it was when the snapshot was taken."""
        state = self.estimator.__dict__
        state.clear()
        state.update(self.attrs)
        if self.net is not None:
            net, buffer, dtype = self.net
            if net._own_buffer is not buffer:  # rebound (L-BFGS casts float32 to float64)
                net._own_buffer, net.dtype = buffer, dtype
                net._bind(net.n_in, buffer.params[0], buffer.grads[0], buffer.states[0])
            if self.net_rng is not None:
                net.set_rng_state(self.net_rng)
        if self.opt is not None:
            opt, saved = self.opt
            vars(opt).clear()
            vars(opt).update(saved)
        for a, copy in self.copies:
            np.copyto(a, copy)
        if self.hist is not None:
            hist, saved, lists = self.hist
            vars(hist).clear()
            vars(hist).update(saved)
            for values, n, last in lists:  # appended to, at most the last entry replaced
                values[max(n - 1, 0):] = last
        if self.rng is not None:
            rng, rng_state = self.rng
            rng.set_state(rng_state)
