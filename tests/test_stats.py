import math

import numpy as np
import pytest

from symbiote_lite import stats as S


@pytest.mark.parametrize("df, expected", [(1, 12.7062047), (4, 2.7764451), (30, 2.0422725)])
def test_student_t_quantile_matches_tables(df, expected):
    assert S.student_t_quantile(0.975, df) == pytest.approx(expected, abs=1e-6)
    assert S.student_t_quantile(0.025, df) == pytest.approx(-expected, abs=1e-6)


def test_t_interval_by_hand():
    iv = S.t_interval([1, 2, 3, 4, 5])
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)
    assert iv["mean"] == 3 and iv["low"] == pytest.approx(3 - half) and iv["high"] == pytest.approx(3 + half)
    same = S.t_interval([0.0, 0.0, 0.0])
    assert same["low"] == same["high"] == 0.0
    assert S.t_interval([7.0])["low"] == 7.0
    with pytest.raises(ValueError, match="NaN"):
        S.t_interval([1.0, float("nan")])
    with pytest.raises(ValueError, match="at least one"):
        S.t_interval([])


def test_wilson_by_hand():
    # 0 of 100: upper end z²/(n + z²)
    z = 1.959963985
    low, high = S.wilson(0.0, 100)
    assert low == 0.0 and high == pytest.approx(z * z / (100 + z * z))
    low, high = S.wilson(1.0, 100)
    assert high == 1.0 and low == pytest.approx(100 / (100 + z * z))
    low, high = S.wilson(0.5, 100)  # symmetric around 0.5, inside the normal interval's ends
    assert (low + high) / 2 == pytest.approx(0.5) and 0.40 < low < 0.41


def test_rate_interval_all_zero_and_all_one_stay_in_range():
    zero = S.rate_interval([0.0] * 5, 1010, scale=100)
    assert zero["mean"] == 0 and zero["low"] == 0.0 and 0 < zero["high"] < 0.1, "0 of 5050 images: [0, ~0.08] %"
    assert zero["n_eff"] == 5050
    one = S.rate_interval([1.0] * 5, 1010)
    assert one["high"] == 1.0 and 0.999 < one["low"] < 1.0
    with pytest.raises(ValueError, match="fractions"):
        S.rate_interval([5.0, 0.0], 100)


def test_rate_interval_widens_with_spread_between_seeds():
    tight = S.rate_interval([0.010, 0.011, 0.009, 0.010], 1000)
    loose = S.rate_interval([0.0, 0.03, 0.0, 0.01], 1000)
    assert tight["n_eff"] == 4000, "binomial sampling bounds the effective number of images"
    assert loose["n_eff"] < 4000 and loose["high"] - loose["low"] > tight["high"] - tight["low"]
    assert loose["low"] >= 0


def test_bounded_interval_stays_in_range_where_t_would_not():
    vals = [0.99, 0.97, 0.999, 0.90, 0.995]
    plain = S.t_interval(vals)
    assert plain["high"] > 1, "the t interval leaves [0, 1] here"
    b = S.bounded_interval(vals, S.Scale(0, 1))
    assert 0 < b["low"] < b["high"] < 1 and b["mean"] == pytest.approx(plain["mean"])
    # far from the bounds it is close to the t interval
    mid = [0.48, 0.5, 0.52, 0.49, 0.51]
    assert S.bounded_interval(mid, S.Scale(0, 1))["low"] == pytest.approx(S.t_interval(mid)["low"], abs=1e-3)
    # a correlation: Fisher's z; a ratio: the log
    assert S.bounded_interval([0.1, 0.2, 0.3], S.Scale(-1, 1))["method"] == "logit t"
    r = S.bounded_interval([0.5, 2.0], S.Scale(0, math.inf))
    assert r["low"] > 0 and r["method"] == "log t"
    with pytest.raises(ValueError, match="outside the range"):
        S.bounded_interval([1.5, 0.5], S.Scale(0, 1))
    same = S.bounded_interval([1.0, 1.0, 1.0], S.Scale(0, 1))
    assert same["low"] == same["high"] == 1.0


def test_p_beyond_is_the_interval_s_test():
    est = S.bounded_interval([0.1, 0.2, 0.3, 0.15, 0.25])
    # the 95 % interval's ends are where the one-sided p-values cross 0.025
    assert S.p_beyond(est, est["low"], 1) == pytest.approx(0.025, abs=1e-6)
    assert S.p_beyond(est, est["high"], -1) == pytest.approx(0.025, abs=1e-6)
    rate = S.rate_interval([0.0] * 5, 1010, scale=100)
    assert S.p_beyond(rate, rate["high"], -1) == pytest.approx(0.025, abs=1e-4)
    assert S.p_beyond(rate, 0.5, -1) < 1e-6, "0 of 5050 images is surely below 0.5 %"


def test_margin_test_fails_inside_the_margin_passes_beyond_and_waits_between():
    t = S.MarginTest("gain", "gain", 1, 0.0, 0.1)
    inside = S.bounded_interval([0.01, -0.01, 0.02, 0.0, 0.005] * 4)
    p = t.p_values(inside)
    assert S.outcome(p["pass"], p["fail"]) == S.FAIL, "an interval inside ±0.1 fails: no effect of interest"
    beyond = S.bounded_interval([0.3, 0.4, 0.35, 0.32, 0.38])
    p = t.p_values(beyond)
    assert S.outcome(p["pass"], p["fail"]) == S.PASS
    wide = S.bounded_interval([0.3, -0.2, 0.1, 0.0, 0.2])
    p = t.p_values(wide)
    assert S.outcome(p["pass"], p["fail"]) == S.UNDECIDED
    small_but_real = S.bounded_interval([0.05, 0.051, 0.049, 0.05, 0.052] * 3)
    p = t.p_values(small_but_real)
    assert p["pass"] < 0.05 and p["fail"] < 0.05
    assert S.outcome(p["pass"], p["fail"]) == S.FAIL, "a real effect below the margin fails"
    assert t.point(0.1) == S.PASS and t.point(0.09) == S.FAIL and t.distance(0.09) == pytest.approx(0.01)
    below = S.MarginTest("forget", "forget", -1, 0.5)
    assert below.point(0.5) == S.PASS and below.point(0.51) == S.FAIL


def test_a_mean_at_its_threshold_fails_once_enough_seeds_are_run():
    """The knife edge of a margin-free rule: a true effect of 0 with noise stays undecided at any N without a
    margin; with one it fails."""
    rng = np.random.default_rng(0)
    t_margin = S.MarginTest("g", "g", 1, 0.0, 0.1)
    t_none = S.MarginTest("g", "g", 1, 0.0, 0.0)
    vals = rng.normal(0.0, 0.05, 60)
    est = S.bounded_interval(vals)
    p_margin, p_none = t_margin.p_values(est), t_none.p_values(est)
    assert S.outcome(p_margin["pass"], p_margin["fail"]) == S.FAIL
    assert S.outcome(p_none["pass"], p_none["fail"]) == S.UNDECIDED


def test_permutation_test_pooled_over_seeds():
    rng = np.random.default_rng(1)
    draws = [rng.normal(0, 0.02, 1000) for _ in range(5)]
    pooled = S.pooled_null(draws, seed=0)
    assert pooled.std() == pytest.approx(0.02 / math.sqrt(5), rel=0.05), "a mean of 5 independent nulls"
    assert S.permutation_p(0.1, pooled) == 1 / (1 + pooled.size), "nothing in the null reaches 0.1"
    assert 0.4 < S.permutation_p(0.0, pooled) < 0.6
    est = S.bounded_interval([0.05, 0.07, 0.06, 0.04, 0.08], S.Scale(-1, 1)) | {"null": pooled}
    t = S.MarginTest("rho", "rho", 1, 0.0, 0.1, null="permutation")
    p = t.p_values(est)
    assert p["pass"] < 1e-3 and p["fail"] < 0.05, "above chance, yet below the margin of 0.1"
    with pytest.raises(ValueError, match="pooled null"):
        t.p_values(S.bounded_interval([0.1, 0.2]))


def test_holm_matches_by_hand_and_evaluate_corrects_the_family():
    adj = S.holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert adj == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06})
    tests = [S.MarginTest("x", "x", 1, 0.0, 0.1), S.MarginTest("y", "y", 1, 0.0, 0.1)]
    est = {"x": S.bounded_interval([0.3, 0.35, 0.32, 0.31, 0.36]), "y": S.bounded_interval([0.2, 0.5, 0.3, 0.1, 0.4])}
    rows = S.evaluate(tests, est)
    assert [r["test"] for r in rows] == ["x", "y"]
    for r in rows:
        assert r["p_pass_holm"] >= r["p_pass"] and r["p_fail_holm"] >= r["p_fail"]
    with pytest.raises(ValueError, match="unique"):
        S.evaluate([tests[0], tests[0]], est)


def test_seeds_to_decide_is_where_the_test_would_decide():
    t = S.MarginTest("g", "g", 1, 0.0, 0.1)
    est = S.bounded_interval([0.3, -0.1, 0.2, 0.0, 0.35])  # mean 0.15: beyond the margin, undecided
    n = S.seeds_to_decide(t, est, 0.05)
    assert est["n"] < n < 100
    # at that N, with the same mean and spread, the pass side is rejected; at N - 1 it is not
    sd, mean = est["sd"], est["mean"]
    assert mean / (sd / math.sqrt(n)) > S.student_t_quantile(0.95, n - 1)
    assert mean / (sd / math.sqrt(n - 1)) <= S.student_t_quantile(0.95, n - 2)
    inside = S.bounded_interval([0.06, -0.1, 0.2, 0.0, 0.09])  # mean 0.05: short of the margin -> fail side
    assert S.seeds_to_decide(t, inside, 0.05) > est["n"]
    at_threshold = S.bounded_interval([0.5, -0.5, 0.0])  # a target test with its mean on the target: never
    assert S.seeds_to_decide(S.MarginTest("g", "g", 1, 0.0), at_threshold, 0.05) == math.inf


def test_an_estimate_with_its_own_standard_error():
    est = {"n": 5, "mean": 0.2, "se": 0.05, "df": 4, "low": 0.06, "high": 0.34, "values": [], "method": "jackknife t"}
    t = 0.2 / 0.05
    assert S.p_beyond(est, 0.0, 1) == pytest.approx(float(S.sps.t.sf(t, 4)))
    n = S.seeds_to_decide(S.MarginTest("g", "g", 1, 0.0, 0.5), est, 0.01)  # short of the margin: the fail side
    assert 0.3 / (0.05 * math.sqrt(5) / math.sqrt(n)) > S.student_t_quantile(0.99, n - 1)


def test_levels_turning_row_and_seeds_needed():
    rows = [{"test": "a", "outcome": S.PASS, "p_pass_holm": 0.001, "p_fail_holm": 1.0, "seeds_to_decide": None},
            {"test": "b", "outcome": S.PASS, "p_pass_holm": 0.03, "p_fail_holm": 1.0, "seeds_to_decide": None},
            {"test": "c", "outcome": S.UNDECIDED, "p_pass_holm": 0.2, "p_fail_holm": 0.4, "seeds_to_decide": 12},
            {"test": "d", "outcome": S.UNDECIDED, "p_pass_holm": 0.1, "p_fail_holm": 0.9, "seeds_to_decide": 30},
            {"test": "e", "outcome": S.FAIL, "p_pass_holm": 1.0, "p_fail_holm": 0.01, "seeds_to_decide": None}]
    assert S.outcome_levels(rows) == {"a": [1], "b": [1], "c": [0, 1], "d": [0, 1], "e": [0]}
    assert S.turning_row(rows, decided=True)["test"] == "b", "the weakest decided evidence"
    assert S.turning_row(rows, decided=False)["test"] == "d", "the undecided test closest to a decision"
    assert S.seeds_needed(rows) == 30 and S.seeds_needed(rows[:2]) == 0


def test_rule_text_names_side_threshold_and_margin():
    assert S.rule_text(S.MarginTest("f", "f", -1, 0.5), "forget", "%") == "forget ≤ 0.5 % (a target: no margin)"
    assert (S.rule_text(S.MarginTest("r", "r", 1, 0.0, 0.1, null="permutation"), "ρ fc1")
            == "ρ fc1 > 0, margin 0.1, pass side by pooled permutation")


def test_rate_from_se_stays_in_range():
    jack = {"n": 5, "mean": 0.02, "se": 0.015, "df": 4, "low": -0.02, "high": 0.06, "values": [0.0, 0.05]}
    r = S.rate_from_se(jack, trials=100_000)
    assert r["low"] >= 0 and r["high"] > r["mean"] and r["method"] == "Wilson" and "se" not in r
    zero = S.rate_from_se(jack | {"mean": 0.0, "se": 0.0}, trials=50_000)
    assert zero["low"] == 0 and 0 < zero["high"] < 0.01 and zero["n_eff"] == 50_000
    with pytest.raises(ValueError, match="rate"):
        S.rate_from_se(jack | {"mean": -1.0}, trials=10)
