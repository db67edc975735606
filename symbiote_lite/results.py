"""Chapter 5's analyses as study functions: one per section of the chapter, each returning a result object.

A result holds the section's numbers, the tables the chapter shows (``pandas`` DataFrames), the lines it prints and
``glue_values()``: the ``{name: value}`` the chapter's prose reads (``report.glue_all``). Each result's checks assert
what the chapter states about its run (the targets of an edit, the comparisons of the prose).

Sections, in the chapter's order:

    edits_study     the symbiote's ten single-digit edits on both primaries, scored on the test set
    methods_study   the symbiote beside the five baselines: forget, retain drop and time per edit

The networks come from the caches of chapters 2-4 (``load_symbiotes``) and of this chapter's baselines
(``load_baselines``); the scores are those of ``metrics``.
"""

from dataclasses import dataclass

import pandas as pd
import torch

from symbiote_lite.baselines import BaselineConfig, load_or_run_baselines, model_confusion, symbiote_edits
from symbiote_lite.metrics import DROP_TARGET, FORGET_TARGET, edit_scores, edit_summary
from symbiote_lite.symbiote import SymbioteConfig, load_or_train_symbiote

# the methods of the comparison, in the table's order: key -> label
METHODS = {
    "symbiote": "SymbioteNet (one forward pass)",
    "direct": "1. direct diff, same form",
    "finetune": "2. fine-tuning unlearning",
    "retrain": "3. retraining without the digit",
    "last_row": "4. last-layer row (excluded)",
    "random": "5. random diff, symbiote's norms",
}


def one_decimal(value: float) -> str:
    """A fraction as percent (or points) to one decimal, never "-0.0"."""
    return f"{round(100 * value, 1) + 0.0:.1f}"


# --- the networks ------------------------------------------------------------------------------------------------


def load_symbiotes(primaries: dict, config: SymbioteConfig) -> tuple[dict, dict]:
    """Chapter 4's symbiote of each primary (``networks.load_primaries``' dict) from the cache, trained if absent:
    ``({label: symbiote}, {label: training history})``."""
    symbiotes, histories = {}, {}
    for label, (primary, masks, key) in primaries.items():
        symbiotes[label], histories[label] = load_or_train_symbiote(primary, masks, config, label, key)
    return symbiotes, histories


def load_baselines(primaries: dict, symbiotes: dict, sym_config: SymbioteConfig, config: BaselineConfig) -> dict:
    """``{label: baselines.load_or_run_baselines(...)}``: the five baselines on each primary, cached."""
    return {label: load_or_run_baselines(primary, masks, label, key, symbiotes[label], sym_config, config)
            for label, (primary, masks, key) in primaries.items()}


def config_glue_values(config: BaselineConfig) -> dict:
    """The baselines' parameters the prose names."""
    return {"direct_steps": config.direct_steps, "finetune_lr": config.finetune_lr,
            "finetune_max_steps": config.finetune_max_steps, "retrain_epochs": config.retrain_epochs,
            "retrain_digits": ", ".join(map(str, config.retrain_digits))}


# --- 1. the symbiote's edits -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditsResult:
    """Per primary ("dense", "pruned"): the unedited test-set confusion matrix (10, 10), the symbiote's edits
    (``baselines.symbiote_edits``: ``digits``, ``cms`` (T, 10, 10), ``seconds``) and their ``metrics.edit_scores``
    (fractions)."""

    base_cms: dict
    edits: dict
    scores: dict

    def cms(self, label: str) -> torch.Tensor:
        """(T, 10, 10) test-set confusion matrices of ``label``'s primary after each edit."""
        return self.edits[label]["cms"]

    def forget_cm(self, label: str, digit: int) -> torch.Tensor:
        """(10, 10) test-set confusion matrix of ``label``'s primary after the edit "forget ``digit``"."""
        return self.cms(label)[self.edits[label]["digits"].index(digit)]

    def digit_table(self) -> pd.DataFrame:
        """Every edit's scores in %, one row per inhibited digit, a column group per primary (2 decimals)."""
        frames = {label: pd.DataFrame(s).set_index("digit") * 100 for label, s in self.scores.items()}
        return pd.concat(frames, axis=1).round(2)

    def where_the_digit_goes(self, digit: int = 3, top: int = 3) -> str:
        """Per primary, the ``top`` digits (with counts) the images of ``digit`` are classified as after the edit
        "forget ``digit``"."""
        lines = []
        for label in self.edits:
            row = self.forget_cm(label, digit)[digit]
            where = ", ".join(f"{j}: {int(row[j])}" for j in row.argsort(descending=True)[:top].tolist())
            lines.append(f"{label}: the {digit}s are now classified as {where}")
        return "\n".join(lines)

    def per_digit_lines(self) -> str:
        """Per primary, every digit's forget accuracy (%) and retain drop (points), to one decimal."""
        lines = []
        for label, s in self.scores.items():
            for name, key in (("forget accuracy (%)", "forget"), ("retain drop (points)", "retain_drop")):
                values = " ".join(f"{d}:{one_decimal(v)}" for d, v in zip(s["digit"], s[key], strict=True))
                lines.append(f"{label}: {name}: {values}")
        return "\n".join(lines)

    def worst(self) -> dict:
        """{label: (worst forget accuracy, worst retain drop)} over the edited digits (fractions)."""
        return {label: (max(s["forget"]), max(s["retain_drop"])) for label, s in self.scores.items()}

    def base_accuracy(self, label: str) -> float:
        """Test accuracy (%) of the unedited primary."""
        cm = self.base_cms[label]
        return 100 * cm.diagonal().sum().item() / cm.sum().item()

    def glue_values(self) -> dict:
        out = {}
        for label, (worst_forget, worst_drop) in self.worst().items():
            out |= {f"worst_forget_{label}": 100 * worst_forget, f"worst_drop_{label}": 100 * worst_drop,
                    f"base_acc_{label}": self.base_accuracy(label)}
        return out

    def meets_targets(self) -> dict:
        """{label: every digit forgotten to at most ``FORGET_TARGET`` with a retain drop of at most
        ``DROP_TARGET``}."""
        return {label: forget <= FORGET_TARGET and drop <= DROP_TARGET
                for label, (forget, drop) in self.worst().items()}

    def target_lines(self) -> str:
        return "\n".join(f"{label}: every digit forgotten to at most {100 * FORGET_TARGET:.1f} % with a retain drop "
                         f"of at most {100 * DROP_TARGET:.1f} points: {met}"
                         for label, met in self.meets_targets().items())

    def check_targets(self) -> None:
        worst = self.worst()
        for label, met in self.meets_targets().items():
            forget, drop = worst[label]
            assert met, f"{label}: worst forget {100 * forget:.2f} %, worst retain drop {100 * drop:.2f} points"


def edits_study(primaries: dict, symbiotes: dict, x_test: torch.Tensor, y_test: torch.Tensor) -> EditsResult:
    """Section 1: each primary unedited and after each of its symbiote's ten single-digit edits, on the test set."""
    base_cms, edits, scores = {}, {}, {}
    for label, (primary, _, _) in primaries.items():
        base_cms[label] = model_confusion(primary, x_test, y_test)
        edits[label] = symbiote_edits(symbiotes[label], primary, x_test, y_test)
        scores[label] = edit_scores(edits[label]["cms"], edits[label]["digits"], base_cms[label])
    return EditsResult(base_cms, edits, scores)


# --- 2. the symbiote against the baselines -----------------------------------------------------------------------


def method_row(label: str, key: str, run: dict, base_cm: torch.Tensor) -> dict:
    """One row of the comparison: primary, method, its key, mean seconds per edit and ``metrics.edit_summary``
    of one method's ``run`` (``digits``, ``cms``, ``seconds``) on ``label``'s primary."""
    s = edit_summary(edit_scores(run["cms"], run["digits"], base_cm))
    seconds = torch.tensor(run["seconds"], dtype=torch.float64).mean().item()
    return {"primary": label, "method": METHODS[key], "key": key, "seconds": seconds, **s}


@dataclass(frozen=True)
class MethodsResult:
    """``rows``: one ``method_row`` per (primary, method), the symbiote first; ``train_seconds``: {label: one-off
    training time of the symbiote}."""

    rows: list
    train_seconds: dict

    @property
    def labels(self) -> list[str]:
        return list(dict.fromkeys(r["primary"] for r in self.rows))

    def row(self, label: str, key: str) -> dict:
        return next(r for r in self.rows if r["primary"] == label and r["key"] == key)

    def table(self) -> pd.DataFrame:
        """Per (primary, method): digits edited, mean and worst forget (%), retain drop (points), seconds per edit."""
        summary = pd.DataFrame(self.rows).set_index(["primary", "method"])
        return pd.DataFrame({
            "digits": summary["n_digits"],
            "forget mean (%)": 100 * summary["forget_mean"],
            "forget worst (%)": 100 * summary["forget_max"],
            "retain drop mean (pts)": 100 * summary["drop_mean"],
            "retain drop worst (pts)": 100 * summary["drop_max"],
            "seconds per edit": summary["seconds"],
        })

    def lines(self) -> str:
        """One line per row: digits edited, worst forget (%) and worst retain drop (points) to one decimal."""
        return "\n".join(f"{r['primary']:6s} {r['method']:34s} digits {r['n_digits']:2d}  forget worst "
                         f"{one_decimal(r['forget_max']):>5s} %  retain drop worst {one_decimal(r['drop_max']):>5s} pts"
                         for r in self.rows)

    def break_even(self, label: str) -> float:
        """The symbiote's training time in direct edits (baseline 1's seconds per edit)."""
        return self.train_seconds[label] / self.row(label, "direct")["seconds"]

    def speedup(self, label: str) -> float:
        """How many times faster the symbiote makes an edit than direct optimisation."""
        return self.row(label, "direct")["seconds"] / self.row(label, "symbiote")["seconds"]

    def glue_values(self) -> dict:
        out = {}
        for label in self.labels:
            out[f"sym_train_{label}"] = self.train_seconds[label]
            for key in METHODS:
                r = self.row(label, key)
                out |= {f"{key}_seconds_{label}": r["seconds"], f"{key}_drop_{label}": 100 * r["drop_max"],
                        f"{key}_forget_{label}": 100 * r["forget_max"]}
            break_even = self.break_even(label)
            out |= {f"break_even_{label}": break_even,
                    f"break_even_verdict_{label}": "more" if break_even > 10 else "fewer",
                    f"speedup_{label}": self.speedup(label)}
        return out

    # the prose's four statements, per primary

    def random_keeps(self, label: str) -> bool:
        """A random diff of the symbiote's size leaves more than half of the digit's images recognised."""
        return self.row(label, "random")["forget_mean"] > 0.5

    def row_forgets(self, label: str) -> bool:
        """Suppressing the last layer's row forgets the digit entirely."""
        return self.row(label, "last_row")["forget_max"] == 0

    def finetune_worse(self, label: str) -> bool:
        """Fine-tuning's worst retain drop is larger than the symbiote's."""
        return self.row(label, "finetune")["drop_max"] > self.row(label, "symbiote")["drop_max"]

    def direct_as_good(self, label: str) -> bool:
        """Direct optimisation's worst retain drop is at most the symbiote's (+0.1 points)."""
        return self.row(label, "direct")["drop_max"] <= self.row(label, "symbiote")["drop_max"] + 1e-3

    def prose_lines(self) -> str:
        lines = []
        for label in self.labels:
            lines.append(f"{label}: a random diff of the symbiote's size keeps the digit: {self.random_keeps(label)}; "
                         f"the last-layer edit forgets it entirely: {self.row_forgets(label)}")
            lines.append(f"{label}: fine-tuning's worst retain drop is larger than the symbiote's: "
                         f"{self.finetune_worse(label)}; direct optimisation's is at most the symbiote's "
                         f"(+0.1 points): {self.direct_as_good(label)}")
        return "\n".join(lines)

    def check_prose(self) -> None:
        for label in self.labels:
            assert self.random_keeps(label), "a random diff of the same size should not forget the digit"
            assert self.row_forgets(label), "the last-layer edit removes the digit by construction"
            assert self.finetune_worse(label), "the prose says fine-tuning does worse"
            assert self.direct_as_good(label), "the prose says direct >= symbiote"


def methods_study(edits: EditsResult, results: dict, histories: dict) -> MethodsResult:
    """Section 2: the symbiote's edits (``edits_study``) and each primary's baselines (``results``:
    ``{label: load_or_run_baselines(...)}``) scored alike; ``histories``: the symbiotes' training histories."""
    rows = [method_row(label, key, run, edits.base_cms[label])
            for label in edits.base_cms for key, run in {"symbiote": edits.edits[label], **results[label]}.items()]
    return MethodsResult(rows, {label: histories[label]["seconds"] for label in edits.base_cms})
