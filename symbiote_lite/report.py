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


def plain(value):
    """A glued value as a plain Python value: numpy and torch scalars would print as ``np.float64(...)``, which MyST
    cannot format."""
    return value.item() if hasattr(value, "item") else value


def glue_all(values: dict) -> None:
    """Glue every ``{name: value}`` of a result (a study or stage function's ``glue_values()``) as a plain value."""
    for name, value in values.items():
        glue(name, plain(value))


def rounded(df) -> str:
    """A table as text for nbval: columns in percent or points to 1 decimal, other numbers to 2."""
    digits = {c: 1 if ("%" in c or "points" in c) else 2 for c in df.columns}
    return df.round(digits).to_string()
