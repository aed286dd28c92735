"""Every script in examples/ runs on its own (quick size) and writes the PNG figures it names.

Each example runs in a subprocess as a user would run it, with ``--quick``,
warnings turned into errors, and an output directory of its own.  The figures
it writes must be exactly the ``.png`` names its docstring announces (the docs
list them from there), and each must be a valid, non-trivial PNG image.
"""

from __future__ import annotations

import ast
import os
import re
import struct
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.pop("NNLITE_EXAMPLES_QUICK", None)
    env.pop("MPLBACKEND", None)  # the scripts must choose Agg themselves
    env.update(extra)
    return env


def announced_figures(script: Path) -> set:
    """The ``name.png`` files the script's docstring says it writes."""
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
    return set(re.findall(r"``([\w.-]+\.png)``", doc))


def png_size(path: Path) -> tuple:
    """``(width, height)`` of a PNG file, checking its signature and every chunk's CRC."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG file"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"{path.name}: bad CRC in chunk {kind!r}"
        chunks.append(kind)
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND" and b"IDAT" in chunks
    ihdr = data[16:24]
    return struct.unpack(">II", ihdr)


def run(script: Path, out_dir: Path, *args, env=None, code=None):
    cmd = [sys.executable, "-W", "error"]
    cmd += ["-c", code] if code is not None else [str(script)]
    cmd += ["--out-dir", str(out_dir), *args]
    return subprocess.run(cmd, cwd=out_dir.parent, env=env or _env(), capture_output=True,
                          text=True, timeout=300)


def test_there_are_examples_for_every_topic():
    names = {p.stem for p in EXAMPLES}
    assert {"plot_stochastic_strategies", "plot_regularization", "plot_digits_weights",
            "plot_custom_sequential", "plot_gradient_check", "plot_warm_start"} <= names


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    """Every example run once with --quick, two at a time (each is single-threaded)."""
    base = tmp_path_factory.mktemp("examples")

    def one(script):
        out = base / script.stem / "figures"
        out.parent.mkdir()
        return script, out, run(script, out, "--quick")

    with ThreadPoolExecutor(max_workers=2) as pool:
        return {script: (out, proc) for script, out, proc in pool.map(one, EXAMPLES)}


#: Examples of an optional extra: without it they print why they are skipped.
_NEEDS = {"plot_dask_lbfgs.py": ("dask", "distributed"),
          "plot_onnx_export.py": ("onnx", "onnxruntime")}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_writes_its_figures(script, quick_runs):
    for module in _NEEDS.get(script.name, ()):
        pytest.importorskip(module)
    expected = announced_figures(script)
    assert expected, f"{script.name}: the docstring names no ``*.png`` figure"
    out, proc = quick_runs[script]
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout}\n{proc.stderr}"
    written = {p.name for p in out.glob("*.png")}
    assert written == expected, f"{script.name} wrote {sorted(written)}, announced " \
                                f"{sorted(expected)}"
    for name in written:
        width, height = png_size(out / name)
        assert width >= 200 and height >= 150, f"{name} is only {width}x{height} pixels"
        assert (out / name).stat().st_size > 5000, f"{name} looks empty"


def test_the_environment_variable_is_a_size_switch_too(tmp_path):
    script = ROOT / "examples" / "plot_warm_start.py"
    proc = run(script, tmp_path / "figures", env=_env(NNLITE_EXAMPLES_QUICK="1"))
    assert proc.returncode == 0, proc.stderr
    assert "epochs: 20 " in proc.stdout or "stopping after epoch" in proc.stdout
    (epochs,) = re.findall(r"epochs: (\d+) ", proc.stdout)
    assert int(epochs) <= 20


def test_digits_example_is_skipped_with_a_message_without_scikit_learn(tmp_path):
    script = ROOT / "examples" / "plot_digits_weights.py"
    code = ("import runpy, sys; sys.modules['sklearn'] = None; "
            f"sys.argv = [{str(script)!r}] + sys.argv[1:]; "
            f"runpy.run_path({str(script)!r}, run_name='__main__')")
    proc = run(script, tmp_path / "figures", "--quick", code=code)
    assert proc.returncode == 0, proc.stderr
    assert "skipped" in proc.stderr and "scikit-learn" in proc.stderr
    assert 'pip install "nnlite[examples]"' in proc.stderr
    assert not list((tmp_path / "figures").glob("*.png"))


def test_onnx_example_is_skipped_with_a_message_without_the_extra(tmp_path):
    script = ROOT / "examples" / "plot_onnx_export.py"
    code = ("import runpy, sys; sys.modules['onnxruntime'] = None; "
            f"sys.argv = [{str(script)!r}] + sys.argv[1:]; "
            f"runpy.run_path({str(script)!r}, run_name='__main__')")
    proc = run(script, tmp_path / "figures", "--quick", code=code)
    assert proc.returncode == 0, proc.stderr
    assert "skipped" in proc.stderr and 'pip install "nnlite[onnx]"' in proc.stderr
    assert not list((tmp_path / "figures").glob("*.png"))


def test_png_checker_rejects_a_damaged_file(tmp_path):
    # the check above must be able to fail
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    with pytest.raises(AssertionError, match="not a PNG"):
        png_size(bad)
    good = PNG_SIGNATURE + _chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 2, 8, 0, 0, 0, 0))
    good += _chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00" * 2)) + _chunk(b"IEND", b"")
    (tmp_path / "good.png").write_bytes(good)
    assert png_size(tmp_path / "good.png") == (3, 2)
    (tmp_path / "crc.png").write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(AssertionError, match="bad CRC"):
        png_size(tmp_path / "crc.png")


def _chunk(kind, body):
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body)))


def test_the_examples_page_names_every_script_and_figure():
    page = (ROOT / "docs" / "examples.md").read_text(encoding="utf-8")
    for script in EXAMPLES:
        assert f"`{script.name}`" in page, f"docs/examples.md does not mention {script.name}"
        for figure in announced_figures(script):
            assert f"`{figure}`" in page, f"docs/examples.md does not name {figure}"
            assert (ROOT / "docs" / "images" / figure).exists(), f"docs/images/{figure} missing"


def test_dask_example_is_skipped_with_a_message_without_dask(tmp_path):
    script = ROOT / "examples" / "plot_dask_lbfgs.py"
    code = ("import runpy, sys; sys.modules['dask'] = None; sys.modules['distributed'] = None; "
            f"sys.argv = [{str(script)!r}] + sys.argv[1:]; "
            f"runpy.run_path({str(script)!r}, run_name='__main__')")
    proc = run(script, tmp_path / "figures", "--quick", code=code)
    assert proc.returncode == 0, proc.stderr
    assert "skipped" in proc.stderr and 'pip install "nnlite[dask]"' in proc.stderr
    assert not list((tmp_path / "figures").glob("*.png"))
