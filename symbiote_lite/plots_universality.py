"""Figures of the universality chapter (chapter 9). Drawing only."""

import matplotlib.pyplot as plt
import numpy as np

from symbiote_lite.style import use_book_style

use_book_style()


def matched_correlations(result: dict, layers, axes=None):
    """Per layer: each unit's correlation with its match, sorted best first, one line per pair of trained primaries
    (blue), per pair with B's images shuffled (grey) and per trained primary matched to an untrained one (orange)."""
    if axes is None:
        _, axes = plt.subplots(1, len(layers), figsize=(3.4 * len(layers), 3.0), squeeze=False, sharey=True)
        axes = axes[0]
    groups = (("corr_shuffled", "B's images shuffled", "grey"), ("corr", "trained pairs", "C0"))
    for ax, layer in zip(axes, layers, strict=True):
        for key, label, colour in groups:
            for i, pair in enumerate(result["pairs"].values()):
                c = np.sort(np.asarray(pair[key][layer]))[::-1]
                ax.plot(np.arange(1, len(c) + 1), c, color=colour, lw=0.9, alpha=0.7, label=label if i == 0 else None)
        for i, per_layer in enumerate(result["random"].values()):
            c = np.sort(np.asarray(per_layer[layer]))[::-1]
            ax.plot(np.arange(1, len(c) + 1), c, color="C1", lw=0.9, alpha=0.7,
                    label="trained vs untrained" if i == 0 else None)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(layer)
        ax.set_xlabel("matched unit (best first)")
    axes[0].set_ylabel("correlation with its match")
    axes[-1].legend(frameon=False, fontsize=8, loc="lower left")
    axes[0].figure.tight_layout()
    return axes


def edit_map_agreement(pairs: list[dict], stats: dict, methods: dict, layers=("conv2", "fc1"), axes=None):
    """Per edited layer: for each method, the digit-mean ρ of each pair on matched units for the same digit (filled)
    and for the other digits (open), the mean as a black bar with the interval ``stats['rho/<method>/<layer>']``
    beside it, and the 97.5 % random-matching level of the method (dashed)."""
    if axes is None:
        _, axes = plt.subplots(1, len(layers), figsize=(4.2 * len(layers), 3.2), squeeze=False, sharey=True)
        axes = axes[0]
    for ax, layer in zip(axes, layers, strict=True):
        for i, method in enumerate(methods):
            name = f"{method}/{layer}"
            same = np.array([np.mean(p["rho"][name]) for p in pairs])
            other = np.array([np.mean(p["rho_other"][name]) for p in pairs])
            null = np.mean([p["rho_null"][name]["q975"] for p in pairs])
            jitter = np.linspace(-0.08, 0.08, len(pairs))
            ax.scatter(i - 0.18 + jitter, same, s=20, color="C0", zorder=3, label="same digit" if i == 0 else None)
            ax.scatter(i + 0.18 + jitter, other, s=20, facecolor="white", edgecolor="C0", zorder=3,
                       label="other digits" if i == 0 else None)
            ax.hlines(same.mean(), i - 0.32, i - 0.04, color="black", lw=2, zorder=4)
            ax.hlines(other.mean(), i + 0.04, i + 0.32, color="black", lw=1, zorder=4)
            s = stats[f"rho/{name}"]
            ax.vlines(i - 0.36, s["low"], s["high"], color="black", lw=1.2, zorder=4)
            ax.hlines(null, i - 0.42, i + 0.42, color="grey", ls="--", lw=1,
                      label="random matching, 97.5 %" if i == 0 else None)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_xticks(range(len(methods)), list(methods.values()))
        ax.set_title(f"{layer}: agreement of matched maps")
    axes[0].set_ylabel("Spearman ρ, mean over digits")
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].figure.tight_layout()
    axes[0].figure.legend(handles, labels, frameon=False, fontsize=8, ncol=3, loc="upper center",
                          bbox_to_anchor=(0.5, 0.0))
    return axes
