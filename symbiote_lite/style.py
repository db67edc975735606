"""The book's one figure style (seaborn's colour-blind palette on a white grid); every plotting module applies it."""

import matplotlib.pyplot as plt
import seaborn as sns


def use_book_style() -> None:
    """Set the book's matplotlib style (idempotent)."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    plt.rcParams.update({"figure.dpi": 100, "savefig.bbox": "tight", "axes.titlesize": "medium"})
