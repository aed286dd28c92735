"""Saving and loading the presets with nnlite.save / nnlite.load."""

import json
import warnings
import zipfile

import numpy as np
import pytest

import nnlite
from nnlite import MLPClassifier, MLPRegressor
from nnlite.io import ModelFileError

RNG = np.random.RandomState(0)
X = RNG.normal(size=(90, 4))


def fitted(est, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        return est.fit(X, y, **kw)


CASES = {
    "strings": (lambda: MLPClassifier((5,), max_iter=5, random_state=0),
                np.array(["ant", "bee", "cat"])[np.arange(90) % 3]),
    "binary-bool": (lambda: MLPClassifier((5,), solver="lbfgs", max_iter=20, random_state=0),
                    X[:, 0] > 0),
    "multilabel": (lambda: MLPClassifier((5,), max_iter=5, random_state=0),
                   (X[:, :3] > 0).astype(int)),
    "early-stopping": (lambda: MLPRegressor(hidden_layer_sizes=(5,), early_stopping=True,
                                            n_iter_no_change=np.inf, max_iter=6,
                                            random_state=0), X[:, 0] + X[:, 1]),
    "poisson-float32": (lambda: MLPRegressor("poisson", hidden_layer_sizes=(3,), max_iter=4,
                                             random_state=0), np.abs(X[:, 0]).round()),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_round_trip_predicts_identically_and_keeps_attributes(case, tmp_path):
    make, y = CASES[case]
    data = X.astype(np.float32) if case.endswith("float32") else X
    est = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nnlite.ConvergenceWarning)
        est.fit(data, y)
    path = tmp_path / "model.nnlite"
    nnlite.save(est, path)
    loaded = nnlite.load(path)
    assert type(loaded) is type(est) and loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(loaded.predict(data), est.predict(data))
    for a, b in zip(loaded.coefs_ + loaded.intercepts_, est.coefs_ + est.intercepts_):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    for name in ("n_iter_", "t_", "n_outputs_", "n_layers_", "out_activation_",
                 "n_features_in_", "loss_", "loss_curve_", "best_loss_",
                 "validation_scores_", "best_validation_score_"):
        assert getattr(loaded, name, "absent") == getattr(est, name, "absent"), name
    if hasattr(est, "classes_"):
        np.testing.assert_array_equal(loaded.classes_, est.classes_)
        np.testing.assert_array_equal(loaded.predict_proba(data), est.predict_proba(data))
    if hasattr(est, "partial_fit") and case != "early-stopping":
        loaded.partial_fit(data, y)  # keeps training (with a fresh optimizer)
        assert loaded.t_ == est.t_ + len(y)


def test_unfitted_preset_round_trip(tmp_path):
    path = tmp_path / "m.nnlite"
    nnlite.save(MLPRegressor("poisson", hidden_layer_sizes=[7, 3], n_iter_no_change=np.inf),
                path)
    loaded = nnlite.load(path)
    assert loaded.loss == "poisson" and loaded.hidden_layer_sizes == (7, 3)
    assert loaded.n_iter_no_change == np.inf and not hasattr(loaded, "coefs_")


def _rewrite(path, edit):
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    header = json.loads(members["nnlite.json"])
    edit(header)
    members["nnlite.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.mark.parametrize("edit,message", [
    (lambda h: h["model"]["config"]["params"].update(alpha=-1.0), "alpha"),
    (lambda h: h["model"]["config"]["params"].pop("alpha"), "params must name exactly"),
    (lambda h: h["model"]["config"]["fitted"].update(n_features_in=7), "widths"),
    (lambda h: h["model"]["config"]["fitted"]["classes"].update(kind="pickle"), "kind"),
    (lambda h: h["model"]["config"]["fitted"].update(out_activation="os.system"),
     "out_activation"),
    (lambda h: h["model"]["config"]["fitted"].update(y_type="continuous"), "class labels"),
])
def test_tampered_preset_state_is_refused(tmp_path, edit, message):
    est = fitted(MLPClassifier((4,), max_iter=3, random_state=0), np.arange(90) % 3)
    path = tmp_path / "m.nnlite"
    nnlite.save(est, path)
    _rewrite(path, edit)
    with pytest.raises(ModelFileError, match=message):
        nnlite.load(path)
