"""Figures of the circuits chapter (chapter 6). Drawing only."""

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from symbiote_lite.metrics import DROP_TARGET, FORGET_TARGET, N_DIGITS
from symbiote_lite.plots_results import forget_retain_bars
from symbiote_lite.stages import VARIANT_NAMES, central_95
from symbiote_lite.style import use_book_style

use_book_style()


def ablation_matrices(matrices: dict, suptitle: str | None = None):
    """Per-class accuracy (%) after ablating each planted circuit: rows = ablated circuit, columns = true class,
    one panel per variant. ``matrices``: {label: (10, 10) array of fractions}."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(5.2 * len(matrices), 4.6), squeeze=False)
    for ax, (label, m) in zip(axes[0], matrices.items(), strict=True):
        m = 100 * np.asarray(m)
        sns.heatmap(m, annot=True, fmt=".0f", cmap="rocket", vmin=0, vmax=100, cbar=False, ax=ax, square=True,
                    annot_kws={"fontsize": 7})
        ax.set(xlabel="true class", ylabel="ablated circuit", title=label)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def planted_edit_maps(norms: dict, members: dict, units: int | None = None):
    """Per-unit size of the symbiote's fc1 edit for each single-digit intervention (rows), each row scaled to its
    maximum, with the planted circuit of the inhibited class marked by dots. ``norms``/``members``: {label: (10, H)}."""
    fig, axes = plt.subplots(len(norms), 1, figsize=(12, 2.6 * len(norms)), squeeze=False)
    for ax, (label, n) in zip(axes[:, 0], norms.items(), strict=True):
        n = np.asarray(n)[:, :units]
        member = np.asarray(members[label])[:, :units]
        sns.heatmap(n / n.max(1, keepdims=True), cmap="mako_r", vmin=0, vmax=1, ax=ax, cbar=False)
        rows, cols = np.nonzero(member)
        ax.scatter(cols + 0.5, rows + 0.5, s=9, color="red", label="planted circuit of the inhibited class")
        ax.set(xlabel="fc1 unit", ylabel="inhibited class", title=label)
        ax.set_xticks(np.arange(0, n.shape[1], 8) + 0.5, np.arange(0, n.shape[1], 8))
        ax.tick_params(axis="y", rotation=0)
    axes[0, 0].legend(loc="upper right", fontsize="small", bbox_to_anchor=(1.0, 1.35))
    fig.tight_layout()
    return fig


def per_digit_scores(scores: dict, null: tuple | None = None, ylabel: str = "", ax=None, null_label: str = "random",
                     legend: bool = True):
    """Grouped bars of a score per digit for several methods; ``null`` = (low, high) shaded as the range expected by
    chance. ``scores``: {method: (10,) values}; ``legend`` below the axes (off for all but one panel of a row)."""
    ax = ax or plt.subplots(figsize=(9, 3.2))[1]
    width = 0.8 / len(scores)
    if null is not None:
        ax.axhspan(null[0], null[1], color="grey", alpha=0.25, label=null_label, zorder=0)
    for i, (label, s) in enumerate(scores.items()):
        s = np.asarray(s)
        ax.bar(np.arange(len(s)) + (i - (len(scores) - 1) / 2) * width, s, width, label=label, zorder=2)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xlabel="digit", ylabel=ylabel, xticks=range(N_DIGITS))
    if legend:
        ax.legend(fontsize="small", ncol=len(scores) + 1, loc="upper center", bbox_to_anchor=(0.5, -0.22),
                  frameon=False)
    return ax


def cross_correlation(matrices: dict, vmax: float | None = None):
    """Rank correlation between the edit for digit d (rows) and the ablation importance for digit d' (columns),
    one panel per method. A diagonal that stands out means the edit targets that digit's own neurons."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(4.6 * len(matrices), 4.2), squeeze=False)
    vmax = vmax or max(float(np.abs(np.asarray(m)).max()) for m in matrices.values())
    for ax, (label, m) in zip(axes[0], matrices.items(), strict=True):
        sns.heatmap(np.asarray(m), cmap="vlag", vmin=-vmax, vmax=vmax, center=0, ax=ax, cbar=False, square=True,
                    annot=True, fmt=".1f", annot_kws={"fontsize": 6})
        ax.set(xlabel="ablation importance for digit", ylabel="edit for digit", title=label)
    fig.tight_layout()
    return fig


def generalisation_strips(groups: dict):
    """Forget accuracy (left) and retain accuracy (right, %) of each intervention, grouped (single digits, seen
    pairs, held-out pairs). ``groups``: {name: {"forget": values, "retain": values}} (fractions)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    for ax, key in zip(axes, ("forget", "retain"), strict=True):
        for i, g in enumerate(groups.values()):
            v = 100 * np.asarray(g[key])
            jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(v))
            ax.scatter(i + jitter, v, s=14, color=f"C{i}", alpha=0.8)
            ax.hlines(np.mean(v), i - 0.3, i + 0.3, color="k", lw=1.5)
        ax.set_xticks(range(len(groups)), list(groups))
        ax.set_ylabel(f"{key} accuracy (%)")
    fig.tight_layout()
    return fig


def size_sweep(fractions, panels: dict, half: float = 0.5, references: dict | None = None):
    """Metrics of symbiotes of growing size against their parameter count as a fraction of the primary's (log x),
    one panel per metric; the half-size budget as a dashed line. ``panels``: {ylabel: {series: values}};
    ``references``: {ylabel: {label: value}} drawn as dotted horizontal lines."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.3), squeeze=False)
    for ax, (ylabel, series) in zip(axes[0], panels.items(), strict=True):
        for label, v in series.items():
            ax.plot(fractions, v, "o-", label=label)
        for i, (label, value) in enumerate((references or {}).get(ylabel, {}).items()):
            ax.axhline(value, ls=":", color=f"C{i}", lw=1.2, label=label)
        ax.axvline(half, ls="--", color="k", lw=1)
        ax.set(xscale="log", xlabel="symbiote parameters / primary's", ylabel=ylabel)
        if len(series) > 1:
            ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def planted_aurocs(planted):
    """Per planted variant, the AUROC of the symbiote's edit sizes for each class's circuit, over the band of 95 %
    of random rankings. ``planted``: a ``stages.PlantedResult``."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), sharey=True)
    for ax, (kind, auc) in zip(axes, planted.auroc.items(), strict=True):
        per_digit_scores({"symbiote": auc}, null=central_95(planted.null_auroc[kind]), ylabel="AUROC", ax=ax,
                               null_label="random ranking (95 %)", legend=ax is axes[0])
        ax.set(title=VARIANT_NAMES[kind], ylim=(0, 1.05))
    return fig


def agreement_panels(attribution):
    """Per layer, each method's Spearman ρ between edit size and ablation importance per digit, over the band of
    95 % of random rankings. ``attribution``: a ``stages.AttributionResult``."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.3), sharey=True)
    for ax, layer in zip(axes, attribution.importance, strict=True):
        rho = {m: a[layer]["rho"] for m, a in attribution.agree.items()}
        per_digit_scores(rho, null=central_95(attribution.null[layer]), ylabel="Spearman ρ", ax=ax,
                               null_label="random ranking (95 %)", legend=ax is axes[0])
        ax.set_title(f"{layer}: edit size vs ablation importance")
    return fig


def sweep_panels(sweep, chance: dict):
    """The size sweep's three panels (forget, retain drop, attribution agreement) against the symbiote's size.
    ``sweep``: a ``stages.SweepResult``; ``chance``: {layer: 97.5 % chance level of the mean ρ}."""
    df = sweep.table()
    return size_sweep(
        df["parameters / primary"].to_numpy(),
        {"forget accuracy (%)": {"single digits": df["forget single (%)"],
                                 "held-out pairs": df["forget held-out pairs (%)"]},
         "retain drop (points)": {"single digits": df["drop single (points)"],
                                  "held-out pairs": df["drop held-out pairs (points)"]},
         "Spearman ρ with ablation": {"fc1": df["ρ fc1"], "conv2": df["ρ conv2"]}},
        references={"Spearman ρ with ablation": {f"chance, {layer} (97.5 %)": c for layer, c in chance.items()}},
    )


def half_size_strips(sweep):
    """Forget and retain of every intervention of the half-size symbiote: single digits, seen and held-out pairs."""
    groups = sweep.groups[sweep.picks()["half"]]
    return generalisation_strips({k: {"forget": v["forget"], "retain": v["retain"]} for k, v in groups.items()})


def planted_maps(planted):
    """The symbiote's fc1 edit size per unit and intervention on each planted primary, circuits marked."""
    return planted_edit_maps({VARIANT_NAMES[k]: v for k, v in planted.edit_norms.items()},
                                   {VARIANT_NAMES[k]: v.cpu() for k, v in planted.members.items()})


def steering_bars(steering):
    """Per digit, forget and retain drop of the weight and the steering symbiote, chapter 5's targets dashed.
    ``steering``: a ``stages.SteeringResult``."""
    scores = {name: {"digit": list(range(N_DIGITS)), **{k: s[k].tolist() for k in ("forget", "retain_drop")}}
              for name, s in steering.scores.items()}
    return forget_retain_bars(scores, forget_target=FORGET_TARGET, drop_target=DROP_TARGET)
