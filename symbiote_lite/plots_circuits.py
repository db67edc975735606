"""Figures of the circuits chapter (chapter 6) that combine the shared panels. Drawing only."""

import matplotlib.pyplot as plt

from symbiote_lite import plots
from symbiote_lite.metrics import DROP_TARGET, FORGET_TARGET, N_DIGITS
from symbiote_lite.stages import VARIANT_NAMES, central_95


def planted_aurocs(planted):
    """Per planted variant, the AUROC of the symbiote's edit sizes for each class's circuit, over the band of 95 %
    of random rankings. ``planted``: a ``stages.PlantedResult``."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), sharey=True)
    for ax, (kind, auc) in zip(axes, planted.auroc.items(), strict=True):
        plots.per_digit_scores({"symbiote": auc}, null=central_95(planted.null_auroc[kind]), ylabel="AUROC", ax=ax,
                               null_label="random ranking (95 %)", legend=ax is axes[0])
        ax.set(title=VARIANT_NAMES[kind], ylim=(0, 1.05))
    return fig


def agreement_panels(attribution):
    """Per layer, each method's Spearman ρ between edit size and ablation importance per digit, over the band of
    95 % of random rankings. ``attribution``: a ``stages.AttributionResult``."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.3), sharey=True)
    for ax, layer in zip(axes, attribution.importance, strict=True):
        rho = {m: a[layer]["rho"] for m, a in attribution.agree.items()}
        plots.per_digit_scores(rho, null=central_95(attribution.null[layer]), ylabel="Spearman ρ", ax=ax,
                               null_label="random ranking (95 %)", legend=ax is axes[0])
        ax.set_title(f"{layer}: edit size vs ablation importance")
    return fig


def sweep_panels(sweep, chance: dict):
    """The size sweep's three panels (forget, retain drop, attribution agreement) against the symbiote's size.
    ``sweep``: a ``stages.SweepResult``; ``chance``: {layer: 97.5 % chance level of the mean ρ}."""
    df = sweep.table()
    return plots.size_sweep(
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
    return plots.generalisation_strips({k: {"forget": v["forget"], "retain": v["retain"]} for k, v in groups.items()})


def planted_maps(planted):
    """The symbiote's fc1 edit size per unit and intervention on each planted primary, circuits marked."""
    return plots.planted_edit_maps({VARIANT_NAMES[k]: v for k, v in planted.edit_norms.items()},
                                   {VARIANT_NAMES[k]: v.cpu() for k, v in planted.members.items()})


def steering_bars(steering):
    """Per digit, forget and retain drop of the weight and the steering symbiote, chapter 5's targets dashed.
    ``steering``: a ``stages.SteeringResult``."""
    scores = {name: {"digit": list(range(N_DIGITS)), "forget": s["forget"].tolist(), "retain_drop": s["drop"].tolist()}
              for name, s in steering.scores.items()}
    return plots.forget_retain_bars(scores, forget_target=FORGET_TARGET, drop_target=DROP_TARGET)
