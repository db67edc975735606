"""Figures of the BIMT chapter (chapter 3): wiring diagrams, schedules, polysemanticity, modularity. Drawing only."""

import matplotlib.pyplot as plt
import numpy as np

from symbiote_lite.metrics import N_DIGITS
from symbiote_lite.style import use_book_style

use_book_style()


BIMT_ROW_LABELS = ("input", "conv1", "conv2", "fc1", "logits")


POSITIVE, NEGATIVE = (0.0, 0.35, 0.8), (0.8, 0.1, 0.1)  # colours of a connection by the sign of its weight


def _weight_lines(ax, segments, strength, signed, max_width: float = 2.0, threshold: float = 0.0):
    """Draw ``segments`` (E, 2, 2) as lines of width ∝ strength / the largest strength among them, coloured by the
    sign of ``signed`` (and fainter the weaker they are); connections of strength 0 (pruned) or below ``threshold``
    x the largest are not drawn. Returns the number of lines drawn."""
    from matplotlib.collections import LineCollection

    strength, signed = np.asarray(strength, dtype=float), np.asarray(signed, dtype=float)
    top = strength.max() if strength.size else 0.0
    if top <= 0:
        return 0
    drawn = (strength > 0) & (strength >= threshold * top)
    order = np.argsort(strength[drawn])  # strongest on top
    share = (strength[drawn] / top)[order]
    colours = np.column_stack([np.where((signed[drawn] >= 0)[:, None], POSITIVE, NEGATIVE)[order], 0.25 + 0.75 * share])
    widths = max_width * share
    ax.add_collection(LineCollection(np.asarray(segments)[drawn][order], colors=colours, linewidths=widths))
    return int(drawn.sum())


def weight_legend(ax_or_fig, threshold: float, max_width: float = 2.0, **kwargs):
    """Legend for ``_weight_lines``: colour = sign, width = |w| relative to the largest of its layer."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=POSITIVE, lw=max_width, label="positive weight"),
               Line2D([], [], color=NEGATIVE, lw=max_width, label="negative weight")]
    for share in (1.0, 0.5, max(threshold, 0.1) if threshold < 0.5 else None):
        if share is not None:
            handles.append(Line2D([], [], color=(0.4, 0.4, 0.4, 0.25 + 0.75 * share), lw=max_width * share,
                                  label=f"|w| = {share:g} × layer max"))
    if threshold > 0:
        handles.append(Line2D([], [], color="none", label=f"not drawn: pruned, or |w| < {threshold:g} × layer max"))
    else:
        handles.append(Line2D([], [], color="none", label="not drawn: pruned (|w| = 0)"))
    kwargs = {"fontsize": "small", "frameon": False} | kwargs
    return ax_or_fig.legend(handles=handles, **kwargs)


# Wiring diagrams are thousands of antialiased lines, which PNG compresses badly: drawn at a lower resolution they
# stay readable and keep the chapter's notebook small.
WIRING_DPI = 72


def wiring_diagram(strength, signed, positions, ax=None, title: str | None = None, row_labels=BIMT_ROW_LABELS,
                   threshold: float = 0.0, max_width: float = 2.0):
    """Neurons as dots at their (x, y) positions; each connection a line of width ∝ its strength (|w| summed over
    kernel / spatial block, relative to the strongest connection of its layer), blue if its net weight is
    positive, red if negative. Pruned connections (strength 0) and those below ``threshold`` x the layer's
    strongest are not drawn. ``strength``/``signed``: one (n_out, n_in) matrix per layer; ``positions``: one
    (n, 2) array per row."""
    ax = ax or plt.subplots(figsize=(4, 4))[1]
    pos = [np.asarray(p) for p in positions]
    for k, (a, s) in enumerate(zip(strength, signed, strict=True)):
        a, s = np.asarray(a), np.asarray(s)
        o, i = np.indices(a.shape).reshape(2, -1)
        segments = np.stack([pos[k][i], pos[k + 1][o]], axis=1)  # (pairs, 2 ends, xy)
        _weight_lines(ax, segments, a.flatten(), s.flatten(), max_width, threshold)
    for p in pos:
        ax.scatter(p[:, 0], p[:, 1], s=8, color="black", zorder=3)
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.05, 1.05), xticks=[], title=title or "")
    ax.set_yticks([p[0, 1] for p in pos], row_labels[: len(pos)])
    ax.grid(False)
    return ax


def _stage_row(stages: dict, draw, panel_size: tuple, threshold: float, suptitle: str | None, legend: dict):
    """One panel per stage, ``draw(ax, title, item)`` in each, then the weight legend below the row."""
    fig, axes = plt.subplots(1, len(stages), figsize=(panel_size[0] * len(stages), panel_size[1]), sharey=True,
                             dpi=WIRING_DPI)
    for ax, (name, item) in zip(np.atleast_1d(axes), stages.items(), strict=True):
        draw(ax, name, item)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    weight_legend(fig, threshold, loc="lower center", ncol=3, **legend)
    return fig


def wiring_stages(snapshots: dict, positions, suptitle: str | None = None, threshold: float = 0.0):
    """One wiring diagram per stage, with the legend; ``snapshots``: {stage title: (strength, signed matrices)}."""

    def draw(ax, name, item):
        wiring_diagram(*item, positions, ax=ax, title=name, threshold=threshold)

    return _stage_row(snapshots, draw, (3.5, 4.2), threshold, suptitle, {"bbox_to_anchor": (0.5, -0.12)})


def _oblique(xy, layer: int, gap: float = 1.0, tilt: float = 0.4, depth: float = 0.5):
    """Project (x, y) on the plane of ``layer`` to the page: planes stacked ``gap`` apart, seen from above."""
    xy = np.asarray(xy, dtype=float)
    return np.column_stack([xy[:, 0] + tilt * xy[:, 1], layer * gap + depth * xy[:, 1]])


def plane_wiring(weights, positions, out_labels=None, ax=None, title: str | None = None, threshold: float = 0.05,
                 max_width: float = 1.5, layer_names=("input", "hidden 1", "hidden 2", "output")):
    """BIMT's picture of an MLP whose layers lie in planes: each plane (unit square, seen obliquely) stacked above
    the previous one, a neuron a dot, a weight a line of width ∝ |w| / the largest |w| of its layer, blue if
    positive, red if negative; weights below ``threshold`` x the layer's largest |w| are not drawn.
    ``weights``: (n_out, n_in) per layer; ``positions``: (n, 2) per neuron layer; ``out_labels[s]``: the class at
    output slot s (written next to it)."""
    from matplotlib.patches import Polygon

    ax = ax or plt.subplots(figsize=(4, 6))[1]
    pos = [_oblique(p, k) for k, p in enumerate(positions)]
    for k in range(len(pos)):
        ax.add_patch(Polygon(_oblique([[0, 0], [1, 0], [1, 1], [0, 1]], k), closed=True, fc=(0.95, 0.95, 0.95),
                             ec=(0.75, 0.75, 0.75), lw=0.6, zorder=0))
    for k, w in enumerate(weights):
        w = np.asarray(w)
        o, i = np.indices(w.shape).reshape(2, -1)
        segments = np.stack([pos[k][i], pos[k + 1][o]], axis=1)
        _weight_lines(ax, segments, np.abs(w).flatten(), w.flatten(), max_width, threshold)
    for k, p in enumerate(pos):
        ax.scatter(p[:, 0], p[:, 1], s=1.5 if k == 0 else 5, color="black" if k else "grey", lw=0, zorder=3)
    if out_labels is not None:
        for (x, y), label in zip(pos[-1], np.asarray(out_labels), strict=True):
            ax.text(x + 0.04, y + 0.02, str(int(label)), fontsize=7, zorder=4)
    ax.set_yticks([k + 0.25 for k in range(len(pos))], layer_names[: len(pos)])
    ax.set(xlim=(-0.05, 1.45), ylim=(-0.1, len(pos) - 0.4), xticks=[], title=title or "")
    ax.grid(False)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    return ax


def plane_wiring_stages(stages: dict, positions, threshold: float = 0.05, suptitle: str | None = None):
    """One ``plane_wiring`` per stage, with the legend. ``stages``: {title: (weights, out_labels)}."""

    def draw(ax, name, item):
        plane_wiring(item[0], positions, item[1], ax=ax, title=name, threshold=threshold)

    return _stage_row(stages, draw, (3.3, 5.2), threshold, suptitle,
                      {"max_width": 1.5, "bbox_to_anchor": (0.5, -0.1)})


def bimt_schedule(history: dict):
    """Training of the pruned primary: hidden-layer sparsity after each pruning update and λ per step (left),
    connection cost and training cross-entropy at the checkpoints (right), against the training step."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.step(history["prune_steps"] + [history["steps"]], 100 * np.asarray(history["prune_sparsity"] +
              history["prune_sparsity"][-1:]), where="post", label="hidden-layer sparsity")
    left.set(xlabel="training step", ylabel="sparsity (%)")
    lam = left.twinx()
    lam.step(np.arange(len(history["lam_by_step"])), history["lam_by_step"], where="post", color="C1", label="λ")
    lam.set(yscale="log", ylabel="λ (connection-cost weight)")
    lam.grid(False)
    left.legend(handles=left.lines + lam.lines, loc="lower right")
    steps = np.asarray(history["step"])
    right.plot(steps, history["cost"], "o-", color="C2", label="connection cost")
    right.set(xlabel="training step", ylabel="connection cost")
    ce = right.twinx()
    ce.plot(steps[1:], history["loss"][1:], "s--", color="C3", label="training cross-entropy")
    ce.set_ylabel("cross-entropy")
    ce.grid(False)
    right.legend(handles=right.lines + ce.lines, loc="upper right")
    fig.tight_layout()
    return fig


def accuracy_vs_sparsity(trained: tuple, one_shot: tuple, target: tuple | None = None, frozen_step: int | None = None):
    """Left: test accuracy against hidden-layer sparsity, along BIMT + progressive pruning (``trained`` = (sparsity,
    accuracy, step) per checkpoint; the last point, the final model, starred) and for one-shot magnitude pruning of
    the dense primary without retraining (``one_shot`` = (sparsity, accuracy)); ``target`` = (sparsity, accuracy)
    draws the required corner. Right: the same checkpoints' accuracy against the training step, with the step at
    which the masks were frozen."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1.3, 1]})
    sparsity, acc, steps = (np.asarray(v, dtype=float) for v in trained)
    left.plot(100 * sparsity, 100 * acc, "o-", label="during BIMT + progressive pruning")
    left.plot(100 * np.asarray(one_shot[0]), 100 * np.asarray(one_shot[1]), "s--",
              label="dense primary, one-shot pruned")
    for ax, x in ((left, 100 * sparsity), (right, steps)):
        ax.plot(x[-1], 100 * acc[-1], "*", color="C0", markersize=14, label="the pruned primary", zorder=3)
    if target is not None:
        left.axvline(100 * target[0], color="grey", ls=":", lw=1)
        left.axhline(100 * target[1], color="grey", ls=":", lw=1, label="target corner")
        right.axhline(100 * target[1], color="grey", ls=":", lw=1)
    left.set(xlabel="hidden-layer sparsity (%)", ylabel="test accuracy (%)")
    left.legend(loc="lower left", fontsize="small")
    right.plot(steps, 100 * acc, "o-")
    if frozen_step is not None:
        right.axvline(frozen_step, color="C3", ls="--", lw=1, label="masks frozen")
        right.legend(loc="lower right", fontsize="small")
    right.set(xlabel="training step", ylabel="test accuracy (%)", ylim=left.get_ylim())
    fig.tight_layout()
    return fig


def polysemanticity_histograms(networks: dict, fraction: float, n_classes: int = N_DIGITS):
    """Per hidden layer (rows): how many classes each live neuron responds to (left) and its class-selectivity
    index (right), one bar per network side by side. ``networks``: {name: {layer: {"n_classes": ints,
    "selectivity": floats}}} for live neurons only."""
    names = list(networks)
    layers = list(networks[names[0]])
    fig, axes = plt.subplots(len(layers), 2, figsize=(10, 3 * len(layers)), squeeze=False)
    counts = np.arange(1, n_classes + 1)
    edges = np.linspace(0, 1, 11)
    width = 0.8 / len(names)
    for (left, right), layer in zip(axes, layers, strict=True):
        for k, name in enumerate(names):
            shift = (k - (len(names) - 1) / 2) * width
            n = np.asarray(networks[name][layer]["n_classes"])
            share = np.array([(n == c).mean() for c in counts])
            left.bar(counts + shift, 100 * share, width=width, color=f"C{k}", label=f"{name} ({len(n)} live)")
            sel = np.asarray(networks[name][layer]["selectivity"])
            hist = np.histogram(sel, bins=edges)[0] / len(sel)
            right.bar(edges[:-1] + 0.05 + shift / 10, 100 * hist, width=width / 10, color=f"C{k}", label=name)
        left.set(xlabel=f"classes with mean activation ≥ {fraction:g} × the neuron's max", ylabel="neurons (%)",
                 xticks=counts, title=f"{layer}: classes per neuron")
        right.set(xlabel="class-selectivity index", ylabel="neurons (%)", xlim=(0, 1), title=f"{layer}: selectivity")
        left.legend(fontsize="small")
        right.legend(fontsize="small")
    fig.tight_layout()
    return fig


def mlp_training(history: dict, ax=None):
    """Training of the BIMT MLP: test accuracy (left axis) and connection cost (right axis, log) at the
    checkpoints, with a dashed line where λ changes (``history``: ``step``, ``eval_acc``, ``cost``, ``lam``)."""
    ax = ax or plt.subplots(figsize=(7, 3.5))[1]
    steps = np.asarray(history["step"])
    ax.plot(steps[1:], 100 * np.asarray(history["eval_acc"][1:]), "o-", label="test accuracy (after step 0)")
    ax.set(xlabel="training step", ylabel="test accuracy (%)", ylim=(90, 100))
    cost = ax.twinx()
    cost.plot(steps, history["cost"], "s--", color="C2", label="connection cost")
    cost.set(yscale="log", ylabel="connection cost")
    cost.grid(False)
    lam = np.asarray(history["lam"])
    for k in np.nonzero(np.diff(lam))[0]:
        ax.axvline(steps[k + 1], color="grey", ls=":", lw=1)
        ax.text(steps[k + 1], 90.5, f" λ = {lam[k + 1]:g}", fontsize="small", color="grey")
    ax.text(steps[0], 90.5, f" λ = {lam[0]:g}", fontsize="small", color="grey")
    ax.legend(handles=ax.lines[:1] + cost.lines, loc="center right", fontsize="small")
    return ax


def modularity_intervals(results: dict, ax=None, level: float = 0.95):
    """Newman modularity Q of each network (black diamond) beside each of its null models: the mean (dot) and the
    central ``level`` interval (bar) of Q over the null graphs. ``results``: {network: {null name: dict with "q",
    "null_mean", "null_low", "null_high"}} (``bimt.modularity_with_null``)."""
    ax = ax or plt.subplots(figsize=(8, 3.8))[1]
    names = list(results)
    nulls = list(results[names[0]])
    x = np.arange(len(names))
    step = 0.25
    for k, null in enumerate(nulls):
        mean = np.array([results[n][null]["null_mean"] for n in names])
        low = np.array([results[n][null]["null_low"] for n in names])
        high = np.array([results[n][null]["null_high"] for n in names])
        ax.errorbar(x + (k + 1) * step, mean, yerr=[mean - low, high - mean], fmt="o", color=f"C{k}", capsize=4,
                    ms=4, label=f"null: {null} ({100 * level:g} % interval)")
    ax.plot(x, [results[n][nulls[0]]["q"] for n in names], "D", color="black", ms=6, label="the network")
    ax.set(xticks=x + step * len(nulls) / 2, ylabel="Newman modularity Q (Louvain)")
    ax.set_xticklabels(names, rotation=20, ha="right")
    ax.legend(fontsize="small", loc="best")
    return ax
