"""Every figure of the book: one style, drawing only (all numbers are computed elsewhere)."""

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
plt.rcParams.update({"figure.dpi": 100, "savefig.bbox": "tight", "axes.titlesize": "medium"})


def learning_curve(history: dict, ax=None):
    """Training loss per epoch (left axis) and test accuracy per epoch (right axis)."""
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], "o-", label="training loss")
    ax.set(xlabel="epoch", ylabel="cross-entropy", xticks=epochs)
    if history.get("test_acc"):
        ax2 = ax.twinx()
        ax2.plot(epochs, 100 * np.asarray(history["test_acc"]), "s--", color="C1", label="test accuracy")
        ax2.set_ylabel("test accuracy (%)")
        ax2.grid(False)
        ax.figure.legend(loc="upper center", ncol=2, bbox_to_anchor=(0.5, 1.02), frameon=False)
    return ax


def digit_grid(images, labels, predictions, ncols: int = 10):
    """Images with 'label -> prediction' titles; mistakes in red."""
    n = len(images)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.4 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, lab, pred in zip(axes.flat, images, labels, predictions, strict=True):
        ax.imshow(np.asarray(img).squeeze(), cmap="gray_r")
        ax.set_title(f"{lab}→{pred}", color="black" if lab == pred else "red", fontsize=9)
    return fig


def confusion_heatmap(cm, ax=None, title: str | None = None, log: bool = True):
    """A 10x10 confusion matrix (rows: true digit, columns: predicted digit), counts annotated."""
    ax = ax or plt.subplots(figsize=(5.5, 4.5))[1]
    cm = np.asarray(cm)
    shown = np.log10(cm + 1) if log else cm
    sns.heatmap(shown, annot=cm, fmt="d", cmap="viridis", cbar=False, ax=ax, annot_kws={"fontsize": 7}, square=True)
    ax.set(xlabel="predicted digit", ylabel="true digit", title=title or "")
    return ax
