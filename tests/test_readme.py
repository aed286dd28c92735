"""The README's Python quickstarts run as written (in a scratch folder)."""

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_both_quickstarts():
    assert len(BLOCKS) == 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(BLOCKS[index], f"README.md block {index + 1}", "exec"), {})
    out = capsys.readouterr().out
    assert "passed" in out if index == 0 else out.rstrip().endswith("True")
