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
# # Appendix: the published code, re-run
#
# The write-up this book reproduces comes with public code: the repository `GlebRazgar/SymbioticNet`, whose notebook
# `Symbiote/puppeteer_main.ipynb` trains a primary CNN and then the symbiote (there called *PuppeteerNet*)
# {cite}`razgar2024symbioticnet`. Chapters 2–6 follow the write-up's description. This chapter follows the code
# instead, because the two disagree on points that the claims of {doc}`../book/claims` depend on. Everything here is
# re-implemented from a reading of that notebook (module `symbiote_lite.published`); no code of it is used.
#
# What the published notebook does, read line by line:
#
# * **Primary.** Three 3×3 convolutions with padding 1 (1→32, 32→64, max-pool, 64→128, max-pool), each followed by
#   batch norm and ReLU; then fully connected 6272→128→64→10 with batch norm and ReLU after the first two and dropout
#   0.5 before each of the three. Adam at 3·10⁻³, a step schedule that divides the rate by ten after 7 of the 10
#   epochs, batches of 16 images, trained on 80 % of Kaggle's digit-recognizer training file (33,600 images; a
#   stratified split) and reported at **99.226 %** on the other 20 % (8,400 images) after the last epoch.
# * **Symbiote.** A one-hot digit goes through an MLP 10→512→512 (each linear layer followed by batch norm, ReLU and
#   dropout 0.5) into five linear heads with tanh. Each head's output is an **additive offset for a whole activation
#   map**, added *after the ReLU* of conv1 (32×28×28), conv2 (64×28×28), conv3 (128×14×14), fc1 (128) and fc2 (64).
#   The offsets do not depend on the image, and the first layer's output is edited.
# * **Training.** The primary is frozen and kept in evaluation mode. Loss on every image: cross-entropy toward its
#   true label (the 3s included) plus 5 · (−log(1 − p₃ + 10⁻⁶)), with p₃ the probability of the inhibited digit.
#   Adam at 5·10⁻⁴, batches of 16, 30 epochs, and **digit 3 is the only digit ever trained**: every one-hot vector
#   the symbiote sees is the one for 3.
# * **Reported** on the validation split with the symbiote on: overall **88.94 %**, other digits **99.22 %**,
#   digit 3 **0.00 %**.
# * **Pruning.** The repository's `weight_pruning.ipynb` is the BIMT example of a small transformer on in-context
#   linear regression (`BioLinear`, `BioTransformer`); nothing in the repository prunes the MNIST primary.
#
# Two details that the code implies but does not say matter below. The schedule is stepped at the start of each
# epoch, which in the PyTorch of that time meant 7 epochs at 3·10⁻³ and 3 at 3·10⁻⁴; this chapter keeps that
# 70 / 30 split of the steps. And the symbiote's first batch norm sees 16 copies of one vector in every training
# batch; section 4 shows what that does to its input.

# %% tags=["parameters"]
# seeds the split, initialisation, batches, dropout and the digits drawn for
# the ten-digit variant
SEED = 0
# optimisation steps of the primary (published: 21,000, i.e. 10 epochs of
# 2,100)
CNN_STEPS = 2000
CNN_BATCH = 64  # images per step of the primary (published: 16)
# steps after which the published symbiote is evaluated (published: 63,000,
# i.e. 30 epochs of 2,100); one run continued from each to the next; the
# largest is the run of sections 2-7 and of the write-up-rules variant
SYM_BUDGETS = [100, 300, 600]
# test images every edit is evaluated on (the first ones of the 10,000)
EVAL_IMAGES = 2000

# %%
from symbiote_lite.params import check_range

SEED = check_range("SEED", SEED, 0, 2**31 - 1, integer=True)
CNN_STEPS = check_range("CNN_STEPS", CNN_STEPS, 10, 21_000, integer=True)
CNN_BATCH = check_range("CNN_BATCH", CNN_BATCH, 2, 1024, integer=True)
if not isinstance(SYM_BUDGETS, (list, tuple)) or not SYM_BUDGETS:
    raise ValueError(f"SYM_BUDGETS={SYM_BUDGETS!r}: give a list of step "
                     "counts, e.g. [100, 300, 600]")
SYM_BUDGETS = sorted({
    check_range("SYM_BUDGETS", b, 10, 63_000, integer=True)
    for b in SYM_BUDGETS})
# the largest budget: the chapter's run, and the rules variant's
SYM_STEPS = RULES_STEPS = SYM_BUDGETS[-1]
EVAL_IMAGES = check_range("EVAL_IMAGES", EVAL_IMAGES, 500, 10_000,
                          integer=True)

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from symbiote_lite import default_device, plots_published
from symbiote_lite import published as P
from symbiote_lite.data import load_mnist
from symbiote_lite.metrics import (
    DROP_TARGET,
    FORGET_TARGET,
    N_DIGITS,
    confusion_matrix,
)
from symbiote_lite.plots_primary import confusion_heatmap
from symbiote_lite.plots_results import forget_retain_bars
from symbiote_lite.primary import PrimaryCNN, count_parameters
from symbiote_lite.report import glue
from symbiote_lite.symbiote import Symbiote, SymbioteConfig

cpu_start, wall_start = time.process_time(), time.perf_counter()
device = default_device()
cnn_recipe = P.CNNRecipe(steps=CNN_STEPS, batch_size=CNN_BATCH, seed=SEED)
# the sweep replaces steps by each budget
pub_recipe = P.PuppeteerRecipe(steps=SYM_STEPS, seed=SEED)
is_default = ((CNN_STEPS, CNN_BATCH, SYM_BUDGETS, EVAL_IMAGES)
              == (2000, 64, [100, 300, 600], 2000))
x_all, y_all = load_mnist("test", device)
x_all = P.unit_pixels(x_all)
x_test, y_test = x_all[:EVAL_IMAGES], y_all[:EVAL_IMAGES]
# What the published notebook printed (its validation split of Kaggle's
# file), for the tables below.
REPORTED = {"primary": 99.226, "overall": 88.94, "other": 99.22,
            "digit": 0.00}
print(f"device: {device.type}; {EVAL_IMAGES} test images")

# %% [markdown]
# ## 1. Sizes
#
# Parameter counts from the architecture (the unit tests check the arithmetic):

# %%
n_cnn = count_parameters(P.PublishedCNN())
n_pub = P.puppeteer_parameters(512, P.PUBLISHED_LAYERS)
n_book_primary = count_parameters(PrimaryCNN())
n_book_sym = count_parameters(
    Symbiote(PrimaryCNN(), None, SymbioteConfig()))
rules_recipe = P.writeup_recipe(P.PuppeteerRecipe(seed=SEED), n_cnn,
                                per_channel=True, steps=RULES_STEPS)
n_rules = P.puppeteer_parameters(rules_recipe.width, rules_recipe.layers,
                                 per_channel=True)
# the trunk left if the heads emitted whole maps
maps_width = P.width_for_budget(n_cnn // 2, P.WRITEUP_LAYERS)
n_offsets = sum(int(np.prod(P.OFFSET_SHAPES[name]))
                for name in P.PUBLISHED_LAYERS)
sizes = pd.DataFrame([
    ("published primary", n_cnn, np.nan),
    ("published symbiote (width 512, five layers)", n_pub, n_pub / n_cnn),
    (f"write-up rules: width {rules_recipe.width}, "
     f"{', '.join(rules_recipe.layers)}, per channel", n_rules,
     n_rules / n_cnn),
    ("this book's primary (chapter 2)", n_book_primary, np.nan),
    ("this book's symbiote (chapter 4)", n_book_sym,
     n_book_sym / n_book_primary),
], columns=["network", "parameters", "× its primary"]).set_index("network")
glue("n_cnn", f"{n_cnn:,}")
glue("n_pub", f"{n_pub:,}")
glue("ratio_pub", n_pub / n_cnn)
glue("n_offsets", f"{n_offsets:,}")
glue("n_rules", f"{n_rules:,}")
glue("ratio_rules", n_rules / n_cnn)
glue("rules_width", rules_recipe.width)
glue("maps_width", maps_width)
glue("ratio_book", n_book_sym / n_book_primary)
sizes.round(3)

# %%
# NBVAL_CHECK_OUTPUT
exact = (n_cnn, n_pub) == (905_354, 51_849_408)
print("primary 905,354 and symbiote 51,849,408 parameters, as the "
      f"architecture implies: {exact}")
print("published symbiote more than 50 times the primary: "
      f"{n_pub > 50 * n_cnn}")
print("write-up-rules variant at most half the primary: "
      f"{n_rules <= 0.5 * n_cnn}")
assert exact and n_pub > 50 * n_cnn and n_rules <= 0.5 * n_cnn

# %% [markdown]
# The published symbiote has {glue:text}`n_pub` parameters, **{glue:text}`ratio_pub:.1f` times** its primary's
# {glue:text}`n_cnn`. The write-up sets the opposite rule, at most half. Almost all of it is the five heads, which
# turn 512 numbers into {glue:text}`n_offsets` offsets; chapter 4's symbiote is {glue:text}`ratio_book:.2f` times its
# primary. Section 5 brings the published design within the write-up's budget: with heads for the hidden layers that
# emit one offset per channel instead of one per position, the published 512-unit trunk fits
# ({glue:text}`n_rules` parameters, {glue:text}`ratio_rules:.2f` of the primary).
#
# ## 2. The published setup, at the scale of this book
#
# The published recipe trains for 21,000 + 63,000 steps of 16 images on a GPU. One step of the symbiote updates
# 51.8 million parameters with Adam, about 0.3 s on one CPU core, so the recipe as published would take more than
# five hours here. We keep every piece of the symbiote's recipe (architecture, loss, optimiser, learning rate,
# batches of 16, frozen primary in evaluation mode, symbiote in training mode with batch norm over the batch of
# one-hot vectors and dropout) and cut only its number of steps: one run, evaluated after each of
# {glue:text}`sym_budgets` steps (section 3), the longest being the run of every later section. The primary keeps
# its architecture, optimiser, learning rate and the shape of its schedule (the rate drops tenfold after 70 % of the
# steps) and is trained until it reaches the published accuracy of about 99 %; it takes batches of
# {glue:text}`cnn_batch` instead of 16 (on this CPU an image costs about the same in either; we did not test batches
# of 16 at this number of images). The data are MNIST instead of Kaggle's copy of it: an 80/20 split of MNIST's
# training set; the edits are measured on the MNIST **test** images and, in section 3, on the validation split the
# published notebook reports on.

# %%
scale = pd.DataFrame([
    ("primary: optimisation steps", 21_000, CNN_STEPS),
    ("primary: images per step", 16, CNN_BATCH),
    ("primary: images seen", 21_000 * 16, CNN_STEPS * CNN_BATCH),
    ("symbiote: optimisation steps", 63_000, SYM_STEPS),
    ("symbiote: images seen", 63_000 * 16, SYM_STEPS * 16),
    ("training images available", 33_600, round(0.8 * 60_000)),
    ("evaluation images", 8_400, EVAL_IMAGES),
], columns=["", "published", "here"]).set_index("")
scale["published ÷ here"] = (scale["published"] / scale["here"]).round(1)
glue("cnn_factor", 21_000 / CNN_STEPS)
glue("cnn_image_factor", 21_000 * 16 / (CNN_STEPS * CNN_BATCH))
glue("cnn_batch", CNN_BATCH)
glue("sym_factor", 63_000 / SYM_STEPS)
glue("cnn_steps", CNN_STEPS)
glue("sym_steps", SYM_STEPS)
glue("sym_budgets", ", ".join(f"{b:,}" for b in SYM_BUDGETS))
glue("sym_fraction", SYM_STEPS / 63_000)
glue("eval_images", f"{EVAL_IMAGES:,}")
scale

# %% [markdown]
# **Table.** Every deviation from the published recipe and its factor. Besides these: MNIST instead of Kaggle's
# digit-recognizer file (the same kind of images, 28×28 grey levels scaled to [0, 1] as published), the test set
# instead of the validation split, and Adam in PyTorch's fused implementation (the same update, computed in one pass).
# The primary takes {glue:text}`cnn_factor:.0f` times fewer steps than published and sees
# {glue:text}`cnn_image_factor:.0f` times fewer images; the symbiote takes {glue:text}`sym_factor:.0f` times fewer
# steps.

# %%
primary, cnn_history = P.load_or_train_cnn(cnn_recipe, device)
all_pred = P.predict_with(primary, {}, x_all)
base_pred = all_pred[:EVAL_IMAGES]
# all 10,000 test images
cnn_acc = 100 * (all_pred == y_all).double().mean().item()
glue("cnn_acc", cnn_acc)
glue("cnn_seconds", cnn_history["seconds"])
print(f"primary: {CNN_STEPS} steps in {cnn_history['seconds']:.0f} s; "
      f"accuracy on all {len(y_all):,} test images {cnn_acc:.2f} % "
      f"(published, validation: {REPORTED['primary']} %)")

# %%
pub_run = P.PuppeteerRun(pub_recipe, cnn_recipe)
sweep = dict(zip(SYM_BUDGETS,
                 P.load_or_train_budgets(pub_run, primary, SYM_BUDGETS),
                 strict=True))
puppeteer, pub_history = sweep[SYM_STEPS]  # the longest run
# evaluation mode, as the published notebook evaluates
eval3 = P.offsets_for(puppeteer, 3)
# training mode: what the loss saw, averaged over dropout
train3 = P.training_offsets(puppeteer, 3, seed=SEED)
pub_pred, trn_pred = P.predict_many(primary, [eval3, train3], x_test)
pub, trn = P.scores(pub_pred, y_test, 3), P.scores(trn_pred, y_test, 3)
base = P.scores(base_pred, y_test, 3)
glue("sym_seconds", pub_history["seconds"])
for key in ("overall", "other", "digit"):
    glue(f"pub_{key}", pub[key])
    glue(f"trn_{key}", trn[key])
    glue(f"base_{key}", base[key])
glue("pub_drop", base["other"] - pub["other"])
glue("trn_drop", base["other"] - trn["other"])
trn_works = trn["digit"] <= 0.5 and base["other"] - trn["other"] <= 1
glue("trn_sentence",
     "do what the published printout reports" if trn_works else
     "remove only part of digit 3 in this run" if trn["digit"] < 50 else
     "barely touch digit 3 in this run")
glue("trn_conclusion",
     f"So the activation offsets themselves are learnt within {SYM_STEPS} "
     "steps; what fails is the step from training "
     "mode to evaluation mode." if trn_works else
     f"So within {SYM_STEPS} steps this run learns offsets that only "
     "partly remove the 3s even in training mode, and "
     "evaluation mode fails on top of that.")
results = pd.DataFrame({
    "published (validation, 63,000 steps)": [
        REPORTED["primary"], REPORTED["overall"], REPORTED["other"],
        REPORTED["digit"]],
    f"unedited primary ({CNN_STEPS} steps)": [
        cnn_acc, base["overall"], base["other"], base["digit"]],
    f"symbiote, evaluation mode ({SYM_STEPS} steps)": [
        np.nan, pub["overall"], pub["other"], pub["digit"]],
    f"symbiote, training-mode offsets ({SYM_STEPS} steps)": [
        np.nan, trn["overall"], trn["other"], trn["digit"]],
}, index=["primary accuracy", "overall accuracy", "other digits",
          "digit 3"])
results.round(2)

# %% [markdown]
# **Table.** Accuracy in %, the published notebook's printout beside this re-run on the test images (the primary's
# accuracy on all 10,000 of them, the rest on the first {glue:text}`eval_images`). "Other digits"
# is the accuracy on the images of digits 0–2 and 4–9 (retain accuracy), "digit 3" the fraction of 3s still called 3
# (forget accuracy). *Evaluation mode* is the published protocol: the symbiote's batch norms use their running
# statistics and dropout is off. *Training-mode offsets* are the offsets the symbiote produces in training mode (batch
# statistics over 64 copies of the one-hot vector for 3, dropout on), averaged over the 64: the offsets its loss was
# computed with.

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
confusion_heatmap(confusion_matrix(base_pred, y_test), ax=axes[0],
                  title="primary")
confusion_heatmap(confusion_matrix(pub_pred, y_test), ax=axes[1],
                  title="+ symbiote, evaluation mode")
confusion_heatmap(confusion_matrix(trn_pred, y_test), ax=axes[2],
                  title="+ symbiote, training-mode offsets")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Figure.** Confusion matrices on the first {glue:text}`eval_images` test images (rows: true digit, columns:
# predicted digit; colour on a log scale): the primary alone, with the published symbiote's offsets for digit 3 as
# the published notebook evaluates them, and with the offsets it produced in training.
#
# The re-implemented primary reaches {glue:text}`cnn_acc:.2f` % on the test images after {glue:text}`cnn_steps`
# steps, against the published 99.226 % after 21,000. With the symbiote on, after {glue:text}`sym_steps` of the
# published 63,000 steps, the two ways of reading it disagree:
#
# * **Evaluated as published**, the symbiote removes digit 3 ({glue:text}`pub_digit:.2f` % left; published 0.00 %)
#   but takes the primary down with it: the other digits score {glue:text}`pub_other:.2f` %, a drop of
#   {glue:text}`pub_drop:.1f` points from {glue:text}`base_other:.2f` % (published: 99.22 %). At this budget the
#   published numbers are **not reproduced**.
# * **The offsets it trained with** {glue:text}`trn_sentence`: {glue:text}`trn_digit:.2f` % of the 3s left, the
#   other digits at {glue:text}`trn_other:.2f` % (a drop of {glue:text}`trn_drop:.2f` points), overall
#   {glue:text}`trn_overall:.2f` % (published: 88.94 %; with the 3s about a tenth of the images, an overall accuracy
#   near 89 % is what forgetting them costs).
#
# {glue:text}`trn_conclusion` Sections 3 and 4 show why evaluation mode fails: the symbiote's batch norms never see
# a batch with any real variance. The training-mode number is one run of one seed: at 100 steps, runs that differ only
# in the order of floating-point sums (for example the number of CPU threads) have ended anywhere from all 3s removed
# to a tenth of them left; at the longer budget that spread has not been measured, so read it as one draw.

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.2))
window = max(1, SYM_STEPS // 10)
for key, label in (("ce", "cross-entropy (all images)"),
                   ("inhibit", "inhibition term −log(1 − p₃)")):
    v = pd.Series(pub_history[key]).rolling(window, min_periods=1).mean()
    ax.plot(np.arange(1, len(v) + 1), v, label=label)
ax.set(xlabel="step", ylabel=f"loss ({window}-step mean)", yscale="log")
ax.legend()
plt.show()

# %% [markdown]
# **Figure.** The two terms of the published loss while the published symbiote trains (training mode; the inhibition
# term before its weight 5), running means over {glue:text}`sym_window` steps.

# %%
glue("sym_window", window)
print(f"loss terms over the first / last {window} steps: cross-entropy "
      f"{np.mean(pub_history['ce'][:window]):.3f} -> "
      f"{np.mean(pub_history['ce'][-window:]):.3f}, inhibition "
      f"{np.mean(pub_history['inhibit'][:window]):.3f} -> "
      f"{np.mean(pub_history['inhibit'][-window:]):.3f}")


# %% [markdown]
# ## 3. The budget: does a longer run get closer?
#
# The same run, evaluated after each of {glue:text}`sym_budgets` steps (a longer budget continues the shorter run, so
# all are points of one training run), in both readings, on the first {glue:text}`eval_images` test images and on as
# many images of the validation split, the 20 % of the training set held out as the published notebook holds out
# its own:

# %%
(train_x, train_y), (val_x, val_y) = P.training_data(
    cnn_recipe.train_fraction, cnn_recipe.seed, device)
splits = {"test": (x_test, y_test),
          "validation": (val_x[:EVAL_IMAGES], val_y[:EVAL_IMAGES])}
sweep_df = pd.DataFrame(P.budget_scores(
    primary, {b: net for b, (net, _) in sweep.items()}, splits, 3, SEED))
sweep_table = sweep_df.pivot_table(index=["split", "mode"], columns="steps",
                                   values=["overall", "other", "digit"])
sweep_table.round(2)

# %% [markdown]
# **Table.** Accuracy in % (overall, other digits, digit 3) of the published symbiote after each budget, evaluated
# as published (evaluation mode) and with its training-mode offsets, on the test images and on the validation split.

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharex=True)
plots_published.budget_sweep(sweep_df, REPORTED, 63_000, "test", axes=axes)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Figure.** Overall, other-digit and digit-3 accuracy on the test images against the symbiote's steps (log scale):
# evaluation mode solid, training-mode offsets dashed; the star is the published printout at 63,000 steps.

# %%
fig, ax = plt.subplots(figsize=(8, 3.6))
plots_published.batch_norm_history(pub_history, ax=ax)
plt.show()

# %% [markdown]
# **Figure.** The symbiote's two batch norms after every step of the longest run: running variance (solid; the first
# batch norm's largest, the second's median) and the mean magnitude of each one's input normalised by the running
# statistics in evaluation mode (dashed; training mode gives about 1, the dotted line).

# %%
def sweep_value(split, mode, key, steps=SYM_STEPS):
    row = sweep_df[(sweep_df["split"] == split) & (sweep_df["mode"] == mode)
                   & (sweep_df["steps"] == steps)]
    return float(row[key].iloc[0])


for split in splits:
    for mode, tag in (("evaluation mode", "eval"),
                      ("training mode", "train")):
        for key in ("overall", "other", "digit"):
            glue(f"sweep_{split}_{tag}_{key}",
                 sweep_value(split, mode, key))
for key in ("overall", "other", "digit"):
    glue(f"sweep_first_eval_{key}",
         sweep_value("test", "evaluation mode", key, SYM_BUDGETS[0]))
eval_best = max(sweep_value("test", "evaluation mode", "other", b)
                for b in SYM_BUDGETS)
glue("sweep_eval_best_other", eval_best)
glue("sym_first", SYM_BUDGETS[0])
first_state, last_state = sweep[SYM_BUDGETS[0]][1], pub_history
glue("bn2_z_first", first_state["bn2_z"][-1])
glue("bn2_var_first", first_state["bn2_var"][-1])
glue("bn2_z_trend", "further from"
     if abs(last_state["bn2_z"][-1] - 1) > abs(first_state["bn2_z"][-1] - 1)
     else "closer to")
within = {mode: all(abs(sweep_value(split, mode, key) - REPORTED[key]) <= 2
                    for split in splits
                    for key in ("overall", "other", "digit"))
          for mode in ("evaluation mode", "training mode")}
glue("train_within",
     "reproduces" if within["training mode"] else "does not reproduce")
eval_close = [b for b in SYM_BUDGETS
              if all(abs(sweep_value("test", "evaluation mode", key, b)
                         - REPORTED[key]) <= 2
                     for key in ("overall", "other", "digit"))]
glue("eval_close",
     "the published printout is reproduced within 2 points after "
     f"{eval_close[0]:,} steps"
     if eval_close else
     "no budget comes within 2 points of the published printout")
split_diff = (sweep_table.xs("test", level="split")
              - sweep_table.xs("validation", level="split"))
split_gap = float(split_diff.abs().max().max())
glue("split_gap", split_gap)
reading_gap = (sweep_table.xs("evaluation mode", level="mode")
               - sweep_table.xs("training mode", level="mode")).abs()
glue("reading_gap", float(reading_gap.max().max()))
print({mode: ok for mode, ok in within.items()},
      "(all three published numbers within 2 points on both splits)")

# %% [markdown]
# Evaluated as published, {glue:text}`eval_close`: the other digits score {glue:text}`sweep_first_eval_other:.1f` %
# after {glue:text}`sym_first` steps and {glue:text}`sweep_test_eval_other:.1f` % after
# {glue:text}`sym_steps` (best {glue:text}`sweep_eval_best_other:.1f` %; published 99.22 %). The batch-norm figure
# shows what moves meanwhile: the second batch norm's median running variance goes from
# {glue:text}`bn2_var_first:.1e` after the first budget to {glue:text}`bn2_var:.1e` after the last, and its
# evaluation-mode inputs move {glue:text}`bn2_z_trend` 1 (mean |z| {glue:text}`bn2_z_first:.1f`, then
# {glue:text}`bn2_z:.1f`). The training-mode offsets of the longest run
# {glue:text}`train_within` the published printout within 2 points: overall
# {glue:text}`sweep_test_train_overall:.2f` %, other digits {glue:text}`sweep_test_train_other:.2f` %, digit 3
# {glue:text}`sweep_test_train_digit:.2f` % on the test images, and
# {glue:text}`sweep_validation_train_overall:.2f` / {glue:text}`sweep_validation_train_other:.2f` /
# {glue:text}`sweep_validation_train_digit:.2f` % on the validation split (published 88.94 / 99.22 / 0.00 %). Test
# images and validation split differ by at most {glue:text}`split_gap:.1f` points in any entry of the table; the
# two readings of the same run differ by up to {glue:text}`reading_gap:.1f` points.
#
# Evaluation and training mode differ in two ways: the batch norms' statistics (running or the batch's own) and
# dropout (off, or on and averaged over draws). Which of the two keeps evaluation mode away, on the longest run:

# %%
readings = {name: P.offsets_read(puppeteer, 3, statistics, dropout,
                                 seed=SEED)
            for name, (statistics, dropout) in P.READINGS.items()}
reading_scores = {
    name: P.scores(pred, y_test, 3)
    for name, pred in zip(readings, P.predict_many(
        primary, list(readings.values()), x_test), strict=True)}
readings_df = pd.DataFrame(reading_scores).T[["overall", "other", "digit"]]
for name, tag in zip(P.READINGS, ("eval", "running_dropout",
                                  "batch_nodropout", "train"), strict=True):
    glue(f"reading_{tag}_other", reading_scores[name]["other"])
    glue(f"reading_{tag}_digit", reading_scores[name]["digit"])
names = list(P.READINGS)
running_fails = all(reading_scores[n]["other"] < base["other"] - 10
                    for n, (st, _) in P.READINGS.items() if st == "running")
batch_works = all(reading_scores[n]["other"] >= base["other"] - 2
                  for n, (st, _) in P.READINGS.items() if st == "batch")
glue("reading_sentence",
     "the running statistics decide the damage: with them the other digits "
     "fail whether dropout is on or off, with "
     "the batch's own they are kept either way"
     if running_fails and batch_works else
     "neither difference alone decides it in this run (the table shows "
     "each)")
glue("dropout_sentence",
     "switching dropout off undoes the forgetting"
     if (reading_scores[names[2]]["digit"]
         > reading_scores[names[3]]["digit"] + 10) else
     "switching dropout off changes the forgetting little")
glue("cause_sentence",
     f"So, by experiment: within {SYM_STEPS:,} steps neither the budget "
     "nor the split is what keeps this re-run from "
     "the published evaluation-mode numbers; the batch norms' running "
     "statistics are what wreck the other digits."
     if (running_fails and batch_works and not eval_close
         and split_gap < 5) else
     "So in this run the experiment does not single out one cause; the "
     "tables above show each factor.")
readings_df.round(2)

# %% [markdown]
# **Table.** Accuracy in % on the test images with the longest run's offsets for digit 3, read with each combination
# of batch-norm statistics and dropout (evaluation mode is the first row, training mode the last).
#
# In this run {glue:text}`reading_sentence`: other digits {glue:text}`reading_eval_other:.1f` % (running statistics,
# no dropout) and {glue:text}`reading_running_dropout_other:.1f` % (running, dropout), against
# {glue:text}`reading_batch_nodropout_other:.1f` % (batch, no dropout) and {glue:text}`reading_train_other:.1f` %
# (batch, dropout). With the batch's statistics and no dropout {glue:text}`reading_batch_nodropout_digit:.1f` % of
# the 3s are left, against {glue:text}`reading_train_digit:.2f` % with dropout averaged: the offsets were learnt as
# an average over dropout draws, and {glue:text}`dropout_sentence`. {glue:text}`cause_sentence` Whether some run of
# 63,000 steps gets them to settle (the published printout says its run did) this budget cannot tell, and two
# differences stay untested: Kaggle's copy of MNIST (not available offline here) and other seeds (each costs the whole
# sweep again, about three minutes).

# %% [markdown]
# ## 4. What the published symbiote computes
#
# **The digit it is asked about does not reach it.** In training, every batch holds 16 copies of the one-hot vector
# for 3. Batch norm {cite}`ioffe2015batchnorm` subtracts the batch mean, which for identical rows is the row itself,
# so the first batch norm outputs its learned shift β whatever the input (to within rounding), and in exact
# arithmetic passes back no gradient to the layer before it. In floating point a little gets through: on one training
# batch of the longest run the largest gradient on the first linear layer is {glue:text}`grad_first:.1e`, against
# {glue:text}`grad_bn1:.1e` on the batch norm's own scale and shift. That is rounding, amplified by the division by
# √ε, and Adam, which scales each parameter's step by its own gradient history, turns it into steps of about the
# learning rate: the first layer moves, in directions set by rounding. Either way the symbiote is trained as a network
# with no input: a generator of one set of offsets, varied only by dropout.
#
# **Its batch norms learn a variance of almost zero.** The first batch norm's batch variance is 0 at every step, so its
# running variance decays from 1 toward 0. The second one sees rows that differ only through dropout applied to
# ReLU(β), which starts at ReLU(0) = 0, so its variance is tiny too. Evaluation divides by √(running variance + ε),
# with ε = 10⁻⁵: any gap between an activation and its running mean, however small (the running mean trails the
# weights as they move), is multiplied by up to 1/√ε ≈ 316, where training divided by the batch's own spread. The
# heads then receive inputs far outside what they were trained on and their tanh saturates:

# %%
bn1, bn2 = puppeteer.base[1], puppeteer.base[5]
grads = P.first_layer_gradients(puppeteer, primary, train_x, train_y,
                                pub_recipe, seed=SEED)
glue("grad_first", grads["first"])
glue("grad_bn1", grads["bn1"])
print(f"largest gradient on one batch: first linear layer "
      f"{grads['first']:.1e}, first batch norm {grads['bn1']:.1e}, "
      f"heads {grads['heads']:.1e}")
with torch.no_grad():
    # into the second batch norm, eval mode
    a2 = puppeteer.base[:5](P.one_hot(torch.tensor([3], device=device)))
    z2 = ((a2 - bn2.running_mean)
          / (bn2.running_var + bn2.eps).sqrt()).abs().mean().item()
size_eval = torch.cat([v.abs().flatten()
                       for v in eval3.values()]).mean().item()
size_train = torch.cat([v.abs().flatten()
                        for v in train3.values()]).mean().item()
glue("bn1_var", bn1.running_var.max().item())
glue("bn2_var", bn2.running_var.median().item())
glue("bn2_z", z2)
glue("size_eval", size_eval)
glue("size_train", size_train)
print(f"running variance: first batch norm at most "
      f"{bn1.running_var.max().item():.1e}, second median "
      f"{bn2.running_var.median().item():.1e}; eval-mode input of the "
      f"second, normalised: mean |z| = {z2:.1f}")
print(f"mean |offset|: evaluation mode {size_eval:.2f}, "
      f"training mode {size_train:.2f}")

# %% [markdown]
# The running variances have fallen to {glue:text}`bn1_var:.1e` (first batch norm, largest) and
# {glue:text}`bn2_var:.1e` (second, median). In evaluation mode the second batch norm's normalised inputs have mean
# magnitude {glue:text}`bn2_z:.1f`, where training gave them about 1, and the offsets grow from a mean magnitude of
# {glue:text}`size_train:.2f` (training mode) to {glue:text}`size_eval:.2f` (evaluation mode; tanh is bounded by 1).
# The published run trained {glue:text}`sym_factor:.0f` times longer, and its printout shows that its evaluation mode
# worked; over the budgets of section 3 the statistics move away from settling, and whether a long run always gets
# them to settle, or the published one happened to, this re-run cannot tell. Either way the design makes evaluation
# depend on variances that are zero, or nearly, by construction.
#
# The same division makes the symbiote unusable for any other digit. The vector for 7 differs from the running mean by
# 1 in two places; divided by √ε, it saturates the offsets:

# %%
query7 = P.scores(
    P.predict_with(primary, P.offsets_for(puppeteer, 7), x_test), y_test, 7)
saturated = float(
    (P.offsets_for(puppeteer, 7)["conv2"].abs() > 0.99).double().mean())
glue("query7_overall", query7["overall"])
glue("query7_digit", query7["digit"])
glue("query7_saturated", 100 * saturated)
print(f"symbiote asked for 7: overall accuracy {query7['overall']:.1f} %, "
      f"7s still called 7: {query7['digit']:.1f} %, conv2 offsets "
      f"saturated (|tanh| > 0.99): {100 * saturated:.0f} %")

# %% [markdown]
# Asked to forget 7 instead of 3, the symbiote saturates {glue:text}`query7_saturated:.0f` % of its conv2 offsets,
# and the primary's accuracy falls to {glue:text}`query7_overall:.1f` % overall: an out-of-range input, not an edit.
#
# **The last offset is a bias of the last layer.** An offset δ added after fc2's ReLU reaches the logits only through
# fc3: the logits become $W_3(h + \delta) + b_3 = W_3 h + (b_3 + W_3\delta)$, a change of fc3's bias by $W_3\delta$.
# It is the edit the write-up's rules exclude (the last layer), and it can switch a digit off without any knowledge of
# how the primary recognises it. How much of the symbiote's effect comes from it, with the offsets that work (the
# training-mode ones):

# %%
ablations = {
    "all five offsets": train3,
    "fc2 offset only (= a bias of fc3)": {"fc2": train3["fc2"]},
    "all but fc2": {k: v for k, v in train3.items() if k != "fc2"},
    "conv1 offset only (the first layer)": {"conv1": train3["conv1"]},
}
abl_pred = P.predict_many(primary, list(ablations.values())[1:], x_test)
abl = {name: P.scores(pred, y_test, 3)
       for name, pred in zip(ablations, [trn_pred, *abl_pred], strict=True)}
abl_df = pd.DataFrame(abl).T[["digit", "other", "overall"]]
abl_df["retain drop (points)"] = base["other"] - abl_df["other"]
shift = (primary.fc3.weight @ train3["fc2"][0]).cpu()
glue("fc2_only_digit", abl["fc2 offset only (= a bias of fc3)"]["digit"])
glue("fc2_only_drop",
     base["other"] - abl["fc2 offset only (= a bias of fc3)"]["other"])
glue("no_fc2_digit", abl["all but fc2"]["digit"])
glue("no_fc2_drop", base["other"] - abl["all but fc2"]["other"])
glue("conv1_only_digit",
     abl["conv1 offset only (the first layer)"]["digit"])
glue("fc2_shift3",
     (shift[3] - torch.cat([shift[:3], shift[4:]]).mean()).item())
fc2_alone, without_fc2 = (abl["fc2 offset only (= a bias of fc3)"]["digit"],
                          abl["all but fc2"]["digit"])
glue("ablation_sentence",
     "In this run the bias of the last layer does as much as all five "
     "offsets together."
     if fc2_alone <= trn["digit"] + 1.0 else
     "In this run the bias of the last layer is therefore not what removes "
     "the 3s: the offsets on the hidden layers "
     "do more of it" + (", and all five together do most."
                        if without_fc2 > trn["digit"] + 1.0 else "."))
abl_df.round(2)

# %% [markdown]
# **Table.** Forget accuracy of digit 3 ("digit"), retain accuracy ("other") and overall accuracy, in %, with subsets
# of the symbiote's training-mode offsets for digit 3.
#
# The fc2 offset alone moves the logit of 3 by {glue:text}`fc2_shift3:+.2f` relative to the mean of the other
# logits; on its own it leaves {glue:text}`fc2_only_digit:.2f` % of the 3s (retain drop {glue:text}`fc2_only_drop:.2f`
# points). Without it, the offsets of the other four layers leave {glue:text}`no_fc2_digit:.2f` % (retain drop
# {glue:text}`no_fc2_drop:.2f` points), and the offset on the first layer's output alone leaves
# {glue:text}`conv1_only_digit:.2f` %; all five together leave {glue:text}`trn_digit:.2f` %.
# {glue:text}`ablation_sentence` (The confusion matrices above show which digits the 3s become.) Nothing here says *why* these offsets work: they are
# {glue:text}`n_offsets` constants found by gradient descent, and the code does not look inside them.
#
# ## 5. The published design under the write-up's rules
#
# Where the code and the write-up conflict, the write-up's rules are: a symbiote of **at most half** the primary's
# parameters, edits to the **hidden layers only**, and a symbiote that inhibits **any digit on command**. The same
# design under those rules:
#
# * heads for conv2, conv3 and fc1 only: no offset on conv1's output (the first layer), none on fc2's output (the bias
#   of the last layer shown above);
# * to fit within half the primary, the heads of conv2 and conv3 emit one offset per channel, added at every
#   position, instead of one per position and channel (fc1's head is unchanged); the trunk stays as published (512
#   units, batch norm, dropout 0.5). The other way to fit, keeping whole-map heads, leaves room for a trunk of
#   {glue:text}`maps_width` units, through which dropout 0.5 lets little of the digit pass; in a trial run it forgot
#   almost nothing, so we do not use it;
# * every training image gets its own inhibited digit, drawn uniformly from 0–9, so a batch holds a mix of one-hot
#   vectors and batch norm no longer erases them (nor divides by a zero variance: this symbiote is evaluated as
#   published, in evaluation mode). Same loss, same optimiser and learning rate, same frozen primary.

# %%
rules_run = P.PuppeteerRun(rules_recipe, cnn_recipe)
rules_net, rules_history = P.load_or_train_puppeteer(rules_run, primary)
glue("rules_steps", RULES_STEPS)
glue("rules_seconds", rules_history["seconds"])
rules_pred = P.predict_many(primary, [P.offsets_for(rules_net, digit)
                                      for digit in range(N_DIGITS)], x_test)
rows = []
for digit in range(N_DIGITS):
    s, b = (P.scores(rules_pred[digit], y_test, digit),
            P.scores(base_pred, y_test, digit))
    rows.append({"digit": digit, "forget": s["digit"], "retain": s["other"],
                 "retain_drop": b["other"] - s["other"]})
rules_df = pd.DataFrame(rows).set_index("digit")
rules_df.round(2).T

# %% [markdown]
# **Table.** The write-up-rules variant on the test images, per inhibited digit: forget accuracy, retain accuracy and
# retain drop against the unedited primary, in % and points.

# %%
forget_retain_bars(
    {"published design, write-up rules": {
        "digit": list(range(N_DIGITS)),
        "forget": list(rules_df["forget"] / 100),
        "retain_drop": list(rules_df["retain_drop"] / 100)}},
    forget_target=FORGET_TARGET, drop_target=DROP_TARGET,
)
plt.show()

# %% [markdown]
# **Figure.** Per inhibited digit, the forget accuracy (left) and the retain drop (right) of the published design
# trained under the write-up's rules (half size, hidden layers, all ten digits), with the targets of chapter 5
# (forget ≤ 0.5 %, drop ≤ 0.3 points) dashed.

# %%
rules_summary = {"forget_mean": rules_df["forget"].mean(),
                 "forget_max": rules_df["forget"].max(),
                 "drop_mean": rules_df["retain_drop"].mean(),
                 "drop_max": rules_df["retain_drop"].max(),
                 "digit3_forget": rules_df.loc[3, "forget"],
                 "digit3_drop": rules_df.loc[3, "retain_drop"]}
# plain floats for glue
rules_summary = {key: float(value) for key, value in rules_summary.items()}
for key, value in rules_summary.items():
    glue(f"rules_{key}", value)
n_forgotten = int((rules_df["forget"] <= 0.5).sum())
glue("rules_n_forgotten", n_forgotten)
print(", ".join(f"{k} {v:.2f}" for k, v in rules_summary.items()))

# %% [markdown]
# Under the write-up's rules, after {glue:text}`rules_steps` steps, the published design leaves on average
# {glue:text}`rules_forget_mean:.1f` % of an inhibited digit in place (worst digit
# {glue:text}`rules_forget_max:.1f` %; {glue:text}`rules_n_forgotten` of ten digits at or below 0.5 %), at a mean
# retain drop of
# {glue:text}`rules_drop_mean:.2f` points (worst {glue:text}`rules_drop_max:.2f`). For digit 3: forget
# {glue:text}`rules_digit3_forget:.2f` %, retain drop {glue:text}`rules_digit3_drop:.2f` points. Chapter 5 reports the
# same measures for this book's weight-diff symbiote, which obeys the same three rules on a smaller primary. With mixed
# batches, evaluation mode works for this variant: the design can take a command once its batch norms see one. At
# this budget it misses chapter 5's targets (the figure shows by how much, digit by digit).
#
# ## 6. Write-up, published code and this book, point by point
#
# | | write-up | published code | this book |
# |---|---|---|---|
# | what is edited | the primary's **weights** (weight diffs) | **activations**: an additive offset after a layer's ReLU, the same for every image | **weights**: a low-rank + gain + bias diff per hidden layer (chapter 4) |
# | which layers | hidden layers only; first and last excluded | conv1, conv2, conv3, fc1, fc2: the **first layer's output is edited**, and fc2's offset is a bias of the last layer | conv2 and fc1, the hidden layers of a four-layer primary |
# | symbiote size | at most half the primary | {glue:text}`ratio_pub:.1f` × the primary ({glue:text}`n_pub` parameters) | {glue:text}`ratio_book:.2f` × the primary |
# | interventions trained | any digit on command (figure: digit 3) | **digit 3 only**; batch norm erases the one-hot input, so no other digit can be asked for | all ten digits and random pairs, in every step |
# | conditioning on the image | none: the symbiote reads the intervention | none: offsets are one constant per layer, position and channel | none: the diff is one constant per intervention (it acts on each image through the weights) |
# | pruning | BIMT + magnitude pruning induce polysemanticity | none for MNIST (the pruning notebook is BIMT's in-context regression example) | BIMT + progressive magnitude pruning (chapter 3) |
# | primary | a small CNN | 0.9 M parameters, batch norm, dropout; 99.226 % on its validation split | 2 convolutions + 2 linear layers, ≥ 99 % on the test set (chapter 2) |
#
# ## 7. Which claims the published code supports
#
# Each claim of {doc}`../book/claims`, checked against the published code by these rules:
#
# 1. **Digit 3 is forgotten, the others kept.** Chapter 5's targets (forget ≤ 0.5 %, retain drop ≤ 0.3 points),
#    applied to the published run (evaluated as published, and with its training-mode offsets) and to digit 3 of the
#    write-up-rules variant: *supported* if both are met, *partly* if only the forget target is, else *not supported*.
# 2. **Slower to learn than the CNN.** The published code fixes 30 epochs for the symbiote and 10 for the primary; it
#    measures no learning speed. We report the training cost per image, symbiote over primary, and say *not tested*.
# 3. **Pruning induces polysemanticity.** *Not tested*: no pruning of the MNIST primary exists in the code.
# 4. **Half size forces compression.** *Not supported* by the code if its symbiote exceeds half the primary (it is
#    {glue:text}`ratio_pub:.0f` ×); the write-up-rules variant shows how the design fares within the budget.
# 5. **Weights beat activations.** The code edits activations only, so it cannot compare the two: *not tested*.
# 6. **It learns the primary's features and circuits.** The published symbiote's offsets are image-independent
#    constants; if the fc2 offset alone (a bias of the last layer) forgets digit 3 as well as all five training-mode
#    offsets (within one point), the published result needs no features: *not supported*; otherwise *not tested*
#    (the code makes no attempt to read circuits from its offsets).

# %%
def digit3_verdict(forget, drop):
    return ("supported" if forget <= 0.5 and drop <= 0.3 else
            "partly" if forget <= 0.5 else "not supported")


pub_drop, trn_drop = (base["other"] - pub["other"],
                      base["other"] - trn["other"])
v_digit3 = digit3_verdict(pub["digit"], pub_drop)
v_digit3_train = digit3_verdict(trn["digit"], trn_drop)
v_digit3_rules = digit3_verdict(rules_summary["digit3_forget"],
                                rules_summary["digit3_drop"])
fc2_only = abl["fc2 offset only (= a bias of fc3)"]["digit"]
v_circuits = ("not supported" if fc2_only <= max(0.5, trn["digit"] + 1.0)
              else "not tested")
# training cost per image, symbiote over primary, on this run's machine
# (wall time; the CPU may be shared)
step_ratio = ((pub_history["seconds"] / (SYM_STEPS * 16))
              / (cnn_history["seconds"] / (CNN_STEPS * CNN_BATCH)))
glue("step_ratio", step_ratio)
as_published_verdicts = {  # the verdicts alone, for the claims page's table
    "digit3": v_digit3, "slower": "not tested",
    "polysemantic": "not tested", "compression": "not supported",
    "weights": "not tested", "circuits": v_circuits}
v = as_published_verdicts
as_published = {
    "digit3": f"after {SYM_STEPS:,} of the published 63,000 symbiote steps "
              f"({100 * SYM_STEPS / 63_000:.1f} %), "
              f"primary {cnn_acc:.2f} %; evaluated as published: "
              f"{v_digit3} (forget {pub['digit']:.2f} %, drop "
              f"{pub_drop:.1f} points); its "
              f"training-mode offsets: {v_digit3_train} (forget "
              f"{trn['digit']:.2f} %, drop {trn_drop:.2f} points); "
              f"under the write-up's rules: {v_digit3_rules} (forget "
              f"{rules_summary['digit3_forget']:.2f} %, drop "
              f"{rules_summary['digit3_drop']:.2f} points)",
    "slower": f"{v['slower']}: the code fixes 30 symbiote epochs "
              f"against 10; per image, its training costs "
              f"{step_ratio:.1f} × the primary's",
    "polysemantic": f"{v['polysemantic']}: no pruning code for the MNIST "
                    "primary",
    "compression": f"{v['compression']}: the published symbiote is "
                   f"{n_pub / n_cnn:.0f} × the primary; at half size "
                   f"(write-up rules) it forgets "
                   f"{rules_summary['forget_mean']:.1f} % on average",
    "weights": f"{v['weights']}: the code edits activations only",
    "circuits": f"{v_circuits}: the fc2 offset alone, a bias of the last "
                f"layer, leaves {fc2_only:.2f} % of the 3s "
                f"(all five: {trn['digit']:.2f} %; training-mode offsets)",
}
for key, text in as_published.items():
    glue(f"as_published_{key}", text)
    glue(f"as_published_verdict_{key}", as_published_verdicts[key])
claims_df = pd.DataFrame(
    {"as published": as_published}).rename_axis("claim")
with pd.option_context("display.max_colwidth", 160):
    display(claims_df)  # noqa: F821 (IPython)

# %%
# NBVAL_CHECK_OUTPUT
checks = {
    "evaluated as published, the symbiote wrecks the other digits "
    "(retain drop > 10 points)": pub_drop > 10,
    "the first batch norm's running variance collapsed "
    "(< 1e-3)": bn1.running_var.max().item() < 1e-3,
    "asking the digit-3 symbiote for digit 7 breaks the primary "
    "(overall < 50 %)": query7["overall"] < 50,
    "under the write-up's rules the mean forget accuracy misses the "
    "0.5 % target": rules_summary["forget_mean"] > 0.5,
}
for text, ok in checks.items():
    print(f"{text}: {ok}")
if is_default:
    assert all(checks.values()), checks

# %%
# reported, not asserted (and not compared by nbval): one short training
# run decides it, and it moves with the order of floating-point sums
print(f"this run: its training-mode offsets leave {trn['digit']:.2f} % of "
      f"the 3s at a retain drop of {trn_drop:.2f} points")

# %%
cpu_seconds, wall_seconds = (time.process_time() - cpu_start,
                             time.perf_counter() - wall_start)
glue("cpu_seconds", cpu_seconds)
glue("wall_seconds", wall_seconds)
print(f"this run: {cpu_seconds:.0f} s of CPU time, "
      f"{wall_seconds:.0f} s of wall time")

# %% [markdown]
# ## What the published code shows
#
# The published code is a different experiment from the one the write-up describes. It steers **activations**, not
# weights; it edits the **first** layer's output and, through fc2, the **last** layer's bias; its symbiote is
# {glue:text}`ratio_pub:.0f` times the primary, not half; it is trained for **digit 3 alone**, and the batch norm at
# its input erases the one-hot vector, so it is a generator of one set of {glue:text}`n_offsets` offsets.
#
# Re-run at {glue:text}`sym_factor:.0f` times fewer steps than published, the offsets it learns in training
# {glue:text}`trn_sentence` ({glue:text}`trn_digit:.2f` % of the 3s left, a retain drop of {glue:text}`trn_drop:.2f`
# points; one draw), but evaluated the published way they wreck the primary (retain drop {glue:text}`pub_drop:.1f`
# points), because its batch norms divide by variances that are zero by construction. The published numbers are
# therefore not reproduced in evaluation mode at any budget up to {glue:text}`sym_steps` steps
# ({glue:text}`sym_fraction:.1%` of the published budget), on the test images or the validation split, with a primary
# at about the published accuracy; the experiment of section 3 puts the damage on the batch norms' running
# statistics (with them the other digits fail whether dropout is on or off), not on the split or, within this range,
# the budget. The training-mode offsets {glue:text}`train_within` the published printout within 2 points. The result
# supports the first claim in its weakest form (a frozen network can be made to stop recognising one digit by adding
# constant offsets to its activations) and none of the others: the code cannot speak to weights against activations,
# to compression at half size, to pruning or to learned circuits. Held to the write-up's rules,
# the same design leaves {glue:text}`rules_forget_mean:.1f` % of an inhibited digit on average after
# {glue:text}`rules_steps` steps. The claims page carries these findings in its "as published" column.
#
# The whole chapter took {glue:text}`cpu_seconds:.0f` s of CPU time ({glue:text}`wall_seconds:.0f` s of wall time)
# on the machine that built this book, training included; with the cached networks, only the evaluations. About
# {glue:text}`cnn_seconds:.0f` s of it is the primary: a primary at the published 99 % costs more than the four minutes
# this appendix was meant to take, and the sweep adds {glue:text}`sym_seconds:.0f` s, so we chose the published
# accuracy over the time limit. Every number comes from one seed and a scaled budget: a reader with a GPU can set
# `CNN_STEPS = 21000`, `CNN_BATCH = 16` and `SYM_BUDGETS = [100, 1000, 10000, 63000]` to run the published budget
# (each budget continues the cached shorter one).
