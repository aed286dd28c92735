# Modules that must not be imported by doctest collection.
collect_ignore = ["setup.py", "nnlite/__main__.py", "benchmarks", "examples", "docs"]

import importlib.util  # noqa: E402

# The Dask back end imports dask: without the optional extra its modules are not collected.
if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
    collect_ignore.append("nnlite/dask")
