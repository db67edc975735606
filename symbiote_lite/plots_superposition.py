"""Figures of the superposition chapter (chapter 1): toy models. Drawing only: every number (norms, interference,
dimensionalities, phases) is computed by ``symbiote_lite.toy``."""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from symbiote_lite.style import use_book_style

use_book_style()


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
