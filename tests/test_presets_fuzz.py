"""Fuzzing the presets: random data, labels and hyperparameters at fit, partial_fit, predict.

Only the documented exceptions may come out (ValueError, TypeError, and
AttributeError for a partial_fit the solver does not offer), never a warning
from deep inside numpy, and a fitted model stays exactly as it was.
"""

import warnings

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nnlite import ConvergenceWarning, DataConversionWarning, MLPClassifier, MLPRegressor
from tests.strategies import junk

RNG = np.random.RandomState(0)
X = RNG.normal(size=(30, 3))
Y = np.arange(30) % 3

HYPER = st.fixed_dictionaries({}, optional={
    "hidden_layer_sizes": st.one_of(st.integers(-2, 4), st.lists(st.integers(-1, 4),
                                                                max_size=3)),
    "activation": st.sampled_from(["relu", "tanh", "logistic", "identity", "swish"]),
    "solver": st.sampled_from(["adam", "sgd", "lbfgs", "newton"]),
    "alpha": st.one_of(st.floats(-1, 10), st.just(np.nan)),
    "batch_size": st.one_of(st.just("auto"), st.integers(-1, 50)),
    "learning_rate": st.sampled_from(["constant", "invscaling", "adaptive", "cosine"]),
    "learning_rate_init": st.floats(-0.1, 1.0),
    "max_iter": st.integers(-1, 3),
    "early_stopping": st.booleans(),
    "validation_fraction": st.floats(-0.5, 1.5),
    "momentum": st.floats(-0.5, 1.5),
    "n_iter_no_change": st.one_of(st.integers(-1, 3), st.just(np.inf)),
    "tol": st.floats(-1, 1),
    "warm_start": st.booleans(),
})
EXPECTED = (ValueError, TypeError)


def _fresh_model(cls):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        target = Y if cls is MLPClassifier else X[:, 0]
        return cls(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, target)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=HYPER, x=junk(), y=junk(), w=st.one_of(st.none(), junk()),
       regressor=st.booleans(), method=st.sampled_from(["fit", "partial_fit", "predict"]))
def test_fuzz_presets_raise_only_documented_errors(params, x, y, w, regressor, method):
    cls = MLPRegressor if regressor else MLPClassifier
    model = _fresh_model(cls)
    before = model.network_.theta.copy()
    expected = model.predict(X)
    model.set_params(**params)
    with warnings.catch_warnings():
        # conversions and clipping the presets announce on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", DataConversionWarning)
        warnings.filterwarnings("ignore", "Got `batch_size` less than 1 or larger")
        try:
            if method == "fit":
                model.fit(x, y, sample_weight=w)
            elif method == "partial_fit":
                kwargs = {} if regressor else {"classes": np.unique(Y)}
                model.partial_fit(x, y, sample_weight=w, **kwargs)
            else:
                model.predict(x)
        except AttributeError:
            assert method == "partial_fit" and model.solver not in ("sgd", "adam")
        except EXPECTED:
            # a refused call leaves the fitted model exactly as it was
            np.testing.assert_array_equal(model.network_.theta, before)
    model.set_params(warm_start=False)
    if method == "predict" or not np.array_equal(model.network_.theta, before):
        return
    np.testing.assert_array_equal(model.predict(X), expected)


@st.composite
def labelled_data(draw):
    n = draw(st.integers(1, 25))
    d = draw(st.integers(1, 4))
    x = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=n * d, max_size=n * d)))
    kind = draw(st.sampled_from(["int", "str", "bool", "float", "multilabel", "multioutput"]))
    if kind == "int":
        y = np.array(draw(st.lists(st.integers(-2, 3), min_size=n, max_size=n)))
    elif kind == "str":
        y = np.array(draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n)))
    elif kind == "bool":
        y = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    elif kind == "float":
        y = np.array(draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n)))
    else:
        y = np.array(draw(st.lists(st.integers(0, 1), min_size=2 * n, max_size=2 * n)))
        y = y.reshape(n, 2).astype(float if kind == "multioutput" else int)
    return x.reshape(n, d), y


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=HYPER, data=labelled_data(), regressor=st.booleans())
def test_fuzz_presets_on_valid_arrays(params, data, regressor):
    x, y = data
    model = (MLPRegressor if regressor else MLPClassifier)(random_state=0, max_iter=2)
    model.set_params(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "Got `batch_size` less than 1 or larger")
        try:
            model.fit(x, y)
        except EXPECTED:
            assert not hasattr(model, "coefs_")  # a refused first fit leaves nothing behind
            event("refused")
            return
    event("fitted")
    pred = model.predict(x)
    assert pred.shape[0] == len(x)
    if not regressor:
        assert set(np.unique(pred).tolist()) <= set(np.unique(y).tolist()) | {0, 1}
