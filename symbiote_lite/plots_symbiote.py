"""Figures of the symbiote chapter (chapter 4). Drawing only."""

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from symbiote_lite.style import use_book_style

use_book_style()


def symbiote_curves(histories: dict, axes=None):
    """Training and validation loss of each symbiote against the optimisation step, one panel per primary.
    ``histories``: {label: history with step, train_loss, val_loss, val_retain, val_inhibit}."""
    if axes is None:
        fig, axes = plt.subplots(1, len(histories), figsize=(5 * len(histories), 3.5), squeeze=False, sharey=True)
        axes = axes[0]
    for ax, (label, h) in zip(axes, histories.items(), strict=True):
        ax.plot(h["step"], h["train_loss"], "o-", ms=3, label="training loss (mean since last point)")
        ax.plot(h["step"], h["val_loss"], "s-", ms=3, label="validation loss")
        ax.plot(h["step"], h["val_retain"], ":", color="C2", label="validation: retain cross-entropy")
        ax.plot(h["step"], h["val_inhibit"], "--", color="C3", label="validation: inhibition term")
        ax.set(yscale="log", xlabel="optimisation step", title=label)
    axes[0].set_ylabel("loss")
    axes[0].legend(fontsize="small", loc="lower left")
    return axes[0].figure


def diff_size_heatmap(sizes: dict, layer_names):
    """Relative size of each diff, ‖ΔW‖ / ‖W‖ in %, per (hidden layer, inhibited digit), one panel per primary.
    ``sizes``: {label: (n_layers, 10) array of fractions}."""
    fig, axes = plt.subplots(1, len(sizes), figsize=(5.5 * len(sizes), 1.2 + 0.5 * len(layer_names)), squeeze=False)
    vmax = max(float(np.max(np.asarray(v))) for v in sizes.values()) * 100
    for ax, (label, s) in zip(axes[0], sizes.items(), strict=True):
        sns.heatmap(100 * np.asarray(s), annot=True, fmt=".1f", cmap="mako_r", vmin=0, vmax=vmax, cbar=False, ax=ax,
                    yticklabels=list(layer_names), annot_kws={"fontsize": 8})
        ax.set(xlabel="inhibited digit", title=f"{label}: ‖ΔW‖ / ‖W‖ (%)")
        ax.tick_params(axis="y", rotation=0)
    fig.tight_layout()
    return fig
