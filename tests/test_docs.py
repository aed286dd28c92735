"""The guide's code blocks run, and every public name is documented.

Every ```` ```python ```` fence of a Markdown page in ``docs/`` (and every
``.. code-block:: python`` of an rST page) is executed; the blocks of one page
run in order in one namespace, so a page reads as one script.  Warnings are
errors.  Blocks that are not meant to run use another language tag
(``bash``, ``text``, ``pycon`` ...).
"""

from __future__ import annotations

import re
import textwrap
import warnings
from pathlib import Path

import pytest

import nnlite

DOCS = Path(__file__).resolve().parents[1] / "docs"
API_PAGE = DOCS / "api.rst"

_MD_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*"
    r"(?:python|py|\{code-block\}[ \t]+python|\{code\}[ \t]+python)[ \t]*\n"
    r"(?P<body>.*?)"
    r"^(?P=indent)(?P=fence)[ \t]*$",
    re.M | re.S,
)
_RST_DIRECTIVE = re.compile(
    r"^(?P<indent>[ \t]*)\.\. (?:code-block|code|sourcecode)::[ \t]+python[ \t]*$"
)


def extract_blocks(path: Path) -> list[tuple[int, str]]:
    """``(first line number, source)`` of every Python code block of a page."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        blocks = []
        for m in _MD_FENCE.finditer(text):
            line = text.count("\n", 0, m.start("body")) + 1
            body = m.group("body")
            body = "\n".join(ln[len(m.group("indent")):] for ln in body.splitlines())
            blocks.append((line, body))
        return blocks
    return _extract_rst(text)


def _extract_rst(text: str) -> list[tuple[int, str]]:
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = _RST_DIRECTIVE.match(lines[i])
        i += 1
        if not m:
            continue
        base = len(m.group("indent"))
        # skip the directive's options (":linenos:" ...) and the blank line after them
        while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith(":")):
            if not lines[i].strip():
                i += 1
                break
            i += 1
        start, body = i, []
        while i < len(lines):
            ln = lines[i]
            if ln.strip() and len(ln) - len(ln.lstrip()) <= base:
                break
            body.append(ln)
            i += 1
        blocks.append((start + 1, textwrap.dedent("\n".join(body)).rstrip()))
    return blocks


def run_page(path: Path) -> int:
    """Run every Python block of ``path`` in order in one namespace; return how many ran."""
    namespace = {"__name__": f"docs_{path.stem}"}
    blocks = extract_blocks(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for line, source in blocks:
            code = compile(source, f"{path.name}, block at line {line}", "exec")
            exec(code, namespace)
    return len(blocks)


def guide_pages() -> list[Path]:
    return sorted(p for p in DOCS.iterdir() if p.suffix in (".md", ".rst"))


#: Pages whose code needs an optional extra: skipped without it.
_NEEDS = {"scale_out.md": ("dask", "distributed"),
          "deployment.md": ("onnx", "onnxruntime", "sklearn")}


@pytest.mark.parametrize("page", guide_pages(), ids=lambda p: p.name)
def test_code_blocks_run(page, tmp_path, monkeypatch):
    for module in _NEEDS.get(page.name, ()):  # pages about an optional extra
        pytest.importorskip(module)
    monkeypatch.chdir(tmp_path)  # pages that write files write them here
    run_page(page)


def test_the_guide_has_code_to_run():
    assert sum(len(extract_blocks(p)) for p in guide_pages()) >= 20


# ----- the runner itself must be able to fail ---------------------------------------------
def test_runner_fails_on_an_exception(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Text.\n\n```python\nx = 1\n```\n\n```bash\nexit 1\n```\n\n"
                    "```python\nassert x == 2, 'later blocks see earlier names'\n```\n")
    assert [src for _, src in extract_blocks(page)] == ["x = 1", "assert x == 2, "
                                                        "'later blocks see earlier names'"]
    with pytest.raises(AssertionError, match="later blocks"):
        run_page(page)


def test_runner_turns_warnings_into_errors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\nimport warnings\nwarnings.warn('careful', UserWarning)\n```\n")
    with pytest.raises(UserWarning, match="careful"):
        run_page(page)


def test_runner_reads_rst_code_blocks(tmp_path):
    page = tmp_path / "page.rst"
    page.write_text("Title\n=====\n\n.. code-block:: python\n   :caption: c\n\n"
                    "   y = 3\n   z = y + 1\n\nText.\n\n.. code-block:: python\n\n"
                    "   raise RuntimeError(str(z))\n")
    assert [src for _, src in extract_blocks(page)] == ["y = 3\nz = y + 1",
                                                        "raise RuntimeError(str(z))"]
    with pytest.raises(RuntimeError, match="4"):
        run_page(page)


def test_error_names_the_page_and_line(tmp_path):
    page = tmp_path / "where.md"
    page.write_text("# t\n\n```python\nok = True\n```\n\n```python\n1 / 0\n```\n")
    with pytest.raises(ZeroDivisionError) as info:
        run_page(page)
    tb, files = info.value.__traceback__, []
    while tb is not None:
        files.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    assert "where.md, block at line 8" in files


# ----- every public name is documented --------------------------------------------------
def _documented_in_api(source: str, qualified: str) -> bool:
    name = qualified.rsplit(".", 1)[-1]
    pattern = (rf"^\.\. (?:autoclass|autofunction|autodata|automodule|autoexception)::"
               rf"[ \t]+(?:nnlite\.)?{re.escape(name)}[ \t]*$")
    if "." in qualified:
        pattern = (rf"^\.\. (?:autoclass|autofunction|autodata|autoexception)::"
                   rf"[ \t]+(?:{re.escape(qualified)}|{re.escape(name)})[ \t]*$")
    return re.search(pattern, source, re.M) is not None


@pytest.mark.parametrize("name", nnlite.__all__)
def test_public_name_in_api_reference(name):
    source = API_PAGE.read_text(encoding="utf-8")
    assert _documented_in_api(source, name), (
        f"nnlite.{name} is public (in nnlite.__all__) but docs/api.rst has no "
        f"'.. autoclass::/.. autofunction::/.. automodule:: {name}' entry for it."
    )


@pytest.mark.parametrize("name", nnlite.gradcheck.__all__)
def test_gradcheck_name_in_api_reference(name):
    source = API_PAGE.read_text(encoding="utf-8")
    assert _documented_in_api(source, f"gradcheck.{name}"), (
        f"nnlite.gradcheck.{name} is public but docs/api.rst does not document it."
    )


_CORE_MODULES = tuple(f"nnlite.{m}" for m in
                      ("layers", "models", "network", "losses", "optimizers", "init", "training"))


def _is_core(module):  # the module or a package's submodule (nnlite.optimizers.adam)
    return any(module == m or module.startswith(m + ".") for m in _CORE_MODULES)


@pytest.mark.parametrize("name", [n for n in nnlite.__all__
                                  if _is_core(getattr(getattr(nnlite, n), "__module__", ""))])
def test_core_name_explained_in_the_guide(name):
    guide = "\n".join(p.read_text(encoding="utf-8") for p in guide_pages() if p != API_PAGE)
    assert re.search(rf"\b{re.escape(name)}\b", guide), (
        f"nnlite.{name} is not mentioned on any guide page of docs/."
    )
