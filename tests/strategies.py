"""Shared hypothesis strategies and small builders for the core test suite.

Everything random in the tests comes from here: bounded float64 arrays, small
shapes, drawn seeds, targets inside each loss's domain, and whole random
networks.  ReLU's kink at 0 has no derivative, so inputs meant for a ReLU are
moved away from it (:func:`dodge_kink`) and random networks whose ReLU inputs
come too close to 0 are rejected (:func:`relu_inputs_clear`).  :class:`Scale` is
the user-defined layer the tests share.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import strategies as st

from nnlite import (
    AbsoluteError,
    BinaryLogLoss,
    Dense,
    Exp,
    Huber,
    Identity,
    Layer,
    Logistic,
    LogLoss,
    PoissonLoss,
    ReLU,
    Sequential,
    Softmax,
    SquaredError,
    Tanh,
)
from nnlite.params import ParamSpec

seeds = st.integers(0, 2**32 - 1)


class Scale(Layer):
    """A learnable element-wise scale ``y = x * s``, written the way the docs tell users to."""

    def param_specs(self, n_in):
        return [ParamSpec("s", (n_in,), penalized=False)]

    def reset_parameters(self, rng):
        self.params["s"][...] = rng.uniform(0.5, 1.5, self.n_in)

    def forward(self, x, train=True):
        self._ensure_built(x)
        self._x = x if train else None
        return x * self.params["s"]

    def backward(self, grad_out):
        np.sum(grad_out * self._x, axis=0, out=self.grads["s"])
        return grad_out * self.params["s"]

    def extra_repr(self):
        return f"n={self.n_in}"

small = st.integers(1, 5)


def floats(low=-3.0, high=3.0):
    """Bounded, finite float64 scalars (no subnormals)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=64)


def arrays(shape, low=-3.0, high=3.0):
    """Float64 arrays of ``shape`` with entries in ``[low, high]``."""
    return hnp.arrays(np.float64, shape, elements=floats(low, high))


def dodge_kink(x, margin=1e-2):
    """Move the entries of ``x`` closer than ``margin`` to 0 away from it (ReLU's kink)."""
    x = np.array(x, dtype=np.float64)
    near = np.abs(x) < margin
    x[near] += np.copysign(5 * margin, x[near])
    return x


@st.composite
def batches(draw, n_in=None, low=-3.0, high=3.0, max_samples=5, max_width=5, min_samples=1):
    """A 2-D input ``(n_samples, n_in)`` of bounded float64 values."""
    n = draw(st.integers(min_samples, max_samples))
    n_in = draw(st.integers(1, max_width)) if n_in is None else n_in
    return draw(arrays((n, n_in), low, high))


@st.composite
def category_codes(draw, n_categories, max_samples=6, max_columns=3):
    """Integer codes in ``[0, n_categories)`` as a float64 ``(n_samples, k)`` array."""
    n = draw(st.integers(1, max_samples))
    k = draw(st.integers(1, max_columns))
    codes = draw(hnp.arrays(np.int64, (n, k), elements=st.integers(0, n_categories - 1)))
    return codes.astype(np.float64)


def sample_weights(n):
    """Positive sample weights of length ``n``."""
    return arrays((n,), 0.1, 3.0)


# ----- losses and their domains ----------------------------------------------------------
LOSSES = {
    "SquaredError": SquaredError,
    "LogLoss": LogLoss,
    "BinaryLogLoss": BinaryLogLoss,
    "PoissonLoss": PoissonLoss,
    "Huber": Huber,
    "AbsoluteError": AbsoluteError,
}


@st.composite
def loss_points(draw, loss_name, max_samples=5, max_outputs=4):
    """``(output, y)`` inside the domain of ``loss_name``, as float64 arrays."""
    n = draw(st.integers(1, max_samples))
    k = draw(st.integers(1, max_outputs))
    if loss_name == "SquaredError":
        return draw(arrays((n, k))), draw(arrays((n, k)))
    if loss_name in ("Huber", "AbsoluteError"):
        # residuals kept away from the kinks: 0 for AbsoluteError, |r| = 1 (Huber's delta)
        y, r = draw(arrays((n, k))), draw(arrays((n, k)))
        r = dodge_kink(r) if loss_name == "AbsoluteError" else np.sign(r) * (
            1 + dodge_kink(np.abs(r) - 1))
        return y + r, y
    if loss_name == "PoissonLoss":
        y = draw(arrays((n, k), 0.0, 5.0))
        y[draw(arrays((n, k), 0.0, 1.0)) < 0.3] = 0.0  # exact zeros are in the domain
        return draw(arrays((n, k), 0.1, 5.0)), y
    output = draw(arrays((n, k), 0.05, 0.95))
    if loss_name == "BinaryLogLoss":
        return output, draw(arrays((n, k), 0.0, 1.0))
    # LogLoss: one-hot rows, or rows of class probabilities
    if draw(st.booleans()):
        y = np.eye(k)[draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))]
    else:
        y = draw(arrays((n, k), 0.01, 1.0))
        y /= y.sum(axis=1, keepdims=True)
    if k == 1:
        y = draw(arrays((n, 1), 0.0, 1.0))
    return output, y


# ----- canonical output/loss pairs and random networks -----------------------------------
#: name -> (canonical output layer, loss class)
CANONICAL = {
    "Identity+SquaredError": (Identity, SquaredError),
    "Softmax+LogLoss": (Softmax, LogLoss),
    "Logistic+BinaryLogLoss": (Logistic, BinaryLogLoss),
    "Exp+PoissonLoss": (Exp, PoissonLoss),
}

HIDDEN = {"Tanh": Tanh, "ReLU": ReLU, "Logistic": Logistic, "Identity": Identity}


def unfused(loss):
    """A copy of ``loss`` that never fuses with its output layer (the chained path)."""
    cls = type(loss)
    chained = type(f"Chained{cls.__name__}", (cls,), {"fuses_with": lambda self, layer: False})
    out = copy.copy(loss)
    out.__class__ = chained
    return out


def make_target(loss, n, k, rng):
    """A target for ``loss`` with ``n`` samples and ``k`` outputs, in its domain."""
    if isinstance(loss, LogLoss):
        labels = rng.randint(0, k, n)
        labels[: min(n, k)] = np.arange(min(n, k))  # every class present when possible
        return labels if k > 1 and rng.rand() < 0.5 else np.eye(k)[labels]
    if isinstance(loss, BinaryLogLoss):
        return rng.randint(0, 2, (n, k)).astype(float)
    if isinstance(loss, PoissonLoss):
        return rng.poisson(1.5, (n, k)).astype(float)
    return rng.normal(size=(n, k))


@dataclass
class NetCase:
    """A drawn network: hidden widths and activations, output pair, data sizes, penalty."""

    hidden: list
    pair: str
    n_in: int
    n_samples: int
    n_out: int
    alpha: float
    weighted: bool
    seed: int

    def build(self):
        """``(net, x, y, loss, sample_weight)`` made from ``seed``."""
        rng = np.random.RandomState(self.seed)
        layers = []
        for width, act in self.hidden:
            layers += [Dense(width), HIDDEN[act]()]
        out_cls, loss_cls = CANONICAL[self.pair]
        layers += [Dense(self.n_out), out_cls()]
        net = Sequential(layers, n_in=self.n_in, random_state=rng)
        x = rng.uniform(-2, 2, (self.n_samples, self.n_in))
        loss = loss_cls()
        y = make_target(loss, self.n_samples, self.n_out, rng)
        w = rng.uniform(0.1, 2.0, self.n_samples) if self.weighted else None
        return net, x, y, loss, w


@st.composite
def net_cases(draw, max_depth=3, max_width=4, max_samples=5, max_in=4):
    """Random networks of 0..max_depth hidden layers, random widths and activations."""
    depth = draw(st.integers(0, max_depth))
    hidden = [(draw(st.integers(1, max_width)), draw(st.sampled_from(sorted(HIDDEN))))
              for _ in range(depth)]
    pair = draw(st.sampled_from(sorted(CANONICAL)))
    n_out = draw(st.integers(2 if pair == "Softmax+LogLoss" else 1, 3))
    return NetCase(hidden, pair, draw(st.integers(1, max_in)),
                   draw(st.integers(1, max_samples)), n_out,
                   draw(st.floats(1e-3, 1.0)), draw(st.booleans()), draw(seeds))


def relu_inputs_clear(net, x, margin=1e-4):
    """Whether every ReLU of ``net`` sees inputs at least ``margin`` away from its kink."""
    h = np.asarray(x, dtype=np.float64)
    for layer in net.layers:
        if isinstance(layer, ReLU) and h.size and np.min(np.abs(h)) < margin:
            return False
        h = layer.forward(h, train=False)
    return True


# ----- junk input for fuzzing ------------------------------------------------------------
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e6, -1e6, 1e-300]
DTYPES = ["float64", "float32", "float16", "int64", "int8", "uint8", "bool", "complex128",
          "object", "<U3", "S2"]


@st.composite
def junk(draw):
    """Arrays of random rank, size, dtype and values (finite, special or string)."""
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(DTYPES))
    n = int(np.prod(shape))
    values = draw(st.lists(st.one_of(st.floats(-10, 10), st.sampled_from(SPECIAL)),
                           min_size=n, max_size=n))
    base = np.array(values, dtype=np.float64).reshape(shape)
    with np.errstate(invalid="ignore", over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dtype in ("<U3", "S2"):
            return base.astype(np.float16).astype(dtype)
        if dtype == "object":
            return base.astype(object)
        return base.astype(dtype)


# ----- hyperparameter values for the printed estimator ------------------------------------------
_SHARED_STATE = np.random.RandomState(0)  # one object, so both printers see the same repr


def param_values(max_len=40):
    """Values a hyperparameter may hold: the valid kinds and anything else a user can set.

    Numbers of every size (``1e-05``, ``nan``, numpy scalars), strings short and long (long
    ones make :mod:`pprint` split them), tuples, lists and arrays short and long (over 30
    items sequences are cut), dicts, sets, ``None``, booleans and a ``RandomState``.
    """
    scalar = st.one_of(
        st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([1e-05, 1e-4, 0.0001, 1e-8, 0.999, 15000, np.nan, None, True, False]),
        st.text(max_size=max_len * 3), st.sampled_from(["lbfgs", "adam", "invscaling"]),
        st.integers(0, 2**32 - 1).map(np.int64), st.floats(-1e6, 1e6).map(np.float64),
        st.just(_SHARED_STATE))
    ints = st.integers(1, 1000)
    return st.one_of(
        scalar,
        st.lists(ints, max_size=max_len).map(tuple), st.lists(ints, max_size=max_len),
        st.lists(ints, min_size=1, max_size=max_len).map(np.array),
        st.dictionaries(st.text(max_size=8), scalar, max_size=6),
        st.frozensets(ints, max_size=max_len // 2),
        st.lists(st.text(max_size=30), max_size=6).map(tuple))


# ----- random stacks of the layers of issue 11 ---------------------------------------------
def _new_hidden():
    from nnlite import ELU, GELU, BatchNorm, Dropout, LayerNorm, LeakyReLU, SiLU, Softplus
    return {"LeakyReLU": lambda: LeakyReLU(0.1), "ELU": ELU, "GELU": GELU,
            "Softplus": Softplus, "SiLU": SiLU, "Tanh": Tanh, "LayerNorm": LayerNorm,
            "BatchNorm": BatchNorm, "Dropout": lambda: Dropout(0.3)}


@st.composite
def new_layer_stacks(draw, max_depth=3, max_width=4):
    """``(net, x, y, loss)``: Dense layers each followed by 1-2 drawn new layers, then a
    canonical output pair; maybe an Embedding branch first (its input then holds codes)."""
    hidden = _new_hidden()
    seed = draw(seeds)
    rng = np.random.RandomState(seed)
    n = draw(st.integers(2, 6))  # BatchNorm needs two samples in training
    layers = []
    if draw(st.booleans()):
        from nnlite import Embedding
        layers.append(Embedding(4, draw(st.integers(1, 3))))
        x = rng.randint(0, 4, (n, draw(st.integers(1, 2)))).astype(float)
    else:
        x = rng.uniform(-2, 2, (n, draw(st.integers(1, 4))))
    for _ in range(draw(st.integers(1, max_depth))):
        layers.append(Dense(draw(st.integers(1, max_width))))
        for name in draw(st.lists(st.sampled_from(sorted(hidden)), min_size=1, max_size=2)):
            layers.append(hidden[name]())
    pair = draw(st.sampled_from(sorted(CANONICAL)))
    out_cls, loss_cls = CANONICAL[pair]
    n_out = draw(st.integers(2 if pair == "Softmax+LogLoss" else 1, 3))
    layers += [Dense(n_out), out_cls()]
    net = Sequential(layers).build(x.shape[1], random_state=rng)
    loss = loss_cls()
    return net, x, make_target(loss, n, n_out, rng), loss


def kinks_clear(net, x, margin=1e-4):
    """Whether every LeakyReLU or ELU of ``net`` sees inputs away from its kink at 0
    (in training mode, with the generators put back afterwards)."""
    from nnlite import ELU, LeakyReLU
    rng_state, state = net.get_rng_state(), net.state_vector.copy()
    h = np.asarray(x, dtype=np.float64)
    clear = True
    for layer in net.layers:
        if isinstance(layer, (LeakyReLU, ELU)) and np.min(np.abs(h)) < margin:
            clear = False
        h = layer.forward(h, train=True)
    net.set_rng_state(rng_state)
    net.state_vector[...] = state
    return clear
# ----- random graphs ----------------------------------------------------------------------
@dataclass
class GraphCase:
    """A random graph (unbuilt), its input arrays and a target for SquaredError."""

    net: object
    xs: list
    y: np.ndarray


@st.composite
def graph_cases(draw, max_inputs=3, max_nodes=6, max_width=4, max_samples=4):
    """Random DAGs: Dense layers, activations, Add/Multiply/Concatenate, several inputs, and
    Dense layers called at two nodes (shared).  Smooth activations only: no kinks to dodge.

    Every node nobody reads (unused inputs included) ends in one Concatenate before the
    output Dense, so the graph uses all its inputs.
    """
    from nnlite import Add, Concatenate, Graph, Input, Multiply

    inputs = [Input(draw(st.integers(1, max_width)))
              for _ in range(draw(st.integers(1, max_inputs)))]
    nodes, read, dense = list(inputs), set(), []
    for _ in range(draw(st.integers(1, max_nodes))):
        kind = draw(st.sampled_from(["dense", "act", "merge", "concat", "shared"]))
        node = nodes[draw(st.integers(0, len(nodes) - 1))]
        if kind == "shared":  # a Dense layer already used, called again on a node that fits
            fits = [(d, n) for d, width in dense for n in nodes if n.width == width]
            kind = "dense" if not fits else kind
        if kind == "dense":
            layer = Dense(draw(st.integers(1, max_width)))
            dense.append((layer, node.width))
            new = layer(node)
        elif kind == "shared":
            layer, node = draw(st.sampled_from(fits))
            new = layer(node)
        elif kind == "act":
            new = draw(st.sampled_from([Tanh, Logistic, Identity, Scale]))()(node)
        else:
            same = [(m, n) for m in nodes for n in nodes if m.width == n.width and m is not n]
            if kind == "merge" and same:
                node, other = draw(st.sampled_from(same))
                new = draw(st.sampled_from([Add, Multiply]))()([node, other])
            else:
                other = nodes[draw(st.integers(0, len(nodes) - 1))]
                new = Concatenate()([node, other])
            read.add(id(other))
        read.add(id(node))
        nodes.append(new)
    loose = [n for n in nodes if id(n) not in read]
    top = loose[0] if len(loose) == 1 else Concatenate()(loose)
    out = Dense(draw(st.integers(1, 3)))(top)
    n = draw(st.integers(1, max_samples))
    xs = [draw(arrays((n, i.width))) for i in inputs]
    y = draw(arrays((n, out.width)))
    return GraphCase(Graph(inputs, out, random_state=draw(seeds)), xs, y)
