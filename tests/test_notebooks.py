"""Habits that keep a notebook book healthy: pairs in sync, Colab cell first, parameters validated, same URL."""

from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def _cells(nb):
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_notebooks():
    assert SOURCES, "no notebooks/NN_name.py found"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_jupytext_pair_is_in_sync(source):
    paired = source.with_suffix(".ipynb")
    assert paired.exists(), f"{paired.name} is missing: run `make sync`"
    assert _cells(jupytext.read(source)) == _cells(jupytext.read(paired)), (
        f"{source.name} and {paired.name} differ: run `make sync` (then re-execute with `make refresh`)"
    )


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_structure(source):
    nb = jupytext.read(source)
    first = nb.cells[0]
    assert first.cell_type == "code" and "google.colab" in first.source, "first cell must be the Colab install cell"
    assert "remove-cell" in first.metadata.get("tags", []), "the Colab cell must be hidden in the book"
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert f'"git+{url}"' in first.source, "the Colab cell must install from the repository URL in _config.yml"
    assert nb.cells[1].cell_type == "markdown" and nb.cells[1].source.startswith("# "), "title after Colab cell"
    code = [c for c in nb.cells[2:] if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell after the title: parameters"
    validates = "check_" in code[1].source or "Config(" in code[1].source  # check_* calls, or a config that checks
    assert validates, "the cell after the parameters must validate them"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert any(c.source.startswith("# NBVAL_CHECK_OUTPUT") for c in code), "no headline metric is compared by nbval"


def test_toc_lists_only_existing_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    for f in files:
        assert any((ROOT / f"{f}{ext}").exists() for ext in (".md", ".ipynb")), f
    listed = {f for f in files if f.startswith("notebooks/")}
    assert listed == {f"notebooks/{p.stem}" for p in SOURCES}, "every notebook is a chapter, in the toc"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_no_markdown_line_starts_with_a_percent_sign(source):
    """MyST reads a line that starts with % as a comment: the rest of that line (glued numbers too) would vanish."""
    for cell in jupytext.read(source).cells:
        if cell.cell_type == "markdown":
            bad = [line for line in cell.source.splitlines() if line.lstrip().startswith("%")]
            assert not bad, f"{source.name}: markdown line read as a MyST comment: {bad[0][:60]!r}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_every_library_name_a_notebook_uses_exists(source):
    """Each ``module.name`` a notebook reads from a ``symbiote_lite`` module it imports, and each name it imports
    from one, exists: a renamed or moved function fails here, not after minutes of execution."""
    import ast
    import importlib

    code = "\n".join(c.source for c in jupytext.read(source).cells if c.cell_type == "code")
    tree = ast.parse("\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
    modules = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("symbiote_lite"):
            parent = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(parent, alias.name, None)
                if value is None:
                    value = importlib.import_module(f"{node.module}.{alias.name}")
                if type(value).__name__ == "module":
                    modules[alias.asname or alias.name] = value
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            assert hasattr(modules[node.value.id], node.attr), f"{source.name}: {node.value.id}.{node.attr} is missing"


CODE_WIDTH = 76  # characters of a code line the rendered cell shows without scrolling (about 77 at 1280 pixels)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_code_fits_the_rendered_cell(source):
    """The static side of ``make check-html``'s width rule: every code line (comments too) is at most
    ``CODE_WIDTH`` characters; hidden cells do not count."""
    wide = [line for c in jupytext.read(source).cells if c.cell_type == "code"
            and "remove-cell" not in c.metadata.get("tags", []) for line in c.source.splitlines()
            if len(line) > CODE_WIDTH]
    assert not wide, f"{source.name}: {len(wide)} code lines wider than {CODE_WIDTH}: {wide[0]!r}"
