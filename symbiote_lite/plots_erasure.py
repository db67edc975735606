"""Figures of the erasure chapter. Drawing only: the numbers come from ``erasure``."""

import matplotlib.pyplot as plt
import numpy as np

from symbiote_lite.style import use_book_style

use_book_style()

REFERENCE_STYLE = {"unedited": ("black", ":"), "retrained": ("black", "-"), "suppression": ("grey", "--"),
                   "suppression (pruned)": ("grey", "-.")}


def _style(method: str, i: int) -> dict:
    colour, ls = REFERENCE_STYLE.get(method, (f"C{i}", "-"))
    return {"color": colour, "ls": ls, "lw": 2.2 if method == "retrained" else 1.4}


def probe_by_layer(table: dict[str, dict[str, dict]], layers, ylabel: str = "probe AUROC (held-out)", ax=None):
    """Per method, the mean probe score of each layer over seeds with its interval (``erasure.probe_table``)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 3.6))
    x = np.arange(len(layers))
    for i, (method, per_layer) in enumerate(table.items()):
        mean = [per_layer[layer]["mean"] for layer in layers]
        low = [per_layer[layer]["mean"] - per_layer[layer]["low"] for layer in layers]
        high = [per_layer[layer]["high"] - per_layer[layer]["mean"] for layer in layers]
        shift = (i - len(table) / 2) * 0.03
        ax.errorbar(x + shift, mean, yerr=[low, high], marker="o", ms=4, capsize=2, label=method, **_style(method, i))
    ax.set_xticks(x, layers)
    ax.set_xlabel("layer of the edited network")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.figure.tight_layout()
    return ax


def relearning(curves: dict[int, dict[str, dict[int, dict]]], axes=None):
    """Per attack size k: held-out accuracy on the forgotten digit against attack steps, the mean over seeds of
    each method with its interval as a band (``erasure.relearn_curves``)."""
    if axes is None:
        _, axes = plt.subplots(1, len(curves), figsize=(4.4 * len(curves), 3.6), squeeze=False, sharey=True)
        axes = axes[0]
    for ax, (k, by_method) in zip(axes, curves.items(), strict=True):
        for i, (method, by_step) in enumerate(by_method.items()):
            steps = np.array(list(by_step))
            mean = np.array([by_step[s]["mean"] for s in steps])
            ax.plot(steps + 1, mean, label=method, **_style(method, i))
            ax.fill_between(steps + 1, [by_step[s]["low"] for s in steps], [by_step[s]["high"] for s in steps],
                            color=_style(method, i)["color"], alpha=0.15, lw=0)
        ax.set_xscale("log")
        ax.set_xlabel("attack step + 1")
        ax.set_title(f"k = {k} images of the digit + {k} others")
    axes[0].set_ylabel("accuracy on held-out images\nof the forgotten digit (%)")
    axes[-1].legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes[0].figure.tight_layout()
    return axes
