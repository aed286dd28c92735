"""The Sphinx build of docs/ passes with warnings treated as errors (about 5-10 s)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")

ROOT = Path(__file__).resolve().parents[1]


def test_sphinx_build_has_no_warnings(tmp_path):
    # A subprocess keeps Sphinx's own deprecation warnings out of pytest's
    # "warnings are errors" filter; -W makes every Sphinx warning fail the build.
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-d", str(tmp_path / "doctrees"), str(ROOT / "docs"), str(tmp_path / "html")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"sphinx build failed:\n{proc.stdout}\n{proc.stderr}"
    assert (tmp_path / "html" / "index.html").exists()
