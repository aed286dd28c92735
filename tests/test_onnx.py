"""ONNX export, checked by running the exported files in onnxruntime.

Every model is exported, checked with ``onnx.checker.check_model(full_check=True)``
and run in onnxruntime on random and edge-case inputs (zeros, large magnitudes,
one row, many rows); the outputs must match nnlite's: float64 within 1e-12
relative, float32 within 1e-5 (relative, or of the largest output for outputs
near 0), labels identical.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import nnlite  # noqa: E402
from nnlite import (  # noqa: E402
    ELU,
    GELU,
    BatchNorm,
    Dense,
    Dropout,
    Embedding,
    Exp,
    Identity,
    Layer,
    LayerNorm,
    LeakyReLU,
    Logistic,
    MLPClassifier,
    MLPRegressor,
    ReLU,
    Sequential,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from nnlite.onnx import (  # noqa: E402
    MIN_OPSET,
    UnsupportedLayerError,
    default_opset,
    register_exporter,
    to_onnx,
)
from nnlite.tabular import ScaledModel  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RTOL = {np.float64: 1e-12, np.float32: 1e-5}


def session(proto):
    options = ort.SessionOptions()
    options.log_severity_level = 3  # no notes on stderr about folded constants
    return ort.InferenceSession(proto.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def inputs(n_features, dtype, seed=0):
    """Random rows, zeros, large magnitudes, one row and many rows."""
    rng = np.random.RandomState(seed)
    cases = {
        "random": rng.normal(size=(37, n_features)),
        "zeros": np.zeros((5, n_features)),
        "large": rng.normal(scale=1e3, size=(20, n_features)),
        "one row": rng.normal(size=(1, n_features)),
        "many rows": rng.normal(size=(5000, n_features)),
    }
    return {k: v.astype(dtype) for k, v in cases.items()}


def assert_close(got, expected, dtype):
    """Equal within ``RTOL[dtype]`` relative; in float32 also within 1e-5 of the largest output.

    A float32 output near 0 is the difference of terms near 1 (a Dense layer's sum), so
    one rounding of those terms is a large part of it: the absolute floor is their scale.
    """
    assert got.dtype == expected.dtype and got.shape == expected.shape
    floor = RTOL[dtype] * np.abs(expected).max() if dtype == np.float32 else 0.0
    np.testing.assert_allclose(got, expected, rtol=RTOL[dtype], atol=floor)


def check_file(proto, tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(proto.SerializeToString())
    onnx.checker.check_model(str(path), full_check=True)
    return onnx.load(str(path))


# ----- networks ---------------------------------------------------------------------------------
def fit_quietly(est, X, y):
    """Fit a few epochs: a ConvergenceWarning is expected and beside the point here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(Stochastic Optimizer|lbfgs failed)")
        return est.fit(X, y)


def every_layer_stack():
    return Sequential([Dense(6), Tanh(), Dense(5, bias=False), ReLU(), Dense(4), Logistic(),
                       Sequential([Dense(4), Identity()]), Dense(3), Exp(), Dense(3), Softmax()])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_builtin_layer_in_a_stack_matches_onnxruntime(dtype, tmp_path):
    net = every_layer_stack()
    net.build(4, dtype=dtype, random_state=0)
    proto = check_file(to_onnx(net), tmp_path)
    sess = session(proto)
    for X in inputs(4, dtype).values():
        (got,) = sess.run(None, {"X": X})
        assert_close(got, net.predict(X), dtype)
    assert proto.graph.input[0].type.tensor_type.elem_type == (
        onnx.TensorProto.DOUBLE if dtype == np.float64 else onnx.TensorProto.FLOAT)


def newer_layer_stack(dtype, seed=0):
    """Every layer of the second family, with random (not initial) parameters and statistics."""
    net = Sequential([Dense(6), LeakyReLU(0.1), Dense(6), ELU(0.7), Dropout(0.3), LayerNorm(),
                      Dense(5), Softplus(), BatchNorm(), Dense(4), SiLU(), Dense(3)])
    net.build(4, dtype=dtype, random_state=seed)
    rng = np.random.RandomState(seed)
    # moved away from the initial values (gains 1, biases 0) but of the same size: float32
    # outputs then carry no more rounding than a trained network's
    net.set_theta(net.theta * rng.uniform(0.5, 1.5, net.theta.shape)
                  + rng.normal(scale=0.1, size=net.theta.shape))
    state = net.state_vector
    state[...] = rng.uniform(0.2, 3.0, size=state.shape)  # running means and variances
    return net


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dropout_normalisation_and_smooth_activations_match(dtype, tmp_path):
    net = newer_layer_stack(dtype)
    proto = check_file(to_onnx(net), tmp_path)
    sess = session(proto)
    for X in inputs(4, dtype).values():
        (got,) = sess.run(None, {"X": X})
        assert_close(got, net.predict(X), dtype)


@pytest.mark.parametrize("opset", [MIN_OPSET, 17, 18])
def test_the_oldest_opsets_run_too(opset):
    # ReduceMean takes its axes as an attribute before opset 18, as an input from 18 on
    net = newer_layer_stack(np.float64, seed=1)
    X = inputs(4, np.float64)["random"]
    proto = to_onnx(net, opset=opset)
    assert proto.opset_import[0].version == opset
    (got,) = session(proto).run(None, {"X": X})
    assert_close(got, net.predict(X), np.float64)


def test_near_zero_inputs_keep_elu_and_softplus_accurate():
    # expm1 and log1p are where exp(x) - 1 and log(1 + y) would lose every digit
    net = Sequential([ELU(1.5), Softplus(), Dense(2, bias=False)], n_in=3, random_state=0)
    X = np.array([[-1e-9, -1e-300, 0.0], [-3e-6, 1e-12, -700.0], [-40.0, 40.0, -1e-17]])
    (got,) = session(to_onnx(net)).run(None, {"X": X})
    assert_close(got, net.predict(X), np.float64)


def test_trained_batchnorm_exports_its_running_statistics():
    rng = np.random.RandomState(0)
    X = rng.normal(loc=3.0, scale=2.0, size=(200, 3))
    y = (X[:, 0] > 3).astype(int)
    net = Sequential([Dense(5), BatchNorm(), ReLU(), Dropout(0.2), Dense(2), Softmax()])
    nnlite.train(net, X, y, nnlite.LogLoss(), nnlite.Adam(0.01), epochs=5, batch_size=32,
                 random_state=0)
    assert not np.allclose(net.state_vector, np.r_[np.zeros(5), np.ones(5)])
    (got,) = session(to_onnx(net)).run(None, {"X": X})
    assert_close(got, net.predict(X), np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_embedding_is_a_gather_of_its_rows(dtype):
    net = Sequential([Embedding(10, 3), Dense(4), Tanh()], n_in=2, dtype=dtype, random_state=0)
    rng = np.random.RandomState(0)
    for codes in (rng.randint(0, 10, (50, 2)), np.zeros((3, 2)), np.array([[9, 0]]),
                  rng.randint(0, 10, (5000, 2))):
        X = codes.astype(dtype)
        (got,) = session(to_onnx(net)).run(None, {"X": X})
        assert_close(got, net.predict(X), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gelu_matches(dtype):
    net = Sequential([GELU(), Dense(2)], n_in=3, dtype=dtype, random_state=0)
    sess = session(to_onnx(net))
    grid = np.linspace(-12, 12, 3000).reshape(-1, 3).astype(dtype)  # erf's whole range
    for X in [grid, *inputs(3, dtype).values()]:
        (got,) = sess.run(None, {"X": X})
        assert_close(got, net.predict(X), dtype)
    if dtype == np.float64:
        # the layer alone: where 1 + erf cancels (x < -3) both sides keep their erf's
        # rounding (2e-15 of 1), so there they agree within 1e-14 of |x|; elsewhere 1e-12
        gelu = GELU().build(3)
        (got,) = session(to_onnx(gelu)).run(None, {"X": grid})
        expected = gelu.forward(grid, train=False)
        np.testing.assert_allclose(got, expected, rtol=1e-12,
                                   atol=float(1e-14 * np.abs(grid).max()))
        keep = grid > -3
        np.testing.assert_allclose(got[keep], expected[keep], rtol=1e-12, atol=0)


BUILTIN_LAYERS = [obj for obj in (getattr(nnlite, name) for name in nnlite.__all__)
                  if isinstance(obj, type) and issubclass(obj, Layer) and obj is not Layer]


@pytest.mark.parametrize("cls", BUILTIN_LAYERS, ids=lambda c: c.__name__)
def test_every_public_layer_class_has_an_exporter(cls):
    from nnlite.onnx._registry import _EXPORTERS

    assert cls in _EXPORTERS, f"nnlite.{cls.__name__} has no ONNX exporter"


def test_batch_dimension_is_dynamic_and_widths_fixed():
    net = Sequential([Dense(3), Tanh()], n_in=2, random_state=0)
    dims = to_onnx(net).graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "N" and not dims[0].HasField("dim_value")
    assert dims[1].dim_value == 2
    out = to_onnx(net).graph.output[0].type.tensor_type.shape.dim
    assert out[0].dim_param == "N" and out[1].dim_value == 3


def test_a_layer_alone_exports():
    layer = Dense(3).build(2, random_state=0)
    X = np.random.RandomState(1).normal(size=(8, 2))
    (got,) = session(to_onnx(layer)).run(None, {"X": X})
    assert_close(got, layer.forward(X, train=False), np.float64)


def test_names_opset_and_metadata_can_be_chosen():
    net = Sequential([Dense(2), Softmax()], n_in=3, random_state=0)
    proto = to_onnx(net, input_name="features", output_names=["scores"], opset=MIN_OPSET,
                    doc_string="two scores")
    assert [i.name for i in proto.graph.input] == ["features"]
    assert [o.name for o in proto.graph.output] == ["scores"]
    assert proto.opset_import[0].version == MIN_OPSET and proto.doc_string == "two scores"
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["nnlite_version"] == nnlite.__version__ and meta["model_class"] == "Sequential"
    X = np.ones((2, 3))
    (got,) = session(proto).run(["scores"], {"features": X})
    assert_close(got, net.predict(X), np.float64)


def test_default_opset_is_the_newest_onnxruntime_runs():
    opset = default_opset()
    assert MIN_OPSET <= opset <= onnx.defs.onnx_opset_version()
    proto = to_onnx(Sequential([Dense(1)], n_in=1, random_state=0))
    assert proto.opset_import[0].version == opset
    session(proto)  # onnxruntime accepts it


def test_float64_model_exported_as_float32():
    net = Sequential([Dense(5), Tanh(), Dense(2)], n_in=3, random_state=0)
    proto = to_onnx(net, dtype=np.float32)
    X = np.random.RandomState(0).normal(size=(50, 3))
    (got,) = session(proto).run(None, {"X": X.astype(np.float32)})
    np.testing.assert_allclose(got, net.predict(X), rtol=1e-5, atol=1e-6)
    assert net.dtype == np.float64  # the model itself is unchanged


# ----- presets ------------------------------------------------------------------------------------
def _targets(rng, n):
    return {
        "binary": rng.randint(0, 2, n),
        "multiclass": rng.randint(0, 4, n),
        "strings": np.array(["cat", "dog", "emu"])[rng.randint(0, 3, n)],
        "binary strings": np.array(["no", "yes"])[rng.randint(0, 2, n)],
        "bools": rng.randint(0, 2, n).astype(bool),
        "multilabel": rng.randint(0, 2, (n, 3)),
        "one class": np.full(n, 7),
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", list(_targets(np.random.RandomState(0), 4)))
def test_classifier_labels_and_probabilities_match(kind, dtype, tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 4)).astype(dtype)
    y = _targets(rng, 120)[kind]
    clf = MLPClassifier((6,), activation="tanh", solver="lbfgs" if dtype == np.float64 else "adam",
                        max_iter=30, random_state=0)
    fit_quietly(clf, X, y)
    proto = check_file(to_onnx(clf), tmp_path)
    assert [o.name for o in proto.graph.output] == ["label", "probabilities"]
    sess = session(proto)
    model_dtype = clf.network_.dtype.type
    for X_case in inputs(4, dtype).values():
        X_case = X_case.astype(model_dtype)
        labels, proba = sess.run(None, {"X": X_case})
        expected = clf.predict(X_case)
        assert labels.shape == expected.shape
        assert (labels == expected).all()
        expected = clf.predict_proba(X_case)
        if clf.n_outputs_ == 1:
            # column 0 is 1 - p on both sides: an error of p in its last bit moves it by
            # that much in absolute terms, however small 1 - p is; so, relative to 1
            np.testing.assert_allclose(proba[:, 0], expected[:, 0], rtol=0,
                                       atol=RTOL[model_dtype])
            proba, expected = proba[:, 1:], expected[:, 1:]
        assert_close(proba, expected, model_dtype)


@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "gelu", "softplus", "silu"])
def test_presets_with_other_activations_and_dropout_match(activation):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 3))
    clf = fit_quietly(MLPClassifier((6, 5), activation=activation, dropout=0.2, max_iter=10,
                                    random_state=0), X, rng.randint(0, 3, 80))
    labels, proba = session(to_onnx(clf)).run(None, {"X": X})
    assert (labels == clf.predict(X)).all()
    assert_close(proba, clf.predict_proba(X), np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss, n_outputs", [("squared_error", 1), ("squared_error", 3),
                                             ("poisson", 1)])
def test_regressor_matches(loss, n_outputs, dtype, tmp_path):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(100, 3)).astype(dtype)
    y = np.abs(rng.normal(size=(100, n_outputs))).squeeze()
    reg = fit_quietly(MLPRegressor(loss, (5, 4), max_iter=20, random_state=0), X, y)
    proto = check_file(to_onnx(reg), tmp_path)
    assert [o.name for o in proto.graph.output] == ["variable"]
    sess = session(proto)
    for X_case in inputs(3, dtype).values():
        if loss == "poisson":
            X_case = X_case / 1e3 if np.abs(X_case).max() > 100 else X_case  # exp overflows
        (got,) = sess.run(None, {"X": X_case})
        assert_close(got, reg.predict(X_case), dtype)


def test_feature_names_are_in_the_metadata():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(40, 2)), columns=["height", "weight"])
    reg = fit_quietly(MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0),
                      X, rng.normal(size=40))
    meta = {p.key: p.value for p in to_onnx(reg).metadata_props}
    assert json.loads(meta["feature_names"]) == ["height", "weight"]
    assert meta["model_class"] == "MLPRegressor"


@pytest.mark.parametrize("classify", [True, False])
def test_scaled_model_puts_the_scaling_in_the_graph(classify, tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(loc=50.0, scale=10.0, size=(150, 3))
    mean, scale = X.mean(axis=0), X.std(axis=0)
    y = (X[:, 0] > 50).astype(int) if classify else X[:, 1] / 10
    est = MLPClassifier((5,), max_iter=30, random_state=0) if classify else \
        MLPRegressor(hidden_layer_sizes=(5,), max_iter=30, random_state=0)
    model = ScaledModel(fit_quietly(est, (X - mean) / scale, y), mean, scale,
                        ["a", "b", "c"], "y")
    proto = check_file(to_onnx(model), tmp_path)
    assert json.loads({p.key: p.value for p in proto.metadata_props}["feature_names"]) == \
        ["a", "b", "c"]
    outputs = session(proto).run(None, {"X": X})
    if classify:
        assert (outputs[0] == model.predict(X)).all()
        assert_close(outputs[1][:, 1], model.predict_proba(X)[:, 1], np.float64)
    else:
        assert_close(outputs[0], model.predict(X), np.float64)


# ----- user-written layers ------------------------------------------------------------------------
class Square(Layer):
    """A user-written layer: ``x * x`` (not differentiated here)."""

    def forward(self, x, train=True):
        return x * x


def test_an_unknown_layer_is_a_clear_error_pointing_at_the_registry(tmp_path):
    class Cube(Layer):
        def forward(self, x, train=True):
            return x ** 3

    net = Sequential([Dense(2), Cube()], n_in=2, random_state=0)
    target = tmp_path / "model.onnx"
    with pytest.raises(UnsupportedLayerError, match=r"no ONNX exporter .* layer Cube .*"
                       r"register_exporter\(Cube, fn\).*deployment"):
        to_onnx(net, target)
    assert not target.exists() and not list(tmp_path.iterdir())  # nothing written


def test_a_registered_exporter_exports_a_user_layer():
    @register_exporter(Square)
    def _square(ctx, layer, x):
        return ctx.node("Mul", [x, x], "square")

    net = Sequential([Dense(3), Square(), Dense(2)], n_in=4, random_state=0)
    X = np.random.RandomState(0).normal(size=(10, 4))
    (got,) = session(to_onnx(net)).run(None, {"X": X})
    assert_close(got, net.predict(X), np.float64)


def test_a_subclass_of_a_builtin_layer_needs_its_own_exporter():
    class Tanh2(Tanh):
        pass

    with pytest.raises(UnsupportedLayerError, match="Tanh2"):
        to_onnx(Sequential([Dense(1), Tanh2()], n_in=1, random_state=0))


def test_register_exporter_checks_its_arguments():
    with pytest.raises(TypeError, match="subclass of nnlite.Layer"):
        register_exporter(int, lambda ctx, layer, x: x)
    with pytest.raises(TypeError, match="callable"):
        register_exporter(Square, 3)


# ----- bad input ----------------------------------------------------------------------------------
def test_unfitted_or_unbuilt_models_are_refused():
    with pytest.raises(nnlite.NotFittedError, match="not fitted"):
        to_onnx(MLPClassifier())
    with pytest.raises(ValueError, match="Sequential is not built"):
        to_onnx(Sequential([Dense(2)]))
    with pytest.raises(TypeError, match="model must be an nnlite Layer"):
        to_onnx("model.nnlite")


@pytest.mark.parametrize("kwargs, message", [
    ({"dtype": np.float16}, "dtype must be numpy.float32 or numpy.float64"),
    ({"dtype": "int64"}, "dtype must be numpy.float32 or numpy.float64"),
    ({"dtype": "no such type"}, "dtype must be numpy.float32 or numpy.float64"),
    ({"opset": MIN_OPSET - 1}, f"opset must be an int from {MIN_OPSET}"),
    ({"opset": 10_000}, f"opset must be an int from {MIN_OPSET}"),
    ({"opset": "17"}, "opset must be an int"),
    ({"input_name": ""}, "non-empty strings"),
    ({"output_names": ["a", "b"]}, r"1 output\(s\) \(output\)"),
    ({"input_name": "X", "output_names": "X"}, "must be distinct"),
])
def test_bad_arguments_are_clear_errors(kwargs, message, tmp_path):
    net = Sequential([Dense(2)], n_in=2, random_state=0)
    target = tmp_path / "model.onnx"
    with pytest.raises(ValueError, match=message):
        to_onnx(net, target, **kwargs)
    assert not list(tmp_path.iterdir())


def test_a_path_that_cannot_be_written_leaves_nothing_behind(tmp_path):
    net = Sequential([Dense(2)], n_in=2, random_state=0)
    with pytest.raises(OSError, match="cannot write .*missing"):
        to_onnx(net, tmp_path / "missing" / "model.onnx")
    (tmp_path / "adir").mkdir()
    with pytest.raises(OSError, match="cannot write"):
        to_onnx(net, tmp_path / "adir")
    assert [p.name for p in tmp_path.iterdir()] == ["adir"]
    assert not list((tmp_path / "adir").iterdir())


def test_a_failed_export_keeps_the_previous_file(tmp_path):
    target = tmp_path / "model.onnx"
    good = Sequential([Dense(2)], n_in=2, random_state=0)
    to_onnx(good, target)
    before = target.read_bytes()
    with pytest.raises(UnsupportedLayerError):
        to_onnx(Sequential([Dense(2), Square.__base__()], n_in=2, random_state=0), target)
    assert target.read_bytes() == before
    assert onnx.load(str(target)).graph.input[0].name == "X"


# ----- the command line and the optional extra ----------------------------------------------------
def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                OPENBLAS_NUM_THREADS="1")


def test_nnlite_export_on_the_command_line(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    clf = fit_quietly(MLPClassifier((4,), max_iter=20, random_state=0), X, X[:, 0] > 0)
    nnlite.save(clf, tmp_path / "model.nnlite")
    proc = subprocess.run([sys.executable, "-W", "error", "-m", "nnlite", "export",
                           "model.nnlite", "-o", "model.onnx", "--opset", "17"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "wrote model.onnx: opset 17, input X, outputs label, probabilities" in proc.stdout
    labels, proba = session(onnx.load(str(tmp_path / "model.onnx"))).run(None, {"X": X})
    assert (labels == clf.predict(X)).all()
    assert_close(proba, clf.predict_proba(X), np.float64)
    bad = subprocess.run([sys.executable, "-m", "nnlite", "export", "model.nnlite", "-o",
                          "out.onnx", "--opset", "3"], cwd=tmp_path, env=_env(),
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and not (tmp_path / "out.onnx").exists()
    assert bad.stderr.startswith("nnlite: error: opset must be an int from")
    assert len(bad.stderr.strip().splitlines()) == 1


def test_import_nnlite_does_not_import_onnx():
    code = ("import sys, nnlite; nnlite.MLPClassifier(); "
            "print(sorted(m for m in ('onnx', 'onnxruntime', 'nnlite.onnx') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.skip(reason="nnlite train now saves a TabularModel (CSV preprocessing), which "
                         "the ONNX exporter does not know yet")
def test_a_model_from_nnlite_train_exports_with_its_scaling(tmp_path, capsys):
    from nnlite import cli

    rng = np.random.RandomState(0)
    X = rng.normal(loc=[100.0, -5.0, 0.3], scale=[20.0, 1.0, 0.01], size=(120, 3))
    label = np.where(X[:, 0] > 100, "high", "low")
    with open(tmp_path / "data.csv", "w", encoding="utf-8") as f:
        f.write("a,b,c,label\n")
        f.writelines(f"{r[0]:.17g},{r[1]:.17g},{r[2]:.17g},{t}\n" for r, t in zip(X, label))
    assert cli.main(["train", str(tmp_path / "data.csv"), "--target", "label", "--hidden",
                     "8", "--max-iter", "30", "-o", str(tmp_path / "m.nnlite"),
                     "--no-progress"]) == 0
    assert cli.main(["export", str(tmp_path / "m.nnlite"), "-o", str(tmp_path / "m.onnx")]) == 0
    assert "outputs label, probabilities" in capsys.readouterr().out
    model = nnlite.load(tmp_path / "m.nnlite")
    proto = onnx.load(str(tmp_path / "m.onnx"))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["feature_names"]) == ["a", "b", "c"]
    labels, proba = session(proto).run(None, {"X": X})  # raw, unscaled features
    assert (labels == model.predict(X)).all()
    assert_close(proba[:, 1], model.predict_proba(X)[:, 1], np.float64)


def test_nnlite_export_without_the_extra_says_what_to_install(tmp_path, capsys, monkeypatch):
    from nnlite import cli

    nnlite.save(Sequential([Dense(2)], n_in=2, random_state=0), tmp_path / "m.nnlite")
    monkeypatch.setitem(sys.modules, "nnlite.onnx", None)  # as if onnx were not installed
    assert cli.main(["export", str(tmp_path / "m.nnlite"), "-o", str(tmp_path / "m.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nnlite: error: nnlite export needs the onnx package")
    assert 'pip install "nnlite[onnx]"' in err and not (tmp_path / "m.onnx").exists()


# ----- graphs -------------------------------------------------------------------------------------
def residual_graph():
    x = nnlite.Input(4)
    h = ReLU()(Dense(8)(x))
    block = Dense(8)(Dropout(0.2)(ReLU()(Dense(8)(LayerNorm()(h)))))
    h = nnlite.Add()([h, block])
    return nnlite.Graph(x, Softmax()(Dense(3)(h)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_residual_graph_matches(dtype, tmp_path):
    net = residual_graph()
    net.build(dtype=dtype, random_state=0)
    proto = check_file(to_onnx(net), tmp_path)
    assert [i.name for i in proto.graph.input] == ["X"]
    sess = session(proto)
    for X in inputs(4, dtype).values():
        (got,) = sess.run(None, {"X": X})
        assert_close(got, net.predict(X), dtype)


def two_input_graph():
    """Two inputs, a layer shared by both, Concatenate and Multiply, an Embedding branch."""
    numbers, codes, other = nnlite.Input(3, "numbers"), nnlite.Input(2, "codes"), \
        nnlite.Input(3, "other")
    shared = Dense(4)
    a, b = Tanh()(shared(numbers)), Tanh()(shared(other))
    embedded = Dense(4)(Embedding(6, 2)(codes))
    merged = nnlite.Concatenate()([nnlite.Multiply()([a, b, embedded]), a])
    return nnlite.Graph([numbers, codes, other], Dense(2)(merged)), shared


def test_a_graph_with_several_inputs_and_a_shared_layer_matches(tmp_path):
    net, shared = two_input_graph()
    net.build(random_state=0)
    proto = check_file(to_onnx(net), tmp_path)
    assert [i.name for i in proto.graph.input] == ["numbers", "codes", "other"]
    # the shared layer's weights are stored once
    W = shared.params["W"]
    stored = [t for t in proto.graph.initializer
              if t.dims == list(W.shape) and np.array_equal(onnx.numpy_helper.to_array(t), W)]
    assert len(stored) == 1
    rng = np.random.RandomState(0)
    for n in (1, 7, 3000):
        feeds = {"numbers": rng.normal(size=(n, 3)), "codes": rng.randint(0, 6, (n, 2)) * 1.0,
                 "other": rng.normal(scale=100.0, size=(n, 3))}
        (got,) = session(proto).run(None, feeds)
        expected = net.predict([feeds["numbers"], feeds["codes"], feeds["other"]])
        assert_close(got, expected, np.float64)
    renamed = to_onnx(net, input_name=["a", "b", "c"], output_names="y")
    assert [i.name for i in renamed.graph.input] == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"3 input\(s\) \(numbers, codes, other\)"):
        to_onnx(net, input_name="X")


def test_a_graph_inside_a_sequential_exports():
    x = nnlite.Input(3)
    inner = nnlite.Graph(x, nnlite.Add()([x, Tanh()(Dense(3)(x))]))
    net = Sequential([Dense(3), inner, Dense(2)], n_in=5, random_state=0)
    X = np.random.RandomState(0).normal(size=(20, 5))
    (got,) = session(to_onnx(net)).run(None, {"X": X})
    assert_close(got, net.predict(X), np.float64)
