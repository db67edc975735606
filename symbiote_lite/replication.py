"""Replication across seeds: independent chains, intervals over seeds and verdicts on intervals (chapter 8).

A **chain** is the book's whole pipeline under one seed: dense primary -> BIMT-pruned primary -> symbiotes on
both -> steering editor -> direct-optimisation reference -> size sweep -> planted circuits, each network cached
under its own seed (``seed = 0`` is exactly what chapters 2-6 train with their defaults, so that chain reuses their
artifacts). ``run_chain`` takes the measurements behind every number of the claims table with chapter 6's own
stage functions (``stages``) and ``load_or_run_chain`` caches them as one small artifact. The same rules decide a
single run (``single_run_claims``, chapter 6) and the intervals over seeds (``verdicts``, chapter 8).

Across chains, every number gets a mean and a 95 % **Student t interval over seeds**
(``mean ± t_{0.975, N-1} · s / √N``, ``t_interval``). A verdict rule is written as threshold **tests** on such
numbers and a **rule** that maps the tests' outcomes to a verdict. With an interval in place of one number a test
can be undecided (the interval straddles its threshold); ``decide`` tries every outcome the intervals allow and
returns the verdict when they all agree, else ``"inconclusive at N seeds"``.
"""

import argparse
import functools
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import torch

from symbiote_lite import stages
from symbiote_lite.artifacts import load_or_build
from symbiote_lite.data import load_mnist
from symbiote_lite.metrics import DROP_TARGET, FORGET_TARGET, N_DIGITS
from symbiote_lite.runtime import default_device
from symbiote_lite.stages import CircuitsConfig

INCONCLUSIVE = "inconclusive"
# a chain's cache file name; it changes with the layout of the record, so a record of another layout is never read
ARTIFACT = "chain-2"
FORGET_TARGET_PCT = 100 * FORGET_TARGET  # chapter 5's targets in the claims table's units (percent, points)
DROP_TARGET_POINTS = 100 * DROP_TARGET

# --- intervals over seeds ----------------------------------------------------------------------------------------


def student_t_cdf(x: float, df: int, n_grid: int = 4000) -> float:
    """P(T ≤ x) for Student's t with ``df`` degrees of freedom (Simpson's rule on the density; ~1e-9 accurate)."""
    if df < 1:
        raise ValueError(f"df={df} must be at least 1")
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    pdf = lambda t: math.exp(log_c - (df + 1) / 2 * math.log1p(t * t / df))
    a = abs(x)
    if a == 0:
        return 0.5
    # substitute t = a·u on [0, 1]: smooth integrand, fixed grid
    h = 1.0 / n_grid
    total = pdf(0) + pdf(a)
    for i in range(1, n_grid):
        total += (4 if i % 2 else 2) * pdf(a * i * h)
    half = total * h / 3 * a
    return 0.5 + half if x > 0 else 0.5 - half


@functools.lru_cache(maxsize=256)
def student_t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t with ``df`` degrees of freedom (bisection on ``student_t_cdf``)."""
    if not 0 < p < 1:
        raise ValueError(f"p={p} must lie in (0, 1)")
    if p < 0.5:
        return -student_t_quantile(1 - p, df)
    lo, hi = 0.0, 1.0
    while student_t_cdf(hi, df) < p:
        lo, hi = hi, 2 * hi
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if student_t_cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2


def t_interval(values, level: float = 0.95) -> dict:
    """Mean and two-sided Student t interval over independent runs: ``mean ± t_{(1+level)/2, n-1} · s / √n``.

    Returns ``{"n", "mean", "sd", "low", "high", "values"}``; with one value the interval is that value (no spread
    can be estimated; the caller should not call it an interval). NaN values are refused.
    """
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("t_interval needs at least one value")
    if any(math.isnan(v) for v in vals):
        raise ValueError(f"t_interval got NaN among {vals}")
    n = len(vals)
    mean = sum(vals) / n
    if n == 1:
        return {"n": 1, "mean": mean, "sd": float("nan"), "low": mean, "high": mean, "values": vals}
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1))
    half = student_t_quantile((1 + level) / 2, n - 1) * sd / math.sqrt(n)
    return {"n": n, "mean": mean, "sd": sd, "low": mean - half, "high": mean + half, "values": vals}


# --- verdicts on intervals ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Test:
    """One threshold test of a verdict rule: ``level(x)`` is an integer that does not decrease (or does not increase)
    with x, e.g. ``lambda x: x >= 0.9`` (a pass/fail test) or three levels for worse / equal / better."""

    name: str
    low: float
    high: float
    level: Callable[[float], int]
    thresholds: tuple = ()  # where ``level`` changes (for the margin of a single run)

    def possible(self) -> list[int]:
        """Every level the true value can have if it lies in [low, high] (a monotone level takes all in between)."""
        a, b = int(self.level(self.low)), int(self.level(self.high))
        return list(range(min(a, b), max(a, b) + 1))


def decide(tests: list[Test], rule: Callable[[dict[str, int]], str], n: int | None = None) -> str:
    """The verdict of ``rule`` on the tests' levels when every level the intervals allow gives the same verdict;
    otherwise ``"inconclusive at n seeds"`` (``"inconclusive"`` without ``n``). A test whose interval is one point
    has one level, so ``decide`` on point values is the single-run rule."""
    names = [t.name for t in tests]
    combos = itertools.product(*(t.possible() for t in tests))
    verdicts = {rule(dict(zip(names, combo, strict=True))) for combo in combos}
    if len(verdicts) == 1:
        return verdicts.pop()
    return f"{INCONCLUSIVE} at {n} seeds" if n is not None else INCONCLUSIVE


def claim_tests(stats: dict[str, dict]) -> dict[str, tuple[list[Test], Callable]]:
    """The six rules of the claims page as (tests, rule), on ``stats`` {number: t_interval(...)} (keys of
    ``claim_numbers``). The same thresholds as chapter 6's single-run rules."""

    def t(name, level, *thresholds):
        return Test(name, stats[name]["low"], stats[name]["high"], level, thresholds)

    def digit3(lv):
        forget = lv["digit3_forget_dense"] and lv["digit3_forget_pruned"]
        drop = lv["digit3_drop_dense"] and lv["digit3_drop_pruned"]
        return "supported" if forget and drop else "partly" if forget else "not supported"

    def slower(lv):
        return ["not supported", "partly", "supported"][lv["train_ratio"]]

    def poly(lv):
        return ["not supported", "partly", "supported"][lv["poly_classes_gain"] + lv["poly_sel_gain"]]

    def compression(lv):
        return ["not supported", "partly", "supported"][lv["compression_fc1"] + lv["compression_conv2"]]

    def weights(lv):  # levels: 0 worse, 1 equal, 2 better (steering − weights, > 0.1 = weights better)
        better = sum(lv[k] == 2 for k in ("weights_forget_gain", "weights_drop_gain"))
        worse = sum(lv[k] == 0 for k in ("weights_forget_gain", "weights_drop_gain"))
        return "supported" if better and not worse else "not supported" if not better else "partly"

    def circuits(lv):
        passed = lv["planted_mono_auroc"] + lv["planted_poly_auroc"] + lv["rho_fc1_above_chance"]
        return ["not supported", "partly", "partly", "supported"][passed]

    three = lambda x: 0 if x < -0.1 else 2 if x > 0.1 else 1
    at_most = lambda c: lambda x: x <= c
    above = lambda c: lambda x: x > c
    at_least = lambda c: lambda x: x >= c
    return {
        "digit3": ([t(f"digit3_{q}_{p}", at_most(c), c) for q, c in (("forget", FORGET_TARGET_PCT),
                                                                     ("drop", DROP_TARGET_POINTS))
                    for p in ("dense", "pruned")], digit3),
        "slower": ([t("train_ratio", lambda x: 2 if x >= 2 else 1 if x >= 1 else 0, 1, 2)], slower),
        "polysemantic": ([t("poly_classes_gain", above(0), 0), t("poly_sel_gain", above(0), 0)], poly),
        "compression": ([t("compression_fc1", above(0), 0), t("compression_conv2", above(0), 0)], compression),
        "weights": ([t("weights_forget_gain", three, -0.1, 0.1), t("weights_drop_gain", three, -0.1, 0.1)], weights),
        "circuits": ([t("planted_mono_auroc", at_least(0.9), 0.9), t("planted_poly_auroc", at_least(0.9), 0.9),
                      t("rho_fc1_above_chance", above(0), 0)], circuits),
    }


def margins(numbers: dict[str, float]) -> dict[str, float]:
    """Per claim, how far one run's deciding numbers lie from their nearest threshold (in each test's units): a
    small margin means another seed or machine could give the other verdict."""
    out = {}
    for claim, (tests, _) in claim_tests(point_stats(numbers)).items():
        out[claim] = min(abs(numbers[test.name] - c) for test in tests for c in test.thresholds)
    return out


def verdicts(stats: dict[str, dict]) -> dict[str, str]:
    """Each claim's verdict on the intervals in ``stats`` (see ``claim_tests``, ``decide``)."""
    n = min(s["n"] for s in stats.values())
    return {claim: decide(tests, rule, n) for claim, (tests, rule) in claim_tests(stats).items()}


def point_stats(numbers: dict[str, float]) -> dict[str, dict]:
    """One chain's numbers as degenerate intervals, so ``verdicts`` gives that run's single-run verdicts."""
    return {k: {"n": 1, "mean": v, "low": v, "high": v, "values": [v]} for k, v in numbers.items()}


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
    """The numbers of the claims table from one chain (percent and points where the table uses them); the verdict
    rules of ``claim_tests`` read the keys marked by their names (gains, above-chance margins)."""
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
        "poly_sel_dense": poly["selectivity"][0],
        "poly_sel_pruned": poly["selectivity"][1],
        "poly_classes_gain": poly["classes"][1] - poly["classes"][0],  # > 0: pruned responds to more classes
        "poly_sel_gain": poly["selectivity"][0] - poly["selectivity"][1],  # > 0: pruned less selective
        "weights_forget": w_forget,
        "weights_drop": w_drop,
        "steering_forget": s_forget,
        "steering_drop": s_drop,
        "weights_forget_gain": s_forget - w_forget,  # > 0.1: weights better
        "weights_drop_gain": s_drop - w_drop,
        "planted_mono_auroc": chain["planted"]["mono"]["auroc"],
        "planted_poly_auroc": chain["planted"]["poly"]["auroc"],
        "planted_mono_auroc_ablation": chain["planted"]["mono"]["auroc_ablation"],
        "planted_poly_auroc_ablation": chain["planted"]["poly"]["auroc_ablation"],
        "rho_fc1_symbiote": chain["rho_symbiote"]["fc1"],
        "rho_conv2_symbiote": chain["rho_symbiote"]["conv2"],
        "rho_fc1_direct": chain["rho_direct"]["fc1"],
        "rho_fc1_chance": chain["chance"]["fc1"],
        "rho_fc1_above_chance": chain["rho_symbiote"]["fc1"] - chain["chance"]["fc1"],
    }
    for layer in ("fc1", "conv2"):
        gain = half["rho"][layer] - largest["rho"][layer]
        out[f"compression_gain_{layer}"] = gain
        out[f"compression_spread_{layer}"] = chain["spread"][layer]
        out[f"compression_{layer}"] = gain - chain["spread"][layer]  # > 0: larger than chance spread
    return out


def summarise_chains(chains: list[dict], level: float = 0.95) -> dict[str, dict]:
    """``t_interval`` over the chains of every ``claim_numbers`` entry."""
    per = [claim_numbers(c) for c in chains]
    return {k: t_interval([p[k] for p in per], level) for k in per[0]}


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
    """``python -m symbiote_lite.replication SEED [SEED ...]``: train and measure the chains of these seeds into the
    artifact cache (the book's build runs them beside chapters 2-7; chapter 8 then loads them)."""
    parser = argparse.ArgumentParser(prog="python -m symbiote_lite.replication", description=main.__doc__)
    parser.add_argument("seeds", nargs="+", type=int, help="chain seeds (non-negative integers)")
    args = parser.parse_args(argv)
    bad = [s for s in args.seeds if s < 0]
    if bad:
        parser.error(f"seeds {bad} are negative; give non-negative integers, e.g. 1 2 3 4")
    device = default_device()
    for seed in args.seeds:
        chain = load_or_run_chain(ChainConfig(seed=seed), device)
        print(f"chain of seed {seed}: {chain['seconds']:.0f} s when it was run", flush=True)


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
    return {
        "digit3": f"forget {n['digit3_forget_dense']:.2f} % / {n['digit3_forget_pruned']:.2f} %, retain drop "
                  f"{n['digit3_drop_dense']:.2f} / {n['digit3_drop_pruned']:.2f} points (dense / pruned)",
        "slower": f"training time ratio {n['train_ratio']:.1f}×",
        "polysemantic": f"classes per neuron {n['poly_classes_dense']:.2f} → {n['poly_classes_pruned']:.2f}, "
                        f"selectivity {n['poly_sel_dense']:.2f} → {n['poly_sel_pruned']:.2f}: {poly_verdict}",
        "compression": f"ρ half − ρ largest: fc1 {n['compression_gain_fc1']:+.2f}, conv2 "
                       f"{n['compression_gain_conv2']:+.2f} (chance spread {n['compression_spread_fc1']:.2f}, "
                       f"{n['compression_spread_conv2']:.2f})",
        "weights": f"steering − weights: forget {n['weights_forget_gain']:+.2f}, drop "
                   f"{n['weights_drop_gain']:+.2f} points",
        "circuits": f"planted mono AUROC ≥ 0.9: {'yes' if n['planted_mono_auroc'] >= 0.9 else 'no'}, planted poly "
                    f"AUROC ≥ 0.9: {'yes' if n['planted_poly_auroc'] >= 0.9 else 'no'}, real ρ fc1 above chance: "
                    f"{'yes' if n['rho_fc1_above_chance'] > 0 else 'no'}",
    }


@dataclass
class Claims:
    """One run's claims table: the numbers of ``claim_numbers``, each claim's verdict (``verdicts`` on point
    values: the replication's rules) and margin (``margins``)."""

    numbers: dict
    verdicts: dict
    margins: dict
    poly_verdict: str  # chapter 3's permutation-test reading of the polysemanticity comparison
    seconds: dict  # training wall time: {"symbiote": s, "primary": s}

    def table(self) -> pd.DataFrame:
        text = measured_text(self.numbers, self.poly_verdict)
        return pd.DataFrame([(CLAIM_NAMES[k], text[k], self.verdicts[k], round(self.margins[k], 2))
                             for k in CLAIM_NAMES], columns=["claim", "measured", "verdict", "margin"])

    def text(self) -> str:
        """The table as text, its long column unwrapped."""
        with pd.option_context("display.max_colwidth", 120, "display.width", 200):
            return self.table().to_string(index=False)

    def glue_values(self) -> dict:
        n = self.numbers
        out = {}
        for key in CLAIM_NAMES:
            out |= {f"verdict_{key}": self.verdicts[key], f"margin_{key}": round(self.margins[key], 2)}
        for label in ("dense", "pruned"):
            out |= {f"digit3_forget_{label}": n[f"digit3_forget_{label}"],
                    f"digit3_drop_{label}": n[f"digit3_drop_{label}"]}
        out |= {"train_ratio": n["train_ratio"], "sym_train_seconds": self.seconds["symbiote"],
                "primary_train_seconds": self.seconds["primary"], "poly_verdict": self.poly_verdict}
        for key in ("poly_classes_dense", "poly_classes_pruned", "poly_sel_dense", "poly_sel_pruned"):
            out[key] = n[key]
        for layer in ("fc1", "conv2"):
            out |= {f"compression_gain_{layer}": n[f"compression_gain_{layer}"],
                    f"compression_spread_{layer}": n[f"compression_spread_{layer}"]}
        return out | {"weights_minus_forget": n["weights_forget_gain"], "weights_minus_drop": n["weights_drop_gain"]}


def single_run_claims(chain: dict) -> Claims:
    """The claims table of one chain's numbers (``stages.chain_record``), decided by the replication's rules."""
    numbers = claim_numbers(chain)
    seconds = {"symbiote": chain["sym_seconds"], "primary": chain["primary_seconds"]}
    return Claims(numbers, verdicts(point_stats(numbers)), margins(numbers), chain["poly"]["verdict"], seconds)
