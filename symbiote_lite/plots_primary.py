"""Figures of the primary chapter (chapter 2): training curve, digits, confusion matrix. Drawing only."""

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from symbiote_lite.style import use_book_style

use_book_style()


def learning_curve(history: dict, ax=None):
    """Training loss against epochs (left axis) and test accuracy at the evaluation points (right axis)."""
    ax = ax or plt.subplots(figsize=(6.5, 3.5))[1]
    per_epoch = history["steps_per_epoch"]
    ax.plot(np.asarray(history["step"]) / per_epoch, history["loss"], label="training loss (25-step mean)")
    ax.set(xlabel="epoch", ylabel="cross-entropy", yscale="log")
    if history.get("eval_acc"):
        ax2 = ax.twinx()
        epochs = np.asarray(history["eval_step"]) / per_epoch
        ax2.plot(epochs, 100 * np.asarray(history["eval_acc"]), "s--", color="C1", label="test accuracy")
        ax2.axhline(99, color="C1", lw=0.8, ls=":")
        ax2.set_ylabel("test accuracy (%)")
        ax2.grid(False)
        ax.figure.legend(loc="upper center", ncol=2, bbox_to_anchor=(0.5, 1.05), frameon=False)
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
