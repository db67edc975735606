"""Chapter 3's analyses as study functions: one per section of the chapter, each returning a result object.

A result holds the section's numbers, the tables the chapter shows (``pandas`` DataFrames), what the section's
figure draws, and ``glue_values()``: the ``{name: value}`` the chapter's prose reads (``report.glue_all``). Each
result's ``check_prose()`` asserts the statements the prose makes about the default run (the chapter calls it
only when every parameter is at its library default, ``Chapter3Config.is_default``).

Sections, in the chapter's order:

    mlp_study               BIMT on its home ground, the 784-100-100-10 MNIST MLP
    mlp_modularity_study    are the MLP's modules more than sparsity (two null models, a threshold sweep, census)
    swap_check              the wire cost and one swap round on the dense primary
    pruned_primary_study    train or load the pruned primary; accuracy against sparsity
    polysemanticity_study   dense vs pruned primary: classes per neuron, class selectivity
    ladder_study            the two-by-two control (fine-tuning, wire cost, pruning)
    long_run_study          the longer BIMT + pruning run of the CNN
    cnn_modularity_study    modularity of the CNNs against the same null models
"""

import copy
from dataclasses import dataclass, field, replace

import pandas as pd
import torch

from symbiote_lite import bimt, bimt_mlp
from symbiote_lite.bimt import BIMTConfig
from symbiote_lite.bimt_mlp import MLPConfig
from symbiote_lite.params import check_range
from symbiote_lite.primary import PrimaryCNN, accuracy, count_parameters

BIMT_MLP_STEPS = 40_000  # training steps of BIMT's own MNIST run
NULLS = ("rewired", "shuffled")
MLP_THRESHOLDS = (0.02, 0.05, 0.1, 0.2)  # drawing thresholds of the MLP's threshold sweep
ONE_SHOT_LEVELS = (0.0, 0.5, 0.7, 0.8, 0.9)  # hidden-layer sparsities of the one-shot pruning baseline
FRACTIONS = (0.25, 0.5, 0.75)  # response fractions of the class-count robustness table
SWAP_IMAGES = 2000  # test images on which the swap check compares logits
POLY_LAYERS = ("conv2", "fc1")
# the five changes of the two-by-two control: name -> (glue key, from network, to network)
EFFECTS = {
    "fine-tuning alone": ("ft", "dense primary", "fine-tuned"),
    "wire cost alone": ("wire", "fine-tuned", "wire cost only"),
    "pruning alone": ("prune", "fine-tuned", "pruning only"),
    "wire cost on top of pruning": ("wire_on_prune", "pruning only", "BIMT + pruning"),
    "pruning on top of wire cost": ("prune_on_wire", "wire cost only", "BIMT + pruning"),
}
LONG_NAME = "BIMT + pruning, long"


# the allowed range of each parameter: (low, high, integer)
PARAMETER_RANGES = {
    "target_sparsity": (0.0, 0.99, False), "epochs": (0.05, 20, False), "lam": (0.0, 1.0, False),
    "response_fraction": (0.05, 1.0, False), "mlp_steps": (10, 200_000, True), "draw_threshold": (0.0, 0.5, False),
    "n_null": (2, 200, True), "long_epochs": (0.05, 50, False), "long_lam": (0.0, 1.0, False),
    "seed": (0, 2**31 - 1, True),
}


@dataclass(frozen=True)
class Chapter3Config:
    """Chapter 3's parameters; the defaults are the book's run (the chapter's parameter cell holds the same values,
    a unit test compares them). The BIMT and MLP defaults are read from ``BIMTConfig`` and ``MLPConfig``."""

    target_sparsity: float = BIMTConfig.target_sparsity  # zero fraction of the hidden weights (conv2 + fc1)
    epochs: float = BIMTConfig.epochs  # passes over the training images, from the trained dense primary
    lam: float = BIMTConfig.lam  # initial weight λ of the connection cost
    response_fraction: float = 0.5  # a neuron responds to a class whose mean is ≥ this fraction of its max
    mlp_steps: int = MLPConfig.steps  # training steps of the BIMT MLP
    draw_threshold: float = 0.05  # weights below this fraction of their layer's largest |w|: not drawn, not counted
    n_null: int = 20  # null graphs per network and null model
    long_epochs: float = 8.0  # the longer BIMT + pruning run of the CNN
    long_lam: float = 1e-4  # its initial λ
    seed: int = BIMTConfig.seed  # batch order, the MLP's initialisation, the null graphs and Louvain partitions

    def __post_init__(self):
        for name, (low, high, integer) in PARAMETER_RANGES.items():  # named as the chapter's parameter cell names them
            check_range(name.upper(), getattr(self, name), low, high, integer=integer)

    @property
    def bimt_config(self) -> BIMTConfig:
        """The pruned primary the later chapters use."""
        return replace(BIMTConfig(), target_sparsity=self.target_sparsity, epochs=self.epochs, lam=self.lam,
                       seed=self.seed)

    @property
    def mlp_config(self) -> MLPConfig:
        return replace(MLPConfig(), steps=self.mlp_steps, seed=self.seed)

    @property
    def long_config(self) -> BIMTConfig:
        """The pruned primary's recipe, stretched to ``long_epochs`` under ``long_lam``."""
        return replace(self.bimt_config, epochs=self.long_epochs, lam=self.long_lam)

    @property
    def is_default(self) -> bool:
        """True when every parameter has its library default: the run the chapter's prose describes."""
        return self == Chapter3Config()


# --- shared helpers ----------------------------------------------------------------------------------------------


def wiring_stages(history: dict) -> dict:
    """{"start (step 0)" | "middle (step s/2)" | "end (step s)": (strength, signed)} from a ``train_pruned``
    history: the per-layer connection strengths ``plots.wiring_stages`` draws."""
    steps, wiring = history["steps"], history["wiring"]
    return {f"{name} (step {step})": (wiring[name]["strength"], wiring[name]["signed"])
            for name, step in (("start", 0), ("middle", steps // 2), ("end", steps))}


def fc1_pair_share(strengths: list[torch.Tensor], threshold: float) -> float:
    """Percentage of the (fc1 unit, conv2 channel) connections a wiring diagram with ``threshold`` draws
    (``strengths``: the four per-layer matrices of ``bimt.connection_strengths``; fc1 is the third)."""
    return 100 * (bimt.kept_strengths(strengths, threshold)[2] > 0).float().mean().item()


def cnn_modularity(net: PrimaryCNN, threshold: float, n_null: int, seed: int) -> dict:
    """{null: ``bimt.modularity_with_null`` result} for the drawn weight graph of a CNN, for both null models."""
    graph = bimt.kept_strengths(bimt.connection_strengths(net), threshold)
    return {null: bimt.modularity_with_null(graph, n_null, seed, null) for null in NULLS}


def live_stats(stats: dict) -> dict:
    """``bimt.polysemanticity`` output reduced to the live neurons: {layer: {"n_classes", "selectivity"}}."""
    return {layer: {k: s[k][s["alive"]] for k in ("n_classes", "selectivity")} for layer, s in stats.items()}


def _comparison_row(row: dict, names=("dense", "pruned"), live: bool = True) -> dict:
    """One row of a ``compare_polysemanticity`` table: (live counts,) means, p-values and verdict as columns."""
    a, b = names
    counts = {f"live {a}": row["live"][0], f"live {b}": row["live"][1]} if live else {}
    return counts | {f"classes {a}": row["classes"][0], f"classes {b}": row["classes"][1],
                     "p classes": row["p_classes"], f"selectivity {a}": row["selectivity"][0],
                     f"selectivity {b}": row["selectivity"][1], "p selectivity": row["p_selectivity"],
                     "verdict": row["verdict"]}


def _table(rows: dict, index: str) -> pd.DataFrame:
    """{row name: {column: value}} as a DataFrame that keeps each column's type."""
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(index)


def _null_row(res: dict) -> dict:
    return {"edges": res["edges"], "Q": res["q"], "null mean": res["null_mean"], "null 2.5 %": res["null_low"],
            "null 97.5 %": res["null_high"], "margin": res["margin"]}


# --- 1. the BIMT MLP ---------------------------------------------------------------------------------------------


@dataclass
class MLPResult:
    """The BIMT MLP and its training: ``history`` as ``bimt_mlp.train`` records it, test ``accuracy`` (0-1)."""

    config: MLPConfig
    model: bimt_mlp.GridMLP
    history: dict
    accuracy: float
    device: str

    @property
    def positions(self) -> list[torch.Tensor]:
        """(n, 2) positions of every layer's neurons in its unit square."""
        return bimt_mlp.layer_positions(self.config.widths)

    @property
    def step_share(self) -> float:
        """This run's steps as a percentage of BIMT's own 40 000."""
        return 100 * self.config.steps / BIMT_MLP_STEPS

    def stages(self) -> dict:
        """{"step s": (weights, out_labels)} at the stored stages, for ``plots.plane_wiring_stages``."""
        return {f"step {step}": (stage["weights"], stage["out_labels"])
                for step, stage in sorted(self.history["stages"].items())}

    def summary(self) -> str:
        h = self.history
        return (f"{h['steps']} steps ({self.step_share:.0f} % of BIMT's 40 000), {h['swaps'][-1]} swaps; "
                f"training took {h['seconds']:.1f} s on {self.device}\n"
                f"BIMT MLP: test accuracy {100 * self.accuracy:.1f} %")

    def glue_values(self) -> dict:
        c, h = self.config, self.history
        return {"mlp_steps": c.steps, "mlp_step_share": self.step_share, "mlp_swap_every": c.swap_every,
                "mlp_swap_rounds": c.steps // c.swap_every, "mlp_swaps": h["swaps"][-1],
                "mlp_test_acc": 100 * self.accuracy, "mlp_best_acc": 100 * max(h["eval_acc"]),
                "mlp_train_seconds": round(h["seconds"], 1)}


def mlp_study(config: Chapter3Config, x_test, y_test, device, progress: bool = True) -> MLPResult:
    """Train (or load) the BIMT MLP of ``config.mlp_config`` and measure its test accuracy."""
    model, history = bimt_mlp.load_or_train(config.mlp_config, device, progress=progress)
    return MLPResult(config.mlp_config, model, history, accuracy(model, x_test, y_test), torch.device(device).type)


# --- 2. modules of the MLP against null models -------------------------------------------------------------------


@dataclass
class MLPModularityResult:
    """Modularity of the MLP's drawn weight graph against both null models, a threshold sweep and its communities.

    ``nulls``: {null: ``bimt.modularity_with_null`` result} at the drawing threshold; ``thresholds``: {τ: rewired
    result}; ``kept_mass``: {τ: share of the total |w| drawn at τ}; ``live``: hidden neurons (layer 1, layer 2)
    with a drawn outgoing weight, of ``hidden_widths``; ``modules``: [(neurons per layer (input, h1, h2, output),
    digits)] of the communities of more than one neuron, largest first; ``inside``: share of the drawn |w| inside
    communities.
    """

    threshold: float
    n_null: int
    n_weights: int
    mlp_accuracy: float
    nulls: dict
    thresholds: dict
    kept_mass: dict
    live: tuple
    hidden_widths: tuple
    modules: list
    inside: float

    @property
    def modular(self) -> bool:
        """Q above the whole 95 % interval of the rewired null at every threshold of the sweep."""
        return all(r["margin"] > 0 for r in self.thresholds.values())

    def nulls_table(self) -> pd.DataFrame:
        return _table({null: _null_row(res) for null, res in self.nulls.items()}, "null model")

    def threshold_table(self) -> pd.DataFrame:
        rows = {tau: {"|w| kept (%)": 100 * self.kept_mass[tau]} | _null_row(res)
                for tau, res in self.thresholds.items()}
        return _table(rows, "threshold")

    def census(self) -> pd.DataFrame:
        """One row per community of more than one neuron: its neurons per layer and the digits it computes."""
        layers = ("input", "hidden 1", "hidden 2", "output")
        rows = [dict(zip(layers, per_layer, strict=True)) | {"digits": digits} for per_layer, digits in self.modules]
        return pd.DataFrame(rows).rename_axis("community")

    def summary(self) -> str:
        (h1, h2), (n1, n2) = self.live, self.hidden_widths
        return (f"hidden neurons with a drawn outgoing weight: {h1} of {n1} (hidden 1), {h2} of {n2} (hidden 2)\n"
                f"share of the drawn |w| inside communities: {100 * self.inside:.0f} %")

    def glue_values(self) -> dict:
        r, margins = self.nulls["rewired"], [res["margin"] for res in self.thresholds.values()]
        n_digits = [len(digits) for _, digits in self.modules]
        return {"draw_threshold": self.threshold, "n_null": self.n_null,
                "mlp_q": r["q"], "mlp_null_mean": r["null_mean"], "mlp_null_low": r["null_low"],
                "mlp_null_high": r["null_high"], "mlp_margin": r["margin"], "mlp_z": r["z"], "mlp_edges": r["edges"],
                "mlp_weights_total": self.n_weights, "mlp_shuffled_mean": self.nulls["shuffled"]["null_mean"],
                "mlp_live_h1": self.live[0], "mlp_live_h2": self.live[1],
                "mlp_min_margin": min(margins), "mlp_max_margin": max(margins),
                "mlp_modules": len(self.modules), "mlp_modules_with_digits": sum(d > 0 for d in n_digits),
                "mlp_modules_without_digits": sum(d == 0 for d in n_digits),
                "mlp_module_digits_max": max(n_digits), "mlp_inside": 100 * self.inside}

    def target_line(self) -> str:
        return (f"BIMT MLP: test accuracy at least 95 %: {self.mlp_accuracy >= 0.95}; modularity above the whole "
                f"95 % interval of the rewired null at every threshold: {self.modular}")

    def check_prose(self) -> None:
        assert self.mlp_accuracy >= 0.95, f"target: >= 95 % test accuracy for the BIMT MLP, got {self.mlp_accuracy}"
        assert self.modular, f"target: Q above the rewired null, margins {self.threshold_table()['margin'].tolist()}"
        assert self.nulls["shuffled"]["margin"] < 0, "the prose says the shuffled null scores higher"
        assert any(digits for _, digits in self.modules), "the prose says the communities hold output digits"


def mlp_modularity_study(mlp: MLPResult, config: Chapter3Config, thresholds=MLP_THRESHOLDS) -> MLPModularityResult:
    """Louvain modularity of the MLP's weight graph (weights ≥ ``config.draw_threshold`` × their layer's largest
    |w|) against ``config.n_null`` rewired and shuffled null graphs, the rewired comparison again at every
    threshold of ``thresholds``, and the census of the communities found at the drawing threshold."""
    tau0, n_null, seed = config.draw_threshold, config.n_null, config.seed
    weights = bimt_mlp.weights(mlp.model)
    graph = bimt.kept_strengths(weights, tau0)
    nulls = {null: bimt.modularity_with_null(graph, n_null, seed, null) for null in NULLS}
    total = sum(w.abs().sum().item() for w in weights)
    sweep, mass = {}, {}
    for tau in thresholds:
        kept = bimt.kept_strengths(weights, tau)
        sweep[tau] = nulls["rewired"] if tau == tau0 else bimt.modularity_with_null(kept, n_null, seed)
        mass[tau] = sum(g.sum().item() for g in kept) / total
    live = tuple(int((g.sum(0) > 0).sum()) for g in graph[1:])  # a drawn weight to the next layer
    labels = mlp.model.out_labels.cpu()
    communities = nulls["rewired"]["communities"]
    modules = [([sum(1 for layer, _ in c if layer == k) for k in range(len(weights) + 1)],
                sorted(int(labels[i]) for layer, i in c if layer == len(weights)))
               for c in sorted((c for c in communities if len(c) > 1), key=len, reverse=True)]
    return MLPModularityResult(tau0, n_null, sum(w.numel() for w in weights), mlp.accuracy, nulls, sweep, mass,
                               live, tuple(mlp.config.widths[1:3]), modules, bimt.within_share(graph, communities))


# --- 3. the wire cost and the swap on the dense primary ----------------------------------------------------------


@dataclass
class SwapCheck:
    """One swap round on a copy of the dense primary: swaps made, connection cost before and after, and the
    largest change of a logit on the first ``SWAP_IMAGES`` test images."""

    n_swaps: int
    cost_before: float
    cost_after: float
    logit_change: float

    def summary(self) -> str:
        change = "< 1e-4" if self.logit_change < 1e-4 else f"{self.logit_change:.2g}"
        return (f"one swap round: {self.n_swaps} swaps, connection cost {self.cost_before:.0f} -> "
                f"{self.cost_after:.0f}\nlargest change of a logit on {SWAP_IMAGES} test images: {change}")

    def check_lines(self) -> str:
        return (f"a swap round never raises the connection cost: {self.cost_after <= self.cost_before}\n"
                f"swaps leave every logit within 1e-4: {self.logit_change < 1e-4}")

    def check(self) -> None:
        assert self.cost_after <= self.cost_before, "a swap round must never raise the connection cost"
        assert self.logit_change < 1e-4, f"swaps moved a logit: {self.logit_change}"


def swap_check(dense: PrimaryCNN, config: BIMTConfig, x: torch.Tensor) -> SwapCheck:
    """One ``bimt.swap_round`` (with ``config``'s A, l0 and top-k) on a copy of ``dense`` (left unchanged)."""
    lengths = bimt.model_lengths(dense, x.device)
    cost = lambda m: bimt.connection_cost(bimt.connection_strengths(m), lengths, config.A, config.l0).item()
    swapped = copy.deepcopy(dense)
    n_swaps = bimt.swap_round(swapped, lengths, config.A, config.l0, config.swap_top_k)
    with torch.no_grad():
        change = (swapped(x[:SWAP_IMAGES]) - dense(x[:SWAP_IMAGES])).abs().max().item()
    return SwapCheck(n_swaps, cost(dense), cost(swapped), change)


# --- 4. the pruned primary ---------------------------------------------------------------------------------------


@dataclass
class PrunedRun:
    """A BIMT + pruning run of the CNN: the ``model`` (pruned weights exactly 0), its ``masks`` and training
    ``history`` (``bimt.train_pruned``), its test ``accuracy`` and ``fc1_share``, the percentage of the
    conv2 -> fc1 connections its wiring diagram draws at the end of training."""

    config: BIMTConfig
    model: PrimaryCNN
    masks: dict
    history: dict
    accuracy: float
    fc1_share: float
    device: str

    @property
    def sparsity(self) -> dict:
        """``bimt.sparsity_report`` of the masks: zero fraction of conv2, fc1 and both ("hidden")."""
        return bimt.sparsity_report(self.masks)

    @property
    def n_kept(self) -> int:
        """Surviving (unpruned) hidden-layer weights."""
        return sum(int(m.sum()) for m in self.masks.values())

    @property
    def n_hidden(self) -> int:
        """All hidden-layer (conv2 + fc1) weights."""
        return sum(m.numel() for m in self.masks.values())

    @property
    def positions(self) -> list[torch.Tensor]:
        """(n, 2) positions of every row's neurons (the CNN's wiring diagrams)."""
        return bimt.neuron_positions(bimt.row_sizes(self.model))

    def masked_weights_are_zero(self) -> bool:
        """Every weight outside the masks is exactly 0."""
        return all(torch.equal(w[~m], torch.zeros_like(w[~m]))
                   for w, m in ((self.model.get_parameter(n), m) for n, m in self.masks.items()))

    def stages(self) -> dict:
        """The wiring at the start, middle and end of training, for ``plots.wiring_stages``."""
        return wiring_stages(self.history)

    def training_summary(self) -> str:
        h = self.history
        return f"{h['steps']} steps, {h['swaps'][-1]} swaps; training took {h['seconds']:.1f} s on {self.device}"


def pruned_run(config: BIMTConfig, x_test, y_test, device, threshold: float, progress: bool = True) -> dict:
    """The fields of a ``PrunedRun`` for ``config``: trained, or loaded from the artifact cache."""
    model, masks, history = bimt.load_or_train_pruned(config, device, progress=progress)
    return {"config": config, "model": model, "masks": masks, "history": history,
            "accuracy": accuracy(model, x_test, y_test),
            "fc1_share": fc1_pair_share(history["wiring"]["end"]["strength"], threshold),
            "device": torch.device(device).type}


@dataclass
class PrunedResult(PrunedRun):
    """The pruned primary beside the ``dense`` primary it was trained from: ``levels``/``one_shot`` are hidden-layer
    sparsities and the test accuracy of the dense primary magnitude-pruned to each in one shot."""

    dense: PrimaryCNN
    dense_accuracy: float
    levels: list
    one_shot: list

    def accuracy_curves(self) -> dict:
        """Keyword arguments of ``plots.accuracy_vs_sparsity``: the checkpoints of training, the one-shot
        baseline, the required corner (90 % sparsity, 98.5 % accuracy) and the step the masks froze."""
        h = self.history
        return {"trained": (h["sparsity"], h["eval_acc"], h["step"]), "one_shot": (self.levels, self.one_shot),
                "target": (0.9, 0.985), "frozen_step": h["prune_steps"][-1]}

    def summary(self) -> str:
        s = self.sparsity
        layers = f"conv2 {100 * s['conv2']:.1f} %, fc1 {100 * s['fc1']:.1f} %"
        pruned = f"test accuracy {100 * self.accuracy:.1f} %, hidden-layer sparsity {100 * s['hidden']:.1f} %"
        return f"dense primary:  test accuracy {100 * self.dense_accuracy:.1f} %\npruned primary: {pruned} ({layers})"

    def glue_values(self) -> dict:
        c, h, s = self.config, self.history, self.sparsity
        at_target = self.one_shot[self.levels.index(round(c.target_sparsity, 3))]
        return {"bimt_lr": c.lr, "bimt_epochs": c.epochs, "bimt_lam": c.lam, "bimt_steps": h["steps"],
                "bimt_train_seconds": round(h["seconds"], 1), "bimt_kept": self.n_kept,
                "bimt_hidden_weights": self.n_hidden,
                "bimt_params": count_parameters(self.model) - (self.n_hidden - self.n_kept),
                "dense_params": count_parameters(self.dense),
                "pruned_test_acc": 100 * self.accuracy, "dense_test_acc": 100 * self.dense_accuracy,
                "pruned_sparsity": 100 * s["hidden"], "pruned_sparsity_conv2": 100 * s["conv2"],
                "pruned_sparsity_fc1": 100 * s["fc1"], "one_shot_acc_at_target": 100 * at_target,
                "cnn_pairs_kept_fc1": self.fc1_share}

    def target_line(self) -> str:
        return (f"pruned primary: hidden-layer sparsity at least 90 %: {self.sparsity['hidden'] >= 0.90}, "
                f"test accuracy at least 98.5 %: {self.accuracy >= 0.985}")

    def check_prose(self) -> None:
        s = self.sparsity["hidden"]
        assert s >= 0.90, f"target: ≥ 90 % hidden-layer sparsity, got {100 * s:.2f} %"
        assert self.accuracy >= 0.985, f"target: ≥ 98.5 % test accuracy, got {100 * self.accuracy:.2f} %"


def pruned_primary_study(config: Chapter3Config, dense: PrimaryCNN, x_test, y_test, device,
                         progress: bool = True) -> PrunedResult:
    """Train (or load) the pruned primary of ``config.bimt_config`` and prune ``dense`` in one shot, without
    retraining, to each level of ``ONE_SHOT_LEVELS`` and to the target sparsity, for the accuracy baseline."""
    bimt_config = config.bimt_config
    levels = sorted(set(ONE_SHOT_LEVELS) | {round(bimt_config.target_sparsity, 3)})
    one_shot = [accuracy(bimt.magnitude_pruned(dense, s, scope=bimt_config.prune_scope), x_test, y_test)
                for s in levels]
    run = pruned_run(bimt_config, x_test, y_test, device, config.draw_threshold, progress)
    return PrunedResult(**run, dense=dense, dense_accuracy=accuracy(dense, x_test, y_test), levels=levels,
                        one_shot=one_shot)


# --- 5. polysemanticity, dense vs pruned -------------------------------------------------------------------------


@dataclass
class PolysemanticityResult:
    """``stats``: {"dense primary" | "pruned primary": ``bimt.polysemanticity`` output}; ``comparison``: the
    ``bimt.compare_polysemanticity`` rows per layer and pooled ("all"); ``dead``: {layer: (dense, pruned)} neurons
    that never fire on the test set."""

    fraction: float
    stats: dict
    comparison: dict
    dead: dict = field(init=False)

    def __post_init__(self):
        self.dead = {layer: tuple(int((~s[layer]["alive"]).sum()) for s in self.stats.values())
                     for layer in POLY_LAYERS}

    @property
    def verdict(self) -> str:
        return self.comparison["all"]["verdict"]

    def live(self) -> dict:
        """{network: {layer: live neurons' n_classes and selectivity}}, for ``plots.polysemanticity_histograms``."""
        return {name: live_stats(s) for name, s in self.stats.items()}

    def table(self) -> pd.DataFrame:
        return _table({layer: _comparison_row(row) for layer, row in self.comparison.items()}, "layer")

    def fraction_table(self, fractions=FRACTIONS) -> pd.DataFrame:
        """Mean number of classes per live neuron at each response fraction f, per layer and network."""
        rows = {}
        for f in fractions:
            rows[f] = {f"{layer}: {name.split()[0]}": bimt.classes_responded(s[layer]["means"], f)[s[layer]["alive"]]
                       .float().mean().item() for layer in POLY_LAYERS for name, s in self.stats.items()}
        return _table(rows, "f")

    def glue_values(self) -> dict:
        out = {"response_fraction": self.fraction}
        for layer, row in self.comparison.items():
            out |= {f"poly_{layer}_classes_dense": row["classes"][0], f"poly_{layer}_classes_pruned": row["classes"][1],
                    f"poly_{layer}_sel_dense": row["selectivity"][0], f"poly_{layer}_sel_pruned": row["selectivity"][1],
                    f"poly_{layer}_p_classes": row["p_classes"], f"poly_{layer}_p_sel": row["p_selectivity"]}
        for layer, (n_dense, n_pruned) in self.dead.items():
            out |= {f"dead_{layer}_dense": n_dense, f"dead_{layer}_pruned": n_pruned}
        shift = max(abs(a - b) for a, b in self.dead.values())
        out["dead_change"] = "barely changes" if shift <= 2 else f"changes by up to {shift} neurons per layer"
        out["dead_conclusion"] = ("the shift is not an artefact of which neurons are counted" if shift <= 2 else
                                  "part of the shift may come from which neurons are counted (the means are over "
                                  "live neurons only)")
        return out

    def check_prose(self) -> None:
        assert self.verdict == "more polysemantic", f"the prose describes the default run, not {self.verdict!r}"


def polysemanticity_study(config: Chapter3Config, dense: PrimaryCNN, pruned: PrimaryCNN, x_test, y_test
                          ) -> PolysemanticityResult:
    """Classes responded to (at ``config.response_fraction``) and class selectivity of every hidden neuron of both
    primaries on the test set, compared with permutation tests (seeded with ``config.seed``)."""
    f = config.response_fraction
    stats = {"dense primary": bimt.polysemanticity(dense, x_test, y_test, f),
             "pruned primary": bimt.polysemanticity(pruned, x_test, y_test, f)}
    comparison = bimt.compare_polysemanticity(stats["dense primary"], stats["pruned primary"], seed=config.seed)
    return PolysemanticityResult(f, stats, comparison)


# --- 6. the two-by-two control -----------------------------------------------------------------------------------


@dataclass
class LadderResult:
    """The dense primary and the four networks of ``bimt.ablation_configs``: ``networks``, test ``accuracies``,
    ``stats`` (``bimt.polysemanticity``), ``sparsity`` (zero fraction of the hidden weights) and ``effects``:
    {change: pooled ``compare_polysemanticity`` row} for each change of ``EFFECTS``."""

    networks: dict
    accuracies: dict
    stats: dict
    sparsity: dict
    effects: dict

    def networks_table(self) -> pd.DataFrame:
        return _table({name: {"test accuracy (%)": 100 * acc, "hidden sparsity (%)": 100 * self.sparsity[name]}
                       for name, acc in self.accuracies.items()}, "network")

    def effects_table(self) -> pd.DataFrame:
        rows = {name: _comparison_row(row, ("before", "after"), live=False) for name, row in self.effects.items()}
        return _table(rows, "change (all live hidden neurons)")

    def glue_values(self) -> dict:
        out = {}
        for name, (key, _, _) in EFFECTS.items():
            row = self.effects[name]
            out |= {f"effect_{key}_classes": row["classes"][1], f"effect_{key}_sel": row["selectivity"][1],
                    f"effect_{key}_p_classes": row["p_classes"], f"effect_{key}_p_sel": row["p_selectivity"]}
        wire = self.effects["wire cost alone"]
        return out | {"ft_classes": wire["classes"][0], "ft_sel": wire["selectivity"][0],
                      "acc_pruning_only": 100 * self.accuracies["pruning only"],
                      "acc_bimt_pruning": 100 * self.accuracies["BIMT + pruning"]}

    def verdict_lines(self) -> str:
        return "\n".join(f"{name}: {self.effects[name]['verdict']}"
                         for name in ("fine-tuning alone", "wire cost alone", "pruning on top of wire cost"))

    def check_prose(self) -> None:
        expected = {"fine-tuning alone": "no significant change", "wire cost alone": "more polysemantic",
                    "pruning on top of wire cost": "no significant change"}
        for name, verdict in expected.items():
            got = self.effects[name]["verdict"]
            assert got == verdict, f"the prose assumes {name}: {verdict!r}, but the run gives {got!r}"
        alone, wire = self.effects["pruning alone"], self.effects["wire cost alone"]
        assert wire["classes"][0] < alone["classes"][1] < wire["classes"][1], "prose: pruning alone moves less far"
        assert wire["selectivity"][0] > alone["selectivity"][1] > wire["selectivity"][1], "prose: pruning alone, less"
        gap = abs(self.accuracies["pruning only"] - self.accuracies["BIMT + pruning"])
        assert gap <= 0.003, f"prose: at this strength the wire cost moves the accuracy by ≤ 0.3 points, not {gap}"


def ladder_study(config: Chapter3Config, pruned: PrunedResult, poly: PolysemanticityResult, x_test, y_test, device,
                 progress: bool = True) -> LadderResult:
    """Train (or load) the controls of ``bimt.ablation_configs`` from the same dense start, measure each network's
    accuracy, hidden sparsity and polysemanticity (the two primaries' are reused from ``pruned`` and ``poly``), and
    compare the networks pairwise along ``EFFECTS``."""
    networks = {"dense primary": pruned.dense}
    for name, cfg in bimt.ablation_configs(pruned.config).items():
        networks[name] = pruned.model if cfg == pruned.config else bimt.load_or_train_pruned(cfg, device,
                                                                                            progress=progress)[0]
    known = {"dense primary": (poly.stats["dense primary"], pruned.dense_accuracy),
             "BIMT + pruning": (poly.stats["pruned primary"], pruned.accuracy)}
    stats, accuracies, sparsity = {}, {}, {}
    for name, net in networks.items():
        stats[name], accuracies[name] = known.get(name) or (
            bimt.polysemanticity(net, x_test, y_test, config.response_fraction), accuracy(net, x_test, y_test))
        sparsity[name] = sum(int((net.get_parameter(k) == 0).sum()) for k in pruned.masks) / pruned.n_hidden
    effects = {name: bimt.compare_polysemanticity(stats[a], stats[b], seed=config.seed)["all"]
               for name, (_, a, b) in EFFECTS.items()}
    return LadderResult(networks, accuracies, stats, sparsity, effects)


# --- 7. the longer run -------------------------------------------------------------------------------------------


@dataclass
class LongRunResult(PrunedRun):
    """The longer BIMT + pruning run of the CNN (``config.long_config``) with ``comparison``, the pooled
    ``compare_polysemanticity`` row from the dense primary to this network, beside the pruned primary's accuracy
    and drawn conv2 -> fc1 share."""

    comparison: dict
    pruned_accuracy: float
    pruned_fc1_share: float

    def summary(self) -> str:
        return (f"{self.training_summary()}\n"
                f"longer run: test accuracy {100 * self.accuracy:.1f} %, hidden-layer sparsity "
                f"{100 * self.sparsity['hidden']:.1f} %")

    def polysemanticity_summary(self) -> str:
        c = self.comparison
        return (f"dense -> longer run, all live hidden neurons: mean classes {c['classes'][0]:.2f} -> "
                f"{c['classes'][1]:.2f} (p = {c['p_classes']:.4f}), mean selectivity {c['selectivity'][0]:.2f} -> "
                f"{c['selectivity'][1]:.2f} (p = {c['p_selectivity']:.4f}): {c['verdict']}\n"
                f"conv2 -> fc1 connections drawn at the end: pruned primary {self.pruned_fc1_share:.0f} %, "
                f"longer run {self.fc1_share:.0f} %")

    def glue_values(self) -> dict:
        c, s = self.comparison, self.sparsity
        return {"long_epochs": self.config.epochs, "long_lam": self.config.lam, "long_steps": self.history["steps"],
                "long_test_acc": 100 * self.accuracy, "long_sparsity": 100 * s["hidden"],
                "long_sparsity_fc1": 100 * s["fc1"], "long_classes": c["classes"][1], "long_sel": c["selectivity"][1],
                "long_p_classes": c["p_classes"], "long_p_sel": c["p_selectivity"], "long_pairs_fc1": self.fc1_share,
                "long_live": c["live"][1], "dense_live": c["live"][0]}

    def check_prose(self) -> None:
        c = self.comparison
        assert c["verdict"] == "more polysemantic", f"the prose says so: {c}"
        assert c["live"][1] < c["live"][0], "the prose says live neurons are lost"
        assert self.accuracy < self.pruned_accuracy, "the prose says the longer run pays in accuracy"
        assert self.fc1_share < self.pruned_fc1_share / 2, (
            f"prose: the longer run draws far fewer conv2 -> fc1 pairs ({self.fc1_share}, {self.pruned_fc1_share})")


def long_run_study(config: Chapter3Config, pruned: PrunedResult, poly: PolysemanticityResult, x_test, y_test,
                   device, progress: bool = True) -> LongRunResult:
    """Train (or load) the longer run of ``config.long_config`` and compare its hidden neurons with the dense
    primary's (``poly``), and its drawn conv2 -> fc1 connections with the pruned primary's."""
    run = pruned_run(config.long_config, x_test, y_test, device, config.draw_threshold, progress)
    stats = bimt.polysemanticity(run["model"], x_test, y_test, config.response_fraction)
    comparison = bimt.compare_polysemanticity(poly.stats["dense primary"], stats, seed=config.seed)["all"]
    return LongRunResult(**run, comparison=comparison, pruned_accuracy=pruned.accuracy,
                         pruned_fc1_share=pruned.fc1_share)


# --- 8. modularity of the CNNs -----------------------------------------------------------------------------------


@dataclass
class CNNModularityResult:
    """{network: {null: ``bimt.modularity_with_null`` result}} for the CNNs (``cnn``) beside the MLP's (``mlp``);
    ``margins``: each CNN's margin over the upper end of its rewired null's interval."""

    mlp: dict
    cnn: dict

    @property
    def margins(self) -> dict:
        return {name: res["rewired"]["margin"] for name, res in self.cnn.items()}

    @property
    def all_weak(self) -> bool:
        """Every CNN's rewired margin below a quarter of the MLP's."""
        return all(m < self.mlp["rewired"]["margin"] / 4 for m in self.margins.values())

    def intervals(self) -> dict:
        """{network: {null: result}}, the MLP first, for ``plots.modularity_intervals``."""
        return {"BIMT MLP": self.mlp} | self.cnn

    def table(self) -> pd.DataFrame:
        rows = {}
        for name, res in self.intervals().items():
            r, s = res["rewired"], res["shuffled"]
            rows[name] = {"edges": r["edges"], "Q": r["q"], "rewired mean": r["null_mean"],
                          "rewired 2.5 %": r["null_low"], "rewired 97.5 %": r["null_high"], "margin": r["margin"],
                          "shuffled mean": s["null_mean"], "shuffled 2.5 %": s["null_low"],
                          "shuffled 97.5 %": s["null_high"]}
        return _table(rows, "network")

    def glue_values(self) -> dict:
        out = {}
        for key, name in (("dense", "dense primary"), ("pruned", "BIMT + pruning"), ("long", LONG_NAME)):
            r = self.cnn[name]["rewired"]
            out |= {f"q_{key}": r["q"], f"q_{key}_null": r["null_mean"], f"q_{key}_null_high": r["null_high"],
                    f"q_{key}_margin": r["margin"], f"q_{key}_shuffled": self.cnn[name]["shuffled"]["null_mean"]}
        top = max(self.margins.values())
        long = self.cnn[LONG_NAME]["rewired"]
        return out | {"cnn_max_margin": top, "cnn_margin_ratio": 100 * top / self.mlp["rewired"]["margin"],
                      "long_edges": long["edges"], "long_z": long["z"]}

    def check_lines(self, mlp: MLPModularityResult, long: LongRunResult) -> str:
        """The chapter's modularity findings, true or false on this run."""
        return (f"BIMT MLP above the whole 95 % interval of its rewired null: {mlp.modular}\n"
                f"every CNN's margin over its rewired null below a quarter of the MLP's: {self.all_weak}\n"
                f"longer CNN run inside or below its rewired null: {self.margins[LONG_NAME] <= 0}\n"
                f"longer CNN run vs dense primary: {long.comparison['verdict']}")

    def check_prose(self) -> None:
        assert self.all_weak, f"the prose says no CNN comes near the MLP's margin: {self.margins}"
        assert self.margins[LONG_NAME] <= 0, "the prose says the longer run is not above its null"
        below = all(res["shuffled"]["margin"] < 0 for res in self.cnn.values())
        assert below, "the prose says every CNN is below its shuffled null"


def cnn_modularity_study(config: Chapter3Config, mlp: MLPModularityResult, ladder: LadderResult,
                         long: LongRunResult) -> CNNModularityResult:
    """Modularity against both null models (as for the MLP) of the drawn weight graph of every network of the
    two-by-two control and of the longer run."""
    networks = ladder.networks | {LONG_NAME: long.model}
    cnn = {name: cnn_modularity(net, config.draw_threshold, config.n_null, config.seed)
           for name, net in networks.items()}
    return CNNModularityResult(mlp.nulls, cnn)
