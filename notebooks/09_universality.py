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
# # Universality: do symbiotes of different primaries find the same units?
#
# The write-up borrows three claims from the circuits programme {cite}`olah2020zoom`: networks learn *features*,
# features connect into *circuits*, and **universality**, "analogous features and circuits form across models". It
# asks whether a symbiote can reveal them. Chapter 6 tested the first two; this chapter tests the third, which the
# write-up names but never measures.
#
# The question has two layers. First, are the **primaries themselves** universal: do two copies of the same CNN,
# trained from different seeds, end up with units that compute the same thing? If they do not, there is no shared
# structure for a symbiote to find. Second, if units can be paired up across models, do the **symbiotes** of the two
# models edit the *paired* units for the same digit: is the map "digit d → which units change, and by how much" the
# same up to renumbering? And does an edit learned for one model work on the other once its units are renumbered?
#
# We reuse the independent chains of {doc}`08_replication`: the dense primary, its symbiote and the
# direct-optimisation reference of every seed come from the artifact cache, so nothing is trained twice.
#
# **Matching units.** A unit is identified by what it does: its activations on images. For two primaries A and B and
# one hidden layer we correlate every unit of A with every unit of B over held-out test images (a conv channel
# contributes its value at every image and position) and pick the one-to-one pairing with the largest total
# correlation (`scipy.optimize.linear_sum_assignment`), as {cite}`li2016convergent` did for convergent learning. Two
# nulls calibrate the result: the same procedure with B's images **shuffled** (the correlation an optimal pairing
# finds where no correspondence exists), and a trained network matched to an **untrained** one of the same
# architecture.
#
# **Comparing edit maps.** For digit d, the symbiote's per-unit edit size in a layer is the norm of the unit's
# incoming-weight and bias diff, as in chapter 6. Under the matching we take the Spearman ρ between A's map and B's
# map on the matched units, for each digit, and average over digits. Only **live** matched units count: unit i of A
# and its match in B must both have an activation that varies over the matching images. A dead unit computes nothing
# there, so its edit size or ablation importance (0) is no evidence of a shared computation, and a block of dead
# units with tied values in both maps would inflate a rank correlation. Two references: the same ρ under **random
# matchings** of the same live units (1000 per pair), and ρ with B's maps of the **other** digits, which measures
# what agrees whatever the digit (for example, units with large weights getting large edits). The same is done for
# the direct-optimisation diffs and for ablation importance, the primaries' own causal structure.
#
# **Transfer.** A's symbiote's ten single-digit edits applied to B, on test images the matching never saw: (a) *as
# is*, unit i of A's edit on unit i of B; (b) *outputs matched*: each edited unit moved to its match in B, its
# incoming weights left in A's order (only the symbiote's output factors permuted); (c) *fully matched*: inputs
# renumbered too, by the previous layer's matching. B's own symbiote is the reference.
#
# **Intervals over pairs.** With N seeds there are N(N − 1)/2 pairs, and they share networks, so they are not
# independent draws. Every interval here is a 95 % interval from the **jackknife over seeds**
# {cite}`miller1974jackknife`: leave one seed out
# (with every pair it is in), recompute the mean over the remaining pairs, and use the spread of those N means with
# a Student t quantile on N − 1 degrees of freedom (`universality.pair_interval`). For a number that is the average
# of two per-seed values it reduces exactly to chapter 8's t interval over seeds.
#
# **The verdict rule, fixed before the numbers.** Two tests per edited layer (conv2 and fc1), each with chapter 8's
# smallest effect of interest for a correlation, a **margin of 0.1** (Cohen's "small" correlation):
#
# - *above chance*: the symbiotes' ρ on live matched units > 0. Its passing side is a **permutation test pooled over
#   pairs**: the mean ρ over all pairs against {glue:text}`uni_n_pooled` means of one random matching per pair. Its
#   failing side, "ρ is at least 0.1", is rejected on the jackknife interval;
# - *digit-specific*: ρ minus the other-digit ρ > 0, both sides on the jackknife interval.
#
# As in chapter 8, a test passes when "no effect" is rejected and fails when "an effect of at least the margin" is
# rejected (a real effect smaller than 0.1 fails), else it is undecided. The four tests form one family: Holm's
# method corrects their eight one-sided p-values together, so the chance of any wrong pass or fail in this chapter
# is at most {glue:text}`uni_alpha_pct:.0f` %. *Universality of the symbiote's edits* is **supported** if both tests
# pass in both layers; **partly** if the agreement is above chance in at least one layer; **not supported**
# otherwise. When the undecided tests could change the verdict it is *inconclusive at N seeds*, and the tests table
# of section 4 gives the seeds at which each undecided test would be decided if its mean and spread held.
#
# **How many chains.** By default the chapter compares the first {glue:text}`uni_n` of chapter 8's
# {glue:text}`08_replication.ipynb::rep_n:d` chains, every pair of them ({glue:text}`uni_pairs` pairs). The work grows
# with the number of pairs: all of chapter 8's chains would be {glue:text}`uni_pairs_all` pairs, about
# {glue:text}`uni_pairs_factor:.1f` times this chapter's matching and transfer time, which the book's build cannot
# afford. What that costs is in the tests table: an undecided test says how many seeds it would need.

# %% tags=["parameters"]
N_SEEDS = 5  # the chains of chapter 8 to compare (every pair of them) ...
FIRST_SEED = 0  # ... with seeds FIRST_SEED, FIRST_SEED + 1, ...
# the first N_MATCH test images match units and rank ablation importance;
# the rest score transfers
N_MATCH = 5000
N_NULL = 1000  # random matchings for the chance level of an agreement
LEVEL = 0.95  # coverage of the intervals over pairs

# %%
from symbiote_lite.params import check_range

N_SEEDS = check_range("N_SEEDS", N_SEEDS, 3, 50, integer=True)
FIRST_SEED = check_range("FIRST_SEED", FIRST_SEED, 0, 2**31 - 51,
                         integer=True)
N_MATCH = check_range("N_MATCH", N_MATCH, 500, 9500, integer=True)
N_NULL = check_range("N_NULL", N_NULL, 100, 100_000, integer=True)
LEVEL = check_range("LEVEL", LEVEL, 0.5, 0.999)

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from symbiote_lite import default_device
from symbiote_lite import plots_replication as PR
from symbiote_lite import plots_universality as PU
from symbiote_lite import universality as U
from symbiote_lite.report import glue as glue_raw
from symbiote_lite.stats import ALPHA, permutation_p

device = default_device()
seeds = tuple(range(FIRST_SEED, FIRST_SEED + N_SEEDS))
config = U.UniversalityConfig(seeds=seeds, n_match=N_MATCH, n_null=N_NULL)
start = time.perf_counter()
result = U.load_or_run_universality(config, device, progress=True)
stats = U.summarise(result, LEVEL)
decision = U.decide_universality(stats)
verdict = decision.verdict
print(f"device: {device.type}; seeds {list(seeds)}; "
      f"{len(result['pairs'])} pairs; {time.perf_counter() - start:.0f} s")


def glue(name: str, value) -> None:
    """Glue a plain Python value (numpy scalars print as np.float64(...),
    which MyST cannot format)."""
    glue_raw(name, value.item() if hasattr(value, "item") else value)


glue("uni_n", N_SEEDS)
n_chapter8 = 8  # chapter 8's default number of chains (tested to match)
glue("uni_pairs_all", n_chapter8 * (n_chapter8 - 1) // 2)
glue("uni_pairs_factor",
     n_chapter8 * (n_chapter8 - 1) / (N_SEEDS * (N_SEEDS - 1)))
glue("uni_pairs", len(result["pairs"]))
glue("uni_level", round(100 * LEVEL))
glue("uni_n_match", N_MATCH)
glue("uni_n_eval", 10_000 - N_MATCH)
for key, s in stats.items():
    for part in ("mean", "low", "high"):
        glue("uni_" + key.replace("/", "_") + f"_{part}", s[part])
for name, value in decision.glue_values().items():
    glue(name, value)  # uni_verdict, uni_decider, uni_to_decide, ...
for layer in U.EDIT_LAYERS:  # live matched units, mean over pairs
    glue(f"uni_live_{layer}", stats[f"live/{layer}"]["mean"])
glue("uni_margin", U.RHO_MARGIN)
glue("uni_n_pooled", len(stats["rho/symbiote/fc1"]["null"]))

# %% [markdown]
# ## 1. How universal are the primaries?
#
# Mean correlation of matched units, per layer, over the {glue:text}`uni_pairs` pairs of the {glue:text}`uni_n`
# primaries, with the two nulls; brackets hold the {glue:text}`uni_level` % intervals.

# %%
LAYERS = ("conv1", "conv2", "fc1")


def cell(key: str, fmt: str = "{:.3f}") -> str:
    s = stats[key]
    return (f"{fmt.format(s['mean'])} [{fmt.format(s['low'])}, "
            f"{fmt.format(s['high'])}]")


units_df = pd.DataFrame({
    layer: {"trained pairs": cell(f"corr/{layer}"),
            "B's images shuffled": cell(f"corr_shuffled/{layer}"),
            "trained vs untrained": cell(f"corr_random/{layer}")}
    for layer in LAYERS}).T
units_df

# %%
PU.matched_correlations(result, LAYERS)
plt.show()

# %% [markdown]
# **Figure.** Correlation of each unit with its match in the other primary, sorted from the best-matched unit to the
# worst, one line per pair of primaries (blue); the same for B's images shuffled (grey) and for a trained primary
# matched to an untrained one (orange). Left to right: conv1's 8 channels, conv2's 32 channels, fc1's 64 units.
# The cliff in fc1 is made of dead units: on average {glue:text}`uni_dead_fc1:.1f` of a primary's 64 fc1 units never
# activate on these images, and a unit that never varies correlates with nothing (0 by convention).
#
# The matched units of two trained primaries correlate at {glue:text}`uni_corr_conv1_mean:.2f` (conv1),
# {glue:text}`uni_corr_conv2_mean:.2f` (conv2) and {glue:text}`uni_corr_fc1_mean:.2f` (fc1) on average, against
# {glue:text}`uni_corr_shuffled_conv1_mean:.2f`, {glue:text}`uni_corr_shuffled_conv2_mean:.2f` and
# {glue:text}`uni_corr_shuffled_fc1_mean:.2f` when nothing corresponds, and {glue:text}`uni_corr_random_conv1_mean:.2f`,
# {glue:text}`uni_corr_random_conv2_mean:.2f` and {glue:text}`uni_corr_random_fc1_mean:.2f` against an untrained
# network (whose units still respond to pixels and strokes, so that null is not zero). {glue:text}`uni_units_sentence`

# %%
gap = {layer: stats[f"corr/{layer}"]["low"]
       - max(stats[f"corr_shuffled/{layer}"]["high"],
             stats[f"corr_random/{layer}"]["high"]) for layer in LAYERS}
clear = [layer for layer in LAYERS if gap[layer] > 0]
units_fc1 = len(next(iter(result["pairs"].values()))["corr"]["fc1"])
glue("uni_dead_fc1", units_fc1 - float(np.mean(
    [live["fc1"] for live in result["live_units"].values()])))
glue("uni_units_sentence",
     f"In {' and '.join(clear)} the interval of the trained pairs lies "
     "above both nulls: "
     "those units are partly universal." if clear else
     "In no layer does the interval of the trained pairs clear both nulls.")

# %%
# NBVAL_CHECK_OUTPUT
in_range = all(-1 <= c <= 1 for p in result["pairs"].values()
               for v in p["corr"].values() for c in v)
print(f"{len(result['pairs'])} pairs of {N_SEEDS} primaries matched in "
      f"{len(LAYERS)} layers; every matched "
      f"correlation is in [-1, 1]: {in_range}")

# %% [markdown]
# ## 2. Do the edit maps agree across primaries?
#
# For each method and edited layer: the digit-mean Spearman ρ between the two primaries' maps on live matched units
# (mean over pairs and {glue:text}`uni_level` % interval), the pooled random-matching null of that mean (its mean
# and central {glue:text}`uni_level` %), the permutation p-value of the mean against it (uncorrected; the verdict's
# tests are corrected in section 4), and ρ minus the other-digit ρ. The agreements are taken over
# {glue:text}`uni_live_conv2:.1f` live matched conv2 channels and {glue:text}`uni_live_fc1:.1f` live matched fc1 units
# per pair on average.

# %%
METHODS = {"symbiote": "symbiote", "direct": "direct optimisation",
           "ablation": "ablation importance"}


def null_p(name: str) -> float:
    """Permutation p-value of the mean ρ against its pooled null."""
    s = stats[f"rho/{name}"]
    return permutation_p(s["mean"], s["null"])


rows = {}
for method, label in METHODS.items():
    for layer in U.EDIT_LAYERS:
        name = f"{method}/{layer}"
        rows[f"{label}, {layer}"] = {
            "ρ matched": cell(f"rho/{name}"),
            "pooled null": cell(f"rho_null/{name}"),
            "p (permutation)": f"{null_p(name):.4f}",
            "ρ − other digits": cell(f"rho_specific/{name}", "{:+.3f}")}
maps_df = pd.DataFrame(rows).T
with pd.option_context("display.width", 200):
    print(maps_df.to_string())

# %%
PU.edit_map_agreement(list(result["pairs"].values()), stats,
                      {"symbiote": "symbiote",
                       "direct": "direct\noptimisation",
                       "ablation": "ablation\nimportance"})
plt.show()

# %% [markdown]
# **Figure.** Agreement of per-unit maps across primaries, conv2 (left) and fc1 (right): for each method, the
# digit-mean Spearman ρ of every pair of primaries on live matched units for the same digit (filled dots) and with
# the other digits' maps (open dots), their means (black bars) and the {glue:text}`uni_level` % interval of the
# same-digit mean (vertical line); the dashed line is the 97.5 % quantile of one pair's ρ under random matchings,
# averaged over pairs: a reference for a single pair, not the test's threshold (the mean over pairs is tested
# against the null pooled over pairs).
#
# Through the matching, the symbiotes' edit maps correlate at ρ = {glue:text}`uni_rho_symbiote_conv2_mean:.2f`
# [{glue:text}`uni_rho_symbiote_conv2_low:.2f`, {glue:text}`uni_rho_symbiote_conv2_high:.2f`] in conv2 and
# {glue:text}`uni_rho_symbiote_fc1_mean:.2f` [{glue:text}`uni_rho_symbiote_fc1_low:.2f`,
# {glue:text}`uni_rho_symbiote_fc1_high:.2f`] in fc1, against a pooled random-matching null centred at
# {glue:text}`uni_rho_null_symbiote_conv2_mean:.2f` and {glue:text}`uni_rho_null_symbiote_fc1_mean:.2f`, whose central
# {glue:text}`uni_level` % reaches up to {glue:text}`uni_rho_null_symbiote_conv2_high:.3f` and
# {glue:text}`uni_rho_null_symbiote_fc1_high:.3f`. How much of it is about the digit: same digit minus other digits is
# {glue:text}`uni_rho_specific_symbiote_conv2_mean:+.3f` [{glue:text}`uni_rho_specific_symbiote_conv2_low:+.3f`,
# {glue:text}`uni_rho_specific_symbiote_conv2_high:+.3f`] in conv2 and
# {glue:text}`uni_rho_specific_symbiote_fc1_mean:+.3f` [{glue:text}`uni_rho_specific_symbiote_fc1_low:+.3f`,
# {glue:text}`uni_rho_specific_symbiote_fc1_high:+.3f`] in fc1. For comparison, the primaries' own causal structure,
# ablation importance, agrees at ρ = {glue:text}`uni_rho_ablation_conv2_mean:.2f` (conv2) and
# {glue:text}`uni_rho_ablation_fc1_mean:.2f` (fc1), digit-specifically by
# {glue:text}`uni_rho_specific_ablation_conv2_mean:+.3f` and {glue:text}`uni_rho_specific_ablation_fc1_mean:+.3f`; the
# direct-optimisation diffs at {glue:text}`uni_rho_direct_conv2_mean:.2f` and
# {glue:text}`uni_rho_direct_fc1_mean:.2f`. {glue:text}`uni_symbiote_sentence` {glue:text}`uni_compare_sentence`

# %%
def side(name: str) -> str:
    """Where a mean ρ lies against chance, by its uncorrected
    permutation p-value."""
    return ("above" if null_p(name) < ALPHA
            else "not distinguishable from")


glue("uni_symbiote_sentence",
     "By the permutation test alone (uncorrected), the symbiotes' "
     f"matched maps are {side('symbiote/conv2')} chance in conv2 and "
     f"{side('symbiote/fc1')} it in fc1, while the primaries' ablation "
     f"maps are {side('ablation/conv2')} it in conv2 and "
     f"{side('ablation/fc1')} it in fc1.")
sym_spec = {layer: stats[f"rho_specific/symbiote/{layer}"]["mean"]
            for layer in U.EDIT_LAYERS}
abl_spec = {layer: stats[f"rho_specific/ablation/{layer}"]["mean"]
            for layer in U.EDIT_LAYERS}
more = [layer for layer in sym_spec if sym_spec[layer] > abl_spec[layer]]
glue("uni_compare_sentence",
     "On the digit-specific part the symbiote is more universal than "
     "ablation importance in both layers."
     if len(more) == 2 else
     "On the digit-specific part the symbiote is more universal than "
     f"ablation importance only in {more[0]}."
     if more else
     "On the digit-specific part the symbiote is less universal than "
     "ablation importance in both layers: the "
     "primaries share more causal structure than their symbiotes' edits "
     "reveal.")

# %% [markdown]
# ## 3. Does an edit transfer to another primary?
#
# Forget accuracy (%) and retain drop (points) of the ten single-digit edits, averaged over digits, on the
# {glue:text}`uni_n_eval` test images that the matching never saw; every ordered pair (A's symbiote on B), with B's
# own symbiote as the reference.

# %%
transfer_df = pd.DataFrame({
    label: {"forget (%)": cell(f"transfer/{v}/forget", "{:.2f}"),
            "retain drop (points)": cell(f"transfer/{v}/drop", "{:.2f}")}
    for v, label in U.TRANSFER_VARIANTS.items()}).T
transfer_df

# %%
PR.seed_spread(U.transfer_panels(result))
plt.show()

# %% [markdown]
# **Figure.** Transfer of the symbiote's edits between primaries: mean forget accuracy (left, lower is better) and
# mean retain drop (right, lower is better) over the ten digits, one dot per ordered pair, for B's own symbiote and
# for A's edits applied as is, with outputs matched and fully matched.
#
# Applied as is, A's edits leave B recognising {glue:text}`uni_transfer_as_is_forget_mean:.1f` % of the inhibited
# digit (B's own symbiote: {glue:text}`uni_transfer_own_forget_mean:.2f` %) at a retain drop of
# {glue:text}`uni_transfer_as_is_drop_mean:.1f` points; with outputs matched
# {glue:text}`uni_transfer_outputs_forget_mean:.1f` % and {glue:text}`uni_transfer_outputs_drop_mean:.1f` points;
# fully matched {glue:text}`uni_transfer_full_forget_mean:.1f` % [{glue:text}`uni_transfer_full_forget_low:.1f`,
# {glue:text}`uni_transfer_full_forget_high:.1f`] and {glue:text}`uni_transfer_full_drop_mean:.1f` points
# [{glue:text}`uni_transfer_full_drop_low:.1f`, {glue:text}`uni_transfer_full_drop_high:.1f`].
# {glue:text}`uni_transfer_sentence`

# %%
t = lambda v, m: stats[f"transfer/{v}/{m}"]
better = t("full", "forget")["high"] < t("as_is", "forget")["low"]
works = (t("full", "forget")["high"] <= 0.5
         and t("full", "drop")["high"] <= 0.3)
glue("uni_transfer_sentence",
     ("The matching carries the edit: fully matched, it forgets about as "
      "well as B's own symbiote."
      if works else
      "The matching helps, clearly beyond its interval, but a matched edit "
      "is far from B's own symbiote: the units "
      "correspond only in part, and an edit tuned to A's exact weights "
      "does not survive the move.")
     if better else
     "The matching does not make the edit work on B: its interval does "
     "not clear that of the unmatched edit.")

# %% [markdown]
# ## 4. Verdict
#
# The rule's {glue:text}`uni_n_tests` tests, each with its threshold and margin, the number's mean and
# {glue:text}`uni_level` % interval over pairs, the two one-sided p-values after Holm's correction over the
# chapter's {glue:text}`uni_n_hypotheses` hypotheses, the outcome at the family-wise level of
# {glue:text}`uni_alpha_pct:.0f` %, and for an undecided test the number of seeds at which it would be decided if
# its mean and spread held.

# %%
with pd.option_context("display.width", 250, "display.max_colwidth", 80):
    print(decision.tests_table().round(4).to_string(index=False))

# %% [markdown]
# By the rule stated at the top, universality of the symbiote's edits is **{glue:text}`uni_verdict`** at
# {glue:text}`uni_n` seeds ({glue:text}`uni_pairs` pairs). The tested numbers: the symbiotes' ρ on live matched
# units, {glue:text}`uni_rho_symbiote_conv2_mean:.3f` [{glue:text}`uni_rho_symbiote_conv2_low:.3f`,
# {glue:text}`uni_rho_symbiote_conv2_high:.3f`] (conv2) and {glue:text}`uni_rho_symbiote_fc1_mean:.3f`
# [{glue:text}`uni_rho_symbiote_fc1_low:.3f`, {glue:text}`uni_rho_symbiote_fc1_high:.3f`] (fc1), against chance 0 and
# the margin {glue:text}`uni_margin`; same digit minus other digits as in section 2. The verdict turns on
# {glue:text}`uni_decider`; seeds to decide: {glue:text}`uni_to_decide`. The {doc}`../book/claims` page carries this
# row.
#
# What the test can and cannot say. The primaries differ only in their seed; universality across architectures or
# datasets, the sense of the circuits programme, is not tested. The matching is one-to-one: if a feature is spread
# over two units in one network and one in the other, a permutation cannot express it, so the agreement here is a
# lower bound on shared structure. And the edit maps measure *how much* each unit's weights change, not the direction
# of the change.

# %%
# NBVAL_CHECK_OUTPUT
allowed = {"supported", "partly", "not supported",
           f"inconclusive at {N_SEEDS} seeds"}
live_ok = all(p["live"][layer] >= U.MIN_LIVE
              for p in result["pairs"].values() for layer in U.EDIT_LAYERS)
print(f"universality verdict is one of the four: {verdict in allowed}; "
      f"{len(decision.rows)} tests, Holm over "
      f"{2 * len(decision.rows)} hypotheses; every agreement over at "
      f"least {U.MIN_LIVE} live matched units: {live_ok}")
assert verdict in allowed and len(decision.rows) == 4, decision.rows
assert live_ok
