"""A minibatch step recorded once as a flat list of calls, then replayed.

``Sequential._loss_and_grad`` walks the layers and asks each for its work; on a
batch of a few hundred rows that walk (dispatch, work-array lookups, dtype and
layout checks) costs about as much as the element-wise arithmetic itself.  The
training loop gathers every batch into the same arrays, so from the second batch
on the work is the same sequence of calls on the same arrays.  :func:`record`
writes that sequence down for the common stacks -- ``Dense`` layers with ReLU,
Tanh, Logistic or Identity activations, ending in a loss fused with its output
layer -- and :meth:`StepProgram.run` replays it.  Where the loss and the
gradient's scaling have compiled kernels (``Loss._fused_program``,
``Network._finish_program``) their calls are recorded too, and the replay is one
flat loop with no Python logic between the kernels.  Every recorded call is the one
the layer-by-layer path makes, on the same arrays, so the results are the same
bits; tests/test_kernels.py compares the two.
"""

from __future__ import annotations

import numpy as np

from .. import _accel, _products
from ..layers import Dense, Identity, Logistic, ReLU, Tanh

_ELEMENTWISE = (Tanh, Logistic)


class StepProgram:
    """The forward calls, the fused loss, the backward calls of one batch shape."""

    def __init__(self, net, x, y, loss, alpha, codes, compute_value, forward, delta, backward):
        self.net, self.x, self.y, self.loss, self.alpha = net, x, y, loss, alpha
        self.codes, self.compute_value = codes, compute_value
        self.forward, self.delta, self.backward = forward, delta, backward
        self.kernels, self.buffer = _accel.K, net._own_buffer
        # what the recorded loss calls depend on besides the arrays
        self.value_from_logits = getattr(loss, "value_from_logits", None)
        # the loss's and the gradient's finishing calls, recorded too where they can be
        loss_calls = loss._fused_program(delta, y, compute_value, codes)
        finish = net._finish_program(x.shape[0], alpha, compute_value)
        if loss_calls is not None and finish is not None:
            calls, (value_call, value_args) = loss_calls
            self.run = self._make_run(forward + calls, value_call, value_args, backward,
                                      finish)

    def fits(self, x, y, loss, alpha, sample_weight, codes, compute_value):
        """Whether a call with these arguments is the recorded one."""
        return (x is self.x and y is self.y and codes is self.codes and loss is self.loss
                and sample_weight is None
                # the same value and type: float32 scaling treats numpy scalars apart
                and alpha == self.alpha and type(alpha) is type(self.alpha)
                and compute_value == self.compute_value and _accel.K is self.kernels
                and self.net._own_buffer is self.buffer
                and getattr(loss, "value_from_logits", None) == self.value_from_logits)

    @staticmethod
    def _make_run(calls, value_call, value_args, backward, finish):
        def run():
            for call, args in calls:
                call(*args)
            value = value_call(*value_args)
            for call, args in backward:
                call(*args)
            return finish(value)
        run.__doc__ = StepProgram.run.__doc__
        return run

    def run(self):
        """Replay the step; returns ``(value, grad)`` as ``Sequential._loss_and_grad``."""
        for call, args in self.forward:
            call(*args)
        value, delta = self.loss._fused_inplace(self.delta, self.y, None, self.compute_value,
                                                self.codes)
        if delta is not self.delta:  # a loss that answers with a new array
            if delta.dtype != self.delta.dtype or delta.shape != self.delta.shape:
                # not what was recorded: forget the recording and walk the layers
                self.net.__dict__.pop("_step_program", None)
                return self.net._loss_and_grad(self.x, self.y, self.loss, self.alpha, None,
                                               self.compute_value, self.codes)
            np.copyto(self.delta, delta)  # the same numbers, where the calls expect them
        for call, args in self.backward:
            call(*args)
        return self.net._finish_gradient(value, self.x.shape[0], self.alpha, None,
                                          self.compute_value)


def record(net, x, y, loss, alpha, sample_weight, codes, compute_value):
    """A :class:`StepProgram` for this call of ``net._loss_and_grad``, or None.

    None when the stack, the arrays or the loss are outside what a program covers;
    the caller then keeps the layer-by-layer path.
    """
    K = _accel.K
    layers = net.layers
    dt = net.dtype
    if (K is None or sample_weight is not None or type(x) is not np.ndarray
            or x.dtype != dt or x.ndim != 2 or not x.flags.c_contiguous
            or not isinstance(y, np.ndarray) or y.dtype != dt
            or len(layers) < 2 or type(layers[0]) is not Dense
            or not (loss.fuses_with(layers[-1]) and hasattr(loss, "_fused_inplace"))):
        return None
    stop = len(layers) - 1
    if any(type(layer) not in (Dense, ReLU, Identity) + _ELEMENTWISE for layer in layers[:stop]):
        return None
    # activations run in place on the Dense output before them; a second one in a row
    # would overwrite the output the first keeps for its backward pass
    if any(type(a) is not Dense and type(b) is not Dense
           for a, b in zip(layers[:stop], layers[1:stop])):
        return None
    n = x.shape[0]
    forward, inputs, outputs = [], {}, {}
    relu_after = net._relu_after_dense()
    h, i = x, 0
    while i < stop:
        layer = layers[i]
        if type(layer) is Dense:
            inputs[i] = h
            out = layer._buffer("out", (n, layer.units), dt)
            forward.append(_products.prepared(h, layer.params["W"], out))
            b = layer.params["b"] if layer.bias else None
            relu = relu_after[i] is not None and i + 1 < stop
            if b is not None or relu:
                forward.append((K.bias_act, (out, b, n, layer.units, relu)))
            outputs[i] = h = out
            i += 2 if relu else 1
        elif type(layer) is ReLU:  # after an activation, not a Dense: in place
            forward.append((K.bias_act, (h, None, n, h.shape[1], True)))
            outputs[i] = h
            i += 1
        else:  # Tanh, Logistic in place; Identity does nothing
            if type(layer) is not Identity:
                forward.append((type(layer)._apply_inplace, (h,)))
            outputs[i] = h
            i += 1
    delta = h

    backward = []
    g, i = delta, stop - 1
    while i >= 0:
        layer = layers[i]
        if type(layer) is ReLU and i > 0 and relu_after[i - 1] is layer:
            i -= 1
            g = _dense_backward(backward, layers[i], inputs[i], g, outputs[i], n, i > 0, dt)
        elif type(layer) is Dense:
            g = _dense_backward(backward, layer, inputs[i], g, None, n, i > 0, dt)
        elif type(layer) is ReLU:
            backward.append((K.relu_back, (g, outputs[i], None, n, g.shape[1])))
        elif type(layer) is not Identity:
            backward.append((layer._derivative_inplace, (outputs[i], g)))
        i -= 1
    return StepProgram(net, x, y, loss, alpha, codes, compute_value, forward, delta, backward)


def _dense_backward(calls, dense, x, g, relu_z, n, need_grad_in, dt):
    """Record a Dense layer's backward pass (with the ReLU after it, if ``relu_z``)."""
    K = _accel.K
    sums = dense.grads["b"] if dense.bias else None
    if relu_z is not None or sums is not None:
        calls.append((K.relu_back, (g, relu_z, sums, n, dense.units)))
    calls.append(_products.prepared(x.T, g, dense.grads["W"]))
    if not need_grad_in:
        return None
    grad_in = dense._buffer("grad_in", (n, dense.n_in), dt)
    W_t = dense.params["W"].T
    # a layer of one unit: the input gradient is an outer product (see _accel.outer_call)
    outer = _accel.outer_call(g, W_t, grad_in) if dense.units == 1 else None
    calls.append(outer or _products.prepared(g, W_t, grad_in))
    return grad_in
