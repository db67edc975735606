"""Figures of the results chapter (chapter 5): confusion matrices of edits, forget/retain per digit, costs. Drawing
only."""

import matplotlib.pyplot as plt
import numpy as np

from symbiote_lite.metrics import N_DIGITS
from symbiote_lite.style import use_book_style

use_book_style()


def confusion_grid(cms, titles, suptitle: str | None = None, highlight=None):
    """Ten (or any number of) confusion matrices in rows of five, colour ∝ log(count + 1), no annotations;
    ``highlight[i]`` (a digit) outlines that row (the inhibited digit) of panel i."""
    cms = np.asarray(cms)
    n = len(cms)
    nrows = (n + 4) // 5
    fig, axes = plt.subplots(nrows, 5, figsize=(13, 3.1 * nrows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for i, (ax, cm, title) in enumerate(zip(axes.flat, cms, titles, strict=False)):
        ax.imshow(np.log10(cm + 1), cmap="viridis", vmin=0, vmax=np.log10(1200))  # imshow: 20 panels draw fast
        ax.set_title(title, fontsize=9)
        ax.set(xticks=range(cm.shape[1]), yticks=range(cm.shape[0]))
        ax.tick_params(labelsize=7)
        ax.grid(False)
        if highlight is not None:
            row = highlight[i]
            ax.add_patch(plt.Rectangle((-0.5, row - 0.5), cm.shape[1], 1, fill=False, edgecolor="red", lw=1.5))
        if i % 5 == 0:
            ax.set_ylabel("true digit", fontsize=8)
        if i >= n - 5:
            ax.set_xlabel("predicted digit", fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def forget_retain_bars(scores: dict, forget_target: float, drop_target: float):
    """Per inhibited digit: forget accuracy (left) and retain-accuracy drop in points (right), grouped bars per
    primary, with the targets as dashed lines. ``scores``: {label: {"digit", "forget", "retain_drop"} (fractions)}."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.5))
    width = 0.8 / len(scores)
    for i, (label, s) in enumerate(scores.items()):
        x = np.asarray(s["digit"]) + (i - (len(scores) - 1) / 2) * width
        left.bar(x, 100 * np.asarray(s["forget"]), width, label=label)
        right.bar(x, 100 * np.asarray(s["retain_drop"]), width, label=label)
    left.axhline(100 * forget_target, ls="--", color="k", lw=1, label=f"target ≤ {100 * forget_target:g} %")
    right.axhline(100 * drop_target, ls="--", color="k", lw=1, label=f"target ≤ {100 * drop_target:g} points")
    right.axhline(0, color="grey", lw=0.8)
    left.set(xlabel="inhibited digit", ylabel="forget accuracy (%)", xticks=range(N_DIGITS))
    right.set(xlabel="inhibited digit", ylabel="retain drop (points)", xticks=range(N_DIGITS))
    left.legend(fontsize="small")
    right.legend(fontsize="small")
    fig.tight_layout()
    return fig


def edit_cost_scatter(rows, ax=None):
    """One point per (method, primary): wall time to produce one edit (x, log) against the worst retain drop
    over the edited digits (y, points). ``rows``: dicts with method, primary, seconds, drop_max (fraction)."""
    ax = ax or plt.subplots(figsize=(6.5, 4))[1]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    markers = dict(zip(dict.fromkeys(r["primary"] for r in rows), "os^D", strict=False))
    for r in rows:
        if not np.isfinite(r["seconds"]):
            continue
        ax.scatter(r["seconds"], 100 * r["drop_max"], marker=markers[r["primary"]], s=50,
                   color=f"C{methods.index(r['method'])}", label=f"{r['method']} ({r['primary']})")
    ax.set(xscale="log", xlabel="wall time to produce one edit (s, log)", ylabel="worst retain drop (points)")
    ax.axhline(0, color="grey", lw=0.8)
    ax.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return ax
