"""The printed estimator and its HTML display, with scikit-learn 1.9.1 as the reference."""

import html
import itertools
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnlite import MLPClassifier, MLPRegressor

from .strategies import param_values

sklearn = pytest.importorskip("sklearn")
if sklearn.__version__ != "1.9.1":  # pragma: no cover - the test extra pins it
    pytest.skip("the layout is specified against scikit-learn 1.9.1", allow_module_level=True)

from sklearn import neural_network as skl  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils import estimator_html_repr  # noqa: E402

PAIRS = [(MLPClassifier, skl.MLPClassifier), (MLPRegressor, skl.MLPRegressor)]
# scikit-learn's parameters (nnlite's additions, left at their defaults, do not print)
NAMES = {cls: sorted(theirs()._get_param_names()) for cls, theirs in PAIRS}


def _sklearn_params(est):
    """``est.get_params()`` without nnlite's additions, for the scikit-learn twin."""
    names = set(type(est)._get_param_names()) & set(
        dict(PAIRS)[type(est)]()._get_param_names())
    return {k: v for k, v in est.get_params().items() if k in names}


@st.composite
def params(draw, cls, max_len=40):
    """Some of ``cls``'s parameters, each set to a drawn value (valid or not)."""
    names = draw(st.lists(st.sampled_from(NAMES[cls]), unique=True, max_size=len(NAMES[cls])))
    return {name: draw(param_values(max_len)) for name in names}


def test_the_examples_print_as_in_scikit_learn():
    clf = MLPClassifier(solver="lbfgs", alpha=1e-5, hidden_layer_sizes=(5, 2), random_state=1)
    assert repr(clf) == ("MLPClassifier(alpha=1e-05, hidden_layer_sizes=(5, 2), random_state=1,\n"
                         "              solver='lbfgs')")
    assert repr(MLPClassifier()) == "MLPClassifier()"
    assert str(MLPRegressor(max_iter=500)) == "MLPRegressor(max_iter=500)"
    # unchanged after fitting: only the parameters print
    X, y = np.array([[0., 0.], [1., 1.]]), [0, 1]
    assert repr(clf.fit(X, y)) == repr(skl.MLPClassifier(**_sklearn_params(clf)))


@pytest.mark.parametrize("ours, theirs", PAIRS, ids=["classifier", "regressor"])
@given(data=st.data())
def test_repr_equals_scikit_learns_for_any_parameters(ours, theirs, data):
    kwargs = data.draw(params(ours))
    assert repr(ours(**kwargs)) == repr(theirs(**kwargs))


@given(kwargs=params(MLPClassifier, max_len=200))
def test_very_long_reprs_are_cut_as_in_scikit_learn(kwargs):
    ours, theirs = MLPClassifier(**kwargs), skl.MLPClassifier(**kwargs)
    assert repr(ours) == repr(theirs)
    for n in (10, 80, 300):
        assert ours.__repr__(N_CHAR_MAX=n) == theirs.__repr__(N_CHAR_MAX=n)


def test_long_values_wrap_as_in_scikit_learn():
    cases = [
        dict(hidden_layer_sizes=tuple(range(1, 60))),                 # cut after 30 items
        dict(hidden_layer_sizes=list(range(100, 140)), alpha=np.float64(1e-05)),
        dict(solver="a long string value " * 8, activation="x" * 90),  # split strings
        dict(random_state=np.random.RandomState(3), tol=float("nan"), epsilon=np.nan),
        dict(hidden_layer_sizes=np.arange(1, 50), batch_size={"b": [1] * 40, "a": None}),
    ]
    for kwargs in cases:
        for ours, theirs in PAIRS:
            assert repr(ours(**kwargs)) == repr(theirs(**kwargs)), kwargs
    sizes = tuple(range(1, 400))
    long = repr(MLPClassifier(hidden_layer_sizes=sizes))
    assert "..." in long and long == repr(skl.MLPClassifier(hidden_layer_sizes=sizes))


def test_estimators_as_parameter_values_print_as_in_scikit_learn():
    kw = dict(hidden_layer_sizes=(5, 2), solver="lbfgs", max_iter=300, random_state=1,
              learning_rate="adaptive")
    for outer, inner in [(MLPClassifier, MLPRegressor), (MLPClassifier, skl.MLPRegressor)]:
        ours = outer(alpha=inner(**kw), tol=[inner(**kw)] * 3, epsilon=outer(alpha=inner()))
        theirs = skl.MLPClassifier(alpha=skl.MLPRegressor(**kw), tol=[skl.MLPRegressor(**kw)] * 3,
                                   epsilon=skl.MLPClassifier(alpha=skl.MLPRegressor()))
        assert repr(ours) == repr(theirs)
        assert "\n" + " " * 33 + "learning_rate='adaptive'" in repr(ours)
    ours, theirs = MLPClassifier(), skl.MLPClassifier()
    ours.alpha, theirs.alpha = ours, theirs  # a cycle prints as pprint's recursion marker
    assert repr(ours).replace(str(id(ours)), "ID") == repr(theirs).replace(str(id(theirs)), "ID")


def test_print_changed_only_setting_of_scikit_learn_is_honoured():
    kwargs = dict(alpha=1e-5, hidden_layer_sizes=(5, 2))
    with sklearn.config_context(print_changed_only=False):
        full = repr(MLPClassifier(**kwargs))
        theirs = repr(skl.MLPClassifier(**kwargs))

    def items(text):  # the name=value pairs, wherever the lines wrap
        return re.split(r", (?=\w+=)", re.sub(r"\s+", " ", text[text.index("(") + 1:-1]))

    # every parameter prints, nnlite's additions in their sorted places
    extra = ["callbacks=None", "class_weight=None", "dropout=0.0"]
    assert items(full) == sorted(items(theirs) + extra)
    assert "beta_1=0.9" in full and "beta_1" not in repr(MLPClassifier(**kwargs))


def _wrap(est, how):
    if how == "pipeline":
        return make_pipeline(StandardScaler(), est)
    if how == "named-pipeline":
        return Pipeline([("scale", StandardScaler()), ("net", est)])
    return GridSearchCV(make_pipeline(StandardScaler(), est),
                        {"mlpclassifier__alpha": [1e-3, 1e-2], "mlpregressor__alpha": [1.0]})


@pytest.mark.parametrize("how", ["pipeline", "named-pipeline", "grid-search"])
@given(data=st.data())
def test_nested_in_scikit_learn_meta_estimators_prints_as_scikit_learns(how, data):
    ours, theirs = data.draw(st.sampled_from(PAIRS))
    kwargs = data.draw(params(ours, max_len=12))
    assert repr(_wrap(ours(**kwargs), how)) == repr(_wrap(theirs(**kwargs), how))


def test_nested_example_wraps_under_the_nested_parenthesis():
    kwargs = dict(solver="lbfgs", alpha=1e-5, hidden_layer_sizes=(5, 2), random_state=1,
                  max_iter=500, learning_rate="adaptive")
    text = repr(_wrap(MLPClassifier(**kwargs), "grid-search"))
    assert text == repr(_wrap(skl.MLPClassifier(**kwargs), "grid-search"))
    assert "\n" + " " * 54 + "hidden_layer_sizes=(5, 2)," in text


# ----- HTML --------------------------------------------------------------------------------------
class _Tree(HTMLParser):
    """Checks that tags nest properly; keeps the text of each table row by class."""

    VOID = {"br", "input", "meta", "img", "hr"}

    def __init__(self):
        super().__init__()
        self.stack, self.rows, self.row, self.tags = [], [], None, []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "tr":
            self.row = [dict(attrs).get("class"), ""]
            self.rows.append(self.row)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()

    def handle_data(self, data):
        if self.row is not None and "tr" in self.stack:
            self.row[1] += data + "|"


def _parse(text):
    tree = _Tree()
    tree.feed(text)
    tree.close()
    assert tree.stack == []
    return tree


def test_html_shows_name_and_every_parameter_marking_changed_ones():
    est = MLPClassifier(alpha=1e-5, hidden_layer_sizes=(5, 2), solver="lbfgs")
    text = est._repr_html_()
    tree = _parse(text)
    assert "MLPClassifier" in text and "not fitted" in text
    assert "<script" not in text and "http" not in text  # self-contained
    rows = {cells.split("|")[0]: (kind, cells.split("|")[1]) for kind, cells in tree.rows}
    assert sorted(rows) == sorted(MLPClassifier._get_param_names())
    assert {n for n, (kind, _) in rows.items() if kind == "user-set"} == {
        "alpha", "hidden_layer_sizes", "solver"}
    assert rows["alpha"] == ("user-set", "1e-05") and rows["max_iter"] == ("default", "200")
    assert "<b>alpha</b>" in text  # marked even where the CSS is stripped
    est.fit([[0., 0.], [1., 1.]], [0, 1])
    assert "not fitted" not in est._repr_html_() and "fitted" in est._repr_html_()


def test_html_escapes_values():
    nasty = "<script>alert('x')</script> & \"q\""
    text = MLPRegressor(solver=nasty, activation="<b>")._repr_html_()
    tree = _parse(text)
    assert "script" not in tree.tags and "<script>" not in text and "&lt;script&gt;" in text
    assert "&lt;b&gt;" in text
    values = [cells.split("|")[1] for _, cells in tree.rows]
    assert repr(nasty) in values  # the parser unescapes back to the exact repr


def test_html_ids_are_unique_and_css_is_scoped():
    a, b = MLPClassifier()._repr_html_(), MLPClassifier()._repr_html_()
    id_a = re.search(r'id="([^"]+)"', a).group(1)
    id_b = re.search(r'id="([^"]+)"', b).group(1)
    assert id_a != id_b and f"#{id_a} " in a


def test_mimebundle_has_the_text_fallback():
    est = MLPClassifier(alpha=1e-5, hidden_layer_sizes=(5, 2), random_state=1, solver="lbfgs")
    bundle = est._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"] == repr(est) == repr(skl.MLPClassifier(**_sklearn_params(est)))
    _parse(bundle["text/html"])
    with sklearn.config_context(display="text"):  # as scikit-learn's estimators then do
        assert est._repr_mimebundle_() == {"text/plain": repr(est)}
        assert est._repr_html_() is None
        assert set(skl.MLPClassifier()._repr_mimebundle_()) == {"text/plain"}


def test_the_printed_forms_in_the_presets_page_are_what_prints():
    page = (Path(__file__).resolve().parents[1] / "docs" / "presets.md").read_text()

    def printed(call):  # the comment lines under ``print(call)`` in the page
        lines = page.split(f"print({call})\n", 1)[1].splitlines()
        return "\n".join(ln[2:] for ln in itertools.takewhile(
            lambda ln: ln.startswith("# "), lines))

    clf = MLPClassifier(solver="lbfgs", alpha=1e-5, hidden_layer_sizes=(5, 2), random_state=1)
    assert printed("clf") == repr(clf)
    pipe = make_pipeline(StandardScaler(), clf.set_params(max_iter=500))
    assert printed("pipe") == repr(pipe)


def test_inside_scikit_learns_html_display_of_a_pipeline():
    est = MLPClassifier(alpha=1e-5, solver="<lbfgs>")
    pipe = make_pipeline(StandardScaler(), est)
    text = estimator_html_repr(pipe)
    # scikit-learn embeds nnlite's parameter table in the step's box...
    table = est._get_params_html()._repr_html_inner()
    assert table in text and 'class="user-set"' in table
    assert "&lt;lbfgs&gt;" in table and "<lbfgs>" not in text
    # ...and its text fallback is the scikit-learn layout of the pipeline
    assert html.escape(repr(pipe)) in text
    theirs = skl.MLPClassifier(**_sklearn_params(est))
    assert repr(pipe) == repr(make_pipeline(StandardScaler(), theirs))
