"""The experiments of chapter 6 as stage functions: one measurement, one place.

Chapter 6 calls one stage per section; a replication chain (``replication.run_chain``) is the same calls under
another seed. Every stage reads the networks of one seed from a ``Setting`` (the primaries of chapters 2-3, the
symbiotes of chapter 4, the test images) and returns a result object with the tensors its figures draw, a
``table()`` the chapter prints and ``glue_values()`` the chapter glues (the names its prose uses).

``CircuitsConfig`` is the one definition of chapter 6's parameters: the chapter's parameter cell holds the same
values (a unit test compares them) and builds its config from them; a chain is ``CircuitsConfig(seed=s)``.
"""

from dataclasses import dataclass, field, replace

import pandas as pd
import torch

from symbiote_lite import bimt
from symbiote_lite import circuits as C
from symbiote_lite import editors as E
from symbiote_lite.artifacts import config_hash
from symbiote_lite.baselines import BaselineConfig
from symbiote_lite.data import train_val_split
from symbiote_lite.metrics import N_DIGITS, class_means, scores_under
from symbiote_lite.networks import load_primaries, primary_configs
from symbiote_lite.primary import count_parameters, load_or_train, predict
from symbiote_lite.symbiote import SymbioteConfig, edited_logits, edited_predict, load_or_train_symbiote

LAYERS = ("fc1", "conv2")  # the hidden layers whose neurons get an ablation importance and an edit size
VARIANT_NAMES = {"mono": "monosemantic", "poly": "polysemantic"}


@dataclass(frozen=True)
class CircuitsConfig:
    """Chapter 6's parameters (its defaults are the book's); ``seed`` seeds every network and random choice here
    (``seed=0``: the networks of chapters 2-4; another seed trains its own, primaries included)."""

    seed: int = 0
    steps: int = 120  # steps of the planted-circuit symbiotes and of the size sweep ...
    batch_size: int = 96  # ... and their images per step (chapter 4's recipe otherwise)
    held_out: int = 15  # two-digit interventions (of the 45) the size sweep never trains on
    sizes: tuple = ((8, 2), (32, 12), (64, 48))  # (trunk width, rank) of the size sweep
    steer_lr_factors: tuple = (1.0,)  # learning rates of the steering symbiote, as multiples of the symbiote's
    n_pair_images: int = 2000  # test images for the many two-digit evaluations
    n_null: int = 1000  # random rankings that give the chance level of a correlation

    @property
    def recipe(self) -> SymbioteConfig:
        """Chapter 4's symbiote recipe under this seed."""
        return replace(SymbioteConfig(), seed=self.seed)

    def short(self, **changes) -> SymbioteConfig:
        """The recipe at this chapter's steps and batch size (planted circuits, size sweep)."""
        return E.with_steps(self.recipe, self.steps, batch_size=self.batch_size, **changes)


@dataclass
class Setting:
    """The networks and images every stage of one seed reads (data passed in, networks from the cache)."""

    config: CircuitsConfig
    x_test: torch.Tensor
    y_test: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    primaries: dict  # {"dense"/"pruned": (model, masks, key)}
    symbiotes: dict  # {"dense"/"pruned": chapter 4's symbiote under the seed}
    sym_seconds: float  # training wall time of the dense primary's symbiote
    primary_seconds: float  # training wall time of the dense primary
    eye: torch.Tensor = field(init=False)  # (10, 10): the ten single-digit interventions

    def __post_init__(self):
        self.eye = torch.eye(N_DIGITS, device=self.x_test.device)

    @property
    def dense(self):
        return self.primaries["dense"][0]

    @property
    def dense_key(self) -> str:
        return self.primaries["dense"][2]

    def base_pred(self, label: str = "dense") -> torch.Tensor:
        """The unedited primary's test predictions (N,)."""
        return predict(self.primaries[label][0], self.x_test)


def setting(config: CircuitsConfig, device, train: tuple, test: tuple, progress: bool = False) -> Setting:
    """Load (or train) the networks of ``config.seed``: primaries, chapter 4's symbiotes on both; ``train`` and
    ``test`` are (images, labels) of MNIST's two splits (the validation split is cut from ``train``)."""
    recipe = config.recipe
    primaries = load_primaries(device, progress=progress, seed=config.seed)
    _, primary_history = load_or_train(primary_configs(config.seed)[0], device, progress=progress)
    symbiotes, seconds = {}, {}
    for label, (model, masks, key) in primaries.items():
        symbiotes[label], history = load_or_train_symbiote(model, masks, recipe, label, key, progress=progress)
        seconds[label] = history["seconds"]
    (_, _), (x_val, y_val) = train_val_split(*train, recipe.val_size, recipe.seed)
    return Setting(config, test[0], test[1], x_val, y_val, primaries, symbiotes, seconds["dense"],
                   primary_history["seconds"])


def _scores(s: dict) -> dict:
    """Mean and worst forget (%) and retain drop (points) of ``metrics.scores_under``'s output."""
    return {"forget (%, mean)": 100 * s["forget"].mean().item(), "forget (%, worst)": 100 * s["forget"].max().item(),
            "retain drop (points, mean)": 100 * s["retain_drop"].mean().item(),
            "retain drop (points, worst)": 100 * s["retain_drop"].max().item()}


def central_95(values: torch.Tensor) -> tuple[float, float]:
    """The interval holding the central 95 % of ``values`` (all entries pooled)."""
    q = torch.tensor([0.025, 0.975], dtype=torch.float64)
    return tuple(values.flatten().double().quantile(q).tolist())


# --- 1. planted circuits -----------------------------------------------------------------------------------------


@dataclass
class PlantedResult:
    """Per planted variant ("mono", "poly"): the primary's own numbers, its circuits' ablation and its symbiote."""

    networks: dict  # {kind: planted PrimaryCNN}
    members: dict  # {kind: (10, 64) 0/1 membership of the fc1 units in each class's circuit}
    ablation: dict  # {kind: (10, 10) accuracy of class (column) after zeroing the circuit of class (row)}
    primary_rows: dict  # {kind: {column: number}}
    symbiote_rows: dict  # {kind: {column: number}}
    edit_norms: dict  # {kind: (10, 64) size of the symbiote's diff of each fc1 unit per single-digit edit}
    auroc: dict  # {kind: (10,) AUROC of the edit sizes for the circuit of each class}
    null_auroc: dict  # {kind: (n_null, 10) AUROC of random rankings}

    def primary_table(self) -> pd.DataFrame:
        return pd.DataFrame.from_dict(
            {VARIANT_NAMES[k]: v for k, v in self.primary_rows.items()}, orient="index").rename_axis("variant")

    def table(self) -> pd.DataFrame:
        return pd.DataFrame.from_dict(
            {VARIANT_NAMES[k]: v for k, v in self.symbiote_rows.items()}, orient="index").rename_axis("variant")

    def glue_values(self) -> dict:
        out = {}
        for kind in C.KINDS:
            p = self.primary_rows[kind]
            out |= {f"planted_{kind}_acc": p["test accuracy (%)"],
                    f"planted_{kind}_classes_per_unit": p["classes per unit"],
                    f"planted_{kind}_other_drop": p["other classes: largest drop (points)"]}
        for kind in C.KINDS:
            s = self.symbiote_rows[kind]
            out |= {f"planted_{kind}_auroc": s["AUROC symbiote"],
                    f"planted_{kind}_precision": s["precision@|S| symbiote"],
                    f"planted_{kind}_auroc_ablation": s["AUROC ablation"],
                    f"planted_{kind}_auroc_null": s["AUROC chance (97.5 %)"],
                    f"planted_{kind}_forget": s["forget (%, mean)"],
                    f"planted_{kind}_drop": s["retain drop (points, mean)"]}
        return out


def planted_stage(s: Setting, progress: bool = False) -> PlantedResult:
    """Section 1: plant a known circuit per class in a copy of the dense primary (monosemantic and polysemantic),
    check what ablating it does, train a symbiote on each (at the config's steps) and score how well its per-unit
    diff sizes find the circuit (AUROC, precision@|S|) beside ablation importance and random rankings."""
    config, x, y, eye = s.config, s.x_test, s.y_test, s.eye
    out = PlantedResult({}, {}, {}, {}, {}, {}, {}, {})
    off = ~torch.eye(N_DIGITS, dtype=torch.bool)
    for kind in C.KINDS:
        planted_config = C.PlantedConfig(kind=kind, seed=config.seed)
        model = C.load_or_plant(s.dense, planted_config, s.dense_key)
        key = config_hash(C.PlantedRun(planted_config, s.dense_key))
        member = C.membership(kind, s.dense.fc1.out_features).to(x.device)
        pred = predict(model, x)
        base_acc = C.per_class_accuracy_matrix(pred[None], y)[0].cpu()
        acc = C.per_class_accuracy_matrix(C.ablated_logits(model, x, member).argmax(-1), y).cpu()
        _, h = C.fc1_activations(model, x)
        responds = bimt.classes_responded(class_means(h, y), 0.5).float()  # classes per unit (≥ ½ its max)
        out.networks[kind], out.members[kind], out.ablation[kind] = model, member, acc
        out.primary_rows[kind] = {
            "test accuracy (%)": 100 * (pred == y).float().mean().item(),
            "classes per unit": responds.mean().item(),
            "own class after ablation (%, worst)": 100 * acc.diagonal().max().item(),
            "other classes: largest drop (points)": 100 * (base_acc[None].expand_as(acc) - acc)[off].max().item(),
            "other classes: mean accuracy (%)": 100 * acc[off].mean().item(),
        }
        sym, _ = load_or_train_symbiote(model, None, config.short(), f"planted-{kind}", key, progress=progress)
        with torch.no_grad():
            diffs = sym(eye)
        scores = scores_under(edited_predict(model, diffs, x), y, eye, base=pred)
        norms = C.neuron_edit_norms(diffs, "fc1")  # (10, 64)
        null = C.random_auroc(member.cpu(), config.n_null, config.seed)  # (n_null, 10)
        out.edit_norms[kind], out.auroc[kind], out.null_auroc[kind] = norms.cpu(), C.auroc(norms, member).cpu(), null
        out.symbiote_rows[kind] = {
            "forget (%, mean)": 100 * scores["forget"].mean().item(),
            "retain drop (points, mean)": 100 * scores["retain_drop"].mean().item(),
            "AUROC symbiote": out.auroc[kind].mean().item(),
            "precision@|S| symbiote": C.precision_at_k(norms, member).mean().item(),
            "AUROC ablation": C.auroc(C.fc1_ablation_importance(model, x, y), member).mean().item(),
            "AUROC chance (97.5 %)": null.mean(1).quantile(0.975).item(),
        }
    return out


# --- 2. attribution agreement ------------------------------------------------------------------------------------


def agreement(edit: dict, importance: dict) -> dict:
    """Per layer: Spearman correlation per digit between edit size and ablation importance (10,), the cross matrix
    edit-for-d vs importance-for-d' (10, 10), and the cosine similarity between the ten digits' edits (10, 10)."""
    out = {}
    for layer, imp in importance.items():
        norms = C.neuron_edit_norms(edit, layer)  # (10, neurons)
        out[layer] = {"rho": C.spearman(norms, imp).cpu(), "cross": C.spearman(norms[:, None], imp[None]).cpu(),
                      "cos": C.edit_cosine(edit, layer).cpu()}
    return out


def agreement_row(a: dict) -> dict:
    """One method's row of the agreement table: mean ρ, own − other digits, mean cosine between digits."""
    row, off = {}, ~torch.eye(N_DIGITS, dtype=torch.bool)
    for layer, v in a.items():
        row[f"ρ {layer} (mean)"] = v["rho"].mean().item()
        row[f"own − other digits {layer}"] = (v["cross"].diagonal().mean() - v["cross"][off].mean()).item()
        row[f"cos between digits {layer}"] = v["cos"][off].mean().item()
    return row


@dataclass
class AttributionResult:
    """Ablation importance per layer, its chance level, and the agreement of each method's edit with it."""

    importance: dict  # {layer: (10, neurons) ablation importance}
    null: dict  # {layer: (n_null, 10) Spearman ρ of random rankings}
    agree: dict  # {method: agreement(...)}: "symbiote", "direct optimisation"
    direct_steps: int
    direct_diffs: dict = field(repr=False)

    @property
    def chance(self) -> dict:
        """Per layer, the 97.5 % quantile of a random ranking's mean ρ."""
        return {layer: v.mean(1).quantile(0.975).item() for layer, v in self.null.items()}

    @property
    def spread(self) -> dict:
        """Per layer, the chance spread: 97.5 % quantile minus median of a random ranking's mean ρ."""
        return {layer: (v.mean(1).quantile(0.975) - v.mean(1).median()).item() for layer, v in self.null.items()}

    def rho(self, method: str) -> dict:
        """Mean ρ per layer of one method."""
        return {layer: v["rho"].mean().item() for layer, v in self.agree[method].items()}

    def table(self) -> pd.DataFrame:
        df = pd.DataFrame({m: agreement_row(a) for m, a in self.agree.items()}).T
        df.loc["random (97.5 % of the mean)"] = {f"ρ {layer} (mean)": c for layer, c in self.chance.items()}
        return df

    def glue_values(self) -> dict:
        df, out = self.table(), {"direct_steps": self.direct_steps}
        for layer in self.importance:
            out |= {f"rho_{layer}_symbiote": df.loc["symbiote", f"ρ {layer} (mean)"],
                    f"rho_{layer}_direct": df.loc["direct optimisation", f"ρ {layer} (mean)"],
                    f"rho_{layer}_chance": self.chance[layer],
                    f"specificity_{layer}_symbiote": df.loc["symbiote", f"own − other digits {layer}"],
                    f"cos_{layer}_symbiote": df.loc["symbiote", f"cos between digits {layer}"],
                    f"cos_{layer}_direct": df.loc["direct optimisation", f"cos between digits {layer}"]}
        return out


def attribution_stage(s: Setting, progress: bool = False) -> AttributionResult:
    """Section 2: ablation importance of every fc1 unit and conv2 channel per digit on the dense primary, random
    rankings for chance, and the Spearman agreement of the symbiote's and of direct optimisation's edit sizes."""
    dense, x, y, config = s.dense, s.x_test, s.y_test, s.config
    importance = {"fc1": C.fc1_ablation_importance(dense, x, y), "conv2": C.conv2_ablation_importance(dense, x, y)}
    null = {layer: C.random_spearman(imp, config.n_null, config.seed) for layer, imp in importance.items()}
    run = E.DirectRun(config.recipe, BaselineConfig().direct_steps, s.dense_key)
    direct, _ = E.load_or_optimise_direct(run, dense, progress=progress)
    with torch.no_grad():
        sym_diffs = s.symbiotes["dense"](s.eye)
    agree = {"symbiote": agreement(sym_diffs, importance), "direct optimisation": agreement(direct, importance)}
    return AttributionResult(importance, null, agree, run.steps, direct)


# --- 3. weights or activations -----------------------------------------------------------------------------------


@dataclass
class SteeringResult:
    """The steering symbiote (learning rate chosen on the validation split) against the weight symbiote."""

    lr_table: pd.DataFrame  # learning rate, validation loss of each steering run
    lr: float  # the chosen learning rate
    scores: dict  # {"symbiote (weights)" / "steering (activations)": metrics.scores_under(...)}
    rows: dict  # {method: table row}

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows).T

    def glue_values(self) -> dict:
        out = {"n_steer_lrs": len(self.lr_table), "steer_lr": self.lr}
        for key, name in (("weights", "symbiote (weights)"), ("steering", "steering (activations)")):
            row = self.rows[name]
            for col, short in (("forget (%, mean)", "forget"), ("retain drop (points, mean)", "drop"),
                               ("forget (%, worst)", "forget_worst"), ("retain drop (points, worst)", "drop_worst"),
                               ("ρ fc1 (mean)", "rho_fc1"), ("parameters", "params")):
                out[f"{key}_{short}"] = row[col]
        return out


def tuned_steering(config: CircuitsConfig, dense, dense_key: str, x_val, y_val, progress: bool = False):
    """The steering editor at each learning-rate factor of ``config.steer_lr_factors`` (trained or loaded), and the
    one of lowest validation loss: ``(best editor, [{"learning rate", "validation loss"} per factor])``."""
    recipe = config.recipe
    eye = torch.eye(N_DIGITS, device=x_val.device)
    rows, best = [], None
    for factor in config.steer_lr_factors:
        run = E.EditorRun("steering", replace(recipe, lr=recipe.lr * factor), dense_key)
        editor, _ = E.load_or_train_editor(run, dense, progress=progress)
        with torch.no_grad():
            val = E.validation_loss(E.steered_logits, dense, editor(eye), x_val, y_val, eye, recipe.inhibit_weight)
        rows.append({"learning rate": recipe.lr * factor, "validation loss": val})
        if best is None or val < best[0]:  # the first of equal losses
            best = (val, editor)
    return best[1], rows


def steering_stage(s: Setting, attribution: AttributionResult, progress: bool = False) -> SteeringResult:
    """Section 3: train the steering symbiote at each learning-rate factor, keep the lowest validation loss, and
    score it and the weight symbiote on the test set (forget, retain drop, attribution agreement)."""
    config, dense, eye, recipe = s.config, s.dense, s.eye, s.config.recipe
    steering, lr_rows = tuned_steering(config, dense, s.dense_key, s.x_val, s.y_val, progress)
    lr_table = pd.DataFrame(lr_rows)
    best = config.steer_lr_factors[int(lr_table["validation loss"].idxmin())]
    symbiote = s.symbiotes["dense"]
    base = s.base_pred()
    with torch.no_grad():
        offsets, diffs = steering(eye), symbiote(eye)
        sym_val = E.validation_loss(edited_logits, dense, diffs, s.x_val, s.y_val, eye, recipe.inhibit_weight)
    editors = {
        "symbiote (weights)": (symbiote, edited_predict(dense, diffs, s.x_test), sym_val,
                               attribution.agree["symbiote"]),
        "steering (activations)": (steering, E.predict_under(E.steered_logits, dense, offsets, s.x_test),
                                   lr_table["validation loss"].min(), agreement(offsets, attribution.importance)),
    }
    scores, rows = {}, {}
    for name, (editor, pred, val, agree) in editors.items():
        scores[name] = scores_under(pred, s.y_test, eye, base=base)
        rows[name] = {"parameters": count_parameters(editor), **_scores(scores[name]), "validation loss": val,
                      "ρ fc1 (mean)": agree["fc1"]["rho"].mean().item(),
                      "ρ conv2 (mean)": agree["conv2"]["rho"].mean().item()}
    return SteeringResult(lr_table, recipe.lr * best, scores, rows)


# --- 4-5. generalisation and size --------------------------------------------------------------------------------

SWEEP_COLUMNS = {  # table column -> glue suffix
    "forget single (%)": "forget", "drop single (points)": "drop", "ρ fc1": "rho_fc1", "ρ conv2": "rho_conv2",
    "forget seen pairs (%)": "seen_forget", "drop seen pairs (points)": "seen_drop",
    "forget held-out pairs (%)": "held_forget", "drop held-out pairs (points)": "held_drop",
}


def half_and_largest(fractions: list[float]) -> tuple[int, int]:
    """Indices of the size-sweep entries the compression rule compares: the largest at most half the primary (the
    smallest if none is), and the largest of all."""
    under = [i for i, f in enumerate(fractions) if f <= 0.5]
    half = max(under, key=fractions.__getitem__) if under else min(range(len(fractions)), key=fractions.__getitem__)
    return half, max(range(len(fractions)), key=fractions.__getitem__)


@dataclass
class SweepResult:
    """One symbiote per (width, rank), trained on the seen pairs only; scored on single digits, seen and held-out
    pairs, with its attribution agreement."""

    n_seen_pairs: int
    held_out: int
    n_pair_images: int
    rows: list  # one dict per size: "width", "rank", "fraction", the SWEEP_COLUMNS numbers
    groups: list  # per size: {"single digits"/"seen pairs"/"held-out pairs": metrics.scores_under(...)}

    @property
    def fractions(self) -> list[float]:
        return [r["fraction"] for r in self.rows]

    def table(self) -> pd.DataFrame:
        df = pd.DataFrame([{"width × rank": f"{r['width']} × {r['rank']}", "parameters / primary": r["fraction"],
                            **{c: r[c] for c in SWEEP_COLUMNS}} for r in self.rows])
        return df.set_index("width × rank")

    def picks(self) -> dict[str, int]:
        """Indices of the half-size, the largest and the smallest symbiote."""
        half, largest = half_and_largest(self.fractions)
        return {"half": half, "largest": largest, "tiny": min(range(len(self.rows)), key=self.fractions.__getitem__)}

    def glue_values(self) -> dict:
        out = {"n_seen_pairs": self.n_seen_pairs, "held_out": self.held_out, "n_pair_images": self.n_pair_images}
        names = self.table().index
        for tag, i in self.picks().items():
            out |= {f"sweep_{tag}_name": names[i], f"sweep_{tag}_fraction": 100 * self.rows[i]["fraction"]}
            out |= {f"sweep_{tag}_{key}": self.rows[i][col] for col, key in SWEEP_COLUMNS.items()}
        return out


def sweep_stage(s: Setting, attribution: AttributionResult, progress: bool = False) -> SweepResult:
    """Sections 4-5: symbiotes from tiny to larger than the primary (half-size rule lifted), each trained at the
    config's steps on all but ``held_out`` pairs; forget/retain on single digits, seen and held-out pairs (the first
    ``n_pair_images`` test images) and attribution agreement with ablation."""
    config, dense, eye = s.config, s.dense, s.eye
    seen_pairs, held_pairs = E.split_pairs(config.held_out, config.seed)
    z_seen, z_held = E.interventions_of(seen_pairs).to(eye.device), E.interventions_of(held_pairs).to(eye.device)
    n = config.n_pair_images
    x_pairs, y_pairs = s.x_test[:n], s.y_test[:n]
    base = s.base_pred()
    n_primary = count_parameters(dense)
    rows, groups = [], []
    for width, rank in config.sizes:
        run = E.EditorRun("weights", config.short(hidden=width, rank=rank, max_fraction=4.0), s.dense_key,
                          held_out=config.held_out)
        sym, _ = E.load_or_train_editor(run, dense, progress=progress)
        with torch.no_grad():
            singles = scores_under(edited_predict(dense, sym(eye), s.x_test), s.y_test, eye, base=base)
            seen = scores_under(edited_predict(dense, sym(z_seen), x_pairs), y_pairs, z_seen, base=base[:n])
            held = scores_under(edited_predict(dense, sym(z_held), x_pairs), y_pairs, z_held, base=base[:n])
            rho = {layer: v["rho"].mean().item() for layer, v in agreement(sym(eye), attribution.importance).items()}
        groups.append({"single digits": singles, "seen pairs": seen, "held-out pairs": held})
        rows.append({"width": width, "rank": rank, "fraction": count_parameters(sym) / n_primary,
                     "forget single (%)": 100 * singles["forget"].mean().item(),
                     "drop single (points)": 100 * singles["retain_drop"].mean().item(),
                     "forget seen pairs (%)": 100 * seen["forget"].mean().item(),
                     "drop seen pairs (points)": 100 * seen["retain_drop"].mean().item(),
                     "forget held-out pairs (%)": 100 * held["forget"].mean().item(),
                     "drop held-out pairs (points)": 100 * held["retain_drop"].mean().item(),
                     "ρ fc1": rho["fc1"], "ρ conv2": rho["conv2"]})
    return SweepResult(len(seen_pairs), config.held_out, n, rows, groups)


# --- the claims' remaining measurements --------------------------------------------------------------------------


@dataclass
class PrimaryResult:
    """Per-digit scores of chapter 4's symbiote on both primaries, the training-time ratio and chapter 3's
    polysemanticity comparison (dense vs pruned)."""

    per_digit: dict  # {"dense"/"pruned": {"forget": [10], "retain_drop": [10]}} (fractions)
    sym_seconds: float
    primary_seconds: float
    poly: dict  # bimt.compare_polysemanticity(...)["all"]
    test_counts: list  # test images per digit: the number of images each forget rate is over


def primary_stage(s: Setting) -> PrimaryResult:
    """Score chapter 4's symbiote on every single digit of both primaries and compare their polysemanticity."""
    per_digit = {}
    with torch.no_grad():
        for label, (model, _, _) in s.primaries.items():
            sc = scores_under(edited_predict(model, s.symbiotes[label](s.eye), s.x_test), s.y_test, s.eye,
                                base=s.base_pred(label))
            per_digit[label] = {"forget": sc["forget"].tolist(), "retain_drop": sc["retain_drop"].tolist()}
    poly = bimt.compare_polysemanticity(bimt.polysemanticity(s.dense, s.x_test, s.y_test, 0.5),
                                        bimt.polysemanticity(s.primaries["pruned"][0], s.x_test, s.y_test, 0.5),
                                        seed=s.config.seed)["all"]
    counts = torch.bincount(s.y_test.cpu(), minlength=N_DIGITS).tolist()
    return PrimaryResult(per_digit, s.sym_seconds, s.primary_seconds, poly, counts)


STAGES = ("planted_stage", "attribution_stage", "steering_stage", "sweep_stage", "primary_stage")


def chain_record(primary: PrimaryResult, attribution: AttributionResult, steering: SteeringResult,
                 sweep: SweepResult, planted: PlantedResult, seed: int) -> dict:
    """The stages' results as the plain numbers a replication chain caches (``replication.claim_numbers`` reads
    them): fractions for forget/drop and the test images per digit they are over, mean ρ per layer, its chance level
    and spread per layer and the digit-mean ρ of every random ranking (for a null pooled over chains), AUROCs."""
    poly = primary.poly
    steer = steering.scores["steering (activations)"]
    return {
        "seed": seed,
        "per_digit": primary.per_digit,
        "sym_seconds": primary.sym_seconds,
        "primary_seconds": primary.primary_seconds,
        "poly": {"classes": list(poly["classes"]), "selectivity": list(poly["selectivity"]),
                 "p_classes": poly["p_classes"], "p_selectivity": poly["p_selectivity"], "verdict": poly["verdict"]},
        "test_counts": primary.test_counts,
        "chance": attribution.chance,
        "spread": attribution.spread,
        "null_rho": {layer: v.mean(1).tolist() for layer, v in attribution.null.items()},
        "rho_symbiote": attribution.rho("symbiote"),
        "rho_direct": attribution.rho("direct optimisation"),
        "steering": {"forget": steer["forget"].tolist(), "retain_drop": steer["retain_drop"].tolist()},
        "sweep": [{"width": r["width"], "rank": r["rank"], "fraction": r["fraction"],
                   "rho": {"fc1": r["ρ fc1"], "conv2": r["ρ conv2"]}} for r in sweep.rows],
        "planted": {kind: {"auroc": planted.symbiote_rows[kind]["AUROC symbiote"],
                           "auroc_ablation": planted.symbiote_rows[kind]["AUROC ablation"]} for kind in C.KINDS},
    }
