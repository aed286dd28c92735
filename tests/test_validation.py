"""Bad input at the core entry points: each row of docs/bad_input.md is a case here.

``BAD`` lists (entry point, bad input) cases with the exception and the part of
the message they must give; ``GOOD`` lists inputs that must be accepted and give
the same answers as a plain C-ordered float64 array.  The fuzz tests at the end
throw random shapes, dtypes and values at the entry points and at ``load``.
"""

from __future__ import annotations

import io
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
    BinaryLogLoss,
    Dense,
    Logistic,
    LogLoss,
    PoissonLoss,
    Sequential,
    Softmax,
    SquaredError,
    Tanh,
    _validation,
    gradcheck,
    load,
    train,
)
from nnlite import io as nio
from tests.strategies import junk

RNG = np.random.RandomState(0)
X = RNG.normal(size=(12, 3))
Y = RNG.randint(0, 2, 12)
W = np.ones(12)


def net():
    """A built network of input width 3 and two softmax outputs."""
    return Sequential([Dense(4), Tanh(), Dense(2), Softmax()], n_in=3, random_state=0)


def with_nan(a, value=np.nan):
    a = np.array(a, dtype=float)
    a.flat[1] = value
    return a


def fit(X_=X, y=Y, **kw):
    kw.setdefault("epochs", 1)
    return train(net(), X_, y, LogLoss(), Adam(0.01), **kw)


def alone(x):
    return Dense(2).build(3, random_state=0).forward(x)


def value(output=None, y=None, w=None, loss=None):
    output = np.full((4, 2), 0.5) if output is None else output
    y = np.array([[0.0, 1.0]] * 4) if y is None else y
    return (loss or LogLoss()).value(output, y, w)


def gradient(output=None, y=None, w=None):
    output = np.full((4, 2), 0.5) if output is None else output
    y = np.array([[0.0, 1.0]] * 4) if y is None else y
    return SquaredError().gradient(output, y, w)


def objective(X_=X, y=None, w=None, alpha=0.0):
    y = np.eye(2)[Y] if y is None else y
    return net().loss_and_grad(X_, y, LogLoss(), alpha, w)


def check_net(X_=X[:4], y=Y[:4], **kw):
    return gradcheck.check_network(net(), X_, y, LogLoss(), **kw)


NAN = "contains NaN or infinity; remove or impute them"
NOT_2D = "must be 2-D \\(n_samples, n_features\\)"
STRINGS = np.array([["a", "b", "c"]] * 12)
OBJECTS = np.array([[1.0, "x", 2.0]] * 12, dtype=object)
DICTS = np.empty((12, 3), dtype=object)
DICTS[:] = [[{}, {}, {}]] * 12

BAD = [
    # --- X: non-finite values --------------------------------------------------------------
    ("train X NaN", lambda: fit(with_nan(X)), ValueError, "train: X " + NAN),
    ("train X inf", lambda: fit(with_nan(X, np.inf)), ValueError, "train: X " + NAN),
    ("train X -inf sparse", lambda: fit(sparse.csr_matrix(with_nan(X, -np.inf))), ValueError,
     "train: X " + NAN),
    ("forward X NaN", lambda: net().forward(with_nan(X)), ValueError,
     "Sequential.forward: X " + NAN),
    ("predict X inf", lambda: net().predict(with_nan(X, np.inf)), ValueError,
     "Sequential.predict: X " + NAN),
    ("loss_and_grad X NaN", lambda: objective(with_nan(X)), ValueError,
     "Sequential.loss_and_grad: X " + NAN),
    ("layer alone X NaN", lambda: alone(with_nan(X)), ValueError, "Dense.forward: X " + NAN),
    ("activation alone X NaN", lambda: Tanh().forward(with_nan(X)), ValueError,
     "Tanh.forward: X " + NAN),
    ("gradcheck x NaN", lambda: check_net(with_nan(X[:4])), ValueError,
     "gradcheck.check_network: X " + NAN),
    ("gradcheck layer x NaN", lambda: gradcheck.check_layer(Tanh(), with_nan(X)), ValueError,
     "gradcheck.check_layer: x " + NAN),
    ("validation X NaN", lambda: fit(validation_data=(with_nan(X), Y)), ValueError,
     "train: X_val " + NAN),
    # --- X: shape ---------------------------------------------------------------------------
    ("train X 1-D", lambda: fit(X[:, 0]), ValueError, "train: X " + NOT_2D + ".*reshape"),
    ("train X 3-D", lambda: fit(X[:, :, None]), ValueError, "got a 3-D array"),
    ("predict X scalar", lambda: net().predict(1.0), ValueError, "got a scalar"),
    ("predict X 1-D", lambda: net().predict(X[0]), ValueError, NOT_2D),
    ("layer alone X 3-D", lambda: alone(X[None]), ValueError, "Dense.forward: X " + NOT_2D),
    ("train X empty", lambda: fit(X[:0], Y[:0]), ValueError, "train: X is empty"),
    ("predict X no features", lambda: net().predict(np.ones((3, 0))), ValueError, "is empty"),
    ("train X ragged list", lambda: fit([[1.0, 2.0, 3.0], [1.0]], [0, 1]), ValueError,
     "cannot be turned into a numeric array"),
    ("predict wrong n_features", lambda: net().predict(X[:, :2]), ValueError,
     "X has 2 features, but the network expects 3"),
    ("forward wrong n_features sparse", lambda: net().forward(sparse.csr_matrix(X[:, :2])),
     ValueError, "X has 2 features, but the network expects 3"),
    ("train wrong n_features", lambda: fit(np.ones((12, 4))), ValueError,
     "X has 4 features, but the network expects 3"),
    ("layer alone wrong n_features", lambda: alone(X[:, :2]), ValueError,
     "X has 2 features, but the layer expects 3"),
    ("validation wrong n_features", lambda: fit(validation_data=(X[:, :2], Y)), ValueError,
     "X_val has 2 features"),
    # --- X: dtype ---------------------------------------------------------------------------
    ("train X complex", lambda: fit(X + 1j), TypeError, "train: X holds complex numbers"),
    ("predict X complex sparse", lambda: net().predict(sparse.csr_matrix(X + 1j)), TypeError,
     "complex"),
    ("train X strings", lambda: fit(STRINGS), TypeError, "train: X holds strings"),
    ("predict X bytes", lambda: net().predict(STRINGS.astype("S1")), TypeError,
     "holds strings"),
    ("train X object strings", lambda: fit(OBJECTS), TypeError, "holds strings"),
    ("predict X object dicts", lambda: net().predict(DICTS), TypeError,
     "objects that are not real numbers"),
    ("predict X datetimes", lambda: net().predict(np.zeros((2, 3), "datetime64[s]")),
     TypeError, "only real numbers are allowed"),
    ("train X None", lambda: fit(None), TypeError, "train: X is None"),
    # --- y ------------------------------------------------------------------------------------
    ("train y NaN", lambda: fit(y=with_nan(Y)), ValueError, "train: y " + NAN),
    ("train y strings", lambda: fit(y=np.array(["a", "b"] * 6)), TypeError,
     "train: y holds strings"),
    ("train y None entries", lambda: fit(y=np.array([None] * 12)), ValueError,
     "train: y " + NAN),
    ("train y objects", lambda: fit(y=np.array([object()] * 12)), TypeError,
     "y holds objects that are not real numbers"),
    ("train y complex", lambda: fit(y=Y + 1j), TypeError, "y holds complex"),
    ("train y 3-D", lambda: fit(y=np.zeros((12, 2, 1))), ValueError, "y must be 1-D"),
    ("train y scalar", lambda: fit(y=1), ValueError, "got a scalar"),
    ("train y too short", lambda: fit(y=Y[:-1]), ValueError,
     "inconsistent numbers of samples: X has 12, y has 11"),
    ("train y wrong width", lambda: fit(y=np.zeros((12, 3))), ValueError,
     "LogLoss: y must have shape \\(n_samples, 2\\)"),
    ("train y bad class index", lambda: fit(y=Y + 5), ValueError,
     "class indices in y must lie in \\[0, 1\\]"),
    ("train y float classes", lambda: fit(y=Y + 0.5), ValueError, "integer class indices"),
    ("poisson y negative", lambda: train(
        Sequential([Dense(1)]), X, -np.ones(12), PoissonLoss(), SGD(), epochs=1), ValueError,
     "non-negative"),
    ("validation y too short", lambda: fit(validation_data=(X, Y[:-1])), ValueError,
     "X_val has 12, y_val has 11"),
    ("loss_and_grad y too short", lambda: objective(y=np.eye(2)[Y[:-1]]), ValueError,
     "inconsistent numbers of samples"),
    # --- sample_weight ------------------------------------------------------------------------
    ("train weight negative", lambda: fit(sample_weight=W - 2), ValueError,
     "sample_weight must be non-negative; got a minimum of -1"),
    ("train weight all zero", lambda: fit(sample_weight=W * 0), ValueError,
     "sample_weight is zero for every sample"),
    ("train weight too long", lambda: fit(sample_weight=np.ones(13)), ValueError,
     "X has 12, sample_weight has 13"),
    ("train weight 2-D", lambda: fit(sample_weight=W[:, None]), ValueError,
     "sample_weight must be 1-D"),
    ("train weight NaN", lambda: fit(sample_weight=with_nan(W)), ValueError,
     "sample_weight " + NAN),
    ("train weight strings", lambda: fit(sample_weight=np.array(["1"] * 12)), TypeError,
     "sample_weight holds strings"),
    ("validation weight negative", lambda: fit(validation_data=(X, Y, -W)), ValueError,
     "sample_weight_val must be non-negative"),
    ("loss_and_grad weight all zero", lambda: objective(w=np.zeros(12)), ValueError,
     "zero for every sample"),
    ("gradcheck weight negative", lambda: check_net(sample_weight=-np.ones(4)), ValueError,
     "gradcheck.check_network: sample_weight must be non-negative"),
    # --- hyperparameters of train -----------------------------------------------------------
    ("batch_size zero", lambda: fit(batch_size=0), ValueError, "batch_size must be >= 1"),
    ("batch_size float", lambda: fit(batch_size=2.5), TypeError, "batch_size must be an int"),
    ("batch_size bool", lambda: fit(batch_size=True), TypeError, "batch_size must be an int"),
    ("epochs negative", lambda: fit(epochs=-1), ValueError, "epochs must be >= 1"),
    ("epochs string", lambda: fit(epochs="10"), TypeError, "epochs must be an int"),
    ("alpha negative", lambda: fit(alpha=-1.0), ValueError, "alpha must be a finite number"),
    ("alpha NaN", lambda: fit(alpha=np.nan), ValueError, "alpha must be a finite number"),
    ("alpha string", lambda: fit(alpha="0.1"), TypeError, "alpha must be a real number"),
    ("tol negative", lambda: fit(tol=-1e-4), ValueError, "tol must be a number >= 0"),
    ("tol NaN", lambda: fit(tol=np.nan), ValueError, "tol must be a number >= 0"),
    ("n_iter_no_change zero", lambda: fit(n_iter_no_change=0), ValueError,
     "n_iter_no_change must be >= 1"),
    ("n_iter_no_change float", lambda: fit(n_iter_no_change=2.5), TypeError,
     "n_iter_no_change must be an int or numpy.inf"),
    ("validation_data not a tuple", lambda: fit(validation_data=X), TypeError,
     "validation_data must be a tuple"),
    ("validation_data too long", lambda: fit(validation_data=(X, Y, W, W)), TypeError,
     "of length 4"),
    ("score not callable", lambda: fit(validation_data=(X, Y), score=3), TypeError,
     "score must be callable"),
    ("callback not callable", lambda: fit(callback="stop"), TypeError,
     "callback must be callable"),
    ("loss not a Loss", lambda: train(net(), X, Y, "log_loss", Adam()), TypeError,
     "loss must be an nnlite Loss"),
    ("optimizer not an Optimizer", lambda: train(net(), X, Y, LogLoss(), "adam"), TypeError,
     "optimizer must be an nnlite Optimizer"),
    ("net not a Sequential", lambda: train(Dense(2), X, Y, LogLoss(), Adam()), TypeError,
     "net must be an nnlite Sequential"),
    ("loss_and_grad alpha negative", lambda: objective(alpha=-0.5), ValueError,
     "Sequential.loss_and_grad: alpha must be a finite number >= 0"),
    # --- losses -------------------------------------------------------------------------------
    ("loss value output NaN", lambda: value(with_nan(np.full((4, 2), 0.5))), ValueError,
     "LogLoss.value: output " + NAN),
    ("loss value output 1-D", lambda: value(np.full(4, 0.5)), ValueError,
     "LogLoss.value: output must be 2-D"),
    ("loss value y NaN", lambda: value(y=with_nan(np.ones((4, 2)))), ValueError,
     "LogLoss.value: y " + NAN),
    ("loss value y strings", lambda: value(y=np.array(["a"] * 4)), TypeError,
     "LogLoss.value: y holds strings"),
    ("loss value y wrong shape", lambda: value(y=np.ones((4, 3))), ValueError,
     "y must have shape \\(n_samples, 2\\)"),
    ("loss value weight negative", lambda: value(w=-np.ones(4)), ValueError,
     "LogLoss.value: sample_weight must be non-negative"),
    ("loss value weight length", lambda: value(w=np.ones(5)), ValueError,
     "output has 4, sample_weight has 5"),
    ("loss gradient output complex", lambda: gradient(np.ones((4, 2)) * 1j), TypeError,
     "SquaredError.gradient: output holds complex"),
    ("loss gradient y too short", lambda: gradient(y=np.ones((3, 2))), ValueError,
     "inconsistent numbers of samples"),
    ("loss gradient weight all zero", lambda: gradient(w=np.zeros(4)), ValueError,
     "zero for every sample"),
    ("binary loss output empty", lambda: BinaryLogLoss().value(np.ones((0, 1)), np.ones(0)),
     ValueError, "output is empty"),
    # --- gradient checks ---------------------------------------------------------------------
    ("gradcheck eps zero", lambda: check_net(eps=0.0), ValueError, "eps must be a finite"),
    ("gradcheck rtol negative", lambda: check_net(rtol=-1.0), ValueError, "rtol must be"),
    ("gradcheck wrong n_features", lambda: check_net(X[:4, :2]), ValueError,
     "X has 2 features"),
    ("gradcheck y strings", lambda: check_net(y=np.array(list("abab"))), TypeError,
     "y holds strings"),
    ("gradcheck directions zero", lambda: gradcheck.check_network_directional(
        net(), X[:4], Y[:4], LogLoss(), n_directions=0), ValueError, "n_directions must be"),
    ("gradcheck loss output NaN", lambda: gradcheck.check_loss(
        SquaredError(), with_nan(np.ones((3, 2))), np.ones((3, 2))), ValueError,
     "gradcheck.check_loss: output " + NAN),
    ("gradcheck loss not a Loss", lambda: gradcheck.check_loss(
        "mse", np.ones((3, 2)), np.ones((3, 2))), TypeError, "loss must be an nnlite Loss"),
    ("gradcheck layer 1-D", lambda: gradcheck.check_layer(Dense(2), X[0]), ValueError,
     "gradcheck.check_layer: x must be 2-D"),
    # --- arguments of the layers -------------------------------------------------------------
    ("Dropout rate 1", lambda: nnlite.Dropout(1.0), ValueError,
     r"Dropout: rate must be in \[0, 1\); got 1.0"),
    ("Dropout rate negative", lambda: nnlite.Dropout(-0.1), ValueError,
     r"Dropout: rate must be in \[0, 1\)"),
    ("Dropout rate NaN", lambda: nnlite.Dropout(np.nan), ValueError, "Dropout: rate must be in"),
    ("Dropout rate string", lambda: nnlite.Dropout("0.5"), TypeError,
     "Dropout: rate must be a real number"),
    ("Dropout seed float", lambda: nnlite.Dropout(0.5, random_state=1.5), TypeError,
     "Dropout: random_state must be None or an int"),
    ("Dropout seed negative", lambda: nnlite.Dropout(0.5, random_state=-1), ValueError,
     "Dropout: random_state must be None or an int"),
    ("LeakyReLU slope negative", lambda: nnlite.LeakyReLU(-0.2), ValueError,
     "LeakyReLU: negative_slope must be a finite number >= 0; got -0.2"),
    ("ELU alpha NaN", lambda: nnlite.ELU(np.nan), ValueError,
     "ELU: alpha must be a finite number >= 0"),
    ("ELU alpha string", lambda: nnlite.ELU("1"), TypeError, "ELU: alpha must be a real number"),
    ("LayerNorm eps zero", lambda: nnlite.LayerNorm(eps=0.0), ValueError,
     "LayerNorm: eps must be a finite number > 0; got 0.0"),
    ("BatchNorm eps inf", lambda: nnlite.BatchNorm(eps=np.inf), ValueError,
     "BatchNorm: eps must be a finite number > 0"),
    ("BatchNorm momentum zero", lambda: nnlite.BatchNorm(momentum=0.0), ValueError,
     "BatchNorm: momentum must be a finite number > 0"),
    ("BatchNorm momentum above 1", lambda: nnlite.BatchNorm(momentum=1.5), ValueError,
     r"BatchNorm: momentum must be in \(0, 1\]; got 1.5"),
    ("BatchNorm batch of one", lambda: nnlite.BatchNorm().forward(X[:1]), ValueError,
     "BatchNorm: a training batch needs at least 2 samples"),
    ("Embedding n_categories zero", lambda: nnlite.Embedding(0, 2), ValueError,
     "Embedding: n_categories must be a positive int; got 0"),
    ("Embedding width float", lambda: nnlite.Embedding(3, 2.5), TypeError,
     "Embedding: width must be a positive int; got 2.5"),
    ("Embedding code not integral", lambda: nnlite.Embedding(3, 2).forward([[0.5]]),
     ValueError, "Embedding: input codes must be integers; got 0.5 at row 0, column 0"),
    ("Embedding code negative", lambda: nnlite.Embedding(3, 2).forward([[1], [-2]]),
     ValueError, r"Embedding: input codes must be in \[0, n_categories=3\); got -2 at row 1"),
    ("Embedding code too large", lambda: Sequential([nnlite.Embedding(3, 2), Dense(1)]).predict(
        [[3]]), ValueError, r"n_categories=3\); got 3 at row 0, column 0"),
    ("Embedding codes sparse", lambda: nnlite.Embedding(3, 2).forward(sparse.eye(2).tocsr()),
     TypeError, "Embedding: its input must be a dense array"),
]


@pytest.mark.parametrize("call, error, message", [pytest.param(*row[1:], id=row[0])
                                                  for row in BAD])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert type(info.value) in (error, nio.ModelFileError)  # not a subclass from numpy


def test_a_refused_train_changes_nothing():
    unbuilt = Sequential([Dense(3), Tanh(), Dense(2), Softmax()])
    with pytest.raises(ValueError):
        train(unbuilt, with_nan(X), Y, LogLoss(), Adam())
    assert not unbuilt.built
    with pytest.raises(ValueError):
        train(unbuilt, X, Y[:-1], LogLoss(), Adam())
    assert not unbuilt.built
    built = net()
    before = built.theta.copy()
    with pytest.raises(ValueError):
        train(built, X, Y, LogLoss(), Adam(), sample_weight=W * 0)
    assert np.array_equal(built.theta, before)


# ----- accepted inputs ----------------------------------------------------------------------
def readonly(a):
    a = a.copy()
    a.setflags(write=False)
    return a


def memmapped(a, tmp_path):
    m = np.lib.format.open_memmap(str(tmp_path / "x.npy"), mode="w+", dtype=a.dtype,
                                  shape=a.shape)
    m[...] = a
    m.flush()
    return np.load(str(tmp_path / "x.npy"), mmap_mode="r")


GOOD = {
    "read-only": lambda tp: readonly(X),
    "Fortran-ordered": lambda tp: np.asfortranarray(X),
    "memory-mapped": lambda tp: memmapped(X, tp),
    "list": lambda tp: X.tolist(),
    "CSR": lambda tp: sparse.csr_matrix(X),
    "CSC": lambda tp: sparse.csc_matrix(X),
    "COO (converted)": lambda tp: sparse.coo_matrix(X),
    "strided view": lambda tp: np.hstack([X, X])[:, ::2][:, :3] * 0 + X,
    "object numbers": lambda tp: X.astype(object),
}


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_accepted_input_gives_the_plain_answer(kind, tmp_path):
    x = GOOD[kind](tmp_path)
    ref, other = net(), net()
    np.testing.assert_allclose(other.predict(x), ref.predict(X), rtol=1e-13, atol=0)
    np.testing.assert_allclose(other.forward(x), ref.forward(X), rtol=1e-13, atol=0)
    h_ref = train(ref, X, Y, LogLoss(), Adam(0.01), epochs=3, batch_size=5, random_state=0)
    h = train(other, x, Y.tolist(), LogLoss(), Adam(0.01), epochs=3, batch_size=5,
              random_state=0, sample_weight=readonly(W))
    np.testing.assert_allclose(h.loss_curve, h_ref.loss_curve, rtol=1e-12)
    np.testing.assert_allclose(other.theta, ref.theta, rtol=1e-10, atol=1e-13)


def test_integer_and_boolean_X_become_float64_and_float32_is_kept():
    ints = (X * 10).astype(np.int32)
    assert np.array_equal(net().predict(ints), net().predict(ints.astype(float)))
    assert net().predict(X > 0).dtype == np.float64
    x32 = X.astype(np.float32)
    assert _validation.check_X(x32, "t") is x32  # no copy
    assert _validation.check_X(X, "t") is X
    f = np.asfortranarray(X)
    assert _validation.check_X(f, "t") is f
    csr = sparse.csr_matrix(X)
    assert _validation.check_X(csr, "t") is csr


def test_pandas_dataframe_is_accepted():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    assert np.array_equal(net().predict(df), net().predict(X))


def test_one_sample_and_scalar_weight_are_fine():
    assert net().predict(X[:1]).shape == (1, 2)
    fit(X[:1], Y[:1])
    fit(sample_weight=2.0)


def test_layers_inside_a_network_skip_the_checks_and_alone_they_check():
    n = net()
    assert all(layer._checks_input is False for layer in n.layers)
    assert n._checks_input is True
    assert Dense(2)._checks_input is True


def test_validation_runs_once_per_call_not_per_minibatch(monkeypatch):
    calls = []
    real = _validation.check_X

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(_validation, "check_X", counting)
    train(net(), X, Y, LogLoss(), Adam(0.01), epochs=4, batch_size=2,
          validation_data=(X, Y), tol=None)
    assert calls == ["train", "train"]  # X and X_val, once each, for 24 minibatches
    calls.clear()
    gradcheck.check_network(net(), X[:3], Y[:3], LogLoss())
    assert len(calls) <= 2


def test_user_loss_overriding_gradient_is_checked_publicly_and_used_internally():
    class Doubled(SquaredError):
        def gradient(self, output, y, sample_weight=None):
            return 2 * (output - y)

    loss = Doubled()
    with pytest.raises(ValueError, match="Doubled.gradient: output " + NAN):
        loss.gradient(with_nan(np.ones((2, 1))), np.ones((2, 1)))
    out, y = np.ones((2, 1)), np.zeros((2, 1))
    assert np.array_equal(loss.gradient(out, y), 2 * np.ones((2, 1)))
    assert np.array_equal(loss._gradient(out, y), 2 * np.ones((2, 1)))
    report = gradcheck.check_loss(loss, out + 0.5, y)
    assert not report.passed  # the internal path runs the user's (wrong) gradient


# ----- fuzzing ------------------------------------------------------------------------------
DOCUMENTED = (ValueError, TypeError)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=junk(), y=junk(), w=st.one_of(st.none(), junk()), which=st.integers(0, 5),
       batch=st.integers(-1, 5))
def test_fuzz_entry_points_raise_only_documented_errors(x, y, w, which, batch):
    model = net()
    try:  # warnings are errors here: an overflow warning would fail the test too
        if which == 0:
            model.predict(x)
        elif which == 1:
            model.forward(x)
        elif which == 2:
            Dense(2).forward(x)
        elif which == 3:
            train(model, x, y, LogLoss(), SGD(0.01), epochs=1, sample_weight=w,
                  batch_size=batch)
        elif which == 4:
            train(Sequential([Dense(2), Logistic()]), x, y, BinaryLogLoss(), Adam(),
                  epochs=1, sample_weight=w, batch_size=max(batch, 1))
        else:
            SquaredError().value(x, y, w)
    except DOCUMENTED:
        pass
    # the network stays usable whatever happened
    assert model.predict(X).shape == (12, 2)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600), zipped=st.booleans(),
       names=st.lists(st.sampled_from(["nnlite.json", "arrays/params/0.W.npy", "x"]),
                      max_size=3, unique=True))
def test_fuzz_load_raises_only_model_file_errors(data, zipped, names):
    if zipped:  # random members inside a valid zip container
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for i, name in enumerate(names):
                zf.writestr(name, data[i::2] if i else data)
        data = buf.getvalue()
    with pytest.raises(nio.ModelFileError):
        load(io.BytesIO(data))
