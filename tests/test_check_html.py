"""The rendered-book check (tools/check_html.py): each rule fails on the page it is meant to catch."""

import json
import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import check_html  # noqa: E402

COLAB = "https://colab.research.google.com/github/o/r/blob/main/notebooks/{}.ipynb"
BINDER = "https://mybinder.org/v2/gh/o/r/main?urlpath=tree/notebooks/{}.ipynb"


def page(body: str, notebook: str = "02_primary_cnn", launch: str | None = None) -> str:
    """A page shaped like myst-nb's HTML: launch buttons in the header, cells in <main>."""
    launch = launch if launch is not None else notebook
    return f"""<html><head><title>t</title></head><body>
    <div class="header"><a href="{COLAB.format(launch)}">Colab</a><a href="{BINDER.format(launch)}">Binder</a></div>
    <main><h1>Title</h1>{body}</main></body></html>"""


FIGURE_CELL = """<div class="cell docutils container"><div class="cell_input"><pre>plt.show()</pre></div>
<div class="cell_output docutils container"><img src="../_images/a.png"/></div></div>"""
CAPTION = "<p><strong>Figure.</strong> What it shows.</p>"
PRINT_CELL = """<div class="cell docutils container"><div class="cell_output docutils container">
<div class="output stream highlight-myst-ansi"><div class="highlight"><pre>test accuracy: 99.2 %</pre>
</div></div></div></div>"""
REPR_CELL = """<div class="cell docutils container"><div class="cell_output docutils container">
<div class="output text_plain highlight-myst-ansi"><div class="highlight"><pre>0</pre></div></div></div></div>"""


def problems(html: str, rel: str = "notebooks/02_primary_cnn.html", exists=lambda src: True, glue_expected=None):
    return check_html.page_problems(rel, html, exists=exists, glue_expected=glue_expected)


def test_a_good_page_has_no_problems():
    assert problems(page(PRINT_CELL + FIGURE_CELL + CAPTION)) == []


@pytest.mark.parametrize(
    "body, expected",
    [
        ("<p>accuracy {glue:text}`primary_test_acc:.2f` %</p>", "raw glue role"),
        ("<pre>&lt;Figure size 640x480 with 1 Axes&gt;</pre>", "Figure repr"),
        ("<pre>Traceback (most recent call last):</pre>", "traceback"),
        (REPR_CELL, "only a return value"),
        (FIGURE_CELL, "no 'Figure.' caption"),
        (FIGURE_CELL + "<p>Some other paragraph.</p>", "no 'Figure.' caption"),
        (PRINT_CELL + CAPTION, "caption without a figure"),
    ],
)
def test_each_rule_catches_its_problem(body, expected):
    found = problems(page(body))
    assert len(found) == 1 and expected in found[0], found


def test_prose_may_show_the_forbidden_strings_as_code():
    body = "<p>The check fails on a raw <code>{glue</code> role and a <code>Traceback</code>.</p>"
    assert problems(page(body)) == []


def test_glue_roles_are_counted_in_markdown_and_in_notebook_markdown_cells():
    md = "acc {glue:text}`a:.2f` %, {glue}`b` and {glue:md}`c`; not a role: glue:text"
    assert check_html.glue_roles(md, ".md") == 3
    nb = {"cells": [{"cell_type": "markdown", "source": ["x {glue:text}`a`"]},
                    {"cell_type": "code", "source": ["# {glue:text}`not prose`"]}]}
    assert check_html.glue_roles(json.dumps(nb), ".ipynb") == 1


def test_an_unknown_glue_key_is_caught_by_counting_the_glued_values():
    body = '<p>accuracy <span class="pasted-text">99.16</span> %, verdict <strong></strong></p>'
    assert problems(page(body), glue_expected=1) == []
    found = problems(page(body), glue_expected=2)
    assert len(found) == 1 and "2 glue roles in the source but 1 glued values" in found[0]


def test_a_missing_image_file_is_reported():
    found = problems(page(FIGURE_CELL + CAPTION), exists=lambda src: False)
    assert found == ["missing image ../_images/a.png"]


def test_a_launch_button_must_open_this_pages_notebook():
    found = problems(page(PRINT_CELL, launch="04_symbiote"))
    assert len(found) == 2 and all("04_symbiote.ipynb" in p for p in found), found
    no_buttons = "<html><body><main><p>text</p></main></body></html>"
    assert sorted(problems(no_buttons)) == ["no binder launch button", "no colab launch button"]
    assert problems(no_buttons, rel="book/intro.html") == [], "prose pages have no launch buttons to check"


def test_the_redirect_page_is_recognised():
    assert check_html.redirect_target('<meta http-equiv="Refresh" content="0; url=book/intro.html" />') == (
        "book/intro.html"
    )
    assert check_html.redirect_target(page(PRINT_CELL)) is None


def _browser_or_skip():
    try:
        check_html.find_browser()
        import playwright  # noqa: F401
    except (SystemExit, ImportError):
        pytest.skip("needs Chromium and playwright (installed by `make venv` and `.ci/run`)")


def _site(root: Path, body: str) -> Path:
    (root / "notebooks").mkdir(parents=True)
    (root / "_images").mkdir()
    Image.new("RGB", (4, 4), "white").save(root / "_images" / "a.png")
    (root / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=notebooks/02_primary_cnn.html" />')
    (root / "notebooks" / "02_primary_cnn.html").write_text(page(body))
    (root / "_sources" / "notebooks").mkdir(parents=True)
    source = {"cells": [{"cell_type": "markdown", "source": ["accuracy {glue:text}`acc:.2f` %"]}]}
    (root / "_sources" / "notebooks" / "02_primary_cnn.ipynb").write_text(json.dumps(source))
    return root


def test_the_browser_passes_a_good_book(tmp_path):
    _browser_or_skip()
    glued = '<p>accuracy <span class="pasted-text">99.16</span> %</p>'
    root = _site(tmp_path / "html", glued + PRINT_CELL + FIGURE_CELL + CAPTION)
    assert check_html.check_book(root, tmp_path / "shots") == {}
    assert (tmp_path / "shots" / "notebooks__02_primary_cnn.png").stat().st_size > 0
    assert check_html.main([str(root), "--screenshots", str(tmp_path / "shots")]) == 0


def test_the_browser_fails_on_a_broken_image_unrendered_math_and_outside_requests(tmp_path):
    _browser_or_skip()
    broken = FIGURE_CELL.replace("a.png", "gone.png") + CAPTION
    math = '<p><span class="math notranslate nohighlight">\\(x^2\\)</span></p>'
    outside = '<img src="https://example.org/logo.png" alt="logo"/>'
    root = _site(tmp_path / "html", broken + math + outside)
    found = check_html.check_book(root, None)["notebooks/02_primary_cnn.html"]
    assert any("missing image ../_images/gone.png" in p for p in found), found
    assert any("image does not load: ../_images/gone.png" in p for p in found), found
    assert any("math elements not rendered" in p for p in found), found
    assert any("request leaves the machine: https://example.org/logo.png" in p for p in found), found
    assert any("1 glue roles in the source but 0 glued values" in p for p in found), found
    assert check_html.main([str(root), "--screenshots", str(tmp_path / "shots")]) == 1


def test_the_browser_fails_on_a_code_cell_wider_than_the_page(tmp_path):
    _browser_or_skip()
    wide = ('<div class="cell docutils container"><div class="cell_input"><pre style="width: 300px; overflow: auto">'
            + "x = 1  # " + "a long comment " * 20 + "</pre></div></div>")
    glued = '<p>accuracy <span class="pasted-text">99.16</span> %</p>'
    root = _site(tmp_path / "html", glued + wide)
    found = check_html.check_book(root, None)["notebooks/02_primary_cnn.html"]
    assert any("code cell wider than the page" in p and "x = 1" in p for p in found), found
    narrow = _site(tmp_path / "narrow", glued + wide.replace("a long comment " * 20, "short"))
    assert check_html.check_book(narrow, None) == {}
