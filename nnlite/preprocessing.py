"""Tables as they come: mixed-type columns, missing values, chunked reading.

:class:`TableEncoder` turns a table (a CSV file, read in chunks, or a mapping of
columns such as a pandas DataFrame) into the float matrix a network takes:

* each column's kind is inferred (``numeric``, ``categorical`` or ``ignored``,
  with the reason) unless given;
* a numeric column is standardised with its training rows' mean and standard
  deviation; a missing value is replaced by the training median and flagged in
  an extra 0/1 column ``name (missing)``;
* a categorical column is one-hot encoded, one 0/1 column ``name=value`` per
  category seen in training; a missing value is a category of its own and an
  unseen category encodes as all zeros (counted in :attr:`TableEncoder.report_`);
* the target is parsed, the task chosen (classification or regression), and
  a regression target's mean and scale kept so a model can train on the
  standardised target and predict in the original units.

:class:`TabularModel` is an encoder plus a fitted estimator: what ``nnlite
train`` saves.  Both are registered with :mod:`nnlite.io`, so :func:`nnlite.save`
and :func:`nnlite.load` keep them without pickle.

Reading a file runs in two passes of ``chunk_rows`` rows each: the first infers
kinds, categories and the target; the second writes straight into the one
float array of the result, so memory stays at that array plus a chunk.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import itertools
import math
import numbers
import os
from collections import Counter

import numpy as np

from . import io as nnlite_io
from ._split import validation_split

__all__ = ["TableEncoder", "TabularModel", "TableError", "MISSING"]

#: Cell values read as missing (exactly these; a cell of spaces is text).
MISSING = frozenset({"", "NA", "N/A", "NaN", "nan", "null", "NULL"})

_KINDS = ("numeric", "categorical", "ignored")
_MAX_TARGET_CLASSES = 1000
_ID_ROWS = 10_000  # distinct text values counted to tell an id column (bounds the memory)


class TableError(ValueError):
    """A table that cannot be used as it is; the message names the file, line and column."""


# ----- sources: a CSV file read in chunks, or a mapping of columns -----------------------------
def _bad_utf8_line(path):
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as f:
        for n, line in enumerate(f, start=1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError:
                return n
    return None


class _CSVSource:
    """A CSV file with a header line; rows come in chunks of ``(line numbers, rows)``."""

    def __init__(self, path, delimiter=None):
        self.path = os.fspath(path)
        self.name = str(path)
        if os.path.isdir(self.path):
            raise TableError(f"{self.name}: is a directory, not a CSV file")
        try:
            with open(self.path, newline="", encoding="utf-8-sig") as f:
                first = ""
                for first in f:
                    if first.strip():
                        break
        except FileNotFoundError:
            raise TableError(f"{self.name}: no such file") from None
        except UnicodeDecodeError:
            self._not_utf8()
        except OSError as exc:
            raise TableError(f"{self.name}: cannot read it ({exc.strerror or exc})") from None
        if not first.strip():
            raise TableError(f"{self.name}: the file is empty; expected a header line and "
                             "data rows")
        if delimiter is None:
            counts = {d: first.count(d) for d in (",", ";", "\t")}
            delimiter = max(counts, key=counts.get) if max(counts.values()) else ","
        elif len(delimiter) != 1:
            raise TableError(f"the delimiter must be one character; got {delimiter!r}")
        self.delimiter = delimiter
        self.header = None
        for _ in self.chunks(1, header_only=True):
            pass

    def _not_utf8(self):
        line = _bad_utf8_line(self.path)
        at = f", line {line}" if line else ""
        raise TableError(f"{self.name}{at}: not a CSV text file (it is not valid UTF-8)") from None

    def where(self, line):
        return f"{self.name}, line {line}"

    def chunks(self, size, header_only=False):
        try:
            with open(self.path, newline="", encoding="utf-8-sig") as f:
                reader = csv.reader(f, delimiter=self.delimiter, strict=True)
                try:
                    header = next(r for r in reader if any(c.strip() for c in r))
                except StopIteration:
                    raise TableError(f"{self.name}: the file is empty") from None
                if self.header is None:
                    self._set_header(header)
                if header_only:
                    return
                width = len(self.header)
                lines, rows, any_rows = [], [], False
                for row in reader:
                    if len(row) != width:
                        if not any(c.strip() for c in row):
                            continue  # a blank line
                        raise TableError(f"{self.where(reader.line_num)}: {len(row)} fields, "
                                         f"but the header has {width}; not a well-formed CSV "
                                         "table" + self._hint())
                    lines.append(reader.line_num)
                    rows.append(row)
                    if len(rows) == size:
                        yield lines, rows
                        lines, rows, any_rows = [], [], True
                if rows:
                    yield lines, rows
                elif not any_rows:
                    raise TableError(f"{self.name}: no data rows after the header line")
        except UnicodeDecodeError:
            self._not_utf8()
        except csv.Error as exc:
            raise TableError(f"{self.name}: not a valid CSV file (line {reader.line_num}: "
                             f"{exc})") from None

    def _hint(self):
        return (f" (read with delimiter {self.delimiter!r}; pass --delimiter if the file uses "
                "another)") if len(self.header) == 1 else ""

    def _set_header(self, header):
        header = [h.strip() for h in header]
        if any(not h for h in header):
            raise TableError(f"{self.name}: the header line has an empty column name")
        if len(set(header)) != len(header):
            twice = next(h for h in header if header.count(h) > 1)
            raise TableError(f"{self.name}: the header names column {twice!r} twice")
        self.header = header


def _cell(v):
    # None, NaN and pandas' NA and NaT are missing values
    if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)) or \
            type(v).__name__ in ("NAType", "NaTType"):
        return ""
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v.item() if isinstance(v, np.generic) else v)


class _MappingSource:
    """Columns given as a mapping name -> values (a dict of lists, a pandas DataFrame)."""

    name = "the table"

    def __init__(self, table):
        self.header = [str(k) for k in table.keys()]
        columns = [list(table[k]) for k in table.keys()]
        if len({len(c) for c in columns}) > 1:
            raise TableError("the table's columns have different lengths")
        self.rows = [[_cell(v) for v in row] for row in zip(*columns)]
        if not self.rows:
            raise TableError("the table has no rows")

    def where(self, line):
        return f"the table, row {line}"

    def chunks(self, size):
        for start in range(0, len(self.rows), size):
            rows = self.rows[start:start + size]
            yield list(range(start + 1, start + 1 + len(rows))), rows


def _source(table, delimiter=None):
    if isinstance(table, (_CSVSource, _MappingSource)):
        return table
    if isinstance(table, (str, os.PathLike)):
        return _CSVSource(table, delimiter)
    if hasattr(table, "keys"):
        return _MappingSource(table)
    raise TypeError("expected a CSV file path or a mapping of columns (dict, DataFrame); got "
                    f"{type(table).__name__}")


_is_missing = MISSING.__contains__


def _floats(values):
    """``values`` (strings) as floats with NaN where missing, and the index of the first
    value that is neither a finite number nor missing (None when there is none)."""
    try:
        x = np.array(list(map(float, values)), dtype=np.float64)  # every cell a number
    except ValueError:
        cells = ["nan" if _is_missing(v) else v for v in values]
        try:
            x = np.array(list(map(float, cells)), dtype=np.float64)
        except ValueError:
            for i, v in enumerate(cells):
                try:
                    float(v)
                except ValueError:
                    return None, i
    inf = np.isinf(x)
    return x, (int(np.argmax(inf)) if inf.any() else None)


# ----- the first pass: what each column holds ---------------------------------------------------
class _Scan:
    """Counts gathered while reading: per column and for the target."""

    def __init__(self, n_columns, cap):
        self.cap = cap
        self.missing = [0] * n_columns
        self.bad = [None] * n_columns  # (line, value) of the first non-number
        self.integer = [True] * n_columns
        self.monotone = [[None, True, True] for _ in range(n_columns)]  # last, up, down
        self.counts = [Counter() for _ in range(n_columns)]
        self.many = [False] * n_columns
        self.n = 0

    def add(self, j, values, lines):
        if self.bad[j] is not None:  # text: only the missing cells and the categories count
            self.missing[j] += sum(map(_is_missing, values))
        else:
            x, bad = _floats(values)
            if bad is not None:
                self.bad[j] = (lines[bad], values[bad])
                self.missing[j] += sum(map(_is_missing, values))
            else:
                nan = np.isnan(x)
                self.missing[j] += int(nan.sum())
                ok = x[~nan]
                if self.integer[j] and (ok != np.round(ok)).any():
                    self.integer[j] = False
                m = self.monotone[j]
                if nan.any():
                    m[1] = m[2] = False
                elif len(x):
                    steps = np.diff(x if m[0] is None else np.r_[m[0], x])
                    m[1] = m[1] and bool((steps > 0).all())
                    m[2] = m[2] and bool((steps < 0).all())
                    m[0] = x[-1]
        counts = self.counts[j]
        # numbers: only as many as could be categories; text: enough to tell an id
        cap = self.cap if self.bad[j] is None else max(self.cap, _ID_ROWS)
        for start in range(0, len(values), 4096):
            if self.many[j]:
                break
            counts.update(values[start:start + 4096])
            if len(counts) > cap:
                self.many[j] = True
                counts.clear()


def _split_rows(n, test_size, seed, strata=None):
    """Training and held-out rows; classes keep their proportions when ``strata`` is given."""
    n_test = int(math.ceil(test_size * n)) if test_size > 0 else 0
    if not n_test:
        return np.arange(n), np.arange(0)
    if n - n_test < 2:
        raise TableError(f"a test size (--test-size) of {test_size} leaves fewer than 2 "
                         f"training rows of {n}")
    rng = np.random.RandomState(seed)
    if strata is not None:
        try:
            return validation_split(n, test_size, rng, strata=strata)
        except ValueError:  # a class too rare to stratify: fall back to a plain split
            rng = np.random.RandomState(seed)
    return validation_split(n, test_size, rng)


def _label_array(labels):
    """Class labels as integers when every one reads back as itself ("01" stays text)."""
    ints = []
    for label in labels:
        try:
            v = int(label)
        except ValueError:
            return np.array(labels)
        if str(v) != label or abs(v) >= 2**53:
            return np.array(labels)
        ints.append(v)
    return np.array(ints)


class TableEncoder:
    """Encode a table with numeric, categorical and missing values as a float matrix.

    Parameters
    ----------
    categorical, numeric, ignore : sequence of str, default=()
        Columns whose kind is given rather than inferred.
    max_categories : int, default=100
        A text column with more distinct values is ignored (too many to
        one-hot); naming it in ``categorical`` is then an error.
    task : {"auto", "classification", "regression"}, default="auto"
        With ``"auto"``, classification for a target holding text or integers
        with at most 20 distinct values, regression otherwise.
    embed_many : bool, default=False
        Feed a text column with more than ``max_categories`` distinct values
        (and at most 10,000) to an embedding instead of ignoring it: the
        column becomes one column of category codes, placed after all the
        other features, for a network with an :class:`~nnlite.Embedding`
        (see :class:`~nnlite.embedding_network.EmbeddingNetwork`).
    chunk_rows : int, default=8192
        Rows read and encoded at a time.
    delimiter : str, optional
        The CSV delimiter; by default the most frequent of ``,``, ``;`` and
        tab on the header line.

    Attributes
    ----------
    columns_ : list of dict
        One entry per column of the training table but the target, in order:
        ``name``, ``kind`` (``"numeric"``, ``"categorical"`` or ``"ignored"``),
        ``reason`` (why, when inferred), and ``categories`` (categorical; the
        empty string stands for the missing category) or ``has_missing``
        (numeric).
    feature_names_out_ : list of str
        Names of the output columns, shape (n_features_out,).
    n_dense_ : int
        Number of leading output columns that are numbers or one-hot; the
        columns after them hold the codes of the embedded columns.
    embedding_sizes_ : list of int
        Per embedded column, its number of codes (categories plus one, the
        last code standing for a category training never saw).
    median_, mean_, scale_ : ndarray of shape (n_numeric,)
        Statistics of the numeric columns over the training rows.
    target_, task_ : str
        Target column and task found.
    delimiter_ : str or None
        The delimiter the CSV file was read with (None for a mapping).
    target_mean_, target_scale_ : float
        A regression target's mean and standard deviation (0 and 1 for a
        classification).
    report_ : dict
        What the last :meth:`transform` met that training had not: per column,
        ``{"unseen": count, "examples": [...], "missing": count}``.

    Examples
    --------
    >>> from nnlite.preprocessing import TableEncoder
    >>> table = {"city": ["paris", "rome", None, "paris"], "size": [1.0, None, 3.0, 5.0],
    ...          "label": ["a", "b", "a", "b"]}
    >>> enc = TableEncoder()
    >>> X, y = enc.fit_transform(table, target="label")
    >>> enc.feature_names_out_
    ['city=paris', 'city=rome', 'city (missing)', 'size', 'size (missing)']
    >>> X.shape, y.tolist()
    ((4, 5), ['a', 'b', 'a', 'b'])
    """

    def __init__(self, *, categorical=(), numeric=(), ignore=(), max_categories: int = 100,
                 task: str = "auto", embed_many: bool = False, chunk_rows: int = 8192,
                 delimiter: str | None = None):
        self.categorical = list(categorical)
        self.numeric = list(numeric)
        self.ignore = list(ignore)
        self.max_categories = max_categories
        self.task = task
        self.embed_many = embed_many
        self.chunk_rows = chunk_rows
        self.delimiter = delimiter

    # ----- fitting -------------------------------------------------------------------------
    def _check_params(self, header, target):
        if self.task not in ("auto", "classification", "regression"):
            raise ValueError("task must be 'auto', 'classification' or 'regression'; got "
                             f"{self.task!r}")
        if not (isinstance(self.max_categories, numbers.Integral) and self.max_categories >= 1):
            raise ValueError(f"max_categories must be a positive integer; got "
                             f"{self.max_categories!r}")
        if not (isinstance(self.chunk_rows, numbers.Integral) and self.chunk_rows >= 1):
            raise ValueError(f"chunk_rows must be a positive integer; got {self.chunk_rows!r}")
        seen = {}
        for option in ("categorical", "numeric", "ignore"):
            for name in getattr(self, option):
                if name not in header:
                    raise TableError(f"{option}: no column {name!r}; the columns are: "
                                     f"{_short(header)}")
                if name == target:
                    raise TableError(f"{option}: {name!r} is the target")
                if name in seen and seen[name] != option:
                    raise TableError(f"column {name!r} is both {seen[name]} and {option}")
                seen[name] = option

    def _scan(self, src, target, progress):
        header = src.header
        if target is not None and target not in header:
            hint = src._hint() if isinstance(src, _CSVSource) else ""
            raise TableError(f"{src.name}: no column {target!r}; the columns are: "
                             f"{_short(header)}{hint}")
        self._check_params(header, target)
        t = header.index(target) if target is not None else None
        self.delimiter_ = getattr(src, "delimiter", None)
        scan = _Scan(len(header), self.max_categories)
        codes, index, numbers_ok, ychunks = [], {}, True, []
        for lines, rows in src.chunks(self.chunk_rows):
            cols = list(zip(*rows))
            for j, col in enumerate(cols):
                if j == t:
                    continue
                scan.add(j, col, lines)
            if t is not None:
                col = cols[t]
                for n, v in zip(lines, col):
                    if _is_missing(v):
                        raise TableError(f"{src.where(n)}: the target {target!r} is empty")
                if numbers_ok:
                    y, bad = _floats(col)
                    if bad is None:
                        ychunks.append(y)
                    else:
                        numbers_ok, ychunks, bad_y = False, [], (lines[bad], col[bad])
                if index is not None:
                    codes.append(np.array([index.setdefault(v, len(index)) for v in col],
                                          dtype=np.int32))
                    if len(index) > _MAX_TARGET_CLASSES:
                        index, codes = None, []
            scan.n += len(rows)
            del lines, rows, cols, col  # one chunk of text alive at a time
            if progress:
                progress("reading", scan.n)
        if t is None:
            return scan, None, None
        task = self.task
        if task == "auto":
            task = "regression" if numbers_ok else "classification"
            if numbers_ok and index is not None and len(index) <= 20:
                if all(float(k).is_integer() for k in index):
                    task = "classification"
        if task == "regression":
            if not numbers_ok:
                n, v = bad_y
                raise TableError(f"{src.where(n)}: the target {target!r} has {v.strip()!r}, "
                                 "which is not a number; a regression needs a numeric target "
                                 "(use --task classification for labels)")
            return scan, np.concatenate(ychunks), None
        if index is None:
            raise TableError(f"{src.name}: the target {target!r} has more than "
                             f"{_MAX_TARGET_CLASSES} distinct values; too many classes "
                             "(use --task regression for a numeric target)")
        labels, inverse = np.unique(_label_array([k.strip() for k in index]),
                                    return_inverse=True)
        codes = inverse[np.concatenate(codes)]  # class numbers in sorted order
        if len(labels) < 2:
            raise TableError(f"{src.name}: the target {target!r} has a single class "
                             f"({labels[0]}); a classifier needs at least two")
        return scan, labels[codes], codes

    def _decide(self, src, scan, target):
        columns = []
        for j, name in enumerate(src.header):
            if name == target:
                continue
            counts, n = scan.counts[j], scan.n
            all_missing = scan.missing[j] == n
            col = {"name": name}
            if name in self.ignore:
                col.update(kind="ignored", reason="given")
            elif all_missing:
                raise TableError(f"{src.name}: column {name!r} is empty in every row; leave it "
                                 f"out with --ignore {name}")
            elif name in self.numeric or (name not in self.categorical and scan.bad[j] is None):
                if scan.bad[j] is not None:
                    line, v = scan.bad[j]
                    raise TableError(f"{src.where(line)}: column {name!r} has {v.strip()!r}, "
                                     "which is not a number (the column is given as numeric)")
                up_or_down = scan.monotone[j][1] or scan.monotone[j][2]
                if (name not in self.numeric and scan.integer[j] and up_or_down and n >= 3):
                    col.update(kind="ignored", reason="an id: integers that rise (or fall) "
                               "row by row; use --numeric to keep it")
                else:
                    col.update(kind="numeric", has_missing=bool(scan.missing[j]),
                               reason="given" if name in self.numeric else "numbers")
            elif (name not in self.categorical and not scan.many[j] and len(counts) == n
                  and n >= 10):
                col.update(kind="ignored", reason="an id: every value is different; use "
                           "--categorical to keep it")
            elif self.embed_many and len(counts) > self.max_categories and not scan.many[j]:
                col.update(kind="categorical", categories=_categories(counts),
                           encoding="embedding", reason=f"more than {self.max_categories} "
                           "distinct values: a learned vector per category")
            elif scan.many[j] or len(counts) > self.max_categories:
                if name in self.categorical:
                    raise TableError(f"{src.name}: column {name!r} has more than "
                                     f"{self.max_categories} distinct values; raise "
                                     "--max-categories to one-hot encode it")
                col.update(kind="ignored", reason=f"more than {self.max_categories} distinct "
                           "values, too many to one-hot (raise --max-categories)")
            else:
                col.update(kind="categorical", categories=_categories(counts),
                           encoding="one-hot",
                           reason="given" if name in self.categorical else "text")
            columns.append(col)
        if not any(c["kind"] != "ignored" for c in columns):
            raise TableError(f"{src.name}: no feature column is left to train on (all are "
                             "ignored)")
        return columns

    def _layout(self):
        names, offsets, codes = [], {}, []
        for col in self.columns_:
            name = col["name"]
            if col["kind"] == "numeric":
                offsets[name] = len(names)
                names.append(name)
                if col["has_missing"]:
                    names.append(f"{name} (missing)")
            elif col["kind"] == "categorical" and col["encoding"] == "embedding":
                codes.append(col)
            elif col["kind"] == "categorical":
                offsets[name] = len(names)
                names.extend(f"{name}={c}" if c else f"{name} (missing)"
                             for c in col["categories"])
        self.n_dense_ = len(names)
        self.embedding_sizes_ = []
        for col in codes:  # code columns last, so the dense part is one slice
            offsets[col["name"]] = len(names)
            names.append(f"{col['name']} (code)")
            self.embedding_sizes_.append(len(col["categories"]) + 1)  # + unseen
        self._offsets = [offsets.get(c["name"]) for c in self.columns_]
        self.feature_names_out_ = names
        self._offset_of = offsets
        self._fitting = False
        self._lookup = {}
        for col in self.columns_:
            if col["kind"] == "categorical":
                lookup = {c: k for k, c in enumerate(col["categories"])}
                if "" in lookup:
                    lookup.update({m: lookup[""] for m in MISSING})
                self._lookup[col["name"]] = lookup

    def fit_split(self, table, target, *, test_size: float = 0.2, random_state=0,
                  progress=None):
        """Learn the encoding on the training rows and encode training and held-out rows.

        Parameters
        ----------
        table : str, path or mapping of columns
            A CSV file with a header line, or a dict of columns / DataFrame.
        target : str
            The column to predict.
        test_size : float in [0, 1), default=0.2
            Share of rows held out (stratified by class for a classification).
        random_state : int, default=0
            Seed of the split.
        progress : callable, optional
            Called as ``progress(stage, rows)`` while reading.

        Returns
        -------
        X_train : ndarray of shape (n_train, n_features_out)
        X_test : ndarray of shape (n_test, n_features_out)
            Both views of one array: no copy of the encoded data is made.
        y_train : ndarray of shape (n_train,)
        y_test : ndarray of shape (n_test,)
            The target in its own units (labels, or numbers).
        """
        if not (isinstance(test_size, numbers.Real) and 0 <= test_size < 1):
            raise ValueError(f"test_size must be in [0, 1); got {test_size!r}")
        with self._transaction():
            return self._fit_split(table, target, test_size, random_state, progress)

    def _fit_split(self, table, target, test_size, random_state, progress):
        src = _source(table, self.delimiter)
        scan, y, codes = self._scan(src, target, progress)
        columns = self._decide(src, scan, target)
        regression = codes is None
        fit, test = _split_rows(scan.n, test_size, random_state, strata=codes)
        y_fit, y_test, n_fit = y[fit], y[test], len(fit)
        # the encoded array will be the big one: what is no longer needed goes first
        position = np.empty(scan.n, dtype=np.intp)
        position[fit] = np.arange(n_fit)
        position[test] = n_fit + np.arange(len(test))
        del y, codes, fit, test
        X = self._fit_encode(src, columns, scan.n, position, n_fit, target, progress)
        self._fit_target(y_fit if regression else None)
        return X[:n_fit], X[n_fit:], y_fit, y_test

    def fit_transform(self, table, target=None):
        """Learn the encoding on every row of ``table`` and encode it.

        Parameters
        ----------
        table : str, path or mapping of columns
        target : str, optional

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_out)
        y : ndarray of shape (n_samples,) or None
            The target column (``None`` without ``target``), rows in the
            table's order.
        """
        with self._transaction():
            return self._fit_transform(table, target)

    def _fit_transform(self, table, target):
        src = _source(table, self.delimiter)
        scan, y, codes = self._scan(src, target, None)
        columns = self._decide(src, scan, target)
        X = self._fit_encode(src, columns, scan.n, np.arange(scan.n), scan.n, target, None)
        self._fit_target(y if (target is not None and codes is None) else None)
        return X, y

    @contextlib.contextmanager
    def _transaction(self):
        """A fit that fails leaves the encoder as it was (still usable if it was fitted)."""
        saved = dict(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def get_params(self) -> dict:
        """The constructor's parameters, by name (as scikit-learn's ``get_params``)."""
        return {k: getattr(self, k) for k in self._PARAMS}

    def fit(self, table, target=None):
        """Learn the encoding from ``table``; see :meth:`fit_transform`.

        Returns
        -------
        self
        """
        self.fit_transform(table, target)
        return self

    def _fit_target(self, y):
        self.task_ = "regression" if y is not None else ("classification" if self.target_
                                                            else None)
        self.target_mean_, self.target_scale_ = 0.0, 1.0
        if y is not None:
            self.target_mean_ = float(y.mean())
            scale = float(y.std())
            self.target_scale_ = scale if scale > 0 else 1.0

    def _fit_encode(self, src, columns, n, position, n_fit, target, progress):
        self.columns_ = columns
        self.target_ = target
        self._layout()
        X = np.zeros((n, len(self.feature_names_out_)))
        self.report_ = {}
        self._fitting = True
        try:
            done = 0
            for block in self._blocks(src):
                X[position[done:done + len(block)]] = block
                done += len(block)
                if progress:
                    progress("encoding", done)
        finally:
            self._fitting = False
        numeric = [o for c, o in zip(self.columns_, self._offsets) if c["kind"] == "numeric"]
        self.median_, self.mean_, self.scale_ = (np.empty(len(numeric)) for _ in range(3))
        for k, o in enumerate(numeric):
            x = X[:, o]
            nan = np.isnan(x)
            fit = x[:n_fit]
            median = np.nanmedian(fit) if (~nan[:n_fit]).any() else 0.0
            x[nan] = median
            mean, scale = fit.mean(), fit.std()
            scale = scale if scale > 0 else 1.0
            x -= mean
            x /= scale
            self.median_[k], self.mean_[k], self.scale_[k] = median, mean, scale
        return X

    # ----- encoding ------------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "columns_"):
            raise ValueError("this TableEncoder is not fitted yet; call fit first")

    def _blocks(self, src):
        """The chunks of ``src`` encoded, numbers raw (NaN where missing): one array each."""
        used = [c for c in self.columns_ if c["kind"] != "ignored"]
        where = {name: j for j, name in enumerate(src.header)}
        width = len(self.feature_names_out_)
        for lines, rows in src.chunks(self.chunk_rows):
            cols = list(zip(*rows))
            block = np.zeros((len(rows), width))
            for col in used:
                self._encode_column(block, col, cols[where[col["name"]]], lines, src)
            del lines, rows, cols  # one chunk of text alive at a time, not two
            yield block

    def _encode_column(self, X, col, values, lines, src):
        name = col["name"]
        o = self._offset_of[name]
        report = self.report_
        if col["kind"] == "numeric":
            x, bad = _floats(values)
            if bad is not None:
                raise TableError(f"{src.where(lines[bad])}: column {name!r} has "
                                 f"{values[bad].strip()!r}, which is not a number")
            nan = np.isnan(x)
            X[:, o] = x
            if col["has_missing"]:
                X[:, o + 1] = nan
            elif nan.any() and not self._fitting:
                r = report.setdefault(name, {"unseen": 0, "examples": [], "missing": 0})
                r["missing"] += int(nan.sum())
            return
        lookup = self._lookup[name]
        codes = np.array(list(map(lookup.get, values, itertools.repeat(-1))), dtype=np.intp)
        known = codes >= 0
        if col["encoding"] == "embedding":
            X[:, o] = np.where(known, codes, len(col["categories"]))  # the last: unseen
        else:
            X[np.flatnonzero(known), o + codes[known]] = 1.0
        if not known.all():
            r = report.setdefault(name, {"unseen": 0, "examples": [], "missing": 0})
            for k in np.flatnonzero(~known):
                v = values[k]
                if _is_missing(v):
                    r["missing"] += 1
                    continue
                r["unseen"] += 1
                if len(r["examples"]) < 3 and v not in r["examples"]:
                    r["examples"].append(v)

    def _finish(self, X):
        numeric = [o for c, o in zip(self.columns_, self._offsets) if c["kind"] == "numeric"]
        if numeric:
            block = X[:, numeric]
            block = np.where(np.isnan(block), self.median_, block)
            X[:, numeric] = (block - self.mean_) / self.scale_
        return X

    def _columns_of(self, src):
        missing = [c["name"] for c in self.columns_
                   if c["kind"] != "ignored" and c["name"] not in src.header]
        if missing:
            raise TableError(f"{src.name}: no column {missing[0]!r}, which the model needs "
                             f"(its columns: {_short(self.used_columns)})")
        known = {c["name"] for c in self.columns_} | {self.target_}
        return [h for h in src.header if h not in known]

    @property
    def used_columns(self):
        """Names of the columns the encoding reads (not ignored), in order."""
        self._check_fitted()
        return [c["name"] for c in self.columns_ if c["kind"] != "ignored"]

    def transform_chunks(self, table):
        """Encode ``table`` chunk by chunk, as a fitted encoder does.

        Parameters
        ----------
        table : str, path or mapping of columns
            Must hold every used column (by name, in any order); other columns
            are ignored (listed in ``report_["extra_columns"]``).

        Yields
        ------
        ndarray of shape (n_chunk_rows, n_features_out)
        """
        self._check_fitted()
        src = _source(table, self.delimiter)
        extra = self._columns_of(src)
        self.report_ = {"extra_columns": extra} if extra else {}
        for block in self._blocks(src):
            yield self._finish(block)

    def transform(self, table) -> np.ndarray:
        """Encode ``table`` with the fitted encoding.

        Parameters
        ----------
        table : str, path or mapping of columns

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
        """
        return np.concatenate(list(self.transform_chunks(table)))

    # ----- the target ----------------------------------------------------------------------
    def scale_target(self, y) -> np.ndarray:
        """``(y - target_mean_) / target_scale_``: the regression target a model trains on."""
        return (np.asarray(y, dtype=np.float64) - self.target_mean_) / self.target_scale_

    def unscale_target(self, z) -> np.ndarray:
        """The inverse of :meth:`scale_target`: predictions back in the target's units."""
        return np.asarray(z, dtype=np.float64) * self.target_scale_ + self.target_mean_

    def describe(self):
        """One line per column: its name, kind and encoding (and the reason, when inferred).

        Returns
        -------
        list of str
        """
        self._check_fitted()
        lines = []
        for col in self.columns_:
            name, kind = col["name"], col["kind"]
            if kind == "numeric":
                what = "numeric, standardised" + (
                    "; missing -> median + indicator column" if col["has_missing"] else "")
            elif kind == "categorical" and col["encoding"] == "embedding":
                what = (f"categorical, embedding of {len(col['categories'])} categories "
                        f"(+1 for unseen): {col['reason']}")
            elif kind == "categorical":
                cats = [c or "(missing)" for c in col["categories"]]
                what = f"categorical, one-hot {len(cats)} categories: {_short(cats, 6)}"
            else:
                what = f"ignored: {col['reason']}"
            lines.append(f"{name}: {what}")
        return lines

    def __repr__(self):
        if not hasattr(self, "columns_"):
            return "TableEncoder()"
        kinds = Counter(c["kind"] for c in self.columns_)
        return (f"TableEncoder({kinds['numeric']} numeric, {kinds['categorical']} categorical, "
                f"{kinds['ignored']} ignored -> {len(self.feature_names_out_)} features)")

    # ----- nnlite.save / nnlite.load -------------------------------------------------------
    _PARAMS = ("categorical", "numeric", "ignore", "max_categories", "task", "embed_many",
               "chunk_rows", "delimiter")

    def __nnlite_getstate__(self):
        self._check_fitted()
        config = {"params": self.get_params(),
                  "columns": self.columns_, "target": self.target_, "task": self.task_}
        arrays = {"median": self.median_, "mean": self.mean_, "scale": self.scale_,
                  "target_stats": np.array([self.target_mean_, self.target_scale_])}
        return config, arrays

    @classmethod
    def __nnlite_setstate__(cls, config, arrays):
        if not isinstance(config, dict) or set(config) != {"params", "columns", "target",
                                                           "task"}:
            raise ValueError("a TableEncoder state holds params, columns, target, task")
        if set(arrays) != {"median", "mean", "scale", "target_stats"}:
            raise ValueError("a TableEncoder state needs the arrays median, mean, scale and "
                             "target_stats")
        params = config["params"]
        if not isinstance(params, dict) or set(params) != set(cls._PARAMS):
            raise ValueError(f"TableEncoder params must be {', '.join(cls._PARAMS)}")
        enc = cls(**params)
        columns = config["columns"]
        if not isinstance(columns, list) or not all(_valid_column(c) for c in columns):
            raise ValueError("TableEncoder columns are malformed")
        n_numeric = sum(c["kind"] == "numeric" for c in columns)
        stats = [np.asarray(arrays[k], dtype=np.float64) for k in ("median", "mean", "scale")]
        if any(s.shape != (n_numeric,) for s in stats) or not (stats[2] > 0).all():
            raise ValueError(f"TableEncoder median, mean and scale must be {n_numeric} numbers "
                             "(scale positive)")
        target_stats = np.asarray(arrays["target_stats"], dtype=np.float64)
        if target_stats.shape != (2,) or not target_stats[1] > 0:
            raise ValueError("TableEncoder target_stats must be a mean and a positive scale")
        if config["task"] not in ("classification", "regression", None) or not (
                config["target"] is None or isinstance(config["target"], str)):
            raise ValueError("TableEncoder target and task are malformed")
        enc.columns_, enc.target_, enc.task_ = columns, config["target"], config["task"]
        enc.median_, enc.mean_, enc.scale_ = stats
        enc.target_mean_, enc.target_scale_ = (float(v) for v in target_stats)
        enc.report_ = {}
        enc._layout()
        return enc


def _categories(counts):
    """The categories seen, sorted, the missing one ("") last."""
    cats = sorted({"" if _is_missing(v) else v for v in counts})
    return [c for c in cats if c] + ([""] if "" in cats else [])


def _valid_column(c):
    if not (isinstance(c, dict) and isinstance(c.get("name"), str)
            and c.get("kind") in _KINDS and isinstance(c.get("reason", ""), str)):
        return False
    if c["kind"] == "categorical":
        cats = c.get("categories")
        return isinstance(cats, list) and all(isinstance(v, str) for v in cats) and \
            len(set(cats)) == len(cats) and c.get("encoding") in ("one-hot", "embedding")
    if c["kind"] == "numeric":
        return isinstance(c.get("has_missing"), bool)
    return True


def _short(values, limit=10):
    values = [str(v) for v in values]
    return ", ".join(values[:limit]) + (f", ... ({len(values)} in all)"
                                        if len(values) > limit else "")


class TabularModel:
    """A :class:`TableEncoder` and an estimator: predictions straight from a table.

    A regression estimator is trained on the standardised target
    (:meth:`TableEncoder.scale_target`) and its predictions are returned in the
    target's units.

    Parameters
    ----------
    encoder : TableEncoder
    estimator : MLPClassifier or MLPRegressor (or any estimator with fit/predict)
    info : dict, optional
        JSON-able facts about the training run, saved with the model.

    Examples
    --------
    >>> from nnlite import MLPRegressor
    >>> from nnlite.preprocessing import TableEncoder, TabularModel
    >>> table = {"city": ["paris", "rome", "oslo", "rome"] * 10,
    ...          "size": [1.0, 2.0, None, 4.0] * 10, "price": [1000.0, 2100.0, 3050.0, 4000.0] * 10}
    >>> model = TabularModel(TableEncoder(), MLPRegressor(solver="lbfgs", random_state=0))
    >>> model.fit(table, "price").predict({"city": ["rome"], "size": [2.0]}).round(-2)
    array([2100.])
    """

    def __init__(self, encoder, estimator, info=None):
        self.encoder = encoder
        self.estimator = estimator
        self.info = dict(info or {})

    @property
    def is_classifier(self) -> bool:
        """Whether the model predicts classes."""
        task = getattr(self.encoder, "task_", None)
        if task is not None:
            return task == "classification"
        return hasattr(self.estimator, "classes_") or hasattr(self.estimator, "predict_proba")

    @property
    def classes_(self):
        return self.estimator.classes_

    @property
    def target(self):
        return self.encoder.target_

    def fit(self, table, target):
        """Fit the encoder on every row of ``table``, then the estimator on the encoding.

        Parameters
        ----------
        table : str, path or mapping of columns
        target : str

        Returns
        -------
        self
        """
        encoder = type(self.encoder)(**self.encoder.get_params())
        X, y = encoder.fit_transform(table, target)
        previous, self.encoder = self.encoder, encoder
        try:
            return self.fit_encoded(X, y)
        except BaseException:  # the estimator is left as it was: so is its encoder
            self.encoder = previous
            raise

    def fit_encoded(self, X, y):
        """Fit the estimator on rows already encoded by the (fitted) encoder.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features_out)
        y : ndarray of shape (n_samples,)
            In the target's units; a regression target is standardised here.

        Returns
        -------
        self
        """
        if self.encoder.task_ == "regression":
            y = self.encoder.scale_target(y)
        self.estimator.fit(X, y)
        return self

    def predict_encoded(self, X) -> np.ndarray:
        """Predictions for encoded rows, in the target's units.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features_out)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        pred = self.estimator.predict(X)
        if self.encoder.task_ == "regression":
            pred = self.encoder.unscale_target(pred)
        return pred

    def predict(self, table) -> np.ndarray:
        """Predictions for every row of ``table`` (labels or values).

        Parameters
        ----------
        table : str, path or mapping of columns

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return np.concatenate([self.predict_encoded(X)
                               for X in self.encoder.transform_chunks(table)])

    def predict_proba(self, table) -> np.ndarray:
        """Class probabilities for every row of ``table`` (classifiers only).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        if not self.is_classifier:
            raise AttributeError("TabularModel: a regressor has no predict_proba.")
        return np.concatenate([self.estimator.predict_proba(X)
                               for X in self.encoder.transform_chunks(table)])

    def __repr__(self):
        return f"TabularModel({self.encoder!r}, {type(self.estimator).__name__})"

    def __nnlite_getstate__(self):
        enc_node, enc_arrays = nnlite_io.get_state(self.encoder)
        est_node, est_arrays = nnlite_io.get_state(self.estimator)
        arrays = {f"encoder/{k}": v for k, v in enc_arrays.items()}
        arrays.update({f"estimator/{k}": v for k, v in est_arrays.items()})
        return {"encoder": enc_node, "estimator": est_node, "info": self.info}, arrays

    @classmethod
    def __nnlite_setstate__(cls, config, arrays):
        if not isinstance(config, dict) or set(config) != {"encoder", "estimator", "info"}:
            raise ValueError("a TabularModel state holds encoder, estimator, info")
        parts = {"encoder": {}, "estimator": {}}
        for key, value in arrays.items():
            head, _, rest = key.partition("/")
            if head not in parts:
                raise ValueError(f"unexpected array {key!r} in a TabularModel state")
            parts[head][rest] = value
        encoder = nnlite_io.from_state(config["encoder"], parts["encoder"])
        estimator = nnlite_io.from_state(config["estimator"], parts["estimator"])
        if not isinstance(encoder, TableEncoder):
            raise ValueError("the encoder of a TabularModel must be a TableEncoder")
        n_in = getattr(estimator, "n_features_in_", None)
        if n_in is not None and n_in != len(encoder.feature_names_out_):
            raise ValueError(f"TabularModel: the estimator takes {n_in} features but the "
                             f"encoder makes {len(encoder.feature_names_out_)}")
        info = config["info"]
        if not isinstance(info, dict) or not all(
                isinstance(v, (str, numbers.Real, type(None))) for v in info.values()):
            raise ValueError("info must map names to strings or numbers")
        return cls(encoder, estimator, info)


nnlite_io.register_model_class(TableEncoder)
nnlite_io.register_model_class(TabularModel)
