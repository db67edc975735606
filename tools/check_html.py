"""Check the rendered book the way a reader sees it: every page loaded in headless Chromium.

    python tools/check_html.py [_build/html] [--screenshots _build/screenshots]

Serves the built HTML on a loopback port, opens every page, waits for MathJax, takes a full-page screenshot
and fails (exit 1, one line per problem) on:

- an image that is missing or does not decode;
- a raw ``{glue`` role, a ``<Figure size ...>`` repr or a ``Traceback`` in the visible text;
- a cell output that is only a return value (a ``text/plain`` repr such as a stray ``0``);
- a glue role whose value did not reach the page (an unknown key renders as nothing: the roles in the page's
  source are counted against the glued values on the page);
- a figure with no "Figure." caption right after its cell, or a caption with no figure before it;
- a notebook page whose Colab or Binder launch button does not point at that page's ``.ipynb``;
- a code cell whose lines are wider than the rendered cell, a text table wider than the page, or a page that scrolls
  sideways at a laptop's 1280-pixel width;
- math that MathJax did not render, a JavaScript error, or a request that leaves this machine
  (the book must read the same offline as online: MathJax ships with it).

The rules that need no browser live in ``page_problems`` so that unit tests can pin each of them.
"""

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

from bs4 import BeautifulSoup

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAUNCHERS = {"colab": "colab.research.google.com", "binder": "mybinder.org"}


def find_browser() -> str:
    """The Chromium binary: ``$CHROMIUM`` if set, else the first of the usual names on PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    raise SystemExit(
        "no Chromium found: install Debian's `chromium` package (apt-get install chromium) "
        "or set CHROMIUM to a Chrome/Chromium binary"
    )


def html_pages(root: Path) -> list[Path]:
    """Every page of the book (Sphinx's own genindex and search pages excluded)."""
    skip = {"genindex.html", "search.html"}
    pages = [p for p in sorted(root.rglob("*.html")) if p.name not in skip and "_static" not in p.parts]
    if not pages:
        raise SystemExit(f"no HTML pages under {root}: run `make book` first")
    return pages


def _launch_problems(rel: str, soup: BeautifulSoup) -> list[str]:
    """A notebook page must launch its own notebook on Colab and Binder."""
    if not rel.startswith("notebooks/"):
        return []
    want = rel[: -len(".html")] + ".ipynb"
    problems = []
    for name, host in LAUNCHERS.items():
        links = [a["href"] for a in soup.find_all("a", href=True) if host in a["href"]]
        if not links:
            problems.append(f"no {name} launch button")
        for href in links:
            if not href.endswith(want):
                problems.append(f"{name} launch button points at {href}, not at {want}")
    return problems


def _caption_problems(soup: BeautifulSoup) -> list[str]:
    """Each figure (an image in a cell's output) must be followed by a paragraph that starts with "Figure"."""
    problems, seen = [], set()
    for img in soup.select("div.cell_output img"):
        cell = img.find_parent("div", class_="cell")
        if cell is None or id(cell) in seen:
            continue
        seen.add(id(cell))
        after = cell.find_next_sibling()
        text = after.get_text(" ", strip=True) if after is not None else ""
        if after is None or after.name != "p" or not text.startswith("Figure"):
            problems.append(f"figure {img.get('src', '?')} has no 'Figure.' caption after its cell")
    return problems


def _orphan_caption_problems(soup: BeautifulSoup) -> list[str]:
    """A "Figure." caption must follow a cell that shows a figure (else the figure went missing)."""
    problems = []
    for p in soup.find_all("p"):
        if not p.get_text(" ", strip=True).startswith("Figure.") or p.find("strong") is None:
            continue
        before = p.find_previous_sibling()
        if before is None or "cell" not in before.get("class", []) or before.select_one("div.cell_output img") is None:
            problems.append(f"caption without a figure before it: {p.get_text(' ', strip=True)[:60]!r}")
    return problems


def _visible_text(main) -> str:
    """The page's text without code the page shows on purpose: cell sources and inline code in the prose."""
    copy = BeautifulSoup(str(main), "html.parser")
    for node in copy.select("div.cell_input"):
        node.decompose()
    for node in copy.find_all("code"):
        if node.find_parent("div", class_="cell_output") is None:
            node.decompose()
    return copy.get_text(" ")


def glue_roles(source: str, suffix: str) -> int:
    """How many ``{glue...}`` roles a page's source holds (markdown cells only, for a notebook)."""
    if suffix == ".ipynb":
        cells = json.loads(source).get("cells", [])
        source = "\n".join("".join(c["source"]) for c in cells if c.get("cell_type") == "markdown")
    return len(re.findall(r"\{glue(?::[a-z]+)?\}`", source))


def page_problems(rel: str, html: str, exists=None, glue_expected: int | None = None) -> list[str]:
    """Problems visible in one page's (rendered) HTML. ``rel`` is the page's path under the book root;
    ``exists(src)`` says whether an image's file is there (``None``: not checked); ``glue_expected`` is the
    number of glue roles in the page's source (a role whose key is unknown renders as nothing at all)."""
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "noscript"]):
        hidden.decompose()
    main = soup.select_one("main") or soup.body or soup
    text = _visible_text(main)
    problems = []
    for needle, what in (("{glue", "a raw glue role (unknown key or typo)"),
                         ("<Figure size", "a matplotlib Figure repr instead of the figure"),
                         ("Traceback", "a Python traceback")):
        if needle in text:
            problems.append(f"{what}: {text[text.index(needle):][:80]!r}")
    for out in main.select("div.cell_output div.output.text_plain"):
        value = " ".join(pre.get_text(" ", strip=True) for pre in out.find_all("pre"))
        problems.append(f"a cell output that is only a return value: {value[:60]!r} (end the cell with an "
                        "assignment or a print)")
    for img in main.find_all("img"):
        src = img.get("src", "")
        if not src:
            problems.append("an image without src")
        elif exists is not None and not src.startswith(("http:", "https:", "data:")) and not exists(src):
            problems.append(f"missing image {src}")
    if glue_expected is not None:
        pasted = len(main.select("[class*=pasted-]"))
        if pasted != glue_expected:
            problems.append(f"{glue_expected} glue roles in the source but {pasted} glued values on the page "
                            "(an unknown glue key renders as nothing)")
    return problems + _caption_problems(main) + _orphan_caption_problems(main) + _launch_problems(rel, soup)


def expected_glue(root: Path, rel: str) -> int | None:
    """Glue roles in the page's copied source (``_sources/``), or None when Sphinx copied none."""
    stem = root / "_sources" / rel[: -len(".html")]
    for suffix in (".md", ".ipynb"):
        source = stem.with_name(stem.name + suffix)
        if source.exists():
            return glue_roles(source.read_text(encoding="utf8"), suffix)
    return None


def redirect_target(html: str) -> str | None:
    """The target of a page that only redirects (the book's index.html), else None."""
    meta = BeautifulSoup(html, "html.parser").find("meta", attrs={"http-equiv": lambda v: v and v.lower() == "refresh"})
    if meta is None:
        return None
    return meta.get("content", "").partition("url=")[2].strip() or None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve(root: Path):
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# Runs in the page: wait for MathJax (if the page loads it), then report images and math.
_PAGE_STATE = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const images = [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'));
  const math = [...document.querySelectorAll('.math')].filter(m => !m.querySelector('mjx-container')).length;
  const wide = [...document.querySelectorAll('div.cell_input pre')].filter(p => p.scrollWidth > p.clientWidth + 1)
    .map(p => p.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '').trim().slice(0, 60));
  const pageWide = document.documentElement.scrollWidth > document.documentElement.clientWidth + 1;
  const tables = [...document.querySelectorAll('article table')].filter(t => !t.closest('.cell_output'))
    .filter(t => { const box = t.closest('.pst-scrollable-table-container') || t.parentElement;
                   return box.scrollWidth > box.clientWidth + 1; })
    .map(t => (t.querySelector('th, td') || {textContent: ''}).textContent.trim().slice(0, 40));
  return {broken: images, unrendered: math, mathjax: !!window.MathJax, wide: wide, tables: tables,
          pageWide: pageWide};
}"""


def check_book(root: Path, screenshots: Path | None) -> dict[str, list[str]]:
    """Load every page of the book in Chromium; return ``{page: [problems]}`` for the pages with problems (a code
    cell or a text table wider than its box is one, and so is a page that scrolls sideways, at the 1280-pixel
    viewport of a laptop, where a code cell shows about 78 characters)."""
    from playwright.sync_api import sync_playwright

    root = root.resolve()
    server = _serve(root)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    found: dict[str, list[str]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_browser(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            outside: list[str] = []
            errors: list[str] = []

            def route(r):
                if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost"):
                    return r.continue_()
                outside.append(r.request.url)
                return r.abort()

            page.route("**/*", route)
            page.on("pageerror", lambda e: errors.append(str(e)))
            for path in html_pages(root):
                rel = path.relative_to(root).as_posix()
                target = redirect_target(path.read_text(encoding="utf8"))
                if target is not None:
                    ok = (path.parent / target).exists()
                    print(f"{'ok  ' if ok else 'FAIL'} {rel} (redirects to {target})", flush=True)
                    if not ok:
                        found[rel] = [f"redirects to a missing page {target}"]
                    continue
                outside.clear()
                errors.clear()
                page.goto(base + rel, wait_until="load")
                state = page.evaluate(_PAGE_STATE)
                problems = page_problems(rel, page.content(), exists=lambda s, p=path: (p.parent / s).exists(),
                                         glue_expected=expected_glue(root, rel))
                problems += [f"image does not load: {s}" for s in state["broken"]]
                problems += [f"code cell wider than the page (scrolls sideways): {w!r}" for w in state["wide"]]
                problems += [f"table wider than the page (scrolls sideways): {t!r}" for t in state["tables"]]
                if state["pageWide"]:
                    problems.append("the page scrolls sideways at a laptop's width")
                if state["unrendered"]:
                    problems.append(f"{state['unrendered']} math elements not rendered by MathJax")
                problems += [f"JavaScript error: {e}" for e in errors]
                problems += [f"request leaves the machine: {u}" for u in outside]
                if screenshots is not None:
                    shot = screenshots / (rel[: -len(".html")].replace("/", "__") + ".png")
                    shot.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shot), full_page=True)
                print(f"{'ok  ' if not problems else 'FAIL'} {rel}", flush=True)
                for p in problems:
                    print(f"     {p}", flush=True)
                if problems:
                    found[rel] = problems
            browser.close()
    finally:
        server.shutdown()
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="_build/html", type=Path, help="the built book")
    parser.add_argument("--screenshots", type=Path, default=Path("_build/screenshots"),
                        help="folder for one full-page PNG per page")
    args = parser.parse_args(argv)
    if not (args.root / "index.html").exists():
        print(f"{args.root}/index.html is missing: build the book first (`make book`)", file=sys.stderr)
        return 2
    found = check_book(args.root, args.screenshots)
    n = len(html_pages(args.root))
    print(f"{n - len(found)} of {n} pages passed; screenshots in {args.screenshots}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
