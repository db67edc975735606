"""Figures of the toy-model symbiote chapter (chapter 10). Drawing only."""

import matplotlib.pyplot as plt
import numpy as np

from symbiote_lite.style import use_book_style

use_book_style()

EDITOR_COLOURS = {"exact reference": "black", "bias edit": "C2", "direct optimisation": "C1", "symbiote": "C0"}


def columns_before_after(W, panels: dict, feature: int, sparsity: float, axes=None):
    """Chapter 1's drawing of the columns W_j (2-D) for one model, unedited and under each edit of ``panels``
    ({title: ΔW (2, n)}); feature ``feature`` is drawn thick, its unedited column dotted in every edited panel."""
    W = np.asarray(W)
    n = W.shape[1]
    titles = ["unedited", *panels]
    if axes is None:
        axes = plt.subplots(1, len(titles), figsize=(2.2 * len(titles), 2.6), squeeze=False)[1][0]
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, n))
    for ax, title in zip(axes, titles, strict=True):
        w = W if title == "unedited" else W + np.asarray(panels[title])
        ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, ls=":", color="0.6"))
        if title != "unedited":
            ax.plot([0, W[0, feature]], [0, W[1, feature]], color=colours[feature], lw=1, ls=":")
        for j in range(n)[::-1]:
            lw = 3.2 if j == feature else 1.6
            ax.plot([0, w[0, j]], [0, w[1, j]], color=colours[j], lw=lw)
            ax.scatter(w[0, j], w[1, j], color=colours[j], s=18, zorder=3)
        ax.set(xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), aspect="equal", xticks=[], yticks=[])
        ax.set_title(title, fontsize="small")
    axes[0].set_ylabel(f"S = {sparsity:g}")
    return axes


def measures_by_regime(summary, measures: dict, editors=None, axes=None):
    """One panel per measure ({column: label}): each editor's seed mean and 95 % interval against the models'
    dimensions per feature (left to right: more superposition), one marker per setting. The exact reference is
    drawn first (dashed), so the editors that coincide with it stay visible."""
    editors = editors or list(EDITOR_COLOURS)
    if axes is None:
        _, axes = plt.subplots(1, len(measures), figsize=(3.6 * len(measures), 3.1), squeeze=False)
        axes = axes[0]
    markers = dict(zip(summary["setting"].unique(), "os^D", strict=False))
    for ax, (column, label) in zip(axes, measures.items(), strict=True):
        for editor in editors:
            for setting, marker in markers.items():
                rows = summary[(summary["editor"] == editor) & (summary["setting"] == setting)]
                rows = rows.sort_values("dims_per_feature")
                x, y = rows["dims_per_feature"].to_numpy(), rows[column].to_numpy()
                err = np.stack([y - rows[f"{column}_low"].to_numpy(), rows[f"{column}_high"].to_numpy() - y])
                ax.errorbar(x, y, yerr=err, color=EDITOR_COLOURS[editor], marker=marker, ms=4, lw=1, capsize=2,
                            ls="--" if editor == "exact reference" else "-", label=f"{editor}, {setting}")
        ax.set_xlabel("dims per feature D = m / ‖W‖²", fontsize="small")
        ax.set_title(label, fontsize="small")
        ax.invert_xaxis()
    axes[-1].legend(frameon=False, fontsize=6.5, loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes[0].figure.tight_layout()
    return axes
