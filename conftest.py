# Modules that must not be imported by doctest collection.
collect_ignore = ["setup.py", "nnlite/__main__.py", "benchmarks", "examples", "docs"]
