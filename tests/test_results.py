"""Chapter 5's study functions on made-up confusion matrices and made-up method results (hand-computed numbers)."""

import ast
import dataclasses
import math
from pathlib import Path

import jupytext
import pandas as pd
import pytest
import torch

from symbiote_lite import results as study
from symbiote_lite.baselines import BaselineConfig
from symbiote_lite.metrics import edit_scores

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "05_results.py"


def _cm(diag, off=None) -> torch.Tensor:
    """A 10x10 confusion matrix with ``diag`` on the diagonal and ``off`` ({(i, j): count}) elsewhere."""
    cm = torch.diag(torch.tensor(diag, dtype=torch.long))
    for (i, j), n in (off or {}).items():
        cm[i, j] = n
    return cm


# the unedited primary: 100 images per digit, digit 0 once mistaken for 6 -> 999 of 1000 right
BASE = _cm([99] + [100] * 9, {(0, 6): 1})


def _edit(digit: int, kept: int, moved_to: dict, extra_errors: dict | None = None) -> torch.Tensor:
    """The base matrix after "forget ``digit``": ``kept`` of its 100 images still right, the rest in ``moved_to``."""
    cm = BASE.clone()
    cm[digit, digit] = kept
    for j, n in moved_to.items():
        cm[digit, j] = n
    for (i, j), n in (extra_errors or {}).items():
        cm[i, i] -= n
        cm[i, j] += n
    return cm


def _edits_result() -> study.EditsResult:
    """Two primaries, two edited digits each (the scores come from ``metrics.edit_scores``, as in the study)."""
    dense = torch.stack([_edit(3, 0, {5: 90, 9: 6, 8: 4}), _edit(7, 1, {1: 99}, {(2, 4): 2})])
    pruned = torch.stack([_edit(3, 0, {9: 60, 5: 30, 2: 10}), _edit(7, 0, {1: 100})])
    base_cms = {"dense": BASE, "pruned": BASE}
    edits = {"dense": {"digits": [3, 7], "cms": dense, "seconds": [0.5, 0.5]},
             "pruned": {"digits": [3, 7], "cms": pruned, "seconds": [0.25, 0.25]}}
    scores = {label: edit_scores(e["cms"], e["digits"], base_cms[label]) for label, e in edits.items()}
    return study.EditsResult(base_cms, edits, scores)


# --- the symbiote's edits ---


def test_edits_study_scores_each_primary_against_its_own_unedited_matrix(monkeypatch):
    primaries = {"dense": ("net-d", None, "kd"), "pruned": ("net-p", {"m": 1}, "kp")}
    base = {"net-d": BASE, "net-p": _cm([100] * 10)}
    edited = {"net-d": torch.stack([_edit(3, 0, {5: 100})]), "net-p": torch.stack([_edit(3, 2, {5: 98})])}
    monkeypatch.setattr(study, "model_confusion", lambda model, x, y: base[model])
    monkeypatch.setattr(study, "symbiote_edits",
                        lambda sym, model, x, y: {"digits": [3], "cms": edited[model], "seconds": [sym]})
    res = study.edits_study(primaries, {"dense": 0.1, "pruned": 0.2}, None, None)
    assert list(res.base_cms) == ["dense", "pruned"]
    assert res.edits["pruned"]["seconds"] == [0.2]
    assert res.scores["dense"]["forget"] == [0.0] and res.scores["pruned"]["forget"] == [0.02]
    # dense: base retain 899/900 on the nine other digits, edited 899/900 too; pruned: 900/900 both
    assert res.scores["dense"]["retain_drop"] == [pytest.approx(0.0)]
    assert res.scores["pruned"]["base_forget"] == [1.0]


def test_where_the_digit_goes_lists_the_top_columns_of_its_row():
    res = _edits_result()
    assert res.where_the_digit_goes(3) == ("dense: the 3s are now classified as 5: 90, 9: 6, 8: 4\n"
                                           "pruned: the 3s are now classified as 9: 60, 5: 30, 2: 10")
    assert res.where_the_digit_goes(7, top=1) == ("dense: the 7s are now classified as 1: 99\n"
                                                  "pruned: the 7s are now classified as 1: 100")


def test_forget_cm_finds_the_edit_of_a_digit():
    res = _edits_result()
    assert torch.equal(res.forget_cm("pruned", 7), res.cms("pruned")[1])
    with pytest.raises(ValueError):
        res.forget_cm("dense", 4)  # never edited


def test_digit_table_is_percent_per_digit_and_primary():
    table = _edits_result().digit_table()
    assert list(table.columns.get_level_values(0).unique()) == ["dense", "pruned"]
    assert list(table.index) == [3, 7]
    # dense, forget 7: 1 of 100 kept; retain: 900 images of the others minus 0→6 and the two 2→4 errors
    assert table.loc[7, ("dense", "forget")] == 1.0
    assert table.loc[7, ("dense", "retain")] == round(100 * 897 / 900, 2) == 99.67
    assert table.loc[7, ("dense", "base_retain")] == round(100 * 899 / 900, 2) == 99.89
    assert table.loc[7, ("dense", "retain_drop")] == round(100 * 2 / 900, 2) == 0.22
    assert table.loc[3, ("pruned", "base_forget")] == 100.0


def test_per_digit_lines_round_to_one_decimal_without_negative_zero():
    res = _edits_result()
    scores = {"dense": {"digit": [0, 1], "forget": [0.0004, 0.0126], "retain_drop": [-0.0004, 0.0025]}}
    lines = dataclasses.replace(res, scores=scores).per_digit_lines()
    assert lines == ("dense: forget accuracy (%): 0:0.0 1:1.3\n"
                     "dense: retain drop (points): 0:0.0 1:0.2")  # -0.04 -> "0.0"; 0.25 -> 0.2 (round half even)
    assert res.per_digit_lines().splitlines()[0] == "dense: forget accuracy (%): 3:0.0 7:1.0"
    assert res.per_digit_lines().splitlines()[1] == "dense: retain drop (points): 3:0.0 7:0.2"


def test_edit_glue_values_are_the_worst_digits_and_the_base_accuracy():
    glue = _edits_result().glue_values()
    assert list(glue) == ["worst_forget_dense", "worst_drop_dense", "base_acc_dense",
                          "worst_forget_pruned", "worst_drop_pruned", "base_acc_pruned"]
    assert glue["worst_forget_dense"] == pytest.approx(1.0)  # digit 7: 1 of 100
    assert glue["worst_drop_dense"] == pytest.approx(100 * 2 / 900)
    assert glue["worst_forget_pruned"] == 0.0
    assert glue["base_acc_dense"] == 100 * 999 / 1000 == glue["base_acc_pruned"]


def test_targets_hold_only_when_both_worst_digits_are_within_them():
    res = _edits_result()  # dense: forget 1 % > 0.5 %; pruned: forget 0, drop 0
    assert res.meets_targets() == {"dense": False, "pruned": True}
    assert res.target_lines().splitlines() == [
        "dense: every digit forgotten to at most 0.5 % with a retain drop of at most 0.3 points: False",
        "pruned: every digit forgotten to at most 0.5 % with a retain drop of at most 0.3 points: True"]
    with pytest.raises(AssertionError, match="dense: worst forget 1.00 %, worst retain drop 0.22 points"):
        res.check_targets()
    scores = {"a": {"forget": [0.005], "retain_drop": [0.003]}, "b": {"forget": [0.0], "retain_drop": [0.0031]}}
    edge = dataclasses.replace(res, scores=scores)
    assert edge.meets_targets() == {"a": True, "b": False}  # at the targets is within them


# --- the symbiote against the baselines ---


def _summary(n, forget, drop) -> dict:
    """A made-up ``metrics.edit_summary``: forget and drop as (mean, max) fractions."""
    return {"n_digits": n, "forget_mean": forget[0], "forget_max": forget[1], "drop_mean": drop[0],
            "drop_max": drop[1]}


MADE_UP = {  # key: (seconds per edit, digits, forget (mean, max), drop (mean, max))
    "symbiote": (0.002, 10, (0.001, 0.002), (0.001, 0.002)),
    "direct": (1.0, 10, (0.001, 0.002), (0.0005, 0.0025)),
    "finetune": (1.5, 10, (0.01, 0.02), (0.03, 0.05)),
    "retrain": (20.0, 1, (0.0, 0.0), (0.0002, 0.0002)),
    "last_row": (3e-5, 10, (0.0, 0.0), (-0.0003, 0.0)),
    "random": (math.nan, 10, (0.99, 0.997), (0.002, 0.004)),
}


def _methods(made_up=MADE_UP, train_seconds=None) -> study.MethodsResult:
    rows = [{"primary": label, "method": study.METHODS[key], "key": key, "seconds": secs, **_summary(n, f, d)}
            for label in ("dense", "pruned") for key, (secs, n, f, d) in made_up.items()]
    return study.MethodsResult(rows, train_seconds or {"dense": 30.0, "pruned": 5.0})


def test_method_row_averages_the_seconds_and_summarises_the_scores():
    cms = torch.stack([_edit(3, 1, {5: 99}), _edit(7, 0, {1: 100}, {(2, 4): 9})])
    row = study.method_row("pruned", "finetune", {"digits": [3, 7], "cms": cms, "seconds": [1.0, 2.0]}, BASE)
    assert (row["primary"], row["method"], row["key"]) == ("pruned", "2. fine-tuning unlearning", "finetune")
    assert row["seconds"] == 1.5 and row["n_digits"] == 2
    assert row["forget_max"] == pytest.approx(0.01) and row["forget_mean"] == pytest.approx(0.005)
    assert row["drop_max"] == pytest.approx(9 / 900) and row["drop_mean"] == pytest.approx(4.5 / 900)
    nan = study.method_row("dense", "random", {"digits": [3], "cms": cms[:1], "seconds": [math.nan]}, BASE)
    assert math.isnan(nan["seconds"])


def test_methods_study_puts_the_symbiote_first_and_reads_the_training_time():
    res = _edits_result()
    baselines = {label: {"direct": {"digits": [3], "cms": res.cms(label)[:1], "seconds": [4.0]}}
                 for label in ("dense", "pruned")}
    histories = {"dense": {"seconds": 12.0}, "pruned": {"seconds": 8.0}}
    methods = study.methods_study(res, baselines, histories)
    assert [(r["primary"], r["key"]) for r in methods.rows] == [
        ("dense", "symbiote"), ("dense", "direct"), ("pruned", "symbiote"), ("pruned", "direct")]
    assert methods.row("dense", "symbiote")["forget_max"] == pytest.approx(0.01)  # digit 7: 1 of 100
    assert methods.row("dense", "symbiote")["seconds"] == 0.5
    assert methods.train_seconds == {"dense": 12.0, "pruned": 8.0}
    assert methods.break_even("dense") == 3.0 and methods.speedup("pruned") == 16.0


def test_methods_table_has_the_chapters_columns_in_percent_and_points():
    table = _methods().table()
    assert list(table.columns) == ["digits", "forget mean (%)", "forget worst (%)", "retain drop mean (pts)",
                                   "retain drop worst (pts)", "seconds per edit"]
    assert table.index.names == ["primary", "method"]
    row = table.loc[("dense", "2. fine-tuning unlearning")]
    assert row["digits"] == 10 and row["forget worst (%)"] == pytest.approx(2.0)
    assert row["retain drop mean (pts)"] == pytest.approx(3.0) and row["seconds per edit"] == 1.5
    assert table.loc[("pruned", "3. retraining without the digit"), "digits"] == 1
    assert pd.isna(table.loc[("pruned", "5. random diff, symbiote's norms"), "seconds per edit"])


def test_methods_lines_align_the_columns():
    lines = _methods().lines().splitlines()
    assert len(lines) == 12
    assert lines[0] == ("dense  SymbioteNet (one forward pass)     digits 10  forget worst   0.2 %  "
                        "retain drop worst   0.2 pts")
    assert lines[3] == ("dense  3. retraining without the digit    digits  1  forget worst   0.0 %  "
                        "retain drop worst   0.0 pts")
    assert lines[11] == ("pruned 5. random diff, symbiote's norms   digits 10  forget worst  99.7 %  "
                         "retain drop worst   0.4 pts")


def test_methods_glue_values():
    glue = _methods().glue_values()
    assert len(glue) == 2 * (1 + 3 * len(study.METHODS) + 3)
    assert list(glue)[:4] == ["sym_train_dense", "symbiote_seconds_dense", "symbiote_drop_dense",
                              "symbiote_forget_dense"]
    assert glue["sym_train_pruned"] == 5.0
    assert glue["finetune_drop_dense"] == pytest.approx(5.0) and glue["finetune_forget_dense"] == pytest.approx(2.0)
    assert glue["direct_seconds_dense"] == 1.0 and math.isnan(glue["random_seconds_pruned"])
    assert glue["break_even_dense"] == 30.0 and glue["break_even_verdict_dense"] == "more"
    assert glue["break_even_pruned"] == 5.0 and glue["break_even_verdict_pruned"] == "fewer"
    assert glue["speedup_dense"] == pytest.approx(500.0)


def test_prose_checks_hold_on_the_made_up_run():
    methods = _methods()
    assert all(check(label) for label in ("dense", "pruned") for check in (
        methods.random_keeps, methods.row_forgets, methods.finetune_worse, methods.direct_as_good))
    assert methods.prose_lines().splitlines()[:2] == [
        "dense: a random diff of the symbiote's size keeps the digit: True; "
        "the last-layer edit forgets it entirely: True",
        "dense: fine-tuning's worst retain drop is larger than the symbiote's: True; "
        "direct optimisation's is at most the symbiote's (+0.1 points): True"]
    methods.check_prose()


@pytest.mark.parametrize(("key", "change", "check", "message"), [
    ("random", {"forget": (0.5, 0.6)}, "random_keeps", "random diff"),  # a mean of 0.5 is not "more than half"
    ("last_row", {"forget": (0.0001, 0.001)}, "row_forgets", "last-layer"),
    ("finetune", {"drop": (0.001, 0.002)}, "finetune_worse", "fine-tuning"),  # equal to the symbiote's: not worse
    ("direct", {"drop": (0.001, 0.0031)}, "direct_as_good", "direct"),  # 0.31 > 0.2 + 0.1 points
])
def test_each_prose_check_can_fail(key, change, check, message):
    secs, n, forget, drop = MADE_UP[key]
    made_up = MADE_UP | {key: (secs, n, change.get("forget", forget), change.get("drop", drop))}
    methods = _methods(made_up)
    assert not getattr(methods, check)("dense")
    assert f": {False}" in methods.prose_lines()
    with pytest.raises(AssertionError, match=message):
        methods.check_prose()


def test_direct_as_good_allows_a_tenth_of_a_point():
    made_up = MADE_UP | {"direct": (1.0, 10, (0.001, 0.002), (0.001, 0.0029))}
    assert _methods(made_up).direct_as_good("dense")


# --- the chapter's parameters ---


def test_config_glue_values():
    glue = study.config_glue_values(BaselineConfig(direct_steps=7, retrain_digits=(3, 8), retrain_epochs=1))
    assert glue == {"direct_steps": 7, "finetune_lr": 3e-4, "finetune_max_steps": 200, "retrain_epochs": 1,
                    "retrain_digits": "3, 8"}


def test_notebook_parameters_are_the_baseline_defaults():
    cells = [c for c in jupytext.read(NOTEBOOK).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    values = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(cells[0].source).body}
    assert values == {"DIRECT_STEPS": 100, "FINETUNE_MAX_STEPS": 200, "RETRAIN_DIGITS": [3], "RETRAIN_EPOCHS": 2,
                      "SEED": 0}
    config = BaselineConfig(direct_steps=values["DIRECT_STEPS"], finetune_max_steps=values["FINETUNE_MAX_STEPS"],
                            retrain_digits=tuple(values["RETRAIN_DIGITS"]), retrain_epochs=values["RETRAIN_EPOCHS"],
                            seed=values["SEED"])
    assert config == BaselineConfig()
