"""Figures of the published-code chapter (chapter 7). Drawing only."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from symbiote_lite.style import use_book_style

use_book_style()

SCORE_LABELS = {"overall": "overall", "other": "other digits (retain)", "digit": "digit 3 (forget)"}
MODE_STYLES = {"evaluation mode": "-", "training mode": "--"}


def budget_sweep(rows: pd.DataFrame, reported: dict, published_steps: int, split: str = "test", axes=None):
    """One panel per score of ``SCORE_LABELS``: the sweep's accuracy (%) against the symbiote's steps (log scale),
    evaluation mode solid and training-mode offsets dashed, on ``split``; the published printout as a star at
    ``published_steps``. ``rows``: ``published.budget_scores`` as a DataFrame."""
    if axes is None:
        axes = plt.subplots(1, len(SCORE_LABELS), figsize=(13, 3.6), sharex=True)[1]
    rows = rows[rows["split"] == split]
    for ax, (key, label) in zip(axes, SCORE_LABELS.items(), strict=True):
        for mode, ls in MODE_STYLES.items():
            part = rows[rows["mode"] == mode].sort_values("steps")
            ax.plot(part["steps"], part[key], ls=ls, marker="o", color="C0", label=mode)
        ax.scatter([published_steps], [reported[key]], marker="*", s=140, color="C3", zorder=3,
                   label="published printout")
        ax.set(xscale="log", xlabel="symbiote steps", ylim=(-3, 103), title=label)
    axes[0].set_ylabel(f"accuracy on the {split} images (%)")
    axes[0].legend(fontsize="small")
    return axes


def batch_norm_history(history: dict, ax=None):
    """The symbiote's batch-norm state after every training step (``published.HISTORY_KEYS``): the running variances
    and the mean |z| of each batch norm's evaluation-mode input, on a log scale."""
    if ax is None:
        ax = plt.subplots(figsize=(7, 3.6))[1]
    steps = np.arange(1, len(history["bn1_var"]) + 1)
    for key, label, colour, ls in (
        ("bn1_var", "first batch norm: largest running variance", "C0", "-"),
        ("bn2_var", "second batch norm: median running variance", "C1", "-"),
        ("bn1_z", "first batch norm: mean |z| in evaluation mode", "C0", "--"),
        ("bn2_z", "second batch norm: mean |z| in evaluation mode", "C1", "--"),
    ):
        ax.plot(steps, np.maximum(history[key], 1e-30), color=colour, ls=ls, label=label)
    ax.axhline(1.0, color="0.6", lw=0.8, ls=":")
    ax.set(xlabel="symbiote step", yscale="log", ylabel="value")
    ax.legend(fontsize="small")
    return ax
