"""How an estimator shows itself: scikit-learn's printed layout and a notebook's HTML display.

The text follows scikit-learn 1.9.1's ``BaseEstimator.__repr__`` character for character:
only the parameters whose ``repr`` differs from the default, sorted by name, wrapped at 80
columns and aligned under the opening parenthesis (Python's ``pprint`` in its compact mode),
sequences longer than 30 items cut with ``, ...``, and a repr of more than 700 non-blank
characters cut in its middle with ``...``.  Like scikit-learn, the layout is built on the
standard library's :class:`pprint.PrettyPrinter`, so strings, dicts, sets and other values
break exactly where they do in scikit-learn.  scikit-learn is never imported.

Inside a scikit-learn meta-estimator (``Pipeline``, ``GridSearchCV`` ...), scikit-learn's own
printer lays the nested estimator out; :func:`estimator_repr` answers it with the one-line
form it expects from its estimators and registers nnlite's estimators with it, so a nested
nnlite estimator wraps as a nested scikit-learn one does.
"""

from __future__ import annotations

import html
import inspect
import itertools
import math
import numbers
import pprint
import re
import reprlib
import sys

_N_MAX_ELEMENTS = 30  # items of a sequence, dict or parameter list shown before ", ..."
_N_CHAR_MAX = 700  # non-blank characters of a repr before its middle is cut


def _is_estimator(obj) -> bool:
    """scikit-learn's estimator protocol, by duck typing (instances only, not classes)."""
    typ = type(obj)
    return hasattr(typ, "get_params") and hasattr(typ, "_get_param_names") \
        and not isinstance(obj, type)


def _is_scalar_nan(x) -> bool:
    return (isinstance(x, numbers.Real) and not isinstance(x, numbers.Integral)
            and math.isnan(x))


def changed_params(est) -> dict:
    """The parameters of ``est`` whose ``repr`` differs from their default (NaN equals NaN)."""
    defaults = {name: p.default for name, p in inspect.signature(est.__init__).parameters.items()}

    def changed(name, value):
        if name not in defaults or defaults[name] is inspect.Parameter.empty:
            return True
        default = defaults[name]
        if _is_estimator(value) and type(value) is not type(default):
            return True  # skips the repr of a nested estimator
        return repr(value) != repr(default) and not (_is_scalar_nan(default)
                                                     and _is_scalar_nan(value))

    return {k: v for k, v in est.get_params(deep=False).items() if changed(k, v)}


def _printed_params(est, changed_only):
    return changed_params(est) if changed_only else est.get_params(deep=False)


def _safe_repr(obj, context, maxlevels, level, changed_only=True):
    """One-line rendering; returns ``(text, readable, recursive)`` as :mod:`pprint` expects.

    The standard rendering, except that estimators show as ``Name(param=value, ...)``
    and dicts, lists and tuples render their items with this same function.
    """
    typ = type(obj)
    if typ in pprint._builtin_scalars:
        return repr(obj), True, False
    r = getattr(typ, "__repr__", None)
    if issubclass(typ, dict) and r is dict.__repr__:
        if not obj:
            return "{}", True, False
        template, items, sep = "{%s}", sorted(obj.items(), key=pprint._safe_tuple), ": "
    elif (issubclass(typ, list) and r is list.__repr__) or (
            issubclass(typ, tuple) and r is tuple.__repr__):
        if not obj:
            return ("[]" if issubclass(typ, list) else "()"), True, False
        template = "[%s]" if issubclass(typ, list) else "(%s,)" if len(obj) == 1 else "(%s)"
        items, sep = obj, None
    elif _is_estimator(obj):
        template = typ.__name__ + "(%s)"
        items = sorted(_printed_params(obj, changed_only).items(), key=pprint._safe_tuple)
        sep = "="
    else:
        rep = repr(obj)
        return rep, bool(rep and not rep.startswith("<")), False

    objid = id(obj)
    if maxlevels and level >= maxlevels:
        return template.replace("(%s)", "(...)").replace("%s", "..."), False, objid in context
    if objid in context:
        return pprint._recursion(obj), False, True
    context[objid] = 1
    readable, recursive, parts = True, False, []
    for item in items:
        pieces = [item] if sep is None else list(item)
        reps = [_safe_repr(p, context, maxlevels, level + 1, changed_only) for p in pieces]
        readable = readable and all(rd for _, rd, _ in reps)
        recursive = recursive or any(rc for _, _, rc in reps)
        if sep is None:
            parts.append(reps[0][0])
        else:
            key = reps[0][0].strip("'") if sep == "=" else reps[0][0]
            parts.append(key + sep + reps[1][0])
    del context[objid]
    return template % ", ".join(parts), readable, recursive


class _KeyVal(tuple):
    """A ``(key, value)`` of a dict, printed ``key: value``."""

    middle = ": "

    def __repr__(self):  # its own function, so that pprint dispatches on it
        return super().__repr__()


class _Param(_KeyVal):
    """A ``(name, value)`` parameter of an estimator, printed ``name=value``."""

    middle = "="


class _Printer(pprint.PrettyPrinter):
    """:class:`pprint.PrettyPrinter` in compact mode that lays out estimators.

    Nested items are indented one column past the opening bracket; parameters and dict
    items are packed several to a line as compact mode packs list items; sequences show
    at most ``_N_MAX_ELEMENTS`` items.
    """

    def __init__(self, changed_only: bool = True):
        super().__init__(indent=1, width=80, compact=True)
        self._changed_only = changed_only

    def format(self, obj, context, maxlevels, level):
        return _safe_repr(obj, context, maxlevels, level, self._changed_only)

    def _format(self, obj, stream, indent, allowance, context, level):
        # pprint picks a layout by the type's __repr__; scikit-learn's estimators (a value
        # a user may set) are laid out like nnlite's, as scikit-learn's printer does
        if _laid_out_as_estimator(obj) and id(obj) not in context \
                and len(self._repr(obj, context, level)) > self._width - indent - allowance:
            context[id(obj)] = 1
            self._pprint_estimator(obj, stream, indent, allowance, context, level + 1)
            del context[id(obj)]
            return
        super()._format(obj, stream, indent, allowance, context, level)

    def _pprint_estimator(self, obj, stream, indent, allowance, context, level):
        name = type(obj).__name__
        stream.write(name + "(")
        params = sorted(_printed_params(obj, self._changed_only).items())
        self._format_packed([_Param(p) for p in params], stream, indent + len(name),
                            allowance + 1, context, level)
        stream.write(")")

    def _format_dict_items(self, items, stream, indent, allowance, context, level):
        self._format_packed([_KeyVal(kv) for kv in items], stream, indent, allowance,
                            context, level)

    def _format_items(self, items, stream, indent, allowance, context, level):
        self._format_packed(list(items), stream, indent, allowance, context, level)

    def _entry_repr(self, entry, context, level):
        if isinstance(entry, _KeyVal):
            key = self._repr(entry[0], context, level)
            key = key.strip("'") if isinstance(entry, _Param) else key
            return key + entry.middle + self._repr(entry[1], context, level)
        return self._repr(entry, context, level)

    def _format_packed(self, entries, stream, indent, allowance, context, level):
        """Write ``entries`` as many to a line as fit; one that does not fit is laid out alone.

        :mod:`pprint`'s compact loop (``_format_items``), also used for dict items and
        parameters, and stopping after ``_N_MAX_ELEMENTS`` entries with ``, ...``.
        """
        write = stream.write
        indent += 1
        delimnl = ",\n" + " " * indent
        delim = ""
        width = max_width = self._width - indent + 1
        for n, entry in enumerate(entries):
            if n == _N_MAX_ELEMENTS:
                write(", ...")
                break
            last = n == len(entries) - 1
            if last:
                max_width -= allowance
                width -= allowance
            rep = self._entry_repr(entry, context, level)
            w = len(rep) + 2
            if width < w:
                width = max_width
                if delim:
                    delim = delimnl
            if width >= w:
                width -= w
                write(delim)
                delim = ", "
                write(rep)
                continue
            write(delim)
            delim = delimnl
            self._format(entry, stream, indent, allowance if last else 1, context, level)

    def _pprint_key_val(self, entry, stream, indent, allowance, context, level):
        key = self._repr(entry[0], context, level)
        key = key.strip("'") if isinstance(entry, _Param) else key
        stream.write(key + entry.middle)
        self._format(entry[1], stream, indent + len(key) + len(entry.middle), allowance,
                     context, level)

    _dispatch = pprint.PrettyPrinter._dispatch.copy()  # a copy: stdlib printers stay as they are
    _dispatch[_KeyVal.__repr__] = _pprint_key_val


def _cut_middle(text: str, n_char_max: int) -> str:
    """Keep about ``n_char_max // 2`` non-blank characters at each end, ``...`` between."""
    if len("".join(text.split())) <= n_char_max:
        return text
    pattern = r"^(\s*\S){%d}" % (n_char_max // 2)
    left = re.match(pattern, text).end()
    right = re.match(pattern, text[::-1]).end()
    if "\n" in text[left:-right]:
        # the right part then starts at the beginning of a line, not inside a value
        right = re.match(pattern + r"[^\n]*\n", text[::-1]).end()
    if left + len("...") < len(text) - right:
        return text[:left] + "..." + text[-right:]
    return text


def _sklearn_setting(name: str, default):
    """scikit-learn's global setting ``name`` if scikit-learn is loaded, else ``default``.

    Users set ``print_changed_only`` and ``display`` through scikit-learn for all their
    estimators; nnlite follows them without importing scikit-learn.
    """
    sklearn = sys.modules.get("sklearn")
    try:
        return sklearn.get_config()[name]
    except Exception:
        return default


def _answer_sklearn_printer(est, frame):
    """The one-line form scikit-learn's printer asks of an estimator, if it is the caller.

    scikit-learn renders a nested estimator itself when it is one of its own; nnlite's
    estimators therefore register with the printer that is calling (the module in ``frame``,
    already loaded; nothing is imported) so that it wraps them the same way, and get
    scikit-learn's one-line rendering meanwhile.  Returns None when the caller is not that
    printer.
    """
    if (frame is None or frame.f_code.co_name != "_safe_repr"
            or frame.f_globals.get("__name__") != "sklearn.utils._pprint"
            or frame.f_locals.get("object") is not est):
        return None
    printer = frame.f_globals.get("_EstimatorPrettyPrinter")
    dispatch = getattr(printer, "_dispatch", None)
    if isinstance(dispatch, dict):
        dispatch.setdefault(estimator_repr, printer._pprint_estimator)
    changed_only = frame.f_locals.get("changed_only", True)
    return _safe_repr(est, {}, None, 0, changed_only)[0]


def estimator_repr(self, N_CHAR_MAX: int = _N_CHAR_MAX) -> str:  # noqa: N803 (sklearn's name)
    """The estimator as scikit-learn prints it: changed parameters only, wrapped at 80 columns.

    Parameters
    ----------
    N_CHAR_MAX : int, default=700
        Above this many non-blank characters the middle of the text is replaced by ``...``.

    Returns
    -------
    str

    Examples
    --------
    >>> from nnlite import MLPClassifier
    >>> MLPClassifier(solver="lbfgs", alpha=1e-5, hidden_layer_sizes=(5, 2), random_state=1)
    MLPClassifier(alpha=1e-05, hidden_layer_sizes=(5, 2), random_state=1,
                  solver='lbfgs')
    """
    nested = _answer_sklearn_printer(self, sys._getframe(1))
    if nested is not None:
        return nested
    printer = _Printer(changed_only=bool(_sklearn_setting("print_changed_only", True)))
    return _cut_middle(printer.pformat(self), N_CHAR_MAX)


def _laid_out_as_estimator(obj) -> bool:
    """Whether ``obj`` prints with nnlite's or scikit-learn's estimator ``__repr__``."""
    r = type(obj).__repr__
    return r is estimator_repr or (getattr(r, "__qualname__", None) == "BaseEstimator.__repr__"
                                   and getattr(r, "__module__", None) == "sklearn.base")


# ----- HTML display ------------------------------------------------------------------------------
_IDS = itertools.count(1)
_VALUE_REPR = reprlib.Repr()
_VALUE_REPR.maxstring, _VALUE_REPR.maxother = 60, 60
_VALUE_REPR.maxlist = _VALUE_REPR.maxtuple = _VALUE_REPR.maxdict = _VALUE_REPR.maxset = 8

_CSS = """
#{id} {{font-family: monospace; font-size: 0.9em; color: #222; display: inline-block;
  border: 1px solid #b0c4de; border-radius: 4px; background: #f7fbff; padding: 0.3em 0.6em}}
#{id} summary {{cursor: pointer; font-weight: bold}}
#{id} .status {{font-weight: normal; color: #666; margin-left: 0.6em}}
#{id} table {{border-collapse: collapse; margin-top: 0.3em}}
#{id} td {{padding: 0.1em 0.6em; text-align: left; vertical-align: top}}
#{id} tr.default {{color: #777}}
#{id} tr.user-set {{background: #e3f0ff}}
"""


def params_table_html(est) -> str:
    """Every parameter of ``est`` as an HTML table; changed ones have class ``user-set``.

    The names and values are HTML-escaped; long values are abbreviated.  The classes
    (``estimator-table``, ``parameters-table``, ``user-set``, ``default``) are the ones
    scikit-learn's display styles, so the table also fits in scikit-learn's diagrams.
    """
    changed = changed_params(est)
    rows = []
    for name, value in sorted(est.get_params(deep=False).items()):
        kind = "user-set" if name in changed else "default"
        shown = html.escape(name) if kind == "default" else f"<b>{html.escape(name)}</b>"
        rows.append(f'<tr class="{kind}"><td class="param">{shown}</td>'
                    f'<td class="value">{html.escape(_VALUE_REPR.repr(value))}</td></tr>')
    return ('<div class="estimator-table"><details><summary>Parameters</summary>'
            '<table class="parameters-table"><tbody>' + "".join(rows)
            + "</tbody></table></details></div>")


def estimator_html(est) -> str:
    """A self-contained HTML block: the class name, fitted or not, and the parameter table.

    Inline CSS scoped to the block's own id, no script and no external resource; changed
    parameters are in bold even where the CSS is stripped.
    """
    block_id = f"nnlite-estimator-{next(_IDS)}"
    fitted = est.__sklearn_is_fitted__() if hasattr(est, "__sklearn_is_fitted__") else False
    table = params_table_html(est).replace("<details>", "<details open>", 1)
    return (f'<div id="{block_id}" class="nnlite-estimator">'
            f"<style>{_CSS.format(id=block_id)}</style>"
            f'<div class="estimator-name">{html.escape(type(est).__name__)}'
            f'<span class="status">{"fitted" if fitted else "not fitted"}</span></div>'
            f"{table}</div>")


class _HTMLFragment:
    """What scikit-learn's diagrams expect from ``_get_params_html``: ``_repr_html_inner()``."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_inner(self) -> str:
        return self.text

    _repr_html_ = _repr_html_inner


def _html_wanted() -> bool:
    return _sklearn_setting("display", "diagram") != "text"


def repr_html(self) -> str | None:
    """HTML shown by notebooks: the class name, fitted or not, and every parameter.

    Changed parameters are marked (class ``user-set``, in bold); values are escaped.

    Returns
    -------
    str or None
        A self-contained ``<div>`` (inline CSS, no script); None (the notebook then prints
        the repr) under scikit-learn's ``set_config(display="text")``.
    """
    return estimator_html(self) if _html_wanted() else None


def repr_mimebundle(self, include=None, exclude=None, **kwargs) -> dict:
    """The displays a notebook chooses from: ``text/plain`` (the repr) and ``text/html``.

    Returns
    -------
    dict
        ``{"text/plain": repr(self), "text/html": self._repr_html_()}``; only ``text/plain``
        under scikit-learn's ``set_config(display="text")``.
    """
    bundle = {"text/plain": repr(self)}
    if _html_wanted():
        bundle["text/html"] = estimator_html(self)
    return bundle


def get_params_html(self, deep: bool = True, doc_link: str = "") -> _HTMLFragment:
    """The parameter table scikit-learn's HTML diagrams embed for a step (``deep`` unused)."""
    return _HTMLFragment(params_table_html(self))
