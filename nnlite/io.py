"""Saving and loading models without pickle: arrays plus a JSON description.

:func:`save` writes one file; :func:`load` reads it back and never executes
code from it: the file holds only numbers (``.npy`` members read with
``allow_pickle=False``) and a JSON description whose class names are looked up
in an allow-list.  Everything is checked on the way in, and a damaged,
truncated or tampered file raises :class:`ModelFileError` (a ``ValueError``)
naming the file and the problem.

File format ``nnlite-model``, version 1.0
-----------------------------------------
A zip archive (members deflated, fixed timestamps, so equal models give equal
bytes) with exactly these members:

``nnlite.json``
    UTF-8 JSON object::

        {"format": "nnlite-model",
         "version": [1, 0],                 # [major, minor]
         "library": "nnlite 0.1.0",         # informative only
         "model": NODE,
         "arrays": {NAME: {"dtype": "float64", "shape": [4, 3]}, ...}}

    A ``NODE`` is ``{"class": CLASS_NAME, "config": {...}}``; configs nest
    nodes (the layers of a ``Sequential``, the initialisers of a ``Dense``).
``arrays/NAME.npy``
    One member per entry of ``"arrays"``: a float32 or float64 array in
    numpy's ``.npy`` format, all values finite.  An object that owns
    parameters names them ``params/<name>`` (its non-trainable state
    ``state/<name>``) below its path (a nested object
    adds ``layers.<i>/``, ``weight_init/``... in front).

A reader refuses a file whose major version is newer than its own and reads
any older one; minor versions only add optional keys, which older readers
ignore.

Plugging in other classes
-------------------------
A class implementing ``__nnlite_getstate__(self) -> (config, arrays)`` (a dict
of JSON-able values and a dict of ``str -> ndarray``) and a classmethod
``__nnlite_setstate__(cls, config, arrays) -> obj`` becomes savable once it is
passed to :func:`register_model_class`.  Nothing outside the registry is ever
instantiated.  :func:`get_state` and :func:`from_state` turn any registered
object (a ``Sequential`` for instance) into such a pair and back, so a class
holding a network can nest its state in its own.

Examples
--------
>>> import os, tempfile
>>> import numpy as np
>>> from nnlite import Dense, Sequential, Tanh, load, save
>>> net = Sequential([Dense(3), Tanh(), Dense(1)], n_in=2, random_state=0)
>>> path = os.path.join(tempfile.mkdtemp(), "net.nnlite")
>>> save(net, path)
>>> x = np.ones((1, 2))
>>> bool(np.array_equal(load(path).predict(x), net.predict(x)))
True
"""

from __future__ import annotations

import io
import json
import numbers
import os
import re
import tempfile
import zipfile
import zlib

import numpy as np

from .init import Constant, GlorotUniform, Zeros
from .layers import (
    ELU,
    GELU,
    Add,
    BatchNorm,
    Concatenate,
    Dense,
    Dropout,
    Embedding,
    Exp,
    Identity,
    Layer,
    LayerNorm,
    LeakyReLU,
    Logistic,
    Multiply,
    ReLU,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .models import Graph, Input, Sequential

__all__ = ["save", "load", "register_model_class", "get_state", "from_state",
           "ModelFileError", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "nnlite-model"
#: ``(major, minor)`` of the format this module writes.
FORMAT_VERSION = (1, 0)

_JSON_MEMBER = "nnlite.json"
_MAX_JSON_BYTES = 16 * 2**20
_MAX_MEMBERS = 100_000
_MAX_DEPTH = 64
_MAX_WIDTH = 2**31 - 1
_NAME = re.compile(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*(/[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*)*")
_DTYPES = ("float32", "float64")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_STATE = "<state>"  # the "file name" of errors raised by from_state


class ModelFileError(ValueError):
    """A model file (or state) is damaged, truncated, tampered with or unsupported."""


# ----- the registry -------------------------------------------------------------------------
class _Codec:
    def __init__(self, cls, get, set_):
        self.cls, self.get, self.set = cls, get, set_


_BY_NAME: dict = {}
_BY_CLASS: dict = {}


def _register(cls, get, set_, name=None):
    name = cls.__name__ if name is None else name
    old = _BY_NAME.get(name)
    same_class = old is not None and (old.cls.__module__, old.cls.__qualname__) == (
        cls.__module__, cls.__qualname__)  # the same module imported a second time
    if old is not None and old.cls is not cls and not same_class:
        raise ValueError(
            f"register_model_class: the name {name!r} is already taken by "
            f"{old.cls.__module__}.{old.cls.__qualname__}; pass another name."
        )
    codec = _Codec(cls, get, set_)
    _BY_NAME[name] = codec
    _BY_CLASS[cls] = name


def register_model_class(cls, name: str | None = None):
    """Allow :func:`load` to rebuild instances of ``cls`` (usable as a decorator).

    Parameters
    ----------
    cls : type
        Implements ``__nnlite_getstate__(self) -> (config, arrays)`` and the
        classmethod ``__nnlite_setstate__(cls, config, arrays) -> instance``.
        ``config`` is a dict of JSON-able values (nested nnlite objects go in
        through :func:`get_state`); ``arrays`` maps names (letters, digits,
        ``_-./``) to finite float32 or float64 arrays.
    name : str, optional
        Name written to files; default ``cls.__name__``.

    Returns
    -------
    cls
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_model_class: expected a class; got {cls!r}.")
    for method in ("__nnlite_getstate__", "__nnlite_setstate__"):
        if not callable(getattr(cls, method, None)):
            raise TypeError(f"register_model_class: {cls.__qualname__} has no {method} method.")
    _register(cls, lambda obj: obj.__nnlite_getstate__(), cls.__nnlite_setstate__, name)
    return cls


# ----- state of an object: (node, arrays) ---------------------------------------------------
def get_state(obj):
    """Describe a registered object as a JSON-able node and a dict of arrays.

    Returns
    -------
    node : dict
        ``{"class": name, "config": {...}}``.
    arrays : dict of str to ndarray
    """
    return _dump(obj, "model")


def from_state(node, arrays):
    """Rebuild the object :func:`get_state` described, validating everything.

    Raises
    ------
    ModelFileError
        If the description or the arrays are inconsistent or unsupported.
    """
    reader = _Reader(_STATE)
    arrays = dict(arrays)
    for name, a in arrays.items():
        reader.check_array(name, a)
    return reader.build_model(node, arrays)


def _dump(obj, where):
    name = _BY_CLASS.get(type(obj))
    if name is None:
        raise TypeError(
            f"save: {where} is a {type(obj).__module__}.{type(obj).__qualname__}, which nnlite "
            "cannot save. Savable: nnlite's layers, Sequential, Graph and initialisers, and "
            "classes "
            "registered with nnlite.io.register_model_class."
        )
    config, arrays = _BY_NAME[name].get(obj)
    if not isinstance(config, dict) or not isinstance(arrays, dict):
        raise TypeError(f"save: the state of {where} must be a pair (dict, dict).")
    out = {}
    for key, a in arrays.items():
        if not isinstance(key, str) or not _NAME.fullmatch(key):
            raise ValueError(f"save: {where} names an array {key!r}; names are letters, digits "
                             "and _-./ (no empty parts).")
        a = np.asarray(a)
        if a.dtype.name not in _DTYPES:
            raise ValueError(f"save: array {key!r} of {where} has dtype {a.dtype}; only float32 "
                             "and float64 can be saved.")
        if not np.isfinite(a).all():
            raise ValueError(f"save: array {key!r} of {where} contains NaN or infinity; a model "
                             "with non-finite parameters cannot be saved.")
        out[key] = a
    return {"class": name, "config": config}, out


def _dump_child(obj, where, prefix, arrays):
    node, sub = _dump(obj, where)
    arrays.update({f"{prefix}/{k}": v for k, v in sub.items()})
    return node


def _owned_params(layer, config):
    """Record the build and the parameters of a layer that owns its buffer."""
    arrays = {}
    buf = getattr(layer, "_own_buffer", None)
    if buf is not None and buf.params and layer.params is buf.params[0]:
        # the layer still works on its own buffer (not rebound by an enclosing network)
        n_in = layer.n_in  # a tuple of widths for a layer with several inputs
        n_in = [int(w) for w in n_in] if isinstance(n_in, tuple) else int(n_in)
        config["build"] = {"n_in": n_in, "dtype": layer._own_buffer.dtype.name}
        arrays = {f"params/{k}": v for k, v in layer.params.items()}
        arrays.update({f"state/{k}": v for k, v in layer.state.items()})
    return config, arrays


def _get_initialiser(init):
    if isinstance(init, Zeros):
        return {}, {}
    if isinstance(init, GlorotUniform):
        return {"factor": init.factor}, {}
    return {"value": init.value}, {}


def _get_dense(layer):
    arrays = {}
    config = {
        "n_out": layer.units, "n_in": layer.input_width, "bias": layer.bias,
        "weight_init": _dump_child(layer.weight_init, "Dense.weight_init", "weight_init", arrays),
        "bias_init": _dump_child(layer.bias_init, "Dense.bias_init", "bias_init", arrays),
    }
    config, own = _owned_params(layer, config)
    arrays.update(own)
    return config, arrays


def _get_network(net, config):
    """``config`` completed with what every network has: options, layers, parameters."""
    arrays = {}
    name = type(net).__name__
    rs = net.random_state
    config.update({
        "dtype": None if net.dtype is None else net.dtype.name,
        "random_state": int(rs) if isinstance(rs, numbers.Integral) else None,
        "layers": [_dump_child(layer, f"{name}.layers[{i}]", f"layers.{i}", arrays)
                   for i, layer in enumerate(net.layers)],
    })
    config, own = _owned_params(net, config)
    arrays.update(own)
    return config, arrays


def _get_sequential(net):
    return _get_network(net, {"n_in": None if net.input_width is None else int(net.input_width)})


def _get_graph(net):
    return _get_network(net, {
        "inputs": [{"width": node.width, "name": node.name} for node in net.inputs],
        # per node in computing order: its layer and the slots it reads (inputs first)
        "nodes": [{"layer": i, "inputs": list(parents)} for i, parents in net._steps],
    })


# ----- writing ------------------------------------------------------------------------------
def save(obj, path) -> None:
    """Write ``obj`` to ``path`` atomically in the ``nnlite-model`` format.

    The file is written to a temporary file in the same directory, flushed
    to disk and renamed over ``path``, so a crash while saving leaves any
    previous file at ``path`` intact.

    Parameters
    ----------
    obj : Sequential, Layer or registered object
        Built or not.  A ``random_state`` given as a RandomState instance is
        not saved (the loaded object has ``random_state=None``).
    path : str or os.PathLike

    Raises
    ------
    TypeError
        ``obj`` (or a part of it, such as a custom initialiser) is not savable.
    ValueError
        A parameter is not finite, or a registered object's state is malformed.
    """
    from . import __version__

    node, arrays = _dump(obj, "the model")
    header = {
        "format": FORMAT_NAME,
        "version": list(FORMAT_VERSION),
        "library": f"nnlite {__version__}",
        "model": node,
        "arrays": {k: {"dtype": a.dtype.name, "shape": list(a.shape)} for k, a in arrays.items()},
    }
    try:
        text = json.dumps(header, indent=1, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"save: the model description is not JSON-able: {exc}") from exc

    write_atomically(path, lambda f: _write_zip(f, text, arrays))


def write_atomically(path, write) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, then rename it over ``path``.

    The file is flushed to disk before the rename, so a crash or an error while
    writing leaves any previous file at ``path`` intact and no partial file
    behind.  Used by :func:`save` and by :func:`nnlite.onnx.to_onnx`.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _write_zip(f, text, arrays):
    with zipfile.ZipFile(f, "w") as zf:
        zf.writestr(_zip_info(_JSON_MEMBER), text.encode("utf-8"))
        for name, a in arrays.items():
            with zf.open(_zip_info(f"arrays/{name}.npy"), "w",
                         force_zip64=a.nbytes > 2**30) as member:
                np.lib.format.write_array(member, a, allow_pickle=False)


def _zip_info(name):
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _mode_for(path):
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return 0o644


def _fsync_directory(directory):
    # makes the rename itself durable; not possible on every platform
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----- reading ------------------------------------------------------------------------------
def load(path):
    """Read a model written by :func:`save`.

    Parameters
    ----------
    path : str, os.PathLike or binary file object

    Returns
    -------
    object
        The saved model, with its parameters bit for bit as they were saved.

    Raises
    ------
    ModelFileError
        (a ``ValueError``) if the file is not an nnlite model file, was written
        by a newer major format version, or is damaged, truncated or
        inconsistent; the message names the file and the problem.
    OSError
        If the file cannot be opened (for example ``FileNotFoundError``).
    """
    if hasattr(path, "read"):
        return _Reader(getattr(path, "name", "<file object>")).read(path)
    path = os.fspath(path)
    with open(path, "rb") as f:
        return _Reader(path).read(f)


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
               NotImplementedError, RuntimeError, ValueError, KeyError, IndexError,
               OverflowError, UnicodeDecodeError, MemoryError)


def _no_constants(token):
    raise ValueError(f"JSON constant {token} is not allowed")


def _finite_float(text):
    v = float(text)
    if not np.isfinite(v):
        raise ValueError(f"number {text} is not finite")
    return v


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


class _Reader:
    def __init__(self, name):
        self.name = name
        self.lenient = False  # newer minor version: ignore keys this reader does not know

    def fail(self, message):
        return ModelFileError(f"{self.name}: {message}")

    # -- container --
    def read(self, f):
        start = f.read(4)
        if len(start) == 0:
            raise self.fail("the file is empty; it is not an nnlite model file.")
        if start != b"PK\x03\x04":
            raise self.fail("not an nnlite model file (it does not start with the zip "
                            "signature that nnlite.save writes).")
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as zf:
                header, arrays = self.read_members(zf)
        except ModelFileError:
            raise
        except _ZIP_ERRORS as exc:
            raise self.fail(f"the file is damaged or truncated ({type(exc).__name__}: {exc}).")\
                from None
        return self.build_model(header["model"], arrays)

    def read_members(self, zf):
        infos = zf.infolist()
        if len(infos) > _MAX_MEMBERS:
            raise self.fail(f"the archive holds {len(infos)} members; too many for a model file.")
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise self.fail("the archive holds two members of the same name (tampered file).")
        if _JSON_MEMBER not in names:
            raise self.fail(f"not an nnlite model file (no {_JSON_MEMBER} member).")
        info = zf.getinfo(_JSON_MEMBER)
        if info.file_size > _MAX_JSON_BYTES:
            raise self.fail(f"{_JSON_MEMBER} is {info.file_size} bytes; too large.")
        header = self.parse_header(zf.read(info))
        declared = header["arrays"]
        expected = {_JSON_MEMBER} | {f"arrays/{k}.npy" for k in declared}
        for n in names:
            if n not in expected:
                raise self.fail(f"unexpected member {n!r} in the archive (tampered file?).")
        arrays = {}
        for key, spec in declared.items():
            member = f"arrays/{key}.npy"
            if member not in names:
                raise self.fail(f"array {key!r} is declared but its member {member!r} is "
                                "missing (truncated file?).")
            arrays[key] = self.read_array(zf, member, key, spec)
        return header, arrays

    def parse_header(self, raw):
        try:
            header = json.loads(raw.decode("utf-8"), parse_constant=_no_constants,
                                parse_float=_finite_float,
                                object_pairs_hook=_no_duplicates)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise self.fail(f"{_JSON_MEMBER} is not valid JSON ({exc}).") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
            found = header.get("format") if isinstance(header, dict) else None
            raise self.fail(f"not an nnlite model file (format is {found!r}, expected "
                            f"{FORMAT_NAME!r}).")
        version = header.get("version")
        if (not isinstance(version, list) or len(version) != 2
                or not all(_is_int(v) and v >= 0 for v in version)):
            raise self.fail(f"the format version must be [major, minor]; got {version!r}.")
        major, minor = version
        if major > FORMAT_VERSION[0]:
            from . import __version__
            raise self.fail(
                f"written in format version {major}.{minor} by a newer nnlite "
                f"({header.get('library', 'unknown')!s}); nnlite {__version__} reads format "
                f"versions up to {FORMAT_VERSION[0]}.x. Upgrade nnlite to load it."
            )
        if major < 1:
            raise self.fail(f"unknown format version {major}.{minor}.")
        self.lenient = minor > FORMAT_VERSION[1]
        cfg = _Config(header, "header", self)
        cfg.str("format")
        cfg.get("version")
        cfg.get("library", str, optional=True)
        cfg.get("model", dict)
        declared = cfg.get("arrays", dict)
        cfg.done()
        for key, spec in declared.items():
            if not _NAME.fullmatch(key):
                raise self.fail(f"invalid array name {key!r} in the header.")
            s = _Config(spec, f"arrays[{key!r}]", self)
            dtype = s.str("dtype")
            if dtype not in _DTYPES:
                raise self.fail(f"array {key!r} has dtype {dtype!r}; only float32 and float64 "
                                "are allowed.")
            shape = s.get("shape", list)
            if len(shape) > 32 or not all(_is_int(d) and 0 <= d <= _MAX_WIDTH for d in shape):
                raise self.fail(f"array {key!r} has an invalid shape {shape!r}.")
            s.done()
        return header

    def read_array(self, zf, member, key, spec):
        dtype, shape = np.dtype(spec["dtype"]), tuple(spec["shape"])
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        info = zf.getinfo(member)
        if info.file_size > nbytes + 65536 or info.file_size < nbytes:
            raise self.fail(f"array {key!r}: the member holds {info.file_size} bytes, which does "
                            f"not match the declared shape {list(shape)} and dtype {dtype}.")
        raw = zf.read(member)  # checks the zip CRC
        buf = io.BytesIO(raw)
        try:
            a = np.lib.format.read_array(buf, allow_pickle=False)
        except ValueError as exc:
            raise self.fail(f"array {key!r} cannot be read ({exc}).") from None
        if buf.tell() != len(raw):
            raise self.fail(f"array {key!r}: unexpected data after the array (tampered file?).")
        if a.dtype.kind != "f" or a.dtype.itemsize != dtype.itemsize:
            raise self.fail(f"array {key!r} holds dtype {a.dtype}; the header declares {dtype}.")
        if a.shape != shape:
            raise self.fail(f"array {key!r} has shape {list(a.shape)}; the header declares "
                            f"{list(shape)}.")
        a = a.astype(dtype, copy=False)  # native byte order
        self.check_array(key, a)
        return a

    def check_array(self, key, a):
        if not isinstance(a, np.ndarray) or a.dtype.name not in _DTYPES:
            raise self.fail(f"array {key!r} must be a float32 or float64 ndarray; got "
                            f"{getattr(a, 'dtype', type(a).__name__)}.")
        if not np.isfinite(a).all():
            raise self.fail(f"array {key!r} contains NaN or infinity.")

    # -- objects --
    def build_model(self, node, arrays):
        return self.build(node, dict(arrays), "model", 0)

    def build(self, node, arrays, where, depth):
        """Instantiate ``node`` from its own ``arrays`` (keys relative to it), using them all."""
        if depth > _MAX_DEPTH:
            raise self.fail(f"{where}: nested more than {_MAX_DEPTH} levels deep.")
        n = _Config(node, where, self)
        name = n.str("class")
        config = n.get("config", dict)
        n.done()
        codec = _BY_NAME.get(name)
        if codec is None:
            raise self.fail(f"{where}: unknown class {name!r}; this nnlite can load "
                            f"{', '.join(sorted(_BY_NAME))}.")
        builder = _BUILDERS.get(name)
        if builder is not None:
            obj = builder(self, _Config(config, f"{where}.config", self), arrays, where, depth)
            if arrays:
                raise self.fail(f"{where}: array {sorted(arrays)[0]!r} is not used by the "
                                f"{name} (tampered file?).")
            return obj
        try:
            obj = codec.set(config, arrays)
        except ModelFileError as exc:  # from a nested from_state: name this file instead
            detail = str(exc).removeprefix(f"{_STATE}: ")
            raise self.fail(f"{where} ({name}): {detail}") from None
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            raise self.fail(f"{where}: {name} refused its saved state ({exc}).") from None
        if not isinstance(obj, codec.cls):
            raise self.fail(f"{where}: {name}.__nnlite_setstate__ returned a "
                            f"{type(obj).__name__}.")
        return obj

    def child(self, cfg, key, arrays, prefix, depth):
        node = cfg.get(key, dict)
        return self.build(node, _take_prefixed(arrays, prefix + "/"), f"{cfg.where}.{key}",
                          depth + 1)

    def restore_build(self, layer, build, arrays, where):
        """Allocate ``layer`` as saved and copy its parameters in."""
        if build is None:
            if arrays:
                raise self.fail(f"{where}: parameters are stored for an unbuilt object.")
            return layer
        b = _Config(build, f"{where}.build", self)
        n_in = b.get("n_in", (int, list))
        if isinstance(n_in, list):  # several inputs
            if not n_in or not all(_is_int(w) and 1 <= w <= _MAX_WIDTH for w in n_in):
                raise self.fail(f"{where}.build.n_in must hold positive ints; got {n_in!r}.")
            n_in = tuple(n_in)
        elif not 1 <= n_in <= _MAX_WIDTH:
            raise self.fail(f"{where}.build.n_in is out of range; got {n_in!r}.")
        dtype = b.str("dtype")
        b.done()
        if dtype not in _DTYPES:
            raise self.fail(f"{where}: dtype must be float32 or float64; got {dtype!r}.")
        try:
            specs = layer.param_specs(n_in)
            state_specs = layer.state_specs(n_in)
            layer.output_width(n_in)
        except (TypeError, ValueError) as exc:
            raise self.fail(f"{where}: the saved widths are inconsistent ({exc})") from None
        expected = {f"params/{s.name}": tuple(s.shape) for s in specs}
        expected.update({f"state/{s.name}": tuple(s.shape) for s in state_specs})
        for key in arrays:
            if key not in expected:
                raise self.fail(f"{where}: unexpected parameter array {key!r} for the declared "
                                "layers.")
        for key, shape in expected.items():
            if key not in arrays:
                raise self.fail(f"{where}: parameter array {key!r} is missing.")
            a = arrays[key]
            if a.shape != shape:
                raise self.fail(f"{where}: parameter {key!r} has shape {list(a.shape)}, but the "
                                f"declared widths give {list(shape)}.")
            if a.dtype.name != dtype:
                raise self.fail(f"{where}: parameter {key!r} is {a.dtype}, but the model is "
                                f"{dtype}.")
        layer.build(n_in, dtype=np.dtype(dtype), random_state=np.random.RandomState(0))
        for name, view in layer.params.items():
            view[...] = arrays.pop(f"params/{name}")
        for name, view in layer.state.items():
            view[...] = arrays.pop(f"state/{name}")
        return layer


def _take_prefixed(arrays, prefix):
    """Remove the entries of ``arrays`` under ``prefix`` and return them, prefix stripped."""
    keys = [k for k in arrays if k.startswith(prefix)]
    return {k[len(prefix):]: arrays.pop(k) for k in keys}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


class _Config:
    """Typed, checked access to one JSON object of the description."""

    def __init__(self, d, where, reader):
        if not isinstance(d, dict):
            raise reader.fail(f"{where} must be a JSON object; got {type(d).__name__}.")
        self.d, self.where, self.reader, self.seen = d, where, reader, set()

    def get(self, key, kind=None, optional=False):
        self.seen.add(key)
        if key not in self.d:
            if optional:
                return None
            raise self.reader.fail(f"{self.where}: missing key {key!r}.")
        v = self.d[key]
        if kind is not None and not (v is None and optional) and (
                not isinstance(v, kind) or isinstance(v, bool) and kind is not bool):
            what = getattr(kind, "__name__", "a number")
            raise self.reader.fail(f"{self.where}.{key} must be {what}; got {v!r}.")
        return v

    def str(self, key):
        return self.get(key, str)

    def int(self, key, low=None, optional=False):
        v = self.get(key, int, optional)
        if v is not None and (low is not None and v < low or v > _MAX_WIDTH):
            raise self.reader.fail(f"{self.where}.{key} is out of range; got {v!r}.")
        return v

    def float(self, key):
        v = self.get(key, (int, float))
        if isinstance(v, bool):
            raise self.reader.fail(f"{self.where}.{key} must be a number; got {v!r}.")
        return float(v)

    def done(self):
        extra = set(self.d) - self.seen
        if extra and not self.reader.lenient:
            raise self.reader.fail(f"{self.where}: unexpected key {sorted(extra)[0]!r}.")


# ----- builders of the built-in classes -----------------------------------------------------
def _build_glorot(reader, cfg, arrays, where, depth):
    factor = cfg.float("factor")
    cfg.done()
    if not (np.isfinite(factor) and factor > 0):
        raise reader.fail(f"{where}: GlorotUniform factor must be > 0; got {factor!r}.")
    return GlorotUniform(factor)


def _build_constant(reader, cfg, arrays, where, depth):
    value = cfg.float("value")
    cfg.done()
    if not np.isfinite(value):
        raise reader.fail(f"{where}: Constant value must be finite.")
    return Constant(value)


def _build_zeros(reader, cfg, arrays, where, depth):
    cfg.done()
    return Zeros()


def _build_dense(reader, cfg, arrays, where, depth):
    n_out = cfg.int("n_out", low=1)
    n_in = cfg.int("n_in", low=1, optional=True)
    bias = cfg.get("bias", bool)
    inits = [reader.child(cfg, k, arrays, k, depth) for k in ("weight_init", "bias_init")]
    for k, init in zip(("weight_init", "bias_init"), inits):
        if not callable(init) or isinstance(init, Layer):
            raise reader.fail(f"{where}.config.{k} is a {type(init).__name__}, not an "
                              "initialiser.")
    build = cfg.get("build", dict, optional=True)
    cfg.done()
    layer = Dense(n_out, n_in, weight_init=inits[0], bias_init=inits[1], bias=bias)
    return reader.restore_build(layer, build, arrays, where)


def _activation_builder(cls):
    def build(reader, cfg, arrays, where, depth):
        b = cfg.get("build", dict, optional=True)
        cfg.done()
        return reader.restore_build(cls(), b, arrays, where)
    return build


#: Layers configured by a few numbers: class -> the constructor arguments saved, each
#: ``(name, kind)`` with kind "float" or "int" (a missing int is saved as null).
_CONFIGURED = {
    LeakyReLU: (("negative_slope", "float"),),
    ELU: (("alpha", "float"),),
    Dropout: (("rate", "float"), ("random_state", "int")),
    LayerNorm: (("eps", "float"),),
    BatchNorm: (("momentum", "float"), ("eps", "float")),
    Embedding: (("n_categories", "int"), ("width", "int")),
}


def _get_configured(layer):
    config = {name: getattr(layer, name) for name, _ in _CONFIGURED[type(layer)]}
    return _owned_params(layer, config)


def _configured_builder(cls):
    def build(reader, cfg, arrays, where, depth):
        kwargs = {}
        for name, kind in _CONFIGURED[cls]:
            if kind == "float":
                kwargs[name] = cfg.float(name)
            else:
                kwargs[name] = cfg.get(name, int, optional=cls is Dropout)
        b = cfg.get("build", dict, optional=True)
        cfg.done()
        try:
            layer = cls(**kwargs)
        except (TypeError, ValueError) as exc:  # the constructor's own checks
            raise reader.fail(f"{where}: {exc}") from None
        return reader.restore_build(layer, b, arrays, where)
    return build


def _network_options(reader, cfg, where):
    """The ``dtype`` and ``random_state`` of a saved network, checked."""
    dtype = cfg.get("dtype", str, optional=True)
    if dtype is not None and dtype not in _DTYPES:
        raise reader.fail(f"{where}: dtype must be float32 or float64; got {dtype!r}.")
    random_state = cfg.get("random_state", int, optional=True)
    if random_state is not None and not 0 <= random_state < 2**32:
        raise reader.fail(f"{where}: random_state out of range; got {random_state!r}.")
    return dtype, random_state


def _network_layers(reader, nodes, arrays, where, depth):
    """The saved layers of a network, each built from its ``layers.<i>/`` arrays."""
    layers = []
    for i, node in enumerate(nodes):
        layer = reader.build(node, _take_prefixed(arrays, f"layers.{i}/"),
                             f"{where}.layers[{i}]", depth + 1)
        if not isinstance(layer, Layer):
            raise reader.fail(f"{where}.layers[{i}] is a {type(layer).__name__}, not a Layer.")
        layers.append(layer)
    return layers


def _build_sequential(reader, cfg, arrays, where, depth):
    n_in = cfg.int("n_in", low=1, optional=True)
    dtype, random_state = _network_options(reader, cfg, where)
    nodes = cfg.get("layers", list)
    if not nodes:
        raise reader.fail(f"{where}: a Sequential needs at least one layer.")
    layers = _network_layers(reader, nodes, arrays, where, depth)
    build = cfg.get("build", dict, optional=True)
    cfg.done()
    if build is not None and n_in is not None and build.get("n_in") != n_in:
        raise reader.fail(f"{where}: built for n_in={build.get('n_in')!r} but declared "
                          f"n_in={n_in}.")
    if build is not None and dtype is not None and build.get("dtype") != dtype:
        raise reader.fail(f"{where}: built as {build.get('dtype')!r} but declared "
                          f"dtype={dtype!r}.")
    net = Sequential(layers, dtype=dtype, random_state=random_state)
    net.input_width = n_in
    return reader.restore_build(net, build, arrays, where)


def _build_graph(reader, cfg, arrays, where, depth):
    dtype, random_state = _network_options(reader, cfg, where)
    slots = []
    for k, spec in enumerate(cfg.get("inputs", list)):
        s = _Config(spec, f"{where}.config.inputs[{k}]", reader)
        width, name = s.int("width", low=1), s.str("name")
        s.done()
        slots.append(Input(width, name=name))
    if not slots:
        raise reader.fail(f"{where}: a Graph needs at least one input.")
    layers = _network_layers(reader, cfg.get("layers", list), arrays, where, depth)
    nodes = cfg.get("nodes", list)
    if not nodes:
        raise reader.fail(f"{where}: a Graph needs at least one node.")
    for j, spec in enumerate(nodes):
        s = _Config(spec, f"{where}.config.nodes[{j}]", reader)
        i, reads = s.int("layer", low=0), s.get("inputs", list)
        s.done()
        # a node reads inputs or earlier nodes only: the description cannot loop
        if i >= len(layers) or not reads or not all(
                _is_int(p) and 0 <= p < len(slots) for p in reads):
            raise reader.fail(f"{where}.config.nodes[{j}] refers to a missing layer or node.")
        parents = [slots[p] for p in reads]
        try:
            slots.append(layers[i](parents[0] if len(parents) == 1 else parents))
        except (TypeError, ValueError) as exc:
            raise reader.fail(f"{where}.config.nodes[{j}]: {exc}") from None
    build = cfg.get("build", dict, optional=True)
    cfg.done()
    n_inputs = len(cfg.d["inputs"])
    try:
        net = Graph(slots[:n_inputs], slots[-1], dtype=dtype, random_state=random_state)
    except (TypeError, ValueError) as exc:
        raise reader.fail(f"{where}: {exc}") from None
    if [id(layer) for layer in net.layers] != [id(layer) for layer in layers] or len(
            net._steps) != len(nodes):
        raise reader.fail(f"{where}: the nodes do not describe the saved layers in computing "
                          "order (tampered file?).")
    return reader.restore_build(net, build, arrays, where)


_BUILDERS = {
    "GlorotUniform": _build_glorot, "Constant": _build_constant, "Zeros": _build_zeros,
    "Dense": _build_dense, "Sequential": _build_sequential, "Graph": _build_graph,
}

_register(GlorotUniform, _get_initialiser, None)
_register(Constant, _get_initialiser, None)
_register(Zeros, _get_initialiser, None)
_register(Dense, _get_dense, None)
_register(Sequential, _get_sequential, None)
_register(Graph, _get_graph, None)
for _cls in (Identity, Tanh, ReLU, Logistic, Softmax, Exp, GELU, Softplus, SiLU, Add,
             Concatenate, Multiply):
    _register(_cls, lambda layer: _owned_params(layer, {}), None)
    _BUILDERS[_cls.__name__] = _activation_builder(_cls)
for _cls in _CONFIGURED:
    _register(_cls, _get_configured, None)
    _BUILDERS[_cls.__name__] = _configured_builder(_cls)
