"""Figures of the universality chapter (chapter 9). Drawing only."""

import matplotlib.pyplot as plt
import numpy as np

from symbiote_lite import plots  # noqa: F401  (the book's style)


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
