"""Replication across seeds: independent chains, intervals over seeds and verdicts on intervals (chapter 8).

A **chain** is the book's whole pipeline under one seed: dense primary -> BIMT-pruned primary -> symbiotes on
both -> steering editor -> direct-optimisation reference -> size sweep -> planted circuits, each network cached
under its own seed (``seed = 0`` is exactly what chapters 2-6 train with their defaults, so that chain reuses their
artifacts). ``run_chain`` takes the measurements behind every number of the claims table with chapter 6's own
stage functions (``stages``) and ``load_or_run_chain`` caches them as one small artifact; ``cluster.run_chains``
fans chains out over Dask workers.

Across chains every number of ``NUMBERS`` gets a mean and a 95 % interval that stays in its range
(``summarise_chains``; ``stats`` says which interval and why). Each claim's rule is a list of ``stats.MarginTest``
(number, passing side, threshold, smallest effect of interest) and a map from their outcomes to a verdict
(``CLAIM_TESTS``). ``decide_claims`` runs all tests as one Holm-corrected family; an undecided test may take
either outcome, and a claim whose verdict depends on it is ``"inconclusive at N seeds"``. One run
(``single_run_claims``, chapter 6) is decided by the same tests on its point values (``point_verdicts``).
"""

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import torch

from symbiote_lite import stages, stats
from symbiote_lite.artifacts import load_or_build
from symbiote_lite.data import load_mnist
from symbiote_lite.metrics import DROP_TARGET, FORGET_TARGET, N_DIGITS
from symbiote_lite.stages import CircuitsConfig
from symbiote_lite.stats import (
    ALPHA,
    MAX_SEEDS,
    PASS,
    MarginTest,
    Scale,
    bounded_interval,
    evaluate,
    pooled_null,
    rate_interval,
)

INCONCLUSIVE = "inconclusive"
# a chain's cache file name; it changes with the layout of the record, so a record of another layout is never read
ARTIFACT = "chain-3"
FORGET_TARGET_PCT = 100 * FORGET_TARGET  # chapter 5's targets in the claims table's units (percent, points)
DROP_TARGET_POINTS = 100 * DROP_TARGET

# --- verdicts on intervals ---------------------------------------------------------------------------------------


def decide_levels(possible: dict[str, list[int]], rule: Callable[[dict[str, int]], str],
                  n: int | None = None) -> str:
    """The verdict of ``rule`` when every combination of the levels the tests can still take gives the same
    verdict; otherwise ``"inconclusive at n seeds"`` (``"inconclusive"`` without ``n``). A decided test has one
    level, so on point values this is the single-run rule."""
    names = list(possible)
    combos = itertools.product(*(possible[k] for k in names))
    verdicts = {rule(dict(zip(names, combo, strict=True))) for combo in combos}
    if len(verdicts) == 1:
        return verdicts.pop()
    return f"{INCONCLUSIVE} at {n} seeds" if n is not None else INCONCLUSIVE


# --- the claims table's rules --------------------------------------------------------------------------------------
# Each claim: its tests (``stats.MarginTest``: number, passing side, threshold, smallest effect of interest) and a
# rule from the tests' outcomes (1 pass, 0 fail) to a verdict. Fixed before any number was seen; chapter 6's single
# run, chapter 8's intervals and the claims page all decide with these.


def _count_rule(*verdicts_by_passes):
    """A rule that counts the passed tests: ``verdicts_by_passes[k]`` is the verdict when k tests pass."""
    return lambda lv: verdicts_by_passes[sum(lv.values())]


def _digit3_rule(lv):
    forget = lv["digit3_forget_dense"] and lv["digit3_forget_pruned"]
    drop = lv["digit3_drop_dense"] and lv["digit3_drop_pruned"]
    return "supported" if forget and drop else "partly" if forget else "not supported"


def _slower_rule(lv):
    return "supported" if lv["train_ratio_2"] else "partly" if lv["train_ratio_1"] else "not supported"


RHO_MARGIN = 0.1  # a correlation, or a gain in one, smaller than Cohen's "small" 0.1 is no effect of interest
CLAIM_TESTS: dict[str, tuple[list[MarginTest], Callable[[dict[str, int]], str]]] = {
    "digit3": ([MarginTest(f"digit3_{q}_{p}", f"digit3_{q}_{p}", -1, c)
                for q, c in (("forget", FORGET_TARGET_PCT), ("drop", DROP_TARGET_POINTS)) for p in ("dense", "pruned")],
               _digit3_rule),
    "slower": ([MarginTest("train_ratio_2", "train_ratio", 1, 2.0), MarginTest("train_ratio_1", "train_ratio", 1, 1.0)],
               _slower_rule),
    "polysemantic": ([MarginTest("poly_classes_gain", "poly_classes_gain", 1, 0.0, 0.25),
                      MarginTest("poly_sel_gain", "poly_sel_gain", 1, 0.0, 0.025)],
                     _count_rule("not supported", "partly", "supported")),
    "compression": ([MarginTest(f"compression_gain_{layer}", f"compression_gain_{layer}", 1, 0.0, RHO_MARGIN)
                     for layer in ("fc1", "conv2")], _count_rule("not supported", "partly", "supported")),
    "weights": ([MarginTest(f"weights_{q}_gain", f"weights_{q}_gain", 1, 0.0, 0.1) for q in ("forget", "drop")],
                _count_rule("not supported", "partly", "supported")),
    "circuits": ([MarginTest("planted_mono_auroc", "planted_mono_auroc", 1, 0.9),
                  MarginTest("planted_poly_auroc", "planted_poly_auroc", 1, 0.9),
                  MarginTest("rho_fc1_symbiote", "rho_fc1_symbiote", 1, 0.0, RHO_MARGIN, null="permutation")],
                 _count_rule("not supported", "partly", "partly", "supported")),
}
ALL_TESTS = [t for tests, _ in CLAIM_TESTS.values() for t in tests]
N_HYPOTHESES = 2 * len(ALL_TESTS)  # Holm corrects both one-sided hypotheses of every test together


@dataclass(frozen=True)
class Number:
    """How the claims table shows and bounds one number: label, unit, range (``stats.Scale``), and for a rate
    (percent of test images) which images it is over: ``"digit3"`` (digit 3's) or ``"all"`` (every digit's)."""

    label: str
    unit: str = ""
    scale: Scale = Scale()
    rate: str | None = None
    digits: int = 2


_PCT, _PTS = Scale(-100, 100), Scale(-200, 200)
NUMBERS: dict[str, Number] = {
    "digit3_forget_dense": Number("digit 3 forget, dense", "%", rate="digit3"),
    "digit3_forget_pruned": Number("digit 3 forget, pruned", "%", rate="digit3"),
    "digit3_drop_dense": Number("digit 3 retain drop, dense", "points", _PCT),
    "digit3_drop_pruned": Number("digit 3 retain drop, pruned", "points", _PCT),
    "train_ratio": Number("training time, symbiote / primary", "×", Scale(0, math.inf), digits=1),
    "poly_classes_dense": Number("classes per neuron, dense", "", Scale(0, N_DIGITS)),
    "poly_classes_pruned": Number("classes per neuron, pruned", "", Scale(0, N_DIGITS)),
    "poly_classes_gain": Number("classes per neuron, pruned − dense", "", Scale(-N_DIGITS, N_DIGITS)),
    "poly_sel_dense": Number("selectivity, dense", "", Scale(0, 1)),
    "poly_sel_pruned": Number("selectivity, pruned", "", Scale(0, 1)),
    "poly_sel_gain": Number("selectivity, dense − pruned", "", Scale(-1, 1), digits=3),
    "compression_gain_fc1": Number("ρ half − ρ largest, fc1", "", Scale(-2, 2), digits=3),
    "compression_gain_conv2": Number("ρ half − ρ largest, conv2", "", Scale(-2, 2), digits=3),
    "weights_forget": Number("weights: mean forget", "%", rate="all"),
    "steering_forget": Number("steering: mean forget", "%", rate="all"),
    "weights_forget_gain": Number("forget, steering − weights", "points", _PCT),
    "weights_drop": Number("weights: mean retain drop", "points", _PCT),
    "steering_drop": Number("steering: mean retain drop", "points", _PCT),
    "weights_drop_gain": Number("retain drop, steering − weights", "points", _PTS),
    "planted_mono_auroc": Number("planted mono AUROC, symbiote", "", Scale(0, 1), digits=3),
    "planted_poly_auroc": Number("planted poly AUROC, symbiote", "", Scale(0, 1), digits=3),
    "planted_mono_auroc_ablation": Number("planted mono AUROC, ablation", "", Scale(0, 1), digits=3),
    "planted_poly_auroc_ablation": Number("planted poly AUROC, ablation", "", Scale(0, 1), digits=3),
    "rho_fc1_symbiote": Number("ρ fc1, symbiote", "", Scale(-1, 1), digits=3),
    "rho_fc1_direct": Number("ρ fc1, direct optimisation", "", Scale(-1, 1), digits=3),
    "rho_conv2_symbiote": Number("ρ conv2, symbiote", "", Scale(-1, 1), digits=3),
}


def number_text(key: str, est: dict) -> str:
    """``label mean [low, high] unit``, as the claims page shows a deciding number."""
    spec = NUMBERS[key]
    f = f"{{:.{spec.digits}f}}"
    unit = "" if not spec.unit or spec.unit == "×" else f" {spec.unit}"
    return f"{spec.label} {f.format(est['mean'])} [{f.format(est['low'])}, {f.format(est['high'])}]{unit}"


def numbers_table(estimates: dict[str, dict], seeds: list[int]) -> pd.DataFrame:
    """Every ``NUMBERS`` entry: per-seed values, mean, interval and the interval's method, one row per number."""
    rows = {}
    for key, spec in NUMBERS.items():
        est = estimates[key]
        label = f"{spec.label} ({spec.unit})" if spec.unit else spec.label
        rows[label] = {**{f"seed {s}": round(v, 3) for s, v in zip(seeds, est["values"], strict=True)},
                       "mean": round(est["mean"], 3), "low": round(est["low"], 3), "high": round(est["high"], 3),
                       "interval": est["method"]}
    return pd.DataFrame(rows).T


def out_of_range(estimates: dict[str, dict]) -> list[str]:
    """The ``NUMBERS`` whose mean or interval leaves the number's range (a rate: 0-100 %); empty when all stay."""
    bad = []
    for key, spec in NUMBERS.items():
        lo, hi = (0.0, 100.0) if spec.rate else (spec.scale.low, spec.scale.high)
        est = estimates[key]
        if not lo <= est["low"] <= est["mean"] <= est["high"] <= hi:
            bad.append(key)
    return bad


def rule_text(test: MarginTest) -> str:
    """A test of ``CLAIM_TESTS`` as a line of its rule (``stats.rule_text`` with the number's label and unit)."""
    unit = NUMBERS[test.number].unit
    return stats.rule_text(test, NUMBERS[test.number].label, "" if unit == "×" else unit)


@dataclass
class Decisions:
    """The claims table decided on intervals over seeds: every test's row (``stats.evaluate``: p-values, Holm,
    outcome, seeds to decide) and each claim's verdict."""

    estimates: dict
    rows: list[dict]
    verdicts: dict[str, str]
    alpha: float

    def tests_table(self) -> pd.DataFrame:
        """One row per test: claim, rule, mean [interval], Holm-adjusted p-values, outcome, seeds to decide."""
        claim_of = {t.name: claim for claim, (tests, _) in CLAIM_TESTS.items() for t in tests}
        tests = {t.name: t for t in ALL_TESTS}
        out = []
        for r in self.rows:
            d = NUMBERS[r["number"]].digits
            out.append({"claim": claim_of[r["test"]], "test": rule_text(tests[r["test"]]),
                        "mean [95 % interval]": f"{r['mean']:.{d}f} [{r['low']:.{d}f}, {r['high']:.{d}f}]",
                        "p pass (Holm)": r["p_pass_holm"], "p fail (Holm)": r["p_fail_holm"],
                        "outcome": r["outcome"], "seeds to decide": r["seeds_to_decide"]})
        return pd.DataFrame(out)

    def decider(self, claim: str) -> dict:
        """The test a claim's verdict turns on (``stats.turning_row`` among the claim's tests)."""
        names = {t.name for t in CLAIM_TESTS[claim][0]}
        decided = not self.verdicts[claim].startswith(INCONCLUSIVE)
        return stats.turning_row([r for r in self.rows if r["test"] in names], decided)

    def decider_text(self, claim: str) -> str:
        r = self.decider(claim)
        return f"{number_text(r['number'], self.estimates[r['number']])} ({r['outcome']})"

    def seeds_to_decide(self, claim: str) -> float | None:
        """For an inconclusive claim, the most seeds any of its undecided tests needs (None if decided)."""
        if not self.verdicts[claim].startswith(INCONCLUSIVE):
            return None
        names = {t.name for t in CLAIM_TESTS[claim][0]}
        return stats.seeds_needed([r for r in self.rows if r["test"] in names])


def decide_claims(estimates: dict[str, dict], alpha: float = ALPHA) -> Decisions:
    """Every test of ``CLAIM_TESTS`` on the estimates over seeds (``summarise_chains``), Holm-corrected as one
    family, and each claim's verdict by ``decide_levels`` (an undecided test may take either level)."""
    rows = evaluate(ALL_TESTS, estimates, alpha)
    levels = stats.outcome_levels(rows)
    n = min(estimates[t.number]["n"] for t in ALL_TESTS)
    verdicts = {claim: decide_levels({t.name: levels[t.name] for t in tests}, rule, n)
                for claim, (tests, rule) in CLAIM_TESTS.items()}
    return Decisions(estimates, rows, verdicts, alpha)


def seeds_text(n: float | None) -> str:
    """``Decisions.seeds_to_decide`` as the claims page prints it."""
    if n is None:
        return "decided"
    return f"more than {MAX_SEEDS:,}" if math.isinf(n) else f"{int(n)}"


def replication_glue(decisions: Decisions, single: dict[str, str], level: float) -> dict:
    """Chapter 8's glued values: N, level, family size and level; every number's mean and interval; per claim the
    verdict on the intervals, the first chain's single-run verdict, the deciding number and the seeds to decide."""
    n = min(e["n"] for e in decisions.estimates.values())
    out = {"rep_n": n, "rep_level": round(100 * level), "rep_alpha_pct": 100 * decisions.alpha,
           "rep_n_tests": len(ALL_TESTS), "rep_n_hypotheses": N_HYPOTHESES}
    for key in NUMBERS:
        for part in ("mean", "low", "high"):
            out[f"rep_{key}_{part}"] = decisions.estimates[key][part]
    for claim, verdict in decisions.verdicts.items():
        out |= {f"rep_verdict_{claim}": verdict, f"rep_single_{claim}": single[claim],
                f"rep_decider_{claim}": decisions.decider_text(claim),
                f"rep_to_decide_{claim}": seeds_text(decisions.seeds_to_decide(claim))}
    return out


def verdicts(estimates: dict[str, dict], alpha: float = ALPHA) -> dict[str, str]:
    """Each claim's verdict on the estimates over seeds (``decide_claims``)."""
    return decide_claims(estimates, alpha).verdicts


def point_verdicts(numbers: dict[str, float]) -> dict[str, str]:
    """One run's verdicts: every test on its point value (``MarginTest.point``), then the claims' rules."""
    out = {}
    for claim, (tests, rule) in CLAIM_TESTS.items():
        out[claim] = rule({t.name: int(t.point(numbers[t.number]) == PASS) for t in tests})
    return out


def distances(numbers: dict[str, float]) -> dict[str, float]:
    """Per claim, how far one run's deciding numbers lie from the boundary each test turns on (threshold plus
    margin, in each test's units): a small distance means another seed or machine could give the other verdict."""
    return {claim: min(t.distance(numbers[t.number]) for t in tests) for claim, (tests, _) in CLAIM_TESTS.items()}


# --- one chain ---------------------------------------------------------------------------------------------------

ChainConfig = CircuitsConfig  # a chain is chapter 6's measurements under its seed: one definition of the defaults


def run_chain(config: CircuitsConfig, device, progress: bool = False, data: tuple | None = None) -> dict:
    """Train (or load) every network of one chain and take the claims table's measurements on the test set: the
    stage functions chapter 6 calls (``stages.STAGES``), under ``config.seed``.

    ``data`` = ((x_train, y_train), (x_test, y_test)) on ``device`` (loaded from MNIST when omitted). Returns the
    stages' plain numbers (``stages.chain_record``); ``seconds`` = wall time of the whole call, ``stage_seconds``
    per stage.
    """
    start = time.perf_counter()
    train, test = data if data is not None else (load_mnist("train", device), load_mnist("test", device))
    stage_seconds = {}

    def timed(name, fn, *args, **kwargs):
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        stage_seconds[name] = time.perf_counter() - t0
        return result

    s = timed("setting", stages.setting, config, device, train, test, progress=progress)
    planted = timed("planted_stage", stages.planted_stage, s, progress=progress)
    attribution = timed("attribution_stage", stages.attribution_stage, s, progress=progress)
    steering = timed("steering_stage", stages.steering_stage, s, attribution, progress=progress)
    sweep = timed("sweep_stage", stages.sweep_stage, s, attribution, progress=progress)
    primary = timed("primary_stage", stages.primary_stage, s)
    out = stages.chain_record(primary, attribution, steering, sweep, planted, config.seed)
    out["stage_seconds"] = stage_seconds
    out["seconds"] = time.perf_counter() - start
    return out


def load_or_run_chain(config: CircuitsConfig, device, progress: bool = False, data: tuple | None = None) -> dict:
    """``run_chain`` from the artifact cache (its networks are cached on their own; this caches the measurements)."""
    return load_or_build(ARTIFACT, config, lambda: run_chain(config, device, progress, data))


def half_and_largest(sweep: list[dict]) -> tuple[dict, dict]:
    """The size-sweep entries the compression rule compares (``stages.half_and_largest``)."""
    half, largest = stages.half_and_largest([s["fraction"] for s in sweep])
    return sweep[half], sweep[largest]


def claim_numbers(chain: dict) -> dict[str, float]:
    """The numbers of the claims table (``NUMBERS``) from one chain, in percent and points where the table uses
    them; the tests of ``CLAIM_TESTS`` read the gains (> 0: the claim's direction)."""
    pd_ = chain["per_digit"]
    half, largest = half_and_largest(chain["sweep"])
    w_forget, w_drop = (100 * sum(pd_["dense"][k]) / N_DIGITS for k in ("forget", "retain_drop"))
    s_forget, s_drop = (100 * sum(chain["steering"][k]) / N_DIGITS for k in ("forget", "retain_drop"))
    poly = chain["poly"]
    out = {
        "digit3_forget_dense": 100 * pd_["dense"]["forget"][3],
        "digit3_forget_pruned": 100 * pd_["pruned"]["forget"][3],
        "digit3_drop_dense": 100 * pd_["dense"]["retain_drop"][3],
        "digit3_drop_pruned": 100 * pd_["pruned"]["retain_drop"][3],
        "train_ratio": chain["sym_seconds"] / chain["primary_seconds"],
        "poly_classes_dense": poly["classes"][0],
        "poly_classes_pruned": poly["classes"][1],
        "poly_classes_gain": poly["classes"][1] - poly["classes"][0],  # > 0: pruned responds to more classes
        "poly_sel_dense": poly["selectivity"][0],
        "poly_sel_pruned": poly["selectivity"][1],
        "poly_sel_gain": poly["selectivity"][0] - poly["selectivity"][1],  # > 0: pruned less selective
        "weights_forget": w_forget,
        "steering_forget": s_forget,
        "weights_forget_gain": s_forget - w_forget,  # > 0: weights better
        "weights_drop": w_drop,
        "steering_drop": s_drop,
        "weights_drop_gain": s_drop - w_drop,
        "planted_mono_auroc": chain["planted"]["mono"]["auroc"],
        "planted_poly_auroc": chain["planted"]["poly"]["auroc"],
        "planted_mono_auroc_ablation": chain["planted"]["mono"]["auroc_ablation"],
        "planted_poly_auroc_ablation": chain["planted"]["poly"]["auroc_ablation"],
        "rho_fc1_symbiote": chain["rho_symbiote"]["fc1"],
        "rho_fc1_direct": chain["rho_direct"]["fc1"],
        "rho_conv2_symbiote": chain["rho_symbiote"]["conv2"],
    }
    for layer in ("fc1", "conv2"):
        out[f"compression_gain_{layer}"] = half["rho"][layer] - largest["rho"][layer]  # > 0: half size agrees more
    return {k: out[k] for k in NUMBERS}


def summarise_chains(chains: list[dict], level: float = 0.95) -> dict[str, dict]:
    """Every ``NUMBERS`` entry over the chains: a rate's Wilson interval on the images it is over
    (``stats.rate_interval``), any other number's t interval on its range (``stats.bounded_interval``). The fc1
    agreement also carries its null pooled over seeds (``stats.pooled_null`` of each chain's random rankings) for the
    permutation test of ``CLAIM_TESTS``."""
    if len({c["seed"] for c in chains}) != len(chains):
        raise ValueError(f"chains must have distinct seeds, got {[c['seed'] for c in chains]}")
    per = [claim_numbers(c) for c in chains]
    out = {}
    for key, spec in NUMBERS.items():
        vals = [p[key] for p in per]
        if spec.rate:
            trials = [c["test_counts"][3] if spec.rate == "digit3" else sum(c["test_counts"]) for c in chains]
            out[key] = rate_interval([v / 100 for v in vals], trials, level, scale=100)
        else:
            out[key] = bounded_interval(vals, spec.scale, level)
    draws = [c["null_rho"]["fc1"] for c in chains]
    out["rho_fc1_symbiote"]["null"] = pooled_null(draws, seed=min(c["seed"] for c in chains))
    return out


def per_digit_targets(chains: list[dict], forget_target: float = FORGET_TARGET,
                      drop_target: float = DROP_TARGET) -> dict:
    """Chapter 5's targets on the seed mean: per primary, the seed-mean forget and drop of every digit (fractions),
    whether every digit meets both targets on the mean, and the per-seed worst digit beside it."""
    out = {}
    for label in chains[0]["per_digit"]:
        forget = torch.tensor([c["per_digit"][label]["forget"] for c in chains], dtype=torch.float64)  # (S, 10)
        drop = torch.tensor([c["per_digit"][label]["retain_drop"] for c in chains], dtype=torch.float64)
        mean_f, mean_d = forget.mean(0), drop.mean(0)
        out[label] = {
            "forget_mean": mean_f.tolist(), "drop_mean": mean_d.tolist(),
            "met_on_mean": bool((mean_f <= forget_target).all() and (mean_d <= drop_target).all()),
            "worst_forget_mean": mean_f.max().item(), "worst_drop_mean": mean_d.max().item(),
            "worst_forget_per_seed": forget.max(1).values.tolist(), "worst_drop_per_seed": drop.max(1).values.tolist(),
            "seeds_meeting": int(((forget.max(1).values <= forget_target) & (drop.max(1).values <= drop_target)).sum()),
        }
    return out


def main(argv: list[str] | None = None) -> None:
    """``python -m symbiote_lite.replication [--workers N | --scheduler ADDRESS] SEED [SEED ...]``: train and
    measure the chains of these seeds into the artifact cache over Dask workers (``cluster.main``; the book's build
    runs them beside chapters 2-7 on one worker; chapter 8 then loads them)."""
    from symbiote_lite import cluster

    cluster.main(argv, prog="python -m symbiote_lite.replication")


if __name__ == "__main__":
    main()


# --- one run's claims table (chapter 6) --------------------------------------------------------------------------

CLAIM_NAMES = {
    "digit3": "inhibits digit 3", "slower": "learns slower than the CNN",
    "polysemantic": "pruning induces polysemanticity", "compression": "half size forces compression",
    "weights": "weights beat activations", "circuits": "learns features and circuits",
}


def measured_text(n: dict[str, float], poly_verdict: str) -> dict[str, str]:
    """What each claim's rule measured in one run, as the claims table prints it (``n``: ``claim_numbers``)."""
    yes = lambda test: "yes" if test.point(n[test.number]) == PASS else "no"
    mono, poly, rho = CLAIM_TESTS["circuits"][0]
    return {
        "digit3": f"forget {n['digit3_forget_dense']:.2f} % / {n['digit3_forget_pruned']:.2f} %, retain drop "
                  f"{n['digit3_drop_dense']:.2f} / {n['digit3_drop_pruned']:.2f} points (dense / pruned)",
        "slower": f"training time ratio {n['train_ratio']:.1f}×",
        "polysemantic": f"classes per neuron {n['poly_classes_dense']:.2f} → {n['poly_classes_pruned']:.2f}, "
                        f"selectivity {n['poly_sel_dense']:.2f} → {n['poly_sel_pruned']:.2f}: {poly_verdict}",
        "compression": f"ρ half − ρ largest: fc1 {n['compression_gain_fc1']:+.3f}, conv2 "
                       f"{n['compression_gain_conv2']:+.3f} (margin {RHO_MARGIN:g})",
        "weights": f"steering − weights: forget {n['weights_forget_gain']:+.2f}, drop "
                   f"{n['weights_drop_gain']:+.2f} points (margin 0.1)",
        "circuits": f"planted mono AUROC ≥ 0.9: {yes(mono)}, planted poly AUROC ≥ 0.9: {yes(poly)}, real ρ fc1 ≥ "
                    f"{RHO_MARGIN:g}: {yes(rho)}",
    }


@dataclass
class Claims:
    """One run's claims table: the numbers of ``claim_numbers``, each claim's verdict (``point_verdicts``: the
    replication's tests on point values) and distance from its nearest boundary (``distances``)."""

    numbers: dict
    verdicts: dict
    distances: dict
    poly_verdict: str  # chapter 3's permutation-test reading of the polysemanticity comparison
    seconds: dict  # training wall time: {"symbiote": s, "primary": s}

    def table(self) -> pd.DataFrame:
        text = measured_text(self.numbers, self.poly_verdict)
        return pd.DataFrame([(CLAIM_NAMES[k], text[k], self.verdicts[k], round(self.distances[k], 2))
                             for k in CLAIM_NAMES], columns=["claim", "measured", "verdict", "distance"])

    def text(self) -> str:
        """The table as text, its long column unwrapped."""
        with pd.option_context("display.max_colwidth", 120, "display.width", 200):
            return self.table().to_string(index=False)

    def glue_values(self) -> dict:
        n = self.numbers
        out = {}
        for key in CLAIM_NAMES:
            out |= {f"verdict_{key}": self.verdicts[key], f"distance_{key}": round(self.distances[key], 2)}
        for label in ("dense", "pruned"):
            out |= {f"digit3_forget_{label}": n[f"digit3_forget_{label}"],
                    f"digit3_drop_{label}": n[f"digit3_drop_{label}"]}
        out |= {"train_ratio": n["train_ratio"], "sym_train_seconds": self.seconds["symbiote"],
                "primary_train_seconds": self.seconds["primary"], "poly_verdict": self.poly_verdict}
        for key in ("poly_classes_dense", "poly_classes_pruned", "poly_sel_dense", "poly_sel_pruned"):
            out[key] = n[key]
        for layer in ("fc1", "conv2"):
            out[f"compression_gain_{layer}"] = n[f"compression_gain_{layer}"]
        return out | {"weights_minus_forget": n["weights_forget_gain"], "weights_minus_drop": n["weights_drop_gain"]}


def single_run_claims(chain: dict) -> Claims:
    """The claims table of one chain's numbers (``stages.chain_record``), decided by the replication's rules."""
    numbers = claim_numbers(chain)
    seconds = {"symbiote": chain["sym_seconds"], "primary": chain["primary_seconds"]}
    return Claims(numbers, point_verdicts(numbers), distances(numbers), chain["poly"]["verdict"], seconds)
