"""Statistics behind the verdicts: intervals that stay in their quantity's range, one-sided tests with a smallest
effect of interest, Holm's correction over a table's tests, and the number of seeds an undecided test would need.

**Intervals over seeds.** A number measured once per independent run, ``x_1 … x_N``, is summarised by its mean and
a 95 % interval. Which interval depends on what the number is:

* a **rate** (a forget accuracy: the fraction of a digit's test images still recognised) gets a **Wilson score
  interval** on the seed mean with an *effective* number of images (``rate_interval``): the images of all seeds,
  divided by the design effect, i.e. by how much more the rate varies between seeds than binomial sampling of the
  images alone would make it vary (never less than 1). It stays inside [0, 1], is not degenerate when every run
  gives 0 (its upper end is then the rate the images could still hide) and is the interval the score test inverts;
* a number with a **bounded range** (an AUROC, a correlation, a difference of correlations, a retain drop in points)
  gets the Student t interval of its values mapped onto the real line (``bounded_interval``: a scaled logit, which
  for a correlation is Fisher's z), mapped back; so it also stays in range, and far from the bounds it is the
  ordinary t interval;
* a **positive ratio** gets the t interval of its logarithm (a ratio of 2 and one of 1/2 are equally far from 1).

**Tests with a margin** (``MarginTest``). A test asks whether a number lies beyond a threshold ``c`` on its passing
side and states, before any number is seen, a **smallest effect of interest** ``δ`` (``margin``; 0 for a target such
as "forget ≤ 0.5 %", where the target is the effect of interest). Two one-sided tests decide it:

* it **passes** when "the true value lies on the failing side of ``c``" is rejected,
* it **fails** when "the true value lies at least ``δ`` beyond ``c``" is rejected (its interval lies inside the
  margin around no effect, or on the wrong side: the effect, if any, is smaller than the smallest one of interest),
* otherwise it is **undecided**.

A test that both passes and fails (a real effect smaller than the margin) fails: that is the equivalence-testing
reading of Lakens, Scheel & Isager (2018). With a margin > 0 a mean sitting at its threshold fails once enough seeds
are run, so "not supported" is reachable. One run decides on the point value: it passes when it lies at least ``δ``
beyond ``c``.

**Multiplicity.** A table's tests form one family: both one-sided p-values of every test are corrected together with
Holm's step-down method (``statsmodels``), so the chance of any wrong pass or fail in the table is at most
``ALPHA``. It is conservative: a test's two hypotheses cannot both be true, yet each counts.

**Seeds to decide** (``seeds_to_decide``): for an undecided test, the smallest N at which it would be decided at the
Bonferroni level ``ALPHA / m`` (which also decides it under Holm) if the observed mean and spread held.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

ALPHA = 0.05  # family-wise error rate of a table of tests
MAX_SEEDS = 100_000  # ``seeds_to_decide`` reports "more than this" beyond it
SQUEEZE = 1e-3  # a bounded number's values at a bound are moved this fraction of the range inside it (see below)
PASS, FAIL, UNDECIDED = "pass", "fail", "undecided"


# --- intervals ---------------------------------------------------------------------------------------------------


def student_t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t with ``df`` degrees of freedom."""
    if not 0 < p < 1:
        raise ValueError(f"p={p} must lie in (0, 1)")
    if df < 1:
        raise ValueError(f"df={df} must be at least 1")
    return float(sps.t.ppf(p, df))


def _values(values, who: str) -> list[float]:
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError(f"{who} needs at least one value")
    if any(math.isnan(v) for v in vals):
        raise ValueError(f"{who} got NaN among {vals}")
    return vals


def t_interval(values, level: float = 0.95) -> dict:
    """Mean and two-sided Student t interval over independent runs: ``mean ± t_{(1+level)/2, n-1} · s / √n``.

    Returns ``{"n", "mean", "sd", "low", "high", "values", "method"}``; with one value the interval is that value (no
    spread can be estimated; the caller should not call it an interval). NaN values are refused.
    """
    vals = _values(values, "t_interval")
    n = len(vals)
    mean = sum(vals) / n
    out = {"n": n, "mean": mean, "values": vals, "method": "t"}
    if n == 1:
        return out | {"sd": float("nan"), "low": mean, "high": mean}
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1))
    half = student_t_quantile((1 + level) / 2, n - 1) * sd / math.sqrt(n)
    return out | {"sd": sd, "low": mean - half, "high": mean + half}


@dataclass(frozen=True)
class Scale:
    """The range of a number and the map that takes it onto the real line for a t interval: a scaled logit for a
    bounded range, the logarithm for a positive ratio, the identity for an unbounded number."""

    low: float = -math.inf
    high: float = math.inf

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"a range needs low < high, got [{self.low}, {self.high}]")
        if math.isinf(self.high) and not math.isinf(self.low) and self.low != 0:
            raise ValueError("a half-bounded range must be (0, inf) (a positive ratio)")

    @property
    def kind(self) -> str:
        if math.isinf(self.low) and math.isinf(self.high):
            return "t"
        return "log t" if math.isinf(self.high) else "logit t"

    def inside(self, x: float) -> float:
        """``x`` moved ``SQUEEZE`` of the range inside a bound it sits on (a logit or log of a bound is infinite)."""
        if self.kind == "t":
            return x
        if self.kind == "log t":
            if x < 0:
                raise ValueError(f"{x} is outside the range (0, inf)")
            return max(x, SQUEEZE)
        if not self.low <= x <= self.high:
            raise ValueError(f"{x} is outside the range [{self.low}, {self.high}]")
        eps = SQUEEZE * (self.high - self.low)
        return min(max(x, self.low + eps), self.high - eps)

    def forward(self, x: float) -> float:
        x = self.inside(x)
        if self.kind == "t":
            return x
        if self.kind == "log t":
            return math.log(x)
        u = (x - self.low) / (self.high - self.low)
        return math.log(u / (1 - u))

    def back(self, y: float) -> float:
        if self.kind == "t":
            return y
        if self.kind == "log t":
            return math.exp(y)
        return self.low + (self.high - self.low) / (1 + math.exp(-y))


def bounded_interval(values, scale: Scale = Scale(), level: float = 0.95) -> dict:
    """``t_interval`` of the values on ``scale``'s real line, mapped back: it stays inside the range. The reported
    mean is the plain mean. A bounded number's values that sit on a bound are first moved ``SQUEEZE`` of the range
    inside (which widens the interval: conservative). All-equal values give a zero-width interval."""
    vals = _values(values, "bounded_interval")
    for v in vals:
        scale.inside(v)  # refuses a value outside the range
    plain = t_interval(vals, level)
    if scale.kind == "t" or len(set(vals)) == 1:
        return plain | {"method": scale.kind, "scale": scale}
    ys = t_interval([scale.forward(v) for v in vals], level)
    return plain | {"low": scale.back(ys["low"]), "high": scale.back(ys["high"]), "method": scale.kind,
                    "scale": scale}


def wilson(p: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``p`` observed on ``n`` (possibly effective, non-integer) trials."""
    if not 0 <= p <= 1 or n <= 0:
        raise ValueError(f"wilson needs 0 <= p <= 1 and n > 0, got p={p}, n={n}")
    z = float(sps.norm.ppf((1 + level) / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if p == 0 else max(0.0, centre - half)
    return low, 1.0 if p == 1 else min(1.0, centre + half)


def rate_interval(rates, trials, level: float = 0.95, scale: float = 1.0) -> dict:
    """Seed mean of a rate with a Wilson interval on its effective number of trials (see the module's docstring).

    ``rates`` are per-seed fractions in [0, 1]; ``trials`` the number of images each is measured on (a number or
    one per seed). The effective number is ``min(Σ trials, p(1 − p) / (s² / N))``: the between-seed variance of the
    mean, ``s² / N``, never counts for less than binomial sampling of all the images. Values and interval are
    returned multiplied by ``scale`` (100 for percent).
    """
    vals = _values(rates, "rate_interval")
    if any(not 0 <= v <= 1 for v in vals):
        raise ValueError(f"rate_interval needs rates in [0, 1] (fractions, not percent), got {vals}")
    n = len(vals)
    ns = [float(trials)] * n if np.isscalar(trials) else [float(t) for t in trials]
    if len(ns) != n or any(t <= 0 for t in ns):
        raise ValueError(f"rate_interval needs one positive number of trials per rate, got {trials} for {n} rates")
    p = sum(vals) / n
    total = sum(ns)
    var_mean = (sum((v - p) ** 2 for v in vals) / (n - 1)) / n if n > 1 else 0.0
    n_eff = total if var_mean == 0 or p in (0.0, 1.0) else min(total, p * (1 - p) / var_mean)
    low, high = wilson(p, n_eff, level)
    sd = math.sqrt(var_mean * n) if n > 1 else float("nan")
    return {"n": n, "mean": scale * p, "sd": scale * sd, "low": scale * low, "high": scale * high,
            "values": [scale * v for v in vals], "method": "Wilson", "n_eff": n_eff, "rate_scale": scale}


def rate_from_se(est: dict, trials: float, level: float = 0.95, scale: float = 100.0) -> dict:
    """A rate's estimate that carries its own standard error (e.g. a jackknife over seeds; mean and ``se`` in units
    of ``scale``) as a Wilson interval on its effective number of trials, ``min(trials, p(1 − p) / se²)``, as
    ``rate_interval`` does for independent runs; ``trials`` bounds it by binomial sampling of all the images."""
    p, se = est["mean"] / scale, est["se"] / scale
    if not 0 <= p <= 1:
        raise ValueError(f"rate_from_se needs a rate in [0, {scale:g}], got {est['mean']}")
    n_eff = trials if se == 0 or p in (0.0, 1.0) else min(trials, p * (1 - p) / se**2)
    low, high = wilson(p, n_eff, level)
    return {k: v for k, v in est.items() if k not in ("se", "df")} | {
        "low": scale * low, "high": scale * high, "method": "Wilson", "n_eff": n_eff, "rate_scale": scale}


def pooled_null(draws: list, n_pooled: int = 20_000, seed: int = 0) -> np.ndarray:
    """The null distribution of a mean over seeds from each seed's own null draws: ``n_pooled`` means of one draw
    per seed, drawn independently per seed (the seeds' nulls are independent)."""
    arrays = [np.asarray(d, dtype=float) for d in draws]
    if not arrays or any(a.ndim != 1 or a.size == 0 for a in arrays):
        raise ValueError("pooled_null needs one non-empty 1-d array of null draws per seed")
    rng = np.random.default_rng(seed)
    return np.mean([a[rng.integers(0, a.size, n_pooled)] for a in arrays], axis=0)


def permutation_p(observed: float, null: np.ndarray) -> float:
    """One-sided p-value of ``observed`` against null draws (larger is more extreme), with the +1 that keeps it
    valid: ``(1 + #{null ≥ observed}) / (1 + n)``."""
    null = np.asarray(null, dtype=float)
    return float((1 + np.sum(null >= observed)) / (1 + null.size))


# --- one-sided p-values of an estimate ---------------------------------------------------------------------------


def p_beyond(est: dict, c: float, side: int) -> float:
    """One-sided p-value for "the true value lies beyond ``c``" (``side`` +1: above, −1: below) against the null that
    it does not, from an estimate of ``t_interval``/``bounded_interval``/``rate_interval`` (the test each interval
    inverts: t on the mapped values, or the score test on the effective trials), or from any estimate that carries
    its own standard error ``se`` and degrees of freedom ``df`` (t on them)."""
    if side not in (1, -1):
        raise ValueError(f"side must be +1 or -1, got {side}")
    if est["method"] == "Wilson":
        s = est["rate_scale"]
        p, c0, n = est["mean"] / s, c / s, est["n_eff"]
        if c0 <= 0 or c0 >= 1:
            return 0.0 if side * (p - c0) > 0 else 1.0
        z = (p - c0) / math.sqrt(c0 * (1 - c0) / n)
        return float(sps.norm.sf(side * z))
    if "se" in est:  # an estimate with its own standard error (e.g. a jackknife over seeds): t on ``df``
        if est["se"] == 0:
            return 0.0 if side * (est["mean"] - c) > 0 else 1.0
        return float(sps.t.sf(side * (est["mean"] - c) / est["se"], est["df"]))
    scale = est.get("scale", Scale())
    vals = est["values"]
    ys = [scale.forward(v) for v in vals]
    yc = scale.forward(c) if scale.kind == "t" else scale.forward(min(max(c, scale.low), scale.high))
    n = len(ys)
    mean = sum(ys) / n
    sd = math.sqrt(sum((y - mean) ** 2 for y in ys) / (n - 1)) if n > 1 else 0.0
    if sd == 0:
        return 0.0 if side * (mean - yc) > 0 else 1.0
    t = (mean - yc) / (sd / math.sqrt(n))
    return float(sps.t.sf(side * t, n - 1))


@dataclass(frozen=True)
class MarginTest:
    """One test of a verdict rule: does the number ``number`` lie beyond ``threshold`` on side ``side`` (+1: larger
    passes, −1: smaller passes), by a smallest effect of interest ``margin``? ``null="permutation"`` takes the passing
    side's p-value from the estimate's pooled permutation null (``est["null"]``) instead of its interval."""

    name: str  # the test's own name (unique in its family)
    number: str  # the key of the number it reads
    side: int
    threshold: float
    margin: float = 0.0
    null: str = "interval"

    def __post_init__(self):
        if self.side not in (1, -1) or self.margin < 0 or self.null not in ("interval", "permutation"):
            raise ValueError(f"bad test {self}: side ±1, margin >= 0, null 'interval' or 'permutation'")

    @property
    def fail_boundary(self) -> float:
        """Where the failing hypothesis starts: ``threshold`` plus the margin on the passing side."""
        return self.threshold + self.side * self.margin

    def p_values(self, est: dict) -> dict[str, float]:
        """``{"pass": p, "fail": p}``: the one-sided p-values that reject the failing side of the threshold (pass)
        and the passing side beyond the margin (fail)."""
        if self.null == "permutation":
            if "null" not in est:
                raise ValueError(f"test {self.name} needs the estimate's pooled null draws ('null')")
            observed = self.side * (est["mean"] - self.threshold)
            p_pass = permutation_p(observed, self.side * (np.asarray(est["null"]) - self.threshold))
        else:
            p_pass = p_beyond(est, self.threshold, self.side)
        return {"pass": p_pass, "fail": p_beyond(est, self.fail_boundary, -self.side)}

    def point(self, x: float) -> str:
        """One run's outcome: pass when ``x`` lies at least the margin beyond the threshold, else fail."""
        return PASS if self.side * (x - self.threshold) >= self.margin else FAIL

    def distance(self, x: float) -> float:
        """How far one run's value lies from the boundary its outcome turns on."""
        return abs(x - self.fail_boundary)


def holm(p_values: dict, alpha: float = ALPHA) -> dict:
    """Holm-adjusted p-values (``statsmodels.stats.multitest.multipletests``), same keys."""
    if not p_values:
        return {}
    keys = list(p_values)
    adjusted = multipletests([p_values[k] for k in keys], alpha=alpha, method="holm")[1]
    return {k: float(a) for k, a in zip(keys, adjusted, strict=True)}


def outcome(p_pass: float, p_fail: float, alpha: float = ALPHA) -> str:
    """Fail when the failing hypothesis is established (also when the pass one is: an effect below the margin),
    pass when only the passing one is, else undecided."""
    if p_fail < alpha:
        return FAIL
    return PASS if p_pass < alpha else UNDECIDED


def _gap_and_spread(test: MarginTest, est: dict, boundary: float, permutation: bool) -> tuple[float, float, bool]:
    """(distance of the estimate from ``boundary``, one seed's spread, normal?) on the scale the test uses."""
    if permutation:  # the pooled null is a mean over the seeds: one seed's null spread is √N times its own
        return est["mean"] - boundary, float(np.std(est["null"])) * math.sqrt(est["n"]), True
    if "se" in est:  # a standard error over n seeds: one seed's spread is √n times it
        return est["mean"] - boundary, est["se"] * math.sqrt(est["n"]), False
    if est["method"] == "Wilson":
        s = est["rate_scale"]
        c = boundary / s
        per_seed = est["n_eff"] / est["n"]
        if not 0 < c < 1:
            return 0.0, 0.0, True
        return est["mean"] / s - c, math.sqrt(c * (1 - c) / per_seed), True
    scale = est.get("scale", Scale())
    ys = [scale.forward(v) for v in est["values"]]
    n = len(ys)
    mean = sum(ys) / n
    sd = math.sqrt(sum((y - mean) ** 2 for y in ys) / (n - 1)) if n > 1 else 0.0
    yc = boundary if scale.kind == "t" else scale.forward(min(max(boundary, scale.low), scale.high))
    return mean - yc, sd, False


def seeds_to_decide(test: MarginTest, est: dict, level: float) -> float:
    """The smallest N at which ``test`` would reach the outcome its mean points to (fail if the mean lies short of
    the margin, pass if beyond the threshold and the margin) at one-sided level ``level`` (e.g. ``ALPHA / m``), if
    the observed mean and between-seed spread held; ``inf`` when the mean sits on a boundary or beyond
    ``MAX_SEEDS``."""
    side = test.side
    if side * (est["mean"] - test.fail_boundary) < 0:
        boundary, permutation = test.fail_boundary, False
    elif side * (est["mean"] - test.threshold) > 0:
        boundary, permutation = test.threshold, test.null == "permutation"
    else:
        return math.inf
    gap, spread, normal = _gap_and_spread(test, est, boundary, permutation)
    if gap == 0 or spread == 0:
        return math.inf
    n = est["n"] + 1
    while n <= MAX_SEEDS:
        q = float(sps.norm.ppf(1 - level)) if normal else student_t_quantile(1 - level, n - 1)
        if abs(gap) / (spread / math.sqrt(n)) > q:
            return n
        n = n + 1 if n < 200 else int(n * 1.05)
    return math.inf


# --- a family of tests -------------------------------------------------------------------------------------------


def evaluate(tests: list[MarginTest], estimates: dict[str, dict], alpha: float = ALPHA) -> list[dict]:
    """Every test of a family on ``estimates`` ({number: estimate}): raw and Holm-adjusted p-values over the
    family's 2 × len(tests) one-sided hypotheses, its outcome, and for an undecided test the seeds that would decide
    it. Returns one dict per test, in order."""
    names = [t.name for t in tests]
    if len(set(names)) != len(names):
        raise ValueError(f"test names must be unique in a family, got {names}")
    raw = {}
    for t in tests:
        for side, p in t.p_values(estimates[t.number]).items():
            raw[(t.name, side)] = p
    adjusted = holm(raw, alpha)
    m = len(raw)
    rows = []
    for t in tests:
        est = estimates[t.number]
        p_pass, p_fail = adjusted[(t.name, "pass")], adjusted[(t.name, "fail")]
        result = outcome(p_pass, p_fail, alpha)
        rows.append({"test": t.name, "number": t.number, "side": t.side, "threshold": t.threshold,
                     "margin": t.margin, "mean": est["mean"], "low": est["low"], "high": est["high"],
                     "n": est["n"], "p_pass": raw[(t.name, "pass")], "p_fail": raw[(t.name, "fail")],
                     "p_pass_holm": p_pass, "p_fail_holm": p_fail, "outcome": result,
                     "seeds_to_decide": seeds_to_decide(t, est, alpha / m) if result == UNDECIDED else None})
    return rows


def outcome_levels(rows: list[dict]) -> dict[str, list[int]]:
    """The levels each evaluated test can still take (1 pass, 0 fail; an undecided test either), for a rule's
    decision over every combination (``replication.decide_levels``)."""
    return {r["test"]: [1] if r["outcome"] == PASS else [0] if r["outcome"] == FAIL else [0, 1] for r in rows}


def turning_row(rows: list[dict], decided: bool) -> dict:
    """The test a verdict turns on, among ``evaluate``'s rows of one rule: for a decided verdict the decided test
    with the weakest evidence (largest Holm p), otherwise the undecided test closest to a decision (smallest)."""
    p = lambda r: min(r["p_pass_holm"], r["p_fail_holm"])
    if decided:
        return max((r for r in rows if r["outcome"] != UNDECIDED), key=p)
    return min((r for r in rows if r["outcome"] == UNDECIDED), key=p)


def seeds_needed(rows: list[dict]) -> float:
    """The most seeds any undecided test of ``rows`` would need (``seeds_to_decide``); 0 when all are decided."""
    return max((r["seeds_to_decide"] for r in rows if r["outcome"] == UNDECIDED), default=0)


def rule_text(test: MarginTest, label: str, unit: str = "") -> str:
    """The test as a line of a rule: the number's label, passing side, threshold, margin (a target, with none, is
    inclusive) and where the passing side's p-value comes from."""
    sign = (">" if test.side > 0 else "<") if test.margin else ("≥" if test.side > 0 else "≤")
    unit = f" {unit}" if unit else ""
    margin = f", margin {test.margin:g}{unit}" if test.margin else " (a target: no margin)"
    null = ", pass side by pooled permutation" if test.null == "permutation" else ""
    return f"{label} {sign} {test.threshold:g}{unit}{margin}{null}"
