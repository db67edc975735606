"""Verdicts on intervals, the claims' tests, and the numbers chapter 8 takes from a chain."""

import re
from pathlib import Path

import pytest

from symbiote_lite import replication as R
from symbiote_lite.stats import t_interval


def test_decide_levels_settles_when_every_outcome_agrees():
    rule = lambda lv: ["not supported", "partly", "partly", "supported"][sum(lv.values())]
    assert R.decide_levels({"a": [1], "b": [0], "c": [0, 1]}, rule, 3) == "partly", "1 or 2 passes: partly either way"
    assert R.decide_levels({"a": [0, 1], "b": [0], "c": [0, 1]}, rule, 3) == "inconclusive at 3 seeds"
    assert R.decide_levels({"a": [0, 1]}, lambda lv: "supported" if lv["a"] else "not supported") == "inconclusive"


def numbers(**changes):
    base = {
        "digit3_forget_dense": 0.0, "digit3_forget_pruned": 0.1, "digit3_drop_dense": 0.1, "digit3_drop_pruned": 0.0,
        "train_ratio": 3.0, "poly_classes_gain": 0.5, "poly_sel_gain": 0.05, "compression_gain_fc1": 0.15,
        "compression_gain_conv2": -0.2, "weights_forget_gain": 0.5, "weights_drop_gain": 0.1,
        "planted_mono_auroc": 0.99, "planted_poly_auroc": 0.95, "rho_fc1_symbiote": 0.2,
    }
    return base | changes


def test_point_verdicts_follow_the_single_run_rules():
    v = R.point_verdicts(numbers())
    assert v == {"digit3": "supported", "slower": "supported", "polysemantic": "supported",
                 "compression": "partly", "weights": "supported", "circuits": "supported"}
    v = R.point_verdicts(numbers(digit3_drop_pruned=0.31, train_ratio=1.5, poly_sel_gain=0.02,
                                 compression_gain_fc1=0.09, weights_drop_gain=0.09, planted_poly_auroc=0.89))
    assert v == {"digit3": "partly", "slower": "partly", "polysemantic": "partly",
                 "compression": "not supported", "weights": "partly", "circuits": "partly"}, "0.02 < margin 0.025"
    v = R.point_verdicts(numbers(digit3_forget_dense=0.6, train_ratio=0.9, poly_classes_gain=0.2,
                                 poly_sel_gain=-0.1, weights_forget_gain=0.05, weights_drop_gain=0.0,
                                 planted_mono_auroc=0.5, planted_poly_auroc=0.5, rho_fc1_symbiote=0.09))
    assert v == {"digit3": "not supported", "slower": "not supported", "polysemantic": "not supported",
                 "compression": "partly", "weights": "not supported", "circuits": "not supported"}
    m = R.distances(numbers(rho_fc1_symbiote=0.13))
    assert m["circuits"] == pytest.approx(0.03), "ρ 0.13 is 0.03 beyond its margin, nearer than the AUROCs"


def estimates(n=5, **means):
    """Per-number estimates of ``n`` seeds around ``numbers()`` with a small spread (or given value lists)."""
    base = numbers()
    out = {}
    for key, v in base.items():
        spec = R.NUMBERS[key]
        offsets = [0.001 * i for i in range(n)] if spec.rate else [0.001 * (i - (n - 1) / 2) for i in range(n)]
        vals = means.get(key, [v + o for o in offsets])
        if spec.rate:
            out[key] = R.rate_interval([x / 100 for x in vals], 1000, scale=100)
        else:
            out[key] = R.bounded_interval(vals, spec.scale)
    out["rho_fc1_symbiote"]["null"] = [0.0001 * i for i in range(-500, 500)]
    return out


def test_interval_verdicts_decide_and_can_be_inconclusive():
    d = R.decide_claims(estimates())
    assert d.verdicts == {"digit3": "supported", "slower": "supported", "polysemantic": "supported",
                          "compression": "partly", "weights": "supported", "circuits": "supported"}
    wide = estimates(compression_gain_fc1=[0.3, -0.2, 0.25, 0.05, -0.1])
    d = R.decide_claims(wide)
    assert d.verdicts["compression"] == "inconclusive at 5 seeds", "fc1 undecided between partly and not supported"
    row = d.decider("compression")
    assert row["test"] == "compression_gain_fc1" and row["outcome"] == "undecided"
    assert d.seeds_to_decide("compression") > 5
    assert d.seeds_to_decide("digit3") is None
    assert "ρ half − ρ largest, fc1" in d.decider_text("compression")
    table = d.tests_table()
    assert len(table) == len(R.ALL_TESTS) and set(table["outcome"]) <= {"pass", "fail", "undecided"}


def test_a_gain_inside_its_margin_makes_the_claim_not_supported():
    flat = [0.001, -0.001, 0.0005, 0.0, -0.0005] * 4  # 20 seeds of a gain indistinguishable from 0
    est = estimates(n=20, compression_gain_fc1=flat, compression_gain_conv2=flat)
    assert R.decide_claims(est).verdicts["compression"] == "not supported"


def test_rate_intervals_of_the_claims_stay_in_range():
    zero = [{"seed": s, **chain(s)} for s in range(5)]
    stats = R.summarise_chains(zero)
    assert R.out_of_range(stats) == []
    t_like = dict(stats, digit3_forget_dense=t_interval([0.0, 0.0, 0.0, 0.1, 0.0]))
    assert R.out_of_range(t_like) == ["digit3_forget_dense"], "a t interval of a rate reaches below 0 %"
    assert stats["digit3_forget_dense"]["low"] == 0 and stats["digit3_forget_dense"]["high"] > 0
    assert stats["digit3_forget_dense"]["method"] == "Wilson"
    with pytest.raises(ValueError, match="distinct seeds"):
        R.summarise_chains([chain(0), chain(0)])


def chain(seed=0, forget3=0.0, drop3=0.001):
    per = {"forget": [0.0] * 10, "retain_drop": [0.001] * 10}
    per["forget"][3], per["retain_drop"][3] = forget3, drop3
    return {
        "seed": seed, "per_digit": {"dense": per, "pruned": {"forget": [0.002] * 10, "retain_drop": [0.0] * 10}},
        "test_counts": [1000] * 10,
        "sym_seconds": 40.0, "primary_seconds": 10.0,
        "poly": {"classes": [2.0, 2.5], "selectivity": [0.5, 0.4]},
        "steering": {"forget": [0.05] * 10, "retain_drop": [0.004] * 10},
        "planted": {"mono": {"auroc": 0.95, "auroc_ablation": 1.0}, "poly": {"auroc": 0.9, "auroc_ablation": 0.99}},
        "rho_symbiote": {"fc1": 0.3, "conv2": 0.1}, "rho_direct": {"fc1": 0.2, "conv2": 0.0},
        "chance": {"fc1": 0.06, "conv2": 0.08}, "spread": {"fc1": 0.05, "conv2": 0.07},
        "null_rho": {"fc1": [0.01 * ((7 * i + seed) % 11 - 5) for i in range(100)], "conv2": [0.0] * 100},
        "sweep": [{"fraction": 0.08, "rho": {"fc1": 0.0, "conv2": 0.0}},
                  {"fraction": 0.45, "rho": {"fc1": 0.3, "conv2": 0.1}},
                  {"fraction": 1.5, "rho": {"fc1": 0.1, "conv2": 0.05}}],
    }


def test_claim_numbers_from_a_chain():
    n = R.claim_numbers(chain(forget3=0.004, drop3=0.002))
    assert n["digit3_forget_dense"] == pytest.approx(0.4) and n["digit3_drop_dense"] == pytest.approx(0.2)
    assert n["train_ratio"] == 4.0
    assert n["poly_classes_gain"] == 0.5 and n["poly_sel_gain"] == pytest.approx(0.1)
    assert n["weights_forget"] == pytest.approx(0.04) and n["steering_forget"] == pytest.approx(5.0)
    assert n["weights_forget_gain"] == pytest.approx(4.96)
    assert n["compression_gain_fc1"] == pytest.approx(0.2) and n["compression_gain_conv2"] == pytest.approx(0.05)
    assert n["rho_fc1_symbiote"] == 0.3 and set(n) == set(R.NUMBERS)
    half, largest = R.half_and_largest(chain()["sweep"])
    assert half["fraction"] == 0.45 and largest["fraction"] == 1.5


def test_summarise_and_targets_on_the_seed_mean():
    chains = [chain(0, forget3=0.0), chain(1, forget3=0.01), chain(2, forget3=0.0)]
    stats = R.summarise_chains(chains)
    assert stats["digit3_forget_dense"]["values"] == pytest.approx([0.0, 1.0, 0.0])
    assert stats["digit3_forget_dense"]["mean"] == pytest.approx(1 / 3)
    targets = R.per_digit_targets(chains)
    dense = targets["dense"]
    assert dense["forget_mean"][3] == pytest.approx(0.01 / 3) and dense["met_on_mean"], "0.33 % <= 0.5 % on the mean"
    assert dense["worst_forget_per_seed"] == pytest.approx([0.0, 0.01, 0.0]) and dense["seeds_meeting"] == 2
    worse = R.per_digit_targets(chains + [chain(3, forget3=0.02)])
    assert not worse["dense"]["met_on_mean"], "mean 0.75 % > 0.5 %"


def test_the_chain_command_refuses_negative_seeds(capsys):
    with pytest.raises(SystemExit):
        R.main(["1", "-2"])
    assert "seeds [-2] are negative" in capsys.readouterr().err


def test_the_build_precomputes_exactly_chapter_8s_default_chains(build_seeds):
    default, listed = build_seeds("08_replication", "CHAIN_SEEDS")
    assert listed == default[1:], "seed FIRST_SEED is chapters 2-6's own chain"


def test_the_pages_state_every_rules_margin():
    """The rules are restated before their numbers in chapter 8 and on the claims page: every margin of
    ``CLAIM_TESTS`` appears in both, so the prose cannot drift from the tests."""
    root = Path(__file__).resolve().parent.parent
    pages = {p: (root / p).read_text() for p in ("book/claims.md", "notebooks/08_replication.py",
                                                   "notebooks/06_circuits.py")}
    for t in R.ALL_TESTS:
        if t.margin:
            for name, text in pages.items():
                assert re.search(rf"margin (of )?{t.margin:g}\b", text), f"{name} does not state {t.name}'s margin"
    assert "Holm" in pages["book/claims.md"] and "Holm" in pages["notebooks/08_replication.py"]


def test_numbers_table_has_every_number_per_seed():
    stats = R.summarise_chains([chain(s) for s in range(3)])
    table = R.numbers_table(stats, [0, 1, 2])
    assert len(table) == len(R.NUMBERS) and list(table.columns[:3]) == ["seed 0", "seed 1", "seed 2"]
    assert table.loc["digit 3 forget, dense (%)", "interval"] == "Wilson"
