# Modules that must not be imported by doctest collection.
collect_ignore = ["setup.py", "nnlite/__main__.py", "benchmarks", "examples", "docs"]

# Optional extras: their modules' doctests run only where the extra is installed.
for _module, _path in (("onnx", "nnlite/onnx"), ("sklearn", "nnlite/_sklearn_convert.py")):
    try:
        __import__(_module)
    except ImportError:
        collect_ignore.append(_path)
