"""Persistence: nnlite.save/load round trips, refusal of bad files, atomic saves, pickling.

The committed fixture ``tests/data/sequential_v1.nnlite`` was written by nnlite
0.1.0 (format 1.0); ``tests/data/README.md`` holds the script that made it.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse

import nnlite
from nnlite import (
    SGD,
    Adam,
    Constant,
    Dense,
    Exp,
    GlorotUniform,
    Identity,
    Logistic,
    LogLoss,
    ReLU,
    Sequential,
    Softmax,
    SquaredError,
    Tanh,
    Zeros,
    load,
    save,
    train,
)
from nnlite import io as nio
from nnlite.io import ModelFileError

DATA = os.path.join(os.path.dirname(__file__), "data")
RNG = np.random.RandomState(0)
X = RNG.normal(size=(30, 3))
Y = (X[:, 0] * X[:, 1] > 0).astype(int)


def trained(net, dtype=np.float64, epochs=3):
    train(net, X.astype(dtype), Y if net.layers[-1].__class__ is Softmax else Y[:, None],
          LogLoss(), Adam(0.01), epochs=epochs, batch_size=8, random_state=0)
    return net


STACKS = {
    "mlp": lambda: trained(Sequential([Dense(5), Tanh(), Dense(2), Softmax()])),
    "float32": lambda: trained(Sequential([Dense(4), ReLU(), Dense(2), Softmax()]),
                               dtype=np.float32),
    "nested": lambda: trained(Sequential([
        Dense(4), Sequential([Dense(3), Logistic(), Sequential([Dense(3), Tanh()])]),
        Dense(2), Softmax()])),
    "initialisers": lambda: trained(Sequential([
        Dense(4, n_in=3, weight_init=Constant(0.25), bias_init=Zeros()), Identity(),
        Dense(3, weight_init=GlorotUniform(2.0), bias=False), Exp(), Dense(2), Softmax()],
        random_state=3)),
    "binary": lambda: trained(Sequential([Dense(3), Tanh(), Dense(1), Logistic()])),
}


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def path_in(tmp_path, name="model.nnlite"):
    return os.fspath(tmp_path / name)


# ----- round trips --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(STACKS))
def test_round_trip_predicts_bit_identically_and_keeps_training(kind, tmp_path):
    net = STACKS[kind]()
    path = path_in(tmp_path)
    save(net, path)
    back = load(path)
    assert type(back) is Sequential and repr(back) == repr(net)
    assert back.dtype == net.dtype and back.n_in == net.n_in
    assert back.theta.tobytes() == net.theta.tobytes()
    x = X.astype(net.dtype)
    assert np.array_equal(back.predict(x), net.predict(x))
    for name, view in back.named_parameters().items():
        assert np.shares_memory(view, back.theta), name
    # both continue identically
    y = Y if isinstance(net.layers[-1], Softmax) else Y[:, None]
    for model in (net, back):
        train(model, x, y, LogLoss(), SGD(0.05), epochs=2, batch_size=8, random_state=1)
    assert back.theta.tobytes() == net.theta.tobytes()


def test_saving_is_deterministic(tmp_path):
    net = STACKS["nested"]()
    save(net, path_in(tmp_path, "a"))
    save(load(path_in(tmp_path, "a")), path_in(tmp_path, "b"))
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_unbuilt_network_keeps_its_configuration(tmp_path):
    net = Sequential([Dense(4, weight_init=Constant(0.5)), Tanh(), Dense(2)], random_state=5)
    save(net, path_in(tmp_path))
    back = load(path_in(tmp_path))
    assert not back.built and back.random_state == 5
    assert np.array_equal(back.forward(X), net.forward(X))  # same seed, same initial weights


def test_declared_input_width_survives(tmp_path):
    net = Sequential([Dense(2, n_in=3), Tanh()], n_in=3, random_state=0)
    save(net, path_in(tmp_path))
    back = load(path_in(tmp_path))
    assert back.input_width == 3 and back.layers[0].input_width == 3
    with pytest.raises(ValueError, match="has 4 features, but the network expects 3"):
        back.predict(np.ones((1, 4)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_used_alone_round_trips(dtype, tmp_path):
    layer = Dense(3, bias_init=Constant(-1.0)).build(4, dtype=dtype, random_state=2)
    save(layer, path_in(tmp_path))
    back = load(path_in(tmp_path))
    assert isinstance(back, Dense) and back.params["W"].dtype == dtype
    x = np.ones((2, 4), dtype)
    assert np.array_equal(back.forward(x), layer.forward(x))
    save(Softmax(), path_in(tmp_path, "s"))
    assert isinstance(load(path_in(tmp_path, "s")), Softmax)


def test_load_accepts_a_binary_file_object(tmp_path):
    net = STACKS["mlp"]()
    save(net, path_in(tmp_path))
    back = load(io.BytesIO((tmp_path / "model.nnlite").read_bytes()))
    assert np.array_equal(back.predict(X), net.predict(X))


def test_save_accepts_pathlike_and_exports(tmp_path):
    assert nnlite.save is save and nnlite.load is load and "save" in nnlite.__all__
    save(STACKS["mlp"](), tmp_path / "p.nnlite")
    assert isinstance(load(tmp_path / "p.nnlite"), Sequential)


def test_committed_v1_fixture_still_loads():
    net = load(os.path.join(DATA, "sequential_v1.nnlite"))
    ref = np.load(os.path.join(DATA, "sequential_v1_expected.npz"), allow_pickle=False)
    params = net.named_parameters()
    assert sorted(params) == sorted(k[len("param_"):] for k in ref if k.startswith("param_"))
    for name, view in params.items():
        assert np.array_equal(view, ref[f"param_{name}"]), name
    # parameters are exact; outputs may differ in the last bits on another BLAS
    np.testing.assert_allclose(net.predict(ref["X"]), ref["expected"], rtol=1e-12, atol=0)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Dense", "Tanh", "Sequential", "Dense", "Logistic", "Dense", "Identity",
                     "Exp", "Dense", "Softmax"]
    assert net.layers[5].weight_init.value == 0.1 and net.layers[5].bias is False
    assert net.layers[3].weight_init.factor == 2.0
    assert isinstance(net.layers[2].layers[0].bias_init, Zeros)


# ----- pickling -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["mlp", "float32", "nested"])
def test_pickle_round_trip_is_bit_exact_and_views_alias(kind):
    net = STACKS[kind]()
    back = pickle.loads(pickle.dumps(net))
    x = X.astype(net.dtype)
    assert np.array_equal(back.predict(x), net.predict(x))
    for name, view in back.named_parameters().items():
        assert np.shares_memory(view, back.theta), name
    for name, view in back.named_gradients().items():
        assert np.shares_memory(view, back.grad), name
    first = back.theta[0]
    back.theta[0] = 123.0  # writing the flat vector moves the layer's view
    assert back.layers[0].params["W"].flat[0] == 123.0
    back.theta[0] = first
    for model in (net, back):
        train(model, x, Y, LogLoss(), SGD(0.05), epochs=2, batch_size=8, random_state=1)
    assert back.theta.tobytes() == net.theta.tobytes()


# ----- files that must be refused -----------------------------------------------------------
def members(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_zip(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def tampered(tmp_path, edit_header=None, edit_entries=None):
    """A copy of a saved network with its header and/or members edited."""
    src = path_in(tmp_path, "good.nnlite")
    save(STACKS["nested"](), src)
    entries = members(src)
    header = json.loads(entries["nnlite.json"])
    if edit_header is not None:
        edit_header(header)
    entries["nnlite.json"] = json.dumps(header).encode()
    if edit_entries is not None:
        edit_entries(entries)
    out = path_in(tmp_path, "bad.nnlite")
    write_zip(out, entries)
    return out


def npy(a, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=allow_pickle)
    return buf.getvalue()


def first_dense(header):
    return header["model"]["config"]["layers"][0]["config"]


def set_key(key, value):
    def edit(header):
        first_dense(header)[key] = value
    return edit


def replace_array(name, value):
    def edit(entries):
        entries[f"arrays/params/{name}.npy"] = npy(value)
    return edit


BAD_HEADERS = {
    "wrong format name": (lambda h: h.update(format="something-else"), "format is"),
    "newer major version": (lambda h: h.update(version=[2, 0]), "newer nnlite.*Upgrade"),
    "malformed version": (lambda h: h.update(version="1.0"), "version must be"),
    "unknown layer class": (lambda h: h["model"]["config"]["layers"].__setitem__(
        1, {"class": "os.system", "config": {}}), "unknown class 'os.system'"),
    "unknown top-level class": (lambda h: h["model"].update({"class": "Lambda"}),
                                "unknown class 'Lambda'"),
    "unexpected key": (set_key("exec", "print(1)"), "unexpected key 'exec'"),
    "missing key": (lambda h: first_dense(h).pop("n_out"), "missing key 'n_out'"),
    "string width": (set_key("n_out", "4"), "n_out must be int"),
    "boolean width": (set_key("n_out", True), "n_out must be int"),
    "negative width": (set_key("n_out", -4), "out of range"),
    "width disagrees with arrays": (set_key("n_out", 5), "declared widths give|0.W"),
    "huge width": (set_key("n_out", 10**12), "out of range"),
    "bad initialiser": (lambda h: first_dense(h).update(
        weight_init={"class": "Tanh", "config": {}}), "not an initialiser"),
    "negative Glorot factor": (lambda h: first_dense(h)["weight_init"]["config"].update(
        factor=-1.0), "factor must be > 0"),
    "array dtype int64": (lambda h: h["arrays"]["params/0.W"].update(dtype="int64"),
                          "only float32 and float64"),
    "array shape differs from member": (
        lambda h: h["arrays"]["params/0.W"].update(shape=[4, 3]), "shape|bytes"),
    "build dtype differs": (lambda h: h["model"]["config"]["build"].update(dtype="float32"),
                            "float32"),
    "no layers": (lambda h: h["model"]["config"].update(layers=[]), "at least one layer"),
    "config not an object": (lambda h: h["model"].update(config=[1, 2]), "must be dict"),
    "array missing from header": (lambda h: h["arrays"].pop("params/0.b"),
                                  "unexpected member"),
}


@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
def test_tampered_description_is_refused(case, tmp_path):
    edit, message = BAD_HEADERS[case]
    bad = tampered(tmp_path, edit_header=edit)
    with pytest.raises(ModelFileError, match=message) as info:
        load(bad)
    assert str(info.value).startswith(bad)  # names the file
    assert isinstance(info.value, ValueError)


BAD_MEMBERS = {
    "NaN weight": (replace_array("0.W", np.full((3, 4), np.nan)), "NaN or infinity"),
    "infinite weight": (replace_array("0.b", np.array([1.0, np.inf, 0.0, 0.0])),
                        "NaN or infinity"),
    "int weights": (replace_array("0.b", np.arange(4)), "dtype|bytes"),
    "wrong shape in member": (replace_array("0.W", np.zeros((4, 3))), "shape"),
    "missing member": (lambda e: e.pop("arrays/params/0.W.npy"), "missing"),
    "extra member": (lambda e: e.update({"evil.py": b"import os"}), "unexpected member"),
    "not an npy": (lambda e: e.update({"arrays/params/0.b.npy": b"x" * 160}),
                   "cannot be read"),
    "trailing data": (lambda e: e.update({"arrays/params/0.b.npy": npy(np.zeros(4)) + b"!!"}),
                      "unexpected data"),
    "no description": (lambda e: e.pop("nnlite.json"), "no nnlite.json"),
    "invalid JSON": (lambda e: e.update({"nnlite.json": b"{not json"}), "not valid JSON"),
    "NaN in JSON": (lambda e: e.update({"nnlite.json": e["nnlite.json"].replace(
        b'"factor": 6.0', b'"factor": NaN')}), "not valid JSON"),
    "overflowing JSON number": (lambda e: e.update({"nnlite.json": e["nnlite.json"].replace(
        b'"factor": 6.0', b'"factor": 1e999')}), "not valid JSON"),
    "duplicate JSON key": (lambda e: e.update({"nnlite.json": e["nnlite.json"].replace(
        b'"format": "nnlite-model"', b'"format": "nnlite-model", "format": "nnlite-model"')}),
        "duplicate key"),
}


@pytest.mark.parametrize("case", sorted(BAD_MEMBERS))
def test_tampered_members_are_refused(case, tmp_path):
    edit, message = BAD_MEMBERS[case]
    bad = tampered(tmp_path, edit_entries=edit)
    with pytest.raises(ModelFileError, match=message):
        load(bad)


def test_array_not_used_by_the_model_is_refused(tmp_path):
    def add(header):
        header["arrays"]["params/9.W"] = {"dtype": "float64", "shape": [2]}

    bad = tampered(tmp_path, edit_header=add,
                   edit_entries=lambda e: e.update({"arrays/params/9.W.npy": npy(np.zeros(2))}))
    with pytest.raises(ModelFileError, match="unexpected parameter array 'params/9.W'"):
        load(bad)


def test_newer_minor_version_with_unknown_keys_loads(tmp_path):
    def newer(header):
        header["version"] = [1, 7]
        header["comment"] = "written by a future nnlite"
        first_dense(header)["dropout"] = 0.0

    net = load(tampered(tmp_path, edit_header=newer))
    assert isinstance(net, Sequential) and net.built


class _Boom:
    def __reduce__(self):
        return (os.mkdir, (_Boom.target,))


def test_a_pickle_inside_the_file_is_never_executed(tmp_path):
    _Boom.target = os.fspath(tmp_path / "pwned")
    obj = np.empty(4, dtype=object)
    obj[:] = [_Boom(), 1, 2, 3]

    def add(header):
        header["arrays"]["params/0.b"] = {"dtype": "float64", "shape": [4]}

    bad = tampered(tmp_path, edit_header=add,
                   edit_entries=lambda e: e.update({"arrays/params/0.b.npy": npy(obj, True)}))
    with pytest.raises(ModelFileError):
        load(bad)
    # a plain pickle file named like a model is refused too
    plain = path_in(tmp_path, "plain.nnlite")
    with open(plain, "wb") as f:
        pickle.dump(_Boom(), f)
    with pytest.raises(ModelFileError, match="not an nnlite model file"):
        load(plain)
    assert not os.path.exists(_Boom.target)


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"hello, I am not a model", "not an nnlite model file"),
    (b"PK\x03\x04" + b"\0" * 40, "damaged or truncated"),
])
def test_not_a_model_file(content, message, tmp_path):
    path = path_in(tmp_path)
    with open(path, "wb") as f:
        f.write(content)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(path_in(tmp_path, "nope.nnlite"))


def test_every_truncation_is_refused(tmp_path):
    path = path_in(tmp_path)
    save(STACKS["nested"](), path)
    with open(path, "rb") as f:
        data = f.read()
    for cut in range(0, len(data), 7):
        with pytest.raises(ModelFileError):
            load(io.BytesIO(data[:cut]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255)), min_size=1,
                      max_size=4))
def test_random_byte_flips_are_refused_or_harmless(flips):
    data = bytearray(_SAVED_NESTED)
    for where, mask in flips:
        data[where % len(data)] ^= mask
    try:
        net = load(io.BytesIO(bytes(data)))
    except ModelFileError:
        return
    # a flip in a part nothing reads (a timestamp, a comment) leaves the model as saved
    assert net.theta.tobytes() == _NESTED_NET.theta.tobytes()
    assert repr(net) == repr(_NESTED_NET)


_NESTED_NET = STACKS["nested"]()
_buf = io.BytesIO()
nio._write_zip(_buf, json.dumps({
    "format": nio.FORMAT_NAME, "version": list(nio.FORMAT_VERSION), "library": "test",
    "model": nio.get_state(_NESTED_NET)[0],
    "arrays": {k: {"dtype": a.dtype.name, "shape": list(a.shape)}
               for k, a in nio.get_state(_NESTED_NET)[1].items()}}),
    nio.get_state(_NESTED_NET)[1])
_SAVED_NESTED = _buf.getvalue()


# ----- saving -------------------------------------------------------------------------------
def test_failed_rename_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = path_in(tmp_path)
    old = STACKS["mlp"]()
    save(old, path)
    before = _read(path)

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save(STACKS["nested"](), path)
    monkeypatch.undo()
    assert _read(path) == before
    assert os.listdir(tmp_path) == ["model.nnlite"]  # no temporary file left behind
    assert np.array_equal(load(path).predict(X), old.predict(X))


def test_crash_while_writing_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = path_in(tmp_path)
    save(STACKS["mlp"](), path)
    before = _read(path)
    calls = []

    def write_then_die(fp, array, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            fp.write(b"half an array")
            raise KeyboardInterrupt
        return real(fp, array, **kwargs)

    real = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        save(STACKS["nested"](), path)
    monkeypatch.undo()
    assert _read(path) == before
    assert os.listdir(tmp_path) == ["model.nnlite"]


def test_save_keeps_the_permissions_of_the_file_it_replaces(tmp_path):
    path = path_in(tmp_path)
    save(STACKS["mlp"](), path)
    os.chmod(path, 0o600)
    save(STACKS["mlp"](), path)
    assert os.stat(path).st_mode & 0o777 == 0o600


@pytest.mark.parametrize("make, error, message", [
    (lambda: Sequential([Dense(2, weight_init=lambda rng, shape, a, b: np.ones(shape))]),
     TypeError, "cannot save"),
    (lambda: object(), TypeError, "cannot save"),
    (lambda: SquaredError(), TypeError, "cannot save"),
])
def test_save_refuses_what_it_cannot_describe(make, error, message, tmp_path):
    with pytest.raises(error, match=message):
        save(make(), path_in(tmp_path))
    assert os.listdir(tmp_path) == []


def test_save_refuses_non_finite_parameters(tmp_path):
    net = STACKS["mlp"]()
    net.theta[3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        save(net, path_in(tmp_path))
    assert os.listdir(tmp_path) == []


# ----- the protocol for other classes -------------------------------------------------------
class Wrapped:
    """A stand-in for a preset: a network plus JSON-able settings and an extra array."""

    def __init__(self, net, labels, scale):
        self.net, self.labels, self.scale = net, labels, scale

    def __nnlite_getstate__(self):
        node, arrays = nio.get_state(self.net)
        arrays = {f"net/{k}": v for k, v in arrays.items()}
        arrays["scale"] = self.scale
        return {"net": node, "labels": self.labels}, arrays

    @classmethod
    def __nnlite_setstate__(cls, config, arrays):
        if not isinstance(config.get("labels"), list):
            raise ValueError("labels must be a list")
        net_arrays = {k[4:]: v for k, v in arrays.items() if k.startswith("net/")}
        return cls(nio.from_state(config["net"], net_arrays), config["labels"], arrays["scale"])


@pytest.fixture
def registered():
    nio.register_model_class(Wrapped, name="TestWrapped")
    yield
    del nio._BY_NAME["TestWrapped"], nio._BY_CLASS[Wrapped]


def test_registered_class_round_trips(registered, tmp_path):
    obj = Wrapped(STACKS["nested"](), ["a", "b"], np.array([1.5, 2.5], np.float32))
    save(obj, path_in(tmp_path))
    back = load(path_in(tmp_path))
    assert isinstance(back, Wrapped) and back.labels == ["a", "b"]
    assert back.scale.dtype == np.float32 and np.array_equal(back.scale, obj.scale)
    assert np.array_equal(back.net.predict(X), obj.net.predict(X))


def test_registered_class_refusing_its_state_gives_a_model_file_error(registered, tmp_path):
    obj = Wrapped(STACKS["mlp"](), ["a"], np.zeros(1))
    bad = path_in(tmp_path, "bad.nnlite")
    save(obj, path_in(tmp_path))
    entries = members(path_in(tmp_path))
    header = json.loads(entries["nnlite.json"])
    header["model"]["config"]["labels"] = "not a list"
    entries["nnlite.json"] = json.dumps(header).encode()
    write_zip(bad, entries)
    with pytest.raises(ModelFileError, match="TestWrapped refused its saved state"):
        load(bad)


def test_unregistered_classes_are_neither_saved_nor_loaded(tmp_path):
    with pytest.raises(TypeError, match="cannot save"):
        save(Wrapped(STACKS["mlp"](), [], np.zeros(1)), path_in(tmp_path))
    nio.register_model_class(Wrapped, name="TestWrapped")
    try:
        save(Wrapped(STACKS["mlp"](), [], np.zeros(1)), path_in(tmp_path))
    finally:
        del nio._BY_NAME["TestWrapped"], nio._BY_CLASS[Wrapped]
    with pytest.raises(ModelFileError, match="unknown class 'TestWrapped'"):
        load(path_in(tmp_path))


def test_register_model_class_checks_its_argument(registered):
    with pytest.raises(TypeError, match="expected a class"):
        nio.register_model_class(Wrapped(None, [], None))
    with pytest.raises(TypeError, match="no __nnlite_getstate__"):
        nio.register_model_class(int)

    class Other(Wrapped):
        pass

    with pytest.raises(ValueError, match="already taken"):
        nio.register_model_class(Other, name="TestWrapped")
    with pytest.raises(ValueError, match="already taken"):
        nio.register_model_class(Other, name="Dense")


def test_from_state_validates_arrays():
    node, arrays = nio.get_state(STACKS["mlp"]())
    arrays["params/0.W"] = arrays["params/0.W"].astype(np.int64)
    with pytest.raises(ModelFileError, match="float32 or float64"):
        nio.from_state(node, arrays)


def test_sparse_input_still_works_after_loading(tmp_path):
    net = STACKS["mlp"]()
    save(net, path_in(tmp_path))
    xs = sparse.csr_matrix(X)
    assert np.array_equal(load(path_in(tmp_path)).predict(xs), net.predict(xs))


class Scale(nnlite.Layer):
    """A user-defined layer with one parameter per feature, made savable by registering it."""

    def param_specs(self, n_in):
        return [nnlite.params.ParamSpec("s", (n_in,))]

    def reset_parameters(self, rng):
        self.params["s"][...] = 1.0

    def forward(self, x, train=True):
        self._x = x
        return x * self.params["s"]

    def backward(self, grad_out):
        self.grads["s"][...] = (grad_out * self._x).sum(axis=0)
        return grad_out * self.params["s"]

    def __nnlite_getstate__(self):
        return {}, {}

    @classmethod
    def __nnlite_setstate__(cls, config, arrays):
        return cls()


def test_registered_user_layer_inside_a_network(tmp_path):
    net = Sequential([Dense(3), Scale(), Tanh(), Dense(2), Softmax()], random_state=0)
    trained(net)
    with pytest.raises(TypeError, match="cannot save"):
        save(net, path_in(tmp_path))
    nio.register_model_class(Scale, name="TestScale")
    try:
        save(net, path_in(tmp_path))
        back = load(path_in(tmp_path))
    finally:
        del nio._BY_NAME["TestScale"], nio._BY_CLASS[Scale]
    assert isinstance(back.layers[1], Scale)
    assert np.array_equal(back.layers[1].params["s"], net.layers[1].params["s"])
    assert not np.all(net.layers[1].params["s"] == 1.0)  # it was trained, and saved as such
    assert np.array_equal(back.predict(X), net.predict(X))


def test_error_in_a_nested_state_names_the_file(registered, tmp_path):
    save(Wrapped(STACKS["mlp"](), ["a"], np.zeros(1)), path_in(tmp_path))
    entries = members(path_in(tmp_path))
    header = json.loads(entries["nnlite.json"])
    header["model"]["config"]["net"]["config"]["layers"][0]["config"]["n_out"] = "5"
    entries["nnlite.json"] = json.dumps(header).encode()
    bad = path_in(tmp_path, "bad.nnlite")
    write_zip(bad, entries)
    with pytest.raises(ModelFileError) as info:
        load(bad)
    message = str(info.value)
    assert message.startswith(bad + ": model (TestWrapped): model.layers[0].config.n_out")
    assert "n_out must be int" in message and "<state>" not in message


# ----- the layers of issue 11 ---------------------------------------------------------------
NEW_LAYERS = {
    "LeakyReLU": lambda: nnlite.LeakyReLU(0.2), "ELU": lambda: nnlite.ELU(0.5),
    "GELU": nnlite.GELU, "Softplus": nnlite.Softplus, "SiLU": nnlite.SiLU,
    "Dropout": lambda: nnlite.Dropout(0.25, random_state=4),
    "LayerNorm": lambda: nnlite.LayerNorm(eps=1e-3),
    "BatchNorm": lambda: nnlite.BatchNorm(momentum=0.2, eps=1e-4),
}


@pytest.mark.parametrize("name", sorted(NEW_LAYERS) + ["Embedding"])
def test_new_layers_round_trip_alone_and_in_a_network(name, tmp_path):
    rng = np.random.RandomState(0)
    if name == "Embedding":
        x = rng.randint(0, 7, (20, 2)).astype(float)
        net = Sequential([nnlite.Embedding(7, 3), Dense(2)], random_state=0)
        alone = nnlite.Embedding(7, 3).build(2, random_state=1)
    else:
        x = rng.normal(size=(20, 3))
        net = Sequential([Dense(4), NEW_LAYERS[name](), Dense(2)], random_state=0)
        alone = NEW_LAYERS[name]().build(3, random_state=1)
    net.forward(x)  # moves BatchNorm's running statistics away from their start
    alone.forward(x)
    for obj in (net, alone):
        path = path_in(tmp_path, f"{name}.nnlite")
        save(obj, path)
        back = load(path)
        assert repr(back) == repr(obj)
        np.testing.assert_array_equal(back.forward(x, train=False), obj.forward(x, train=False))
        assert set(back.state) == set(obj.state)
        for key, value in obj.state.items():
            np.testing.assert_array_equal(back.state[key], value)


@pytest.mark.parametrize("key,value,message", [
    ("rate", 1.5, r"Dropout: rate must be in \[0, 1\)"),
    ("rate", "0.5", "rate must be"),
    ("random_state", 1.5, "random_state must be int"),
    ("unknown", 1, "unexpected key 'unknown'"),
])
def test_tampered_dropout_is_refused(key, value, message, tmp_path):
    path = path_in(tmp_path, "d.nnlite")
    save(Sequential([Dense(2), nnlite.Dropout(0.5)], n_in=3, random_state=0), path)
    entries = members(path)
    header = json.loads(entries["nnlite.json"])
    header["model"]["config"]["layers"][1]["config"][key] = value
    entries["nnlite.json"] = json.dumps(header).encode()
    write_zip(path, entries)
    with pytest.raises(ModelFileError, match=message):
        load(path)
