"""The base of the networks: layers that share one flat parameter vector.

:class:`Network` holds what :class:`~nnlite.Sequential` and
:class:`~nnlite.Graph` have in common: the flat parameter, gradient and state
vectors with per-layer views (keys ``"<layer index>.<name>"``), building,
``astype``, the L2 term, pickling, :meth:`Network.summary`, and the fast
computation of a chain of layers (fused Dense+ReLU passes, the fused output/loss
pair, the recorded step of ``_program`` and the row-blocked prediction of
``_rowblocks``), which a Sequential always runs and a Graph runs when its layers
form a chain.

A subclass sets ``self.layers`` (each layer once, in the order they compute) and
defines :meth:`Network._layer_input_widths` and :meth:`Network.output_width`.
"""

from __future__ import annotations

import weakref

import numpy as np

from .. import _accel, _backends, _products, _threads, _validation
from ..layers import Dense, Layer, ReLU
from ..params import ParamBuffer, ParamSpec
from . import _program, _rowblocks
from ._summary import Summary

__all__ = ["Network"]

#: Elements per slice of the flat-vector operations that need a work array.
_SLICE = 16384


class Network(Layer):
    """A layer made of layers, owning one flat parameter vector (base of Sequential, Graph).

    Attributes
    ----------
    layers : list of Layer
        Each layer once, in the order the network computes them.
    theta, grad, state_vector : ndarray
        The flat vectors (see the properties).
    """

    can_skip_grad_in = True

    def _init_network(self, layers, dtype, random_state):
        self.layers = layers
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.random_state = random_state
        self._own_buffer = None

    # ----- building ----------------------------------------------------------------------
    def _layer_input_widths(self, n_in) -> list:
        """The input width of every layer of :attr:`layers` for a network input ``n_in``."""
        raise NotImplementedError

    def param_specs(self, n_in):
        return [ParamSpec(f"{i}.{s.name}", s.shape, s.penalized)
                for i, (layer, width) in enumerate(zip(self.layers,
                                                      self._layer_input_widths(n_in)))
                for s in layer.param_specs(width)]

    def state_specs(self, n_in):
        return [ParamSpec(f"{i}.{s.name}", s.shape, False)
                for i, (layer, width) in enumerate(zip(self.layers,
                                                      self._layer_input_widths(n_in)))
                for s in layer.state_specs(width)]

    def _bind(self, n_in, params, grads, state=None):
        state = {} if state is None else state
        super()._bind(n_in, params, grads, state)
        self._relu_pairs = None
        self.__dict__.pop("_step_program", None)  # it holds views of the old parameters
        self.__dict__.pop("_previous_x", None)
        for i, (layer, width) in enumerate(zip(self.layers, self._layer_input_widths(n_in))):
            prefix = f"{i}."
            mine = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
            their = {k[len(prefix):]: v for k, v in grads.items() if k.startswith(prefix)}
            kept = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            layer._bind(width, mine, their, kept)
            layer._checks_input = False  # the network validates its input once, at its entry

    def build(self, n_in, dtype=None, random_state=None):
        """Infer every width from ``n_in``, allocate the flat vector, initialise.

        Parameters
        ----------
        n_in : int
            Input width.
        dtype : {numpy.float64, numpy.float32}, optional
            Overrides the ``dtype`` given at construction.
        random_state : None, int or numpy.random.RandomState, optional
            Overrides the ``random_state`` given at construction.  Layers draw
            their initial values in order, input side first.

        Returns
        -------
        self
        """
        dtype = np.dtype(dtype or self.dtype or np.float64)
        if dtype not in (np.float32, np.float64):
            raise ValueError(
                f"{type(self).__name__}: dtype must be float32 or float64; got {dtype}.")
        self.dtype = dtype
        seed = self.random_state if random_state is None else random_state
        super().build(n_in, dtype=dtype, random_state=seed)
        self._penalized_sizes = [s.size for s in self.param_specs(n_in) if s.penalized]
        return self

    def astype(self, dtype) -> Network:
        """This network with parameters of another dtype (itself if the dtype is unchanged).

        The layers are rebound to a new flat vector holding the converted values.
        """
        dtype = np.dtype(dtype)
        self._check_built()
        if dtype == self.dtype:
            return self
        old = self._own_buffer
        buf = ParamBuffer([self.param_specs(self.n_in)], dtype, [self.state_specs(self.n_in)])
        buf.theta[...] = old.theta
        buf.state[...] = old.state
        self._own_buffer = buf
        self._bind(self.n_in, buf.params[0], buf.grads[0], buf.states[0])
        self.dtype = dtype
        return self

    def reset_parameters(self, rng):
        """Initialise every layer in order from ``rng``."""
        for layer in self.layers:
            layer.reset_parameters(rng)

    def seed_rng(self, seed):
        """Seed the layers that draw random numbers, one child of ``seed`` each."""
        for layer, child in zip(self.layers, seed.spawn(len(self.layers))):
            layer.seed_rng(child)

    @property
    def differentiable_input(self):
        """Whether the first layer's input is continuous (not category codes)."""
        return self.layers[0].differentiable_input

    def _draws_random(self):
        return any(layer._draws_random() for layer in self.layers)

    def get_rng_state(self):
        """Snapshots of the layers' generators (see :meth:`Layer.get_rng_state`)."""
        return [layer.get_rng_state() for layer in self.layers]

    def set_rng_state(self, state):
        """Put back snapshots taken by :meth:`get_rng_state`."""
        for layer, s in zip(self.layers, state):
            layer.set_rng_state(s)

    def _ensure_built(self, x):
        if not self.built:
            dtype = self.dtype or (np.float32 if x.dtype == np.float32 else np.float64)
            self.build(x.shape[1], dtype=dtype)

    # ----- parameters --------------------------------------------------------------------
    @property
    def theta(self) -> np.ndarray:
        """All parameters as one flat vector (a view: writing into it changes the layers).

        Penalized arrays (weights) of every layer come first, then the rest.
        """
        self._check_built()
        return self._own_buffer.theta

    @property
    def grad(self) -> np.ndarray:
        """The flat gradient vector written by :meth:`backward` and :meth:`loss_and_grad`."""
        self._check_built()
        return self._own_buffer.grad

    @property
    def n_penalized(self) -> int:
        """``theta[:n_penalized]`` are the arrays the L2 penalty applies to."""
        self._check_built()
        return self._own_buffer.n_penalized

    @property
    def state_vector(self) -> np.ndarray:
        """All non-trainable arrays as one flat vector (a view; empty if no layer keeps state).

        State such as running statistics is saved, loaded and restored with
        :attr:`theta`, but the optimizer and the L2 penalty never see it.
        """
        self._check_built()
        return self._own_buffer.state

    def set_theta(self, values) -> None:
        """Copy ``values`` into the flat parameter vector (never rebinding it)."""
        values = np.asarray(values)
        if values.shape != self.theta.shape:
            raise ValueError(
                f"{type(self).__name__}.set_theta: expected shape {self.theta.shape}; "
                f"got {values.shape}."
            )
        self.theta[...] = values

    def named_parameters(self) -> dict:
        """Per-layer parameter views, keyed ``"<layer index>.<name>"`` (e.g. ``"0.W"``)."""
        self._check_built()
        return {f"{i}.{name}": view for i, layer in enumerate(self.layers)
                for name, view in layer.params.items()}

    def named_state(self) -> dict:
        """Per-layer views of the non-trainable arrays, keyed like :meth:`named_parameters`."""
        self._check_built()
        return {f"{i}.{name}": view for i, layer in enumerate(self.layers)
                for name, view in layer.state.items()}

    def named_gradients(self) -> dict:
        """Per-layer gradient views, keyed like :meth:`named_parameters`."""
        self._check_built()
        return {f"{i}.{name}": view for i, layer in enumerate(self.layers)
                for name, view in layer.grads.items()}

    def _check_built(self):
        if self._own_buffer is None:
            raise RuntimeError(
                f"{type(self).__name__}: the network is not built yet; call build(n_in) or "
                "forward(x) first."
            )

    # ----- computing ---------------------------------------------------------------------
    def forward(self, x, train=True):
        """Output of the network for ``x`` of shape ``(n_samples, n_in)``.

        ``x`` (array-like or scipy.sparse CSR/CSC) must be 2-D, non-empty, real,
        finite and, once the network is built, ``n_in`` wide; otherwise
        ``ValueError`` (``TypeError`` for non-numeric data) says what is wrong.
        A network with several inputs takes a list or tuple of such arrays.
        """
        if self._checks_input:
            x = _validation.check_input(self, x, f"{type(self).__name__}.forward")
        return self._forward(x, train)

    def predict(self, x):
        """Output of the network without caching anything for a backward pass.

        ``x`` is validated as in :meth:`forward`.  A dask array gives a lazy dask
        array, one task per block of rows (see :mod:`nnlite.dask`).
        """
        if _backends.is_dask(x):
            from ..dask import _predict

            return _predict.predict(self, x)
        if self._checks_input:
            x = _validation.check_input(self, x, f"{type(self).__name__}.predict")
        return self._forward(x, False)

    def _forward(self, x, train):
        if not train:
            self._ensure_built(x)
            rows = _rowblocks.block_rows(self, x)
            if rows:  # large inputs: blocks of rows, in cache, on the free cores
                out = _rowblocks.predict(self, x, rows)
                if out is not None:
                    return out
            # BLAS on one thread, as for training: the bits then do not depend on what
            # another thread's training has set it to at this moment
            with _threads.for_prediction():
                return self._forward_fast(x, train, False, False)[0]
        return self._forward_fast(x, train, False, False)[0]

    def _forward_fast(self, x, train, owned, scratch):
        # activations run in place on the fresh output of the layer before them; the
        # caller's x is never written
        self._ensure_built(x)
        for layer in self.layers:
            x, owned = layer._forward_fast(x, train, owned, scratch)
        return x, owned

    def _relu_after_dense(self):
        """For every layer, the ReLU that follows it if it is a Dense (else None).

        The training passes hand that ReLU to the Dense layer, which applies it (and
        its derivative) in the same pass over memory as its bias.
        """
        pairs = self.__dict__.get("_relu_pairs")
        if pairs is None:  # found once per build (the layers are fixed from then on)
            layers = self.layers
            pairs = self._relu_pairs = [
                nxt if type(layer) is Dense and type(nxt) is ReLU else None
                for layer, nxt in zip(layers, layers[1:])] + [None]
        return pairs

    def _backward_fast(self, grad_out, need_grad_in, scratch, stop=None):
        layers = self.layers if stop is None else self.layers[:stop]
        relu_after = self._relu_after_dense()
        g = grad_out
        i = len(layers) - 1
        while i >= 0:
            layer, need = layers[i], need_grad_in if i == 0 else True
            if i > 0 and relu_after[i - 1] is layer:  # a ReLU right after a Dense: one pass
                i -= 1
                need = need_grad_in if i == 0 else True
                g = layers[i]._backward_fast(g, need, scratch, relu=layer)
            else:
                g = layer._backward_fast(g, need, scratch)
            i -= 1
        return g

    def _drop_buffers(self):
        super()._drop_buffers()
        self.__dict__.pop("_step_program", None)
        self.__dict__.pop("_previous_x", None)
        for layer in self.layers:
            layer._drop_buffers()

    def loss_and_grad(self, x, y, loss, alpha=0.0, sample_weight=None, compute_value=True):
        """Objective and its gradient with respect to :attr:`theta`.

        The objective is ``(sum_i w_i l_i + alpha/2 ||W||^2) / S`` with ``S`` the
        number of samples (or the sum of the weights ``w``), as scikit-learn
        defines it; ``W`` are the penalized arrays.

        Parameters
        ----------
        x : ndarray of shape (n_samples, n_in)
        y : ndarray of shape (n_samples, n_out)
            Target, already in the loss's format (see ``Loss.prepare_target``).
        loss : Loss
        alpha : float, default=0.0
            L2 penalty.
        sample_weight : ndarray of shape (n_samples,), optional
        compute_value : bool, default=True
            Skip computing the objective's value when false (``None`` is returned).

        Returns
        -------
        value : float or None
        grad : ndarray of shape (n_params,)
            The network's own gradient buffer (copy it to keep it).

        Raises
        ------
        ValueError, TypeError
            For invalid ``x``, ``y``, ``sample_weight`` or ``alpha`` (checked
            here once; the training loop calls the unchecked ``_loss_and_grad``).
        """
        x, y, sample_weight, alpha = _validation.check_objective(
            self, f"{type(self).__name__}.loss_and_grad", x, y, loss, alpha, sample_weight)
        return self._loss_and_grad(x, y, loss, alpha, sample_weight, compute_value)

    def _loss_and_grad(self, x, y, loss, alpha=0.0, sample_weight=None, compute_value=True,
                       codes=None):
        self._ensure_built(x)
        if getattr(loss, "class_weight", None) is not None:  # class weights weigh the rows
            sample_weight = loss._row_weights(y, sample_weight)
        program = self.__dict__.get("_step_program")
        if program is not None and program.fits(x, y, loss, alpha, sample_weight, codes,
                                                compute_value):
            return program.run()  # the calls below, recorded for these arrays (see _program)
        fused = loss.fuses_with(self.layers[-1])
        stop = len(self.layers) - 1 if fused else len(self.layers)
        # work arrays are reused from batch to batch; activations run in place
        h, owned = x, False
        layers, relu_after = self.layers, self._relu_after_dense()
        i = 0
        while i < stop:
            if relu_after[i] is not None and i + 1 < stop:
                h, owned = layers[i]._forward_fast(h, True, owned, True, relu=relu_after[i])
                i += 2
            else:
                h, owned = layers[i]._forward_fast(h, True, owned, True)
                i += 1
        if fused and owned and hasattr(loss, "_fused_inplace"):
            value, delta = loss._fused_inplace(h, y, sample_weight, compute_value, codes)
        elif fused:
            value, delta = loss.fused_value_and_delta(h, y, sample_weight, compute_value)
        else:  # h is already the output: the loop above ran every layer
            value = loss._value(h, y, sample_weight) if compute_value else None
            delta = loss._gradient(h, y, sample_weight)
        if stop:  # a lone fused output layer has nothing to backpropagate into
            self._backward_fast(delta, False, True, stop=stop)
        previous = self.__dict__.get("_previous_x")  # a weak reference: no data kept alive
        if previous is not None and previous() is x:  # the same batch array again: record
            self._step_program = _program.record(self, x, y, loss, alpha, sample_weight, codes,
                                                 compute_value)
        self._previous_x = weakref.ref(x)
        return self._finish_gradient(value, x.shape[0], alpha, sample_weight, compute_value)

    def _logits_layer(self):
        """The layer whose output feeds the last layer (for a fused output/loss pair), or None."""
        return self.layers[-2] if len(self.layers) > 1 else None

    def _finish_gradient(self, value, n_rows, alpha, sample_weight, compute_value):
        # the L2 term and the division by the number of samples, in scikit-learn's order
        buf = self._own_buffer
        grad, theta, npen = buf.grad, buf.theta, buf.n_penalized
        s = n_rows if sample_weight is None else sample_weight.sum()
        scale = _accel.scale_gradient_call(grad, theta, npen, alpha, s)
        if scale is not None:
            scale[0](*scale[1], _products.halves(grad.size))
        else:
            if alpha:  # in slices, so that the work array stays small
                tmp = self._buffer("alpha", (min(npen, _SLICE),),
                                   np.result_type(theta.dtype, alpha))
                for a in range(0, npen, _SLICE):
                    b = min(a + _SLICE, npen)
                    np.multiply(theta[a:b], alpha, out=tmp[:b - a])
                    grad[a:b] += tmp[:b - a]
            grad /= s
        if compute_value:
            value += (0.5 * alpha) * _squared_norm(self._penalty_segments(theta)) / s
        return value, grad

    def _finish_program(self, n_rows, alpha, compute_value):
        """``finish(value) -> (value, grad)`` doing ``_finish_gradient(value, n_rows,
        alpha, None, compute_value)`` on this network's buffer, or None (no kernel)."""
        buf = self._own_buffer
        grad, s = buf.grad, n_rows
        scale = _accel.scale_gradient_call(grad, buf.theta, buf.n_penalized, alpha, s)
        if scale is None:
            return None
        call, args = scale
        segments = self._penalty_segments(buf.theta)

        def finish(value):
            call(*args, _products.halves(grad.size))
            if compute_value:
                value += (0.5 * alpha) * _squared_norm(segments) / s
            return value, grad
        return finish

    def _squared_norm_by_layer(self, w):
        return _squared_norm(self._penalty_segments(w))

    def _penalty_segments(self, w):
        """The penalized weights of each layer, in order, as views of ``w``."""
        segments, start = [], 0
        for size in self._penalized_sizes:
            segments.append(w[start:start + size])
            start += size
        return segments


    # ----- display and pickling ----------------------------------------------------------
    def _summary_rows(self):
        """``(name, layer, output width, input names)`` of every node, in order."""
        raise NotImplementedError

    def summary(self) -> Summary:
        """A table of the layers: output width, parameters and inputs of each node.

        Returns
        -------
        nnlite.models.Summary
            Prints as a table; ``rows``, ``trainable`` and ``non_trainable``
            (non-trainable: state such as running statistics) hold the numbers.
            A layer used at several nodes counts its parameters once.
        """
        self._check_built()
        return Summary(type(self).__name__, self._summary_rows())

    def __setstate__(self, state):
        super().__setstate__(state)
        if self.built and self._own_buffer is not None:  # a nested network: its owner rebinds
            buf = self._own_buffer
            self._bind(self.n_in, buf.params[0], buf.grads[0], buf.states[0])


def _squared_norm(segments):
    # one dot product per layer, summed: the order scikit-learn adds them in
    total = 0.0
    for seg in segments:
        total += np.dot(seg, seg)
    return total
