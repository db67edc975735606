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
# # Replication across seeds
#
# Every verdict of chapters 4–6 rests on one training run with one seed, and the numbers that move with the seed
# move by more than some verdicts' margins. This chapter repeats the whole book **N times, independently**, and
# reports every number of the {doc}`../book/claims` table as a mean over runs with a confidence interval.
#
# **A chain** is the book's pipeline under one seed: the dense primary of chapter 2, the BIMT-pruned primary of
# chapter 3 fine-tuned from it, the symbiotes of chapter 4 on both, and chapter 6's steering editor,
# direct-optimisation reference, size sweep (with its held-out pairs) and planted circuits. The seed reaches every
# random choice of every one of them: initialisation, image batches, random pairs, planted circuits, validation
# split. Each network is cached under its own seed (`symbiote_lite.replication.run_chain`); seed 0 is the chain
# chapters 2–6 trained with their defaults, so its networks are reused, not retrained. The measurements are those of
# chapters 5 and 6, taken the same way on the 10 000 test images.
#
# **Intervals that stay in range.** For a number measured once per chain, $x_1, \dots, x_N$, we report the mean
# $\bar x$ and a 95 % interval over seeds, which treats the chains as independent draws of the same random
# experiment (they are, by construction). Which interval depends on the number (`symbiote_lite.stats`):
#
# - A **rate** (a forget accuracy: the share of a digit's test images still recognised) gets a **Wilson score
#   interval** on an effective number of images: all seeds' images, divided by how much more the rate varies
#   between seeds than sampling the images alone would make it vary. A Student t interval would be wrong here: a
#   forget accuracy that is 0 in most runs gives a t interval reaching below 0 %, and one that is 0 in every run a
#   zero-width interval, as if the images could hide nothing. When no seed recognises a single image of the digit,
#   the Wilson interval is [0, u] with u > 0: the rate that this many images could still hide.
# - Any other number with a **bounded range** (an AUROC, a correlation, a difference of correlations, a retain
#   drop in points) gets the Student t interval of its values mapped onto the real line by a scaled logit (for a
#   correlation this is Fisher's z), mapped back; a **ratio** gets the t interval of its logarithm. Far from the
#   bounds these are the ordinary $\bar x \pm t_{0.975,\,N-1}\, s / \sqrt N$; near a bound they stay inside it. We
#   prefer t intervals to a bootstrap over seeds: with a handful of values a bootstrap's percentiles are too
#   narrow.
#
# **Tests with a smallest effect of interest.** Each rule is a set of tests on these numbers and a map from the
# tests' outcomes to *supported*, *partly* or *not supported*. A test asks whether a number lies beyond a threshold,
# and states before any number is seen a **margin**: the smallest effect that would count. Two one-sided tests
# decide it: it **passes** when "the true value lies on the failing side of the threshold" is rejected, **fails**
# when "it lies at least the margin beyond the threshold" is rejected (the interval sits inside the margin around
# no effect, or on the wrong side), and is otherwise **undecided**. A real effect smaller than the margin fails; this
# is the equivalence-testing reading of Lakens, Scheel & Isager (2018). A target (forget ≤ 0.5 %) has no margin:
# the target is the effect of interest. With a margin, a number whose true value is no effect fails once enough
# seeds are run, so *not supported* is reachable, where before it stayed *inconclusive* at any N.
#
# **Chance levels** enter as tests, not as thresholds: the fc1 agreement's chance level is a permutation test
# pooled over seeds (the mean ρ of all chains against the means of one random ranking per chain), and compression
# is the difference of two agreements, whose chance level is 0, tested on its own spread over seeds.
#
# **One family, Holm-corrected.** All tests of the six rules form one family; both one-sided p-values of every test
# are corrected together by Holm's method (`statsmodels`), so the chance of any wrong pass or fail anywhere in the
# table is at most {glue:text}`rep_alpha_pct` %. A test can therefore stay undecided although its own 95 % interval
# excludes its threshold. The claim's verdict is the one its rule gives for every way the undecided tests could
# turn out; if they could lead to different verdicts, it is **inconclusive at N seeds**, and the table below gives
# the N at which each undecided test would be decided if its mean and spread held. The tests, fixed before the
# numbers:
#
# 1. **Digit 3**: forget ≤ 0.5 % and retain drop ≤ 0.3 points, each on both primaries (targets; *partly*: forget
#    only).
# 2. **Learning time**: ratio of training times ≥ 2 (*supported*), ≥ 1 (*partly*) (targets).
# 3. **Polysemanticity**: pruned minus dense classes per neuron > 0 (margin 0.25 classes), dense minus pruned
#    selectivity > 0 (margin 0.025), over all live hidden neurons (both pass: *supported*; one: *partly*). Chapter
#    3's permutation test compares neurons within one run; here the unit of replication is the run.
# 4. **Compression**: half-size minus largest symbiote's ρ > 0 in fc1 and in conv2 (margin 0.1 each: Cohen's "small"
#    correlation; both: *supported*; one: *partly*).
# 5. **Weights vs activations**: steering minus weights > 0 in mean forget and in mean retain drop (margin 0.1
#    point each; both: *supported*; one: *partly*).
# 6. **Features and circuits**: planted monosemantic AUROC ≥ 0.9, planted polysemantic AUROC ≥ 0.9 (targets), fc1 ρ
#    above chance (pooled permutation test; margin 0.1) (all three: *supported*; one or two: *partly*).

# %% tags=["parameters"]
N_SEEDS = 8  # independent chains ...
# ... with seeds FIRST_SEED, FIRST_SEED + 1, ... (0: the first chain is
# chapters 2-6's own run)
FIRST_SEED = 0
LEVEL = 0.95  # coverage of the intervals over seeds

# %%
from symbiote_lite.params import check_range

N_SEEDS = check_range("N_SEEDS", N_SEEDS, 2, 500, integer=True)
FIRST_SEED = check_range("FIRST_SEED", FIRST_SEED, 0, 2**31 - 501,
                         integer=True)
LEVEL = check_range("LEVEL", LEVEL, 0.5, 0.999)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from symbiote_lite import default_device
from symbiote_lite import plots_replication as PR
from symbiote_lite import replication as R
from symbiote_lite.metrics import (  # chapter 5's targets
    DROP_TARGET,
    FORGET_TARGET,
)
from symbiote_lite.report import glue_all, plain
from symbiote_lite.runtime import progress_bar

device = default_device()
seeds = list(range(FIRST_SEED, FIRST_SEED + N_SEEDS))
chains = [R.load_or_run_chain(R.ChainConfig(seed=seed), device)
          for seed in progress_bar(seeds, desc="chains")]
stats = R.summarise_chains(chains, LEVEL)
decisions = R.decide_claims(stats)
verdicts = decisions.verdicts
single = [R.point_verdicts(R.claim_numbers(c)) for c in chains]
print(f"device: {device.type}; seeds {seeds}; {R.ChainConfig()}")
glue_all(R.replication_glue(decisions, single[0], LEVEL))


def glue(name: str, value) -> None:
    """Glue one plain Python value."""
    glue_all({name: plain(value)})

# %% [markdown]
# ## What one chain costs
#
# Wall time of each chain's measurement run, by stage. A stage includes the training of every network of the stage
# that was not yet in the artifact cache; the seed-0 chain finds chapters 2–6's networks there, so its row is the
# cost of the measurements alone, and a chain whose networks were all trained here is the cost of a fresh chain.
# (When the book is built, the chains of seeds 1–7 are run before this chapter, beside chapters 1–7 and with one
# torch thread, by `python -m symbiote_lite.replication --workers 1 1 2 3 4 5 6 7`; their times below are from that
# run.) The default N is what the build affords without taking longer: the chains run on the second core while
# the first runs chapters 1–7, and this many fit in that time. More seeds cost about one chain each per worker.

# %%
timing = pd.DataFrame([{"seed": c["seed"], **c["stage_seconds"],
                        "total": c["seconds"]} for c in chains])
timing = timing.set_index("seed").round(1)
fresh = timing["total"].iloc[1:] if len(timing) > 1 else timing["total"]
glue("rep_chain_seconds_fresh", fresh.median())
glue("rep_chain_seconds_seed0", timing["total"].iloc[0])
timing

# %% [markdown]
# The median chain that trained its own networks took {glue:text}`rep_chain_seconds_fresh:.0f` s on the machine
# that built this book; the seed-0 chain, which trains nothing, {glue:text}`rep_chain_seconds_seed0:.0f` s.
#
# ## Every number of the claims table, per seed
#
# Per-seed values, their mean and the {glue:text}`rep_level` % interval over the {glue:text}`rep_n` seeds (the
# last column says which interval: Wilson for rates, t on the logit or log scale for bounded numbers and ratios).
# Percentages (%) and points are as in chapters 5 and 6; differences are those the rules test (see above).

# %%
print(R.numbers_table(stats, seeds).to_string())

# %% [markdown]
# ## Every test of the rules
#
# Each test with its threshold and margin, the number's mean and interval, the two one-sided p-values after Holm's
# correction over all {glue:text}`rep_n_hypotheses` hypotheses of the {glue:text}`rep_n_tests` tests, the outcome
# at the family-wise level of {glue:text}`rep_alpha_pct` %, and for an undecided test the number of seeds at which
# it would be decided if its mean and spread held (at the Bonferroni level, which Holm never asks more than).

# %%
with pd.option_context("display.width", 250, "display.max_colwidth", 70):
    print(decisions.tests_table().round(4).to_string(index=False))

# %% [markdown]
# ## Verdicts: one run against N runs
#
# For each claim: the single-run verdict of every chain by chapter 6's rules (seed {glue:text}`rep_first_seed` is the
# run chapter 6 reports), and the verdict on the intervals.

# %%
glue("rep_first_seed", seeds[0])
verdict_df = pd.DataFrame({
    claim: {**{f"seed {s}": v[claim]
               for s, v in zip(seeds, single, strict=True)},
            f"{N_SEEDS} seeds, intervals": verdicts[claim]}
    for claim in verdicts}).T
changed = [claim for claim in verdicts
           if verdicts[claim] != single[0][claim]]
glue("rep_changed", ", ".join(changed) if changed else "none")
glue("rep_n_changed", len(changed))
with pd.option_context("display.width", 200):
    print(verdict_df.to_string())

# %%
# NBVAL_CHECK_OUTPUT
allowed = {"supported", "partly", "not supported",
           f"inconclusive at {N_SEEDS} seeds"}
outside = R.out_of_range(stats)
print(f"{len(chains)} independent chains, every claim has one of the four "
      f"verdicts: {set(verdicts.values()) <= allowed}; every interval "
      f"inside its number's range: {not outside}")
assert (len({c['seed'] for c in chains}) == N_SEEDS
        and set(verdicts.values()) <= allowed), verdicts
assert not outside, outside

# %% [markdown]
# **Table.** Single-run verdicts of each chain and the verdict on the {glue:text}`rep_level` % intervals over all
# {glue:text}`rep_n` chains. Claims whose verdict on the intervals differs from the single run of chapter 6:
# {glue:text}`rep_changed`.
#
# ## The spread behind the headline numbers

# %%
PR.claims_spread(stats, seeds=seeds)
plt.show()

# %% [markdown]
# **Figure.** The numbers behind four verdicts, one dot per chain (colour = seed), the black bar at the mean and, to
# its right, the {glue:text}`rep_level` % interval over seeds; dashed lines are the rules' thresholds and margins.
# From left to right: AUROC with which the symbiote's per-unit diff sizes (and, for reference, ablation) find the
# planted circuits; mean Spearman ρ between fc1 edit size and ablation importance on the real primary, for the
# symbiote and the direct-optimisation reference (chance: 0); steering minus weights in mean forget accuracy (%) and
# in mean retain drop (points), > 0 meaning weights better; half-size minus largest symbiote's ρ, per layer.

# %% [markdown]
# ## Chapter 5's targets on the seed mean
#
# Chapter 5 asks that, on both primaries, every digit be forgotten to at most 0.5 % with a retain drop of at most
# 0.3 points. Here the targets apply to each digit's **mean over the seeds**; beside it, the worst digit of each
# seed shows how far a single run can stray.

# %%
targets = R.per_digit_targets(chains, FORGET_TARGET, DROP_TARGET)
rows = []
for label, t in targets.items():
    rows.append({
        "primary": label,
        "worst digit, seed mean: forget (%)": 100 * t["worst_forget_mean"],
        "worst digit, seed mean: drop (points)": 100 * t["worst_drop_mean"],
        **{f"seed {s}: worst forget (%) / drop (points)":
           f"{100 * f:.2f} / {100 * d:.2f}"
           for s, f, d in zip(seeds, t["worst_forget_per_seed"],
                              t["worst_drop_per_seed"], strict=True)},
        "seeds meeting both": t["seeds_meeting"]})
    glue(f"rep_worst_forget_mean_{label}", 100 * t["worst_forget_mean"])
    glue(f"rep_worst_drop_mean_{label}", 100 * t["worst_drop_mean"])
    glue(f"rep_worst_forget_seed_{label}",
         100 * max(t["worst_forget_per_seed"]))
    glue(f"rep_worst_drop_seed_{label}",
         100 * max(t["worst_drop_per_seed"]))
    glue(f"rep_seeds_meeting_{label}", t["seeds_meeting"])
targets_df = pd.DataFrame(rows).set_index("primary")
with pd.option_context("display.width", 250, "display.max_columns", 20):
    print(targets_df.round(2).T.to_string())

# %%
# NBVAL_CHECK_OUTPUT
for label, t in targets.items():
    print(f"{label}: every digit forgotten to at most "
          f"{100 * FORGET_TARGET:.1f} % with a retain drop of at most "
          f"{100 * DROP_TARGET:.1f} points, on the mean over {N_SEEDS} "
          f"seeds: {t['met_on_mean']}")
    assert t["met_on_mean"], f"{label}: {t}"

# %%
per_digit = {
    label: {"forget (%)": 100 * np.array([c["per_digit"][label]["forget"]
                                          for c in chains]),
            "retain drop (points)": 100 * np.array(
                [c["per_digit"][label]["retain_drop"] for c in chains])}
    for label in targets}
PR.per_digit_spread(per_digit, {"forget (%)": 100 * FORGET_TARGET,
                                "retain drop (points)": 100 * DROP_TARGET})
plt.show()

# %% [markdown]
# **Figure.** Forget accuracy (left) and retain drop (right) of the symbiote's single-digit edits on the test set,
# per inhibited digit, for the dense (top) and the pruned primary (bottom): one dot per seed (colours as above), the
# seed mean as a black bar, chapter 5's targets dashed.
#
# On the seed mean the worst digit is forgotten to {glue:text}`rep_worst_forget_mean_dense:.2f` % (dense) and
# {glue:text}`rep_worst_forget_mean_pruned:.2f` % (pruned), at worst retain drops of
# {glue:text}`rep_worst_drop_mean_dense:.2f` and {glue:text}`rep_worst_drop_mean_pruned:.2f` points. Single runs
# stray further: the worst digit of the worst seed reaches {glue:text}`rep_worst_forget_seed_dense:.2f` % /
# {glue:text}`rep_worst_drop_seed_dense:.2f` points (dense) and {glue:text}`rep_worst_forget_seed_pruned:.2f` % /
# {glue:text}`rep_worst_drop_seed_pruned:.2f` points (pruned); {glue:text}`rep_seeds_meeting_dense` and
# {glue:text}`rep_seeds_meeting_pruned` of the {glue:text}`rep_n` seeds meet both targets on every digit on their
# own.
#
# ## What replication changes
#
# On the intervals over {glue:text}`rep_n` seeds, with the {glue:text}`rep_n_tests` tests Holm-corrected as one
# family: the claim about digit 3 is {glue:text}`rep_verdict_digit3` and polysemanticity is
# {glue:text}`rep_verdict_polysemantic`. Weights against activations is {glue:text}`rep_verdict_weights` (steering
# minus weights: forget {glue:text}`rep_weights_forget_gain_mean:+.2f` [{glue:text}`rep_weights_forget_gain_low:+.2f`,
# {glue:text}`rep_weights_forget_gain_high:+.2f`] points of %, retain drop {glue:text}`rep_weights_drop_gain_mean:+.2f`
# [{glue:text}`rep_weights_drop_gain_low:+.2f`, {glue:text}`rep_weights_drop_gain_high:+.2f`] points; seeds to
# decide: {glue:text}`rep_to_decide_weights`). The learning-time claim is {glue:text}`rep_verdict_slower` (ratio
# {glue:text}`rep_train_ratio_mean:.1f` [{glue:text}`rep_train_ratio_low:.1f`, {glue:text}`rep_train_ratio_high:.1f`];
# seeds to decide: {glue:text}`rep_to_decide_slower`). Compression is {glue:text}`rep_verdict_compression`: the
# half-size symbiote's agreement minus the largest one's is {glue:text}`rep_compression_gain_fc1_mean:+.3f`
# [{glue:text}`rep_compression_gain_fc1_low:+.3f`, {glue:text}`rep_compression_gain_fc1_high:+.3f`] in fc1 and
# {glue:text}`rep_compression_gain_conv2_mean:+.3f` [{glue:text}`rep_compression_gain_conv2_low:+.3f`,
# {glue:text}`rep_compression_gain_conv2_high:+.3f`] in conv2, against a margin of 0.1 (seeds to decide:
# {glue:text}`rep_to_decide_compression`). Features and circuits is {glue:text}`rep_verdict_circuits`: the planted
# monosemantic circuits are found with AUROC {glue:text}`rep_planted_mono_auroc_mean:.3f`
# [{glue:text}`rep_planted_mono_auroc_low:.3f`, {glue:text}`rep_planted_mono_auroc_high:.3f`] against the target 0.9,
# the polysemantic ones with {glue:text}`rep_planted_poly_auroc_mean:.3f` [{glue:text}`rep_planted_poly_auroc_low:.3f`,
# {glue:text}`rep_planted_poly_auroc_high:.3f`], and the fc1 agreement is {glue:text}`rep_rho_fc1_symbiote_mean:.3f`
# [{glue:text}`rep_rho_fc1_symbiote_low:.3f`, {glue:text}`rep_rho_fc1_symbiote_high:.3f`] against chance 0 and a
# margin of 0.1.
#
# The {doc}`../book/claims` page takes its numbers and verdicts from this chapter. The verdicts that differ from
# chapter 6's single run: {glue:text}`rep_changed`. An "inconclusive" verdict is a result, not a gap: it says that
# {glue:text}`rep_n` runs cannot yet tell whether the effect is there or smaller than the margin, and the tests table
# says how many seeds would, if the means and spreads held (`make replication N_SEEDS=…` runs them; with the
# chains in parallel over Dask workers it takes about one chain's time per worker and seed). Two caveats. The
# learning-time ratio compares wall times measured whenever each network was trained on a shared machine; its
# spread is the machine's as much as the method's. And the chains share everything but the seed: the
# architecture, the recipes and the test set, so the intervals say how much the results depend on the draw, not
# how they would change with another design. The margins are choices, stated before the numbers; a reader who
# would set another can rerun the tests with it (`symbiote_lite.replication.CLAIM_TESTS`).
