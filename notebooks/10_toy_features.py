# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -papermill,-execution
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["remove-cell"]
# Colab: install this package (Colab's own torch is kept).
import sys

if "google.colab" in sys.modules:
    import subprocess

    url = "git+https://github.com/symbiote-lite/symbiote-lite"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"symbiote-lite @ {url}"], check=True)

# %% [markdown]
# # Features with an exact answer: the symbiote on the toy models
#
# Every test of "the symbiote learns the primary's features" so far ran on an MNIST CNN, where nobody knows what the
# features are, so chapters 6 and 9 had to judge the edits by proxies (ablation importance, matched units). The toy
# models of {doc}`01_superposition` are the opposite case: feature $i$ *is* column $W_i$ of
# $x' = \mathrm{ReLU}(W^\top W x + b)$, and chapter 1 maps where the columns get a dimension each, where they pair up
# antipodally and where they crowd into polygons {cite}`elhage2022superposition`. So here the write-up's first claim
# can be checked against ground truth: given the command "switch feature $i$ off", does a symbiote's weight diff go
# to feature $i$?
#
# **The exact reference.** Feature $i$ enters the model only through its column: as an input ($h = Wx$) and as an
# output (row $i$ of $W^\top$). Removing the column, $\Delta W^* = -W_i e_i^\top$, leaves
# $x'_i = \mathrm{ReLU}(b_i)$, so with $\Delta b^*_i = -\max(b_i, 0)$ the feature's output is exactly 0 on every
# input. For every other feature $j$ the pre-activation changes by exactly $-(W_j^\top W_i)\,x_i$: the interference
# that $i$ wrote onto $j$ disappears and nothing else moves. Without superposition ($W_j^\top W_i = 0$) the other
# outputs are unchanged; in superposition the interference terms go too, and no edit that removes $i$ can keep
# them, because they *are* $W_i$. The unit tests check all three statements (`tests/test_toy_edit.py`).
#
# **Four editors**, each given every represented feature ($\lVert W_i \rVert > 0.5$) of every model as a command:
#
# * **the symbiote**: one per toy model, trained on all its commands at once with the book's loss (below). It must
#   fit in half the toy model's size, which at $n = 5, m = 2$ is 7 numbers. A generator that stored a separate edit
#   per feature would need $n \cdot m \cdot n$; so the symbiote reads the command through the primary itself, as the
#   book's symbiote reuses the primary's weights ($g \odot W$, chapter 4). It takes the hidden code $W_i$ of the
#   command's input $e_i$, scores every feature by a learnt bilinear form, and scales down the output neurons that
#   score above a threshold: $\Delta W = W\,\mathrm{diag}(g)$, $\Delta b = g \odot b$ with
#   $g_j = -\mathrm{ReLU}(W_j^\top Q W_i - \tau)$; that is $m^2 + 1$ parameters (`toy_edit.ToySymbiote`). The
#   exact reference ($g = -e_i$) lies inside this family, so the test is whether training *finds* it, for every
#   feature at once, with one shared $Q$ and $\tau$;
# * **direct optimisation**: a free $\Delta W$ and $\Delta b$ per command, optimised under the same loss from zero;
#   no compression and no structure, the edit the loss itself asks for;
# * **the exact reference** above;
# * **the bias edit**, the last-layer baseline: $\Delta b_i = -\max\big(b_i + \sum_j \mathrm{ReLU}((W^\top W)_{ij}),
#   0\big)$, the largest pre-activation feature $i$ can reach on inputs in $[0, 1]^n$. It switches the feature off on
#   every input and moves no other output, without touching $W$: suppression, not removal.
#
# **The loss**, the book's forget/retain loss on the toy task, each term relative to the unedited model:
# the other features' importance-weighted reconstruction loss, plus the forget weight times $E[x_i'^2]$, plus a small
# penalty on the relative squared size of the diff. The retain term is a *loss*, so an edit is also rewarded for
# making the other features better than before.
#
# **Measures**, per command on 20 000 fresh inputs from the model's own distribution: the **residual**
# $E[x_i'^2]$ under the edit over its unedited value (0 = off); the **collateral**, the other features' loss under the
# edit relative to before (negative = they got better), and its **excess** over the exact reference's collateral;
# the **share** of the diff's squared norm $\lVert \Delta W \rVert_F^2$ on column $i$; the **cosine** of $\Delta W$
# with $-W_i e_i^\top$; what is **left** of the column, $\lVert W_i + \Delta W_i \rVert / \lVert W_i \rVert$; and the
# residual when only the diff's part on feature $i$ (column $i$ and $\Delta b_i$) is applied.
#
# **The verdict rule, fixed before the numbers.** Each number is a mean over seeds (each seed's mean over its
# features) with a 95 % percentile-bootstrap interval over seeds, which stays inside the measure's range. An editor
# **finds the feature** in a regime when its residual's upper end is at most 0.05, its excess collateral's upper end
# at most 0.05, and both the share's and the cosine's lower ends at least 0.9; it **misses the feature** when the
# share's or the cosine's upper end lies below 0.9; anything else is undecided. The claim "the symbiote finds the
# features" is **supported** if the symbiote finds the feature in every regime, **not supported** if it misses it in
# any (the regimes are named), and **inconclusive** otherwise.

# %% tags=["parameters"]
# toy models per setting and sparsity (seed 0 is chapter 1's own run)
N_SEEDS = 5
STEPS = 200  # Adam steps of the symbiote and of direct optimisation
FORGET_WEIGHT = 1.0  # weight of the forget term against the retain term

# %%
from symbiote_lite.params import check_range

N_SEEDS = check_range("N_SEEDS", N_SEEDS, 2, 100, integer=True)
STEPS = check_range("STEPS", STEPS, 1, 100_000, integer=True)
FORGET_WEIGHT = check_range("FORGET_WEIGHT", FORGET_WEIGHT, 1e-3, 1e3)

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd

from symbiote_lite import default_device, toy_edit
from symbiote_lite import plots_toy_edit as PT
from symbiote_lite.report import glue as glue_raw


def glue(name: str, value) -> None:
    """Glue a plain Python value (numpy scalars print as np.float64(...),
    which MyST cannot format)."""
    glue_raw(name, value.item() if hasattr(value, "item") else value)


device = default_device()
config = toy_edit.ToyEditExperiment(
    seeds=tuple(range(N_SEEDS)),
    edit=toy_edit.EditConfig(steps=STEPS, forget_weight=FORGET_WEIGHT))
start = time.perf_counter()
result = toy_edit.load_or_run(config, device, progress=True)
summary = toy_edit.summarise(result["rows"])
print(f"device: {device.type}; {N_SEEDS} seeds; "
      f"{len(result['rows']) // len(toy_edit.EDITORS)} commands; "
      f"experiment {result['seconds']:.1f} s when it was run, "
      f"{time.perf_counter() - start:.1f} s now")

for key, (n, m) in {"n5": (5, 2), "n20": (20, 5)}.items():
    model_size, sym_size = (m * n + n,
                            toy_edit.ToySymbiote.parameter_count(m))
    glue(f"toy_model_size_{key}", model_size)
    glue(f"toy_symbiote_size_{key}", sym_size)
    glue(f"toy_symbiote_share_{key}", 100 * sym_size / model_size)
glue("toy_n_seeds", N_SEEDS)
glue("toy_steps", STEPS)
glue("toy_commands",
     len(result["rows"]) // len(toy_edit.EDITORS) // N_SEEDS)
glue("toy_seconds", result["seconds"])

# %% [markdown]
# The symbiote has {glue:text}`toy_symbiote_size_n5` parameters per model at $n = 5, m = 2$
# ({glue:text}`toy_symbiote_share_n5:.0f` % of the toy model's {glue:text}`toy_model_size_n5`) and
# {glue:text}`toy_symbiote_size_n20` at $n = 20, m = 5$ ({glue:text}`toy_symbiote_share_n20:.0f` % of
# {glue:text}`toy_model_size_n20`). The models are chapter 1's two settings at four of its sparsities each (no
# superposition, pairs, and beyond), for {glue:text}`toy_n_seeds` seeds; seed 0 is chapter 1's own run. Every
# editor gets {glue:text}`toy_commands` commands per seed; the symbiote and direct optimisation train for
# {glue:text}`toy_steps` steps. The whole experiment took {glue:text}`toy_seconds:.0f` s on this run's machine
# (cached afterwards).
#
# ## What the edits look like
#
# First the picture, for $n = 5, m = 2$ at two sparsities of seed 0, switching off feature 0 (the most important):
# chapter 1's drawing of the columns, before and after each edit.

# %%
panels_config = toy_edit.ToyEditExperiment(
    seeds=(0,), sparsity_index=(2, 7), edit=config.edit)
models = toy_edit.load_models("n = 5, m = 2", 0, panels_config, device)
commands, diffs = toy_edit.editor_diffs(models["W"], models["b"],
                                        models["importance"],
                                        models["density"], panels_config)
fig, axes = plt.subplots(2, 4, figsize=(9.5, 5.2))
for row, model in enumerate((0, 1)):
    k = next(k for k, (m, i) in enumerate(commands.pairs())
             if m == model and i == 0)
    editors = ("exact reference", "symbiote", "direct optimisation")
    PT.columns_before_after(models["W"][model].cpu(),
                            {e: diffs[e][0][k].cpu() for e in editors}, 0,
                            models["sparsity"][model], axes=axes[row])
fig.tight_layout()
plt.show()

# %% [markdown]
# **Figure.** Columns $W_j$ of one $n = 5, m = 2$ model (top: $S = 0.7$, bottom: $S = 0.99$), coloured as in
# chapter 1 (dark: feature 0); feature 0 is drawn thick and its unedited column dotted. Left to right: the unedited
# model, the exact reference (column 0 removed), the symbiote's edit and direct optimisation's edit of $W$. The bias
# edit is not drawn: it leaves $W$ as it is.

# %%
table = summary.assign(**{
    m: summary[m].map(lambda v: f"{v:.3f}")
    + " [" + summary[f"{m}_low"].map(lambda v: f"{v:.3f}")
    + ", " + summary[f"{m}_high"].map(lambda v: f"{v:.3f}") + "]"
    for m in ("residual", "excess", "share", "cosine")})
table = table.assign(D=summary["dims_per_feature"].round(2),
                     left=summary["left"].round(2),
                     collateral=summary["collateral"].round(3))
pd.set_option("display.max_colwidth", 40)
table[["setting", "sparsity", "D", "editor", "residual", "collateral",
       "excess", "share", "cosine", "left", "verdict"]].set_index(
    ["setting", "sparsity", "D", "editor"])

# %% [markdown]
# **Table.** Per setting, sparsity and editor: $D$ = dimensions per feature ($m/\lVert W\rVert_F^2$, chapter 1;
# 1 = no superposition, 1/2 = pairs), the measures' seed means with 95 % bootstrap intervals over seeds, what is
# left of the column (mean), and the rule's verdict.

# %%
PT.measures_by_regime(summary, {
    "share": "share of ‖ΔW‖² on column i",
    "cosine": "cosine with −W_i e_iᵀ",
    "collateral": "collateral (others' loss, relative)",
    "residual": "residual E[x'_i²] (relative)"})
plt.show()

# %% [markdown]
# **Figure.** The measures against dimensions per feature (superposition grows to the right), each editor's seed
# mean with its 95 % bootstrap interval; circles $n = 5, m = 2$, squares $n = 20, m = 5$.

# %%
def editor_rows(editor):
    return summary[summary["editor"] == editor]


sym, direct, bias = (editor_rows(e) for e in
                     ("symbiote", "direct optimisation", "bias edit"))
claim = toy_edit.claim_verdict(summary)
direct_claim = toy_edit.claim_verdict(summary, "direct optimisation")
for key, rows in (("sym", sym), ("direct", direct)):
    glue(f"toy_{key}_share_min", rows["share"].min())
    glue(f"toy_{key}_share_max", rows["share"].max())
    glue(f"toy_{key}_share_low_min", rows["share_low"].min())
    glue(f"toy_{key}_cosine_min", rows["cosine"].min())
    glue(f"toy_{key}_cosine_max", rows["cosine"].max())
    glue(f"toy_{key}_cosine_low_min", rows["cosine_low"].min())
    glue(f"toy_{key}_residual_max", rows["residual"].max())
    glue(f"toy_{key}_residual_high_max", rows["residual_high"].max())
    glue(f"toy_{key}_collateral_min", rows["collateral"].min())
    glue(f"toy_{key}_collateral_max", rows["collateral"].max())
    glue(f"toy_{key}_excess_high_max", rows["excess_high"].max())
    glue(f"toy_{key}_left_min", rows["left"].min())
    glue(f"toy_{key}_left_max", rows["left"].max())
    glue(f"toy_{key}_column_residual_max", rows["column_residual"].max())
    glue(f"toy_{key}_found",
         int((rows["verdict"] == "finds the feature").sum()))
    glue(f"toy_{key}_missed",
         int((rows["verdict"] == "misses the feature").sum()))
glue("toy_regimes", len(sym))
glue("toy_verdict", claim["verdict"])
glue("toy_verdict_where", claim["where"])
glue("toy_direct_verdict", direct_claim["verdict"])
worst = sym.loc[sym["share"].idxmin()]
glue("toy_sym_worst", f"{worst['setting']} at S = {worst['sparsity']:g} "
     f"(D = {worst['dims_per_feature']:.2f})")
if claim["verdict"] == "supported":
    glue("toy_sym_reading",
         "one shared score, learnt from the forget/retain loss, picks out "
         "every feature's own neuron in every regime this chapter ran, "
         "polygons in superposition included, without scaling down the "
         "neighbours that share its dimensions (which would raise the "
         "excess collateral)")
    glue("toy_settles",
         "a half-size symbiote that reads its commands through the primary "
         "finds them: its diff lies on the right column in every regime "
         "this chapter ran")
else:
    glue("toy_sym_reading",
         "one shared score, learnt from the forget/retain loss, does not "
         "pick out every feature's own neuron: the verdict is "
         f"{claim['verdict']} ({claim['where']})")
    glue("toy_settles",
         "a half-size symbiote that reads its commands through the primary "
         f"does not find them in every regime ({claim['verdict']}: "
         f"{claim['where']})")
glue("toy_bias_residual_max", bias["residual"].max())
glue("toy_bias_collateral_absmax", bias["collateral"].abs().max())

# %%
# NBVAL_CHECK_OUTPUT
print("the symbiote finds the features (ground truth known): "
      f"{claim['verdict']}")
print("direct optimisation of a free diff finds them: "
      f"{direct_claim['verdict']}")

# %% [markdown]
# ## What the numbers say
#
# **The symbiote.** Verdict: **{glue:text}`toy_verdict`** ({glue:text}`toy_verdict_where`). It finds the feature in
# {glue:text}`toy_sym_found` of the {glue:text}`toy_regimes` regimes and misses it in {glue:text}`toy_sym_missed`.
# Its diff puts {glue:text}`toy_sym_share_min:.3f` to {glue:text}`toy_sym_share_max:.3f` of its squared norm on
# feature $i$'s column (lowest interval end {glue:text}`toy_sym_share_low_min:.3f`), at a cosine of
# {glue:text}`toy_sym_cosine_min:.3f` to {glue:text}`toy_sym_cosine_max:.3f` with the exact reference; the lowest
# share is at {glue:text}`toy_sym_worst`. It switches the feature off (mean residual at most
# {glue:text}`toy_sym_residual_max:.3f`) at a collateral of {glue:text}`toy_sym_collateral_min:+.3f` to
# {glue:text}`toy_sym_collateral_max:+.3f`, never more than {glue:text}`toy_sym_excess_high_max:.3f` above the exact
# reference's (upper interval end). It does not remove the whole column: {glue:text}`toy_sym_left_min:.2f` to
# {glue:text}`toy_sym_left_max:.2f` of its length is left: once the output is nearly off, the size penalty outweighs
# what is left of the forget term.
#
# That the symbiote finds the column says less than it seems: its family scales output neurons, and the reference
# is one of its members. What the experiment shows is that {glue:text}`toy_sym_reading`.
#
# **Direct optimisation**, which has no structure to lean on, answers the sharper question, "does the *loss* ask for
# the feature's column?". By the same rule it misses the feature in {glue:text}`toy_direct_missed` of the
# {glue:text}`toy_regimes` regimes and finds it in {glue:text}`toy_direct_found` (as a claim:
# **{glue:text}`toy_direct_verdict`**): only {glue:text}`toy_direct_share_min:.2f` to {glue:text}`toy_direct_share_max:.2f` of its diff lies on feature $i$'s
# column (cosine {glue:text}`toy_direct_cosine_min:.2f` to {glue:text}`toy_direct_cosine_max:.2f`). It does remove
# the feature: {glue:text}`toy_direct_left_min:.2f` to {glue:text}`toy_direct_left_max:.2f` of the column is left,
# and its part on feature $i$ alone already switches the feature off (residual at most
# {glue:text}`toy_direct_column_residual_max:.3f`). The rest of its norm goes elsewhere and makes the *other*
# features better than before (collateral {glue:text}`toy_direct_collateral_min:+.2f` to
# {glue:text}`toy_direct_collateral_max:+.2f`), whether by handing the dimension feature $i$ gave up to the others or
# by training the model further (this chapter does not separate the two). The retain term rewards both, so the
# optimum of the book's loss is "remove $i$ and refit the rest", not the minimal removal.
#
# **The bias edit** switches every feature off as completely (residual at most {glue:text}`toy_bias_residual_max:.3f`)
# and moves the others by at most {glue:text}`toy_bias_collateral_absmax:.3f`, without touching $W$. By output
# alone it cannot be told from removal, which is why chapter 6's question (where does the edit go?) and the ground
# truth here are needed at all.
#
# **What this settles, and what not.** Where the features are known, {glue:text}`toy_settles`. That is the answer
# for this architecture and these models; it does not carry over to the MNIST CNN by
# itself, whose symbiote has a free low-rank part beside its per-neuron gains, and whose direct-optimisation
# counterpart, like the one here, is free to refit. Two costs of the defaults: with {glue:text}`toy_n_seeds` seeds a
# bootstrap interval is narrow and coarse (it cannot reach beyond the seeds' own range), and four of chapter 1's
# eight sparsities per setting are used, to keep the chapter within a minute of CPU.
