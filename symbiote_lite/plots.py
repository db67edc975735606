"""Every figure of the book: one style, drawing only (all numbers are computed elsewhere)."""

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
plt.rcParams.update({"figure.dpi": 100, "savefig.bbox": "tight", "axes.titlesize": "medium"})


def learning_curve(history: dict, ax=None):
    """Training loss against epochs (left axis) and test accuracy at the evaluation points (right axis)."""
    ax = ax or plt.subplots(figsize=(6.5, 3.5))[1]
    per_epoch = history["steps_per_epoch"]
    ax.plot(np.asarray(history["step"]) / per_epoch, history["loss"], label="training loss (25-step mean)")
    ax.set(xlabel="epoch", ylabel="cross-entropy", yscale="log")
    if history.get("test_acc"):
        ax2 = ax.twinx()
        epochs = np.asarray(history["eval_step"]) / per_epoch
        ax2.plot(epochs, 100 * np.asarray(history["test_acc"]), "s--", color="C1", label="test accuracy")
        ax2.axhline(99, color="C1", lw=0.8, ls=":")
        ax2.set_ylabel("test accuracy (%)")
        ax2.grid(False)
        ax.figure.legend(loc="upper center", ncol=2, bbox_to_anchor=(0.5, 1.05), frameon=False)
    return ax


def digit_grid(images, labels, predictions, ncols: int = 10):
    """Images with 'label -> prediction' titles; mistakes in red."""
    n = len(images)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.4 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, lab, pred in zip(axes.flat, images, labels, predictions, strict=True):
        ax.imshow(np.asarray(img).squeeze(), cmap="gray_r")
        ax.set_title(f"{lab}→{pred}", color="black" if lab == pred else "red", fontsize=9)
    return fig


def confusion_heatmap(cm, ax=None, title: str | None = None, log: bool = True):
    """A 10x10 confusion matrix (rows: true digit, columns: predicted digit), counts annotated."""
    ax = ax or plt.subplots(figsize=(5.5, 4.5))[1]
    cm = np.asarray(cm)
    shown = np.log10(cm + 1) if log else cm
    sns.heatmap(shown, annot=cm, fmt="d", cmap="viridis", cbar=False, ax=ax, annot_kws={"fontsize": 7}, square=True)
    ax.set(xlabel="predicted digit", ylabel="true digit", title=title or "")
    return ax


# --- Chapter 3: BIMT ---

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


def wiring_stages(snapshots: dict, positions, suptitle: str | None = None, threshold: float = 0.0):
    """One wiring diagram per stage, with the legend; ``snapshots``: {stage title: (strength, signed matrices)}."""
    fig, axes = plt.subplots(1, len(snapshots), figsize=(3.5 * len(snapshots), 4.2), sharey=True, dpi=WIRING_DPI)
    for ax, (name, (strength, signed)) in zip(np.atleast_1d(axes), snapshots.items(), strict=True):
        wiring_diagram(strength, signed, positions, ax=ax, title=name, threshold=threshold)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    weight_legend(fig, threshold, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.12))
    return fig


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
    fig, axes = plt.subplots(1, len(stages), figsize=(3.3 * len(stages), 5.2), sharey=True, dpi=WIRING_DPI)
    for ax, (name, (w, labels)) in zip(np.atleast_1d(axes), stages.items(), strict=True):
        plane_wiring(w, positions, labels, ax=ax, title=name, threshold=threshold)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    weight_legend(fig, threshold, max_width=1.5, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.1))
    return fig


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


def polysemanticity_histograms(networks: dict, fraction: float, n_classes: int = 10):
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


# --- Chapter 1: toy models ---
# Drawing only: every number (norms, interference, dimensionalities, phases) is computed by symbiote_lite.toy.

import matplotlib as mpl


def _sparsity_title(s: float) -> str:
    return f"S = {s:g}\n1/(1−S) = {1 / (1 - s):.3g}"


def feature_vectors_2d(W, sparsity, importance, axes=None):
    """One panel per instance: the columns W_i (2-D) drawn as arrows from the origin, coloured by importance.
    ``W`` (instances, 2, n), ``sparsity`` (instances,), ``importance`` (n,)."""
    W = np.asarray(W)
    n_inst, _, n = W.shape
    if axes is None:
        axes = plt.subplots(1, n_inst, figsize=(1.9 * n_inst, 2.3), squeeze=False)[1][0]
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, n))
    order = np.argsort(np.asarray(importance))  # least important first, so the important ones are on top
    for ax, w, s in zip(axes, W, sparsity, strict=True):
        ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, ls=":", color="0.6"))
        for i in order:
            ax.plot([0, w[0, i]], [0, w[1, i]], color=colours[i], lw=2)
            ax.scatter(w[0, i], w[1, i], color=colours[i], s=18, zorder=3)
        ax.set(xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), aspect="equal", xticks=[], yticks=[])
        ax.set_title(_sparsity_title(s), fontsize="small")
    return axes


def gram_and_bias(gram, bias, sparsity, fig=None):
    """Per instance, the n×n matrix WᵀW beside the bias b as a column; shared diverging colour scale."""
    gram, bias = np.asarray(gram), np.asarray(bias)
    n_inst, n, _ = gram.shape
    fig = fig or plt.figure(figsize=(1.9 * n_inst, 2.1))
    grid = fig.add_gridspec(1, 2 * n_inst, width_ratios=[n, 1.4] * n_inst, wspace=0.15)
    vmax = max(np.abs(gram).max(), np.abs(bias).max())
    kw = dict(cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    for k in range(n_inst):
        ax_g, ax_b = fig.add_subplot(grid[0, 2 * k]), fig.add_subplot(grid[0, 2 * k + 1])
        image = ax_g.imshow(gram[k], **kw)
        ax_b.imshow(bias[k][:, None], **kw)
        ax_g.set(xticks=[], yticks=[], title=f"S = {sparsity[k]:g}")
        ax_b.set(xticks=[], yticks=[])
        if k == 0:
            ax_g.set_ylabel("WᵀW")
            ax_b.set_title("b", fontsize="small")
    fig.colorbar(image, ax=fig.axes, fraction=0.02, pad=0.01)
    return fig


def norm_interference_bars(norms, interference, sparsity, vmax: float = 2.0):
    """Per instance, one horizontal bar per feature (feature 0, the most important, on top): length ‖W_i‖,
    colour Σ_{j≠i} (Ŵ_i·W_j)² (dark = a dimension of its own, bright = shares its direction)."""
    norms, interference = np.asarray(norms), np.asarray(interference)
    n_inst, n = norms.shape
    fig, axes = plt.subplots(1, n_inst, figsize=(1.6 * n_inst, 0.16 * n + 1.2), sharey=True, squeeze=False)
    cmap = plt.cm.plasma
    for ax, length, colour, s in zip(axes[0], norms, interference, sparsity, strict=True):
        ax.barh(np.arange(n), length, color=cmap(np.clip(colour / vmax, 0, 1)), height=0.8)
        ax.set(xlim=(0, 1.3), title=_sparsity_title(s), xlabel=r"$\|W_i\|$")
        ax.title.set_fontsize("small")
        ax.grid(axis="y", visible=False)
    axes[0, 0].set_yticks(np.arange(0, n, 2 if n > 10 else 1))
    axes[0, 0].invert_yaxis()
    axes[0, 0].set_ylabel("feature (importance decreasing ↓)")
    mappable = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, vmax))
    fig.colorbar(mappable, ax=axes[0], fraction=0.02, pad=0.01, label=r"$\sum_{j\neq i} (\hat W_i\cdot W_j)^2$")
    return fig


def dims_per_feature_curve(inv_density, dims, references=(1.0, 0.5), ax=None):
    """m/‖W‖_F² against 1/(1−S) (log axis), with dotted reference levels."""
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    for level in references:
        ax.axhline(level, ls=":", color="0.5")
        ax.text(np.min(inv_density), level, f" {level:g}", va="bottom", ha="left", color="0.4", fontsize="small")
    ax.plot(inv_density, dims, "o-", color="k", ms=4)
    ax.set(xscale="log", xlabel="1/(1−S)", ylabel=r"dimensions per feature $m/\|W\|_F^2$", ylim=(0, 1.1))
    return ax


def feature_dimensionality_scatter(inv_density, dimensionality, dims, lines, labels=None):
    """Left: every feature's D_i at its instance's 1/(1−S) (with the instance's m/‖W‖_F² as a line) and
    reference lines. Right: histogram of all D_i above 0.3, same lines."""
    inv_density, D = np.asarray(inv_density), np.asarray(dimensionality)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), width_ratios=[2.2, 1], sharey=True)
    labels = labels or [f"{v:.3g}" for v in lines]
    for level, label in zip(lines, labels, strict=True):
        for ax in (left, right):
            ax.axhline(level, ls=":", lw=1, color="0.5")
        near_below = any(0 < level - other < 0.04 for other in lines)  # keep close labels apart
        near_above = any(0 < other - level < 0.04 for other in lines)
        va = "bottom" if near_below else "top" if near_above else "center"
        right.text(1.02, level, label, va=va, fontsize="small", color="0.3", transform=right.get_yaxis_transform())
    x = np.repeat(inv_density[:, None], D.shape[1], axis=1)
    left.scatter(x, D, s=7, alpha=0.35, color="C0", edgecolors="none", label=r"$D_i$ of one feature")
    left.plot(inv_density, dims, "-", color="k", lw=1, label=r"$m/\|W\|_F^2$")
    left.set(xscale="log", xlabel="1/(1−S)", ylabel=r"feature dimensionality $D_i$", ylim=(0, 1.08))
    left.legend(loc="upper right", fontsize="small")
    kept = D[D > 0.3]
    right.hist(kept, bins=np.arange(0.3, 1.06, 0.01), orientation="horizontal", color="C0", log=True)
    right.set(xlabel="features per 0.01 bin")
    fig.tight_layout()
    return fig


def _log_edges(v):
    """Cell edges, halfway in log space, around the log-spaced grid points ``v``."""
    lv = np.log(np.asarray(v, dtype=float))
    mid = (lv[1:] + lv[:-1]) / 2
    return np.exp(np.concatenate([[2 * lv[0] - mid[0]], mid, [2 * lv[-1] - mid[-1]]]))


def phase_maps(maps: dict, importance, density, names):
    """Side-by-side categorical maps of the n=2, m=1 phases. ``maps``: {title: (len(density), len(importance))
    int array}; axes: relative importance of feature 2 (x, log) and density 1−S (y, log)."""
    colours = ["#4477AA", "#EE6677", "#CCBB44", "#BBBBBB"][: len(names)]
    cmap = mpl.colors.ListedColormap(colours)
    fig, axes = plt.subplots(1, len(maps), figsize=(4.6 * len(maps), 4.2), squeeze=False)
    r, p = np.asarray(importance), np.asarray(density)
    for ax, (title, phase) in zip(axes[0], maps.items(), strict=True):
        ax.pcolormesh(_log_edges(r), _log_edges(p), np.asarray(phase), cmap=cmap, vmin=-0.5, vmax=len(names) - 0.5)
        ax.set(xscale="log", yscale="log", xlabel="relative importance of feature 2", ylabel="density 1 − S",
               title=title)
        ax.grid(False)
    handles = [mpl.patches.Patch(color=c, label=n) for c, n in zip(colours, names, strict=True)]
    fig.legend(handles=handles, loc="lower center", ncol=len(names), bbox_to_anchor=(0.5, -0.06), frameon=False)
    fig.tight_layout()
    return fig


def finite_data_vectors(features: list, points: list, sizes):
    """Two rows, one column per training-set size T: top, every feature's 2-D direction W_i; bottom, every
    training point's hidden vector h_t = W x_t; lines from the origin, each panel on its own scale (its
    largest length is printed). ``features``: per size (n, 2); ``points``: per size (T, 2)."""
    fig, axes = plt.subplots(2, len(sizes), figsize=(1.9 * len(sizes), 4.1), squeeze=False)
    for k, size in enumerate(sizes):
        for row, (vectors, colour) in enumerate(((features[k], "C0"), (points[k], "C3"))):
            v, ax = np.asarray(vectors), axes[row, k]
            scale = max(float(np.linalg.norm(v, axis=1).max()), 1e-9)
            ax.plot(np.stack([np.zeros(len(v)), v[:, 0]]), np.stack([np.zeros(len(v)), v[:, 1]]),
                    color=colour, lw=0.8, alpha=0.7)
            ax.set(xlim=(-1.15 * scale, 1.15 * scale), ylim=(-1.15 * scale, 1.15 * scale), aspect="equal",
                   xticks=[], yticks=[])
            ax.text(0.03, 0.03, f"max {scale:.2g}", transform=ax.transAxes, fontsize="x-small", color="0.4")
        axes[0, k].set_title(f"T = {size}", fontsize="small")
    axes[0, 0].set_ylabel("features $W_i$")
    axes[1, 0].set_ylabel("data points $W x_t$")
    fig.tight_layout()
    return fig


def finite_data_losses(sizes, train, test, trivial: float, ax=None):
    """Per-sample train and test loss against the training-set size T (log-log), with the loss of the best
    constant output as a dotted line."""
    ax = ax or plt.subplots(figsize=(5.2, 3.3))[1]
    ax.plot(sizes, train, "o-", label="training set")
    ax.plot(sizes, test, "s-", label="fresh test samples")
    ax.axhline(trivial, ls=":", color="k", lw=1, label="best constant output")
    ax.set(xscale="log", yscale="log", xlabel="training-set size T", ylabel="loss per sample")
    ax.legend(fontsize="small")
    return ax


# --- Chapters 4-5: symbiote and results ---


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
    left.set(xlabel="inhibited digit", ylabel="forget accuracy (%)", xticks=range(10))
    right.set(xlabel="inhibited digit", ylabel="retain drop (points)", xticks=range(10))
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


# --- Chapter 6: circuits ---


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
    ax.set(xlabel="digit", ylabel=ylabel, xticks=range(10))
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
