# Modules that must not be imported by doctest collection.
collect_ignore = ["setup.py", "nnlite/__main__.py", "benchmarks", "examples", "docs"]

import importlib.util  # noqa: E402


def _importable(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # e.g. blocked with sys.modules[name] = None
        return False


# The Dask back end imports dask: without the optional extra its modules are not collected.
if not (_importable("dask") and _importable("distributed")):
    collect_ignore.append("nnlite/dask")

# ONNX export and the scikit-learn conversion: their doctests need their extras.
for _module, _path in (("onnx", "nnlite/onnx"), ("sklearn", "nnlite/_sklearn_convert.py")):
    if not _importable(_module):
        collect_ignore.append(_path)
