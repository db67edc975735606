"""Figures of the replication chapter (chapter 8): per-seed values with their mean and interval. Drawing only."""

import matplotlib.pyplot as plt
import numpy as np

from symbiote_lite.replication import ALL_TESTS
from symbiote_lite.style import use_book_style

use_book_style()


def seed_spread(panels: dict, stats: dict | None = None, references: dict | None = None, axes=None,
                seeds: list | None = None):
    """One panel per entry of ``panels`` {title: {label: per-seed values}}: a dot per seed (colour = seed), a black
    bar at the mean and a vertical line for the interval ``stats[title][label] = (low, high)`` when given;
    ``references`` {title: [(y, text)]} draws dashed horizontal lines (thresholds, chance)."""
    n = len(panels)
    if axes is None:
        _, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.4), squeeze=False)
        axes = axes[0]
    for ax, (title, groups) in zip(axes, panels.items(), strict=True):
        for i, (label, values) in enumerate(groups.items()):
            values = np.asarray(values, dtype=float)
            jitter = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else np.zeros(1)
            ax.scatter(i + jitter, values, c=[f"C{k % 10}" for k in range(len(values))], s=22, zorder=3,
                       edgecolor="white", linewidth=0.5)
            ax.hlines(values.mean(), i - 0.28, i + 0.28, color="black", lw=2, zorder=4)
            if stats and label in stats.get(title, {}):
                low, high = stats[title][label]
                ax.vlines(i + 0.32, low, high, color="black", lw=1.2, zorder=4)
        for y, text in (references or {}).get(title, []):
            ax.axhline(y, color="grey", ls="--", lw=0.9)
            ax.annotate(text, (1.0, y), xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=7,
                        color="dimgrey")
        ax.set_xticks(range(len(groups)), list(groups), rotation=20, ha="right")
        ax.set_xlim(-0.6, len(groups) - 0.4)
        ax.set_title(title)
    if seeds is not None:
        handles = [plt.Line2D([], [], ls="", marker="o", color=f"C{k % 10}", label=f"seed {s}")
                   for k, s in enumerate(seeds)]
        axes[-1].figure.legend(handles=handles, loc="upper center", ncol=len(seeds), frameon=False,
                               bbox_to_anchor=(0.5, 1.08))
    axes[0].figure.tight_layout()
    return axes


def per_digit_spread(per_digit: dict, targets: dict, axes=None):
    """Per primary (rows) and metric (columns: forget %, retain drop in points): each digit's per-seed values as
    dots, the seed mean as a black bar, the target as a dashed line. per_digit {primary: {metric: (S, 10) array}}."""
    rows, cols = list(per_digit), list(next(iter(per_digit.values())))
    if axes is None:
        _, axes = plt.subplots(len(rows), len(cols), figsize=(6.2 * len(cols), 2.6 * len(rows)), squeeze=False,
                               sharex=True)
    for r, primary in enumerate(rows):
        for c, metric in enumerate(cols):
            ax = axes[r][c]
            values = np.asarray(per_digit[primary][metric], dtype=float)  # (S, 10)
            for s in range(values.shape[0]):
                x = np.arange(values.shape[1]) + (s - (values.shape[0] - 1) / 2) * 0.08
                ax.scatter(x, values[s], s=14, color=f"C{s % 10}", zorder=3, edgecolor="white", linewidth=0.4)
            ax.hlines(values.mean(0), np.arange(values.shape[1]) - 0.3, np.arange(values.shape[1]) + 0.3,
                      color="black", lw=1.8, zorder=4)
            if metric in targets:
                ax.axhline(targets[metric], color="grey", ls="--", lw=0.9)
            ax.set(title=f"{primary} primary: {metric}", xticks=range(values.shape[1]))
            if r == len(rows) - 1:
                ax.set_xlabel("inhibited digit")
    axes[0][0].figure.tight_layout()
    return axes


# The spread behind the claims table's headline numbers: {panel: {label: (stats key, draw its interval)}}, and the
# rules' thresholds and margins per panel (``replication.CLAIM_TESTS``).
CLAIM_PANELS = {
    "planted circuits: AUROC": {"mono": ("planted_mono_auroc", True), "poly": ("planted_poly_auroc", True),
                                "mono, ablation": ("planted_mono_auroc_ablation", False),
                                "poly, ablation": ("planted_poly_auroc_ablation", False)},
    "fc1: ρ with ablation": {"symbiote": ("rho_fc1_symbiote", True), "direct": ("rho_fc1_direct", True)},
    "steering − weights: forget": {"forget (%)": ("weights_forget_gain", True)},
    "steering − weights: drop": {"retain drop (points)": ("weights_drop_gain", True)},
    "compression: ρ half − ρ largest": {"fc1": ("compression_gain_fc1", True),
                                        "conv2": ("compression_gain_conv2", True)},
}
def claim_references() -> dict[str, list[tuple[float, str]]]:
    """Per panel of ``CLAIM_PANELS``, the threshold and margin of every test that reads one of its numbers."""
    out = {}
    for title, groups in CLAIM_PANELS.items():
        keys = {key for key, _ in groups.values()}
        lines = {}
        for t in ALL_TESTS:
            if t.number in keys:
                lines[t.threshold] = f"{t.threshold:g}"
                if t.margin:
                    lines[t.fail_boundary] = f"margin {t.margin:g}"
        out[title] = sorted(lines.items())
    return out


def claims_spread(stats: dict, seeds: list | None = None, axes=None):
    """``seed_spread`` of ``CLAIM_PANELS`` from ``replication.summarise_chains``' ``stats`` (per-seed ``values``,
    interval ``low``/``high``), with the thresholds and margins of ``claim_references``."""
    panels = {title: {label: stats[key]["values"] for label, (key, _) in groups.items()}
              for title, groups in CLAIM_PANELS.items()}
    intervals = {title: {label: (stats[key]["low"], stats[key]["high"])
                         for label, (key, with_interval) in groups.items() if with_interval}
                 for title, groups in CLAIM_PANELS.items()}
    return seed_spread(panels, intervals, claim_references(), axes=axes, seeds=seeds)
