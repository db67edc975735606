"""Hand numbers from a notebook run to the book's prose (MyST-NB glue), so no figure is typed by hand."""

from IPython.display import display


def glue(name: str, value, display_value: bool = False) -> None:
    """Record ``value`` under ``name`` for ``{glue:text}`` roles in the book.

    Uses myst-nb's own ``glue`` when installed (building the book); otherwise emits the same
    display message myst-nb reads, so a notebook run anywhere (Colab) produces gluable output.
    """
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        metadata = {"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}}
        bundle = {"application/papermill.record/text/plain": repr(value)}
        display(bundle, raw=True, metadata=metadata)
        if display_value:
            print(value)
        return
    myst_glue(name, value, display=display_value)
