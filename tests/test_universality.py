import itertools
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from symbiote_lite import universality as U
from symbiote_lite.metrics import N_DIGITS
from symbiote_lite.primary import PrimaryCNN
from symbiote_lite.stats import ALPHA, FAIL, PASS, UNDECIDED, t_interval
from symbiote_lite.symbiote import Symbiote, SymbioteConfig, edited_logits


@pytest.fixture(scope="module")
def net():
    """A small random network with positive biases (no dead units on random images) and its inputs."""
    torch.manual_seed(0)
    model = PrimaryCNN(4, 8, 12).eval()
    with torch.no_grad():
        for layer in (model.conv1, model.conv2, model.fc1):
            layer.bias.uniform_(0.1, 0.3)
        model.fc1.bias.uniform_(1.0, 2.0)
    x = torch.randn(300, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    return model, x


def orders_for(model, seed=2):
    gen = torch.Generator().manual_seed(seed)
    sizes = {"conv1": model.conv1.out_channels, "conv2": model.conv2.out_channels, "fc1": model.fc1.out_features}
    return {layer: torch.randperm(n, generator=gen) for layer, n in sizes.items()}


# --- reordering -----------------------------------------------------------------------------------------------


def test_reordered_network_computes_the_same_function_with_its_units_renumbered(net):
    model, x = net
    orders = orders_for(model)
    copy = U.reorder_primary(model, orders)
    logits, hidden = model(x, return_hidden=True)
    logits2, hidden2 = copy(x, return_hidden=True)
    torch.testing.assert_close(logits2, logits, atol=1e-5, rtol=1e-5)
    for layer, order in orders.items():
        torch.testing.assert_close(hidden2[layer], hidden[layer][:, order], atol=1e-5, rtol=1e-5)
    assert not torch.equal(copy.fc1.weight, model.fc1.weight), "a real permutation must move the weights"


def test_reorder_tensor_refuses_unknown_parameters_and_uneven_blocks(net):
    model, _ = net
    with pytest.raises(ValueError, match="unknown parameter"):
        U.reorder_tensor("fc3.weight", torch.zeros(3), {})
    with pytest.raises(ValueError, match="equal blocks"):
        U.reorder_tensor("fc1.weight", torch.zeros(12, 10), {"conv2": torch.arange(3)})


# --- matching -------------------------------------------------------------------------------------------------


def test_correlation_matches_corrcoef_and_gives_dead_units_zero():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(50, 3, generator=gen), torch.randn(50, 4, generator=gen)
    b[:, 1] = 2 * a[:, 0] + 1
    b[:, 3] = 0.0  # a dead unit
    corr = U.correlation(a, b)
    full = torch.corrcoef(torch.cat([a, b], 1).T.double())[:3, 3:]
    torch.testing.assert_close(corr[:, :3], full[:, :3])
    assert corr[0, 1].item() == pytest.approx(1.0)
    assert torch.equal(corr[:, 3], torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="same samples"):
        U.correlation(a, b[:10])


def test_match_finds_the_best_total_not_the_greedy_choice():
    # greedy (row 0 takes its best, column 0) totals 0.9 + 0.1; the optimum swaps: 0.8 + 0.8
    corr = torch.tensor([[0.9, 0.8], [0.8, 0.1]])
    assert U.match(corr).tolist() == [1, 0]
    with pytest.raises(ValueError, match="square"):
        U.match(torch.zeros(2, 3))


def test_a_network_and_its_permuted_copy_are_matched_exactly(net):
    model, x = net
    orders = orders_for(model)
    copy = U.reorder_primary(model, orders)
    matched = U.match_activations(U.unit_activations(copy, x), U.unit_activations(model, x))
    for layer, order in orders.items():
        assert torch.equal(matched[layer]["perm"], order), layer  # copy's unit i is the model's unit order[i]
        torch.testing.assert_close(matched[layer]["corr"], torch.ones(len(order), dtype=torch.float64))
    inverse = U.inverse(orders["fc1"])
    assert torch.equal(orders["fc1"][inverse], torch.arange(len(inverse)))


def test_unit_activations_have_one_row_per_image_and_position(net):
    model, x = net
    acts = U.unit_activations(model, x[:10], batch_size=4)
    assert acts["conv1"].shape == (10 * 12 * 12, 4) and acts["conv2"].shape == (10 * 4 * 4, 8)
    assert acts["fc1"].shape == (10, 12)


# --- carrying edits through a matching ---------------------------------------------------------------------------


def test_a_permuted_symbiote_reproduces_the_original_edits(net):
    model, x = net
    torch.manual_seed(3)
    sym = Symbiote(model, None, SymbioteConfig(hidden=8, rank=3, max_fraction=10.0))
    with torch.no_grad():
        for head in sym.heads.values():  # a trained symbiote's heads are not zero
            head.weight.normal_(0, 0.5)
        diffs = sym(torch.eye(N_DIGITS))
        orders = orders_for(model, seed=4)
        copy = U.reorder_primary(model, orders)
        original = edited_logits(model, diffs, x[:40])
        moved = edited_logits(copy, U.reorder_diffs(diffs, orders), x[:40])
        torch.testing.assert_close(moved, original, atol=1e-4, rtol=1e-4)
        # the same through a matching found from activations: model -> copy, carried onto copy
        perms = {k: v["perm"] for k, v in U.match_activations(U.unit_activations(model, x),
                                                               U.unit_activations(copy, x)).items()}
        torch.testing.assert_close(edited_logits(copy, U.carry(diffs, perms), x[:40]), original, atol=1e-4,
                                   rtol=1e-4)
        # carrying only the output units leaves the inputs misaligned: a different edit
        outputs_only = edited_logits(copy, U.carry(diffs, perms, inputs=False), x[:40])
        assert (outputs_only - original).abs().max() > 1e-3


def test_carry_outputs_only_moves_rows_but_not_input_blocks():
    diffs = {"fc1.weight": torch.arange(3 * 4, dtype=torch.float32).view(1, 3, 4)}  # 2 channels x 2 positions
    perms = {"fc1": torch.tensor([2, 0, 1]), "conv2": torch.tensor([1, 0])}
    out = U.carry(diffs, perms, inputs=False)["fc1.weight"][0]
    src = diffs["fc1.weight"][0]
    for i, j in enumerate(perms["fc1"].tolist()):
        assert torch.equal(out[j], src[i])  # A's unit i lands on B's unit perms[i]
    full = U.carry(diffs, perms)["fc1.weight"][0]
    assert torch.equal(full[:, :2], out[:, 2:]) and torch.equal(full[:, 2:], out[:, :2])  # channel blocks swap


# --- agreement of maps ---------------------------------------------------------------------------------------------


def test_matched_spearman_is_one_through_the_right_matching_and_null_is_centred():
    gen = torch.Generator().manual_seed(0)
    map_a = torch.rand(10, 30, generator=gen)
    perm = torch.randperm(30, generator=gen)
    map_b = torch.empty_like(map_a)
    map_b[:, perm] = map_a  # B's unit perm[i] carries A's unit i
    torch.testing.assert_close(U.matched_spearman(map_a, map_b, perm), torch.ones(10, dtype=torch.float64))
    null = U.permutation_null(map_a, map_b, n_draws=400, seed=1)
    assert null.shape == (400,) and abs(null.mean().item()) < 0.02 and null.max().item() < 0.5
    assert torch.equal(null, U.permutation_null(map_a, map_b, n_draws=400, seed=1))


def test_other_digit_spearman_separates_shared_from_digit_specific_maps():
    gen = torch.Generator().manual_seed(0)
    shared = torch.rand(30, generator=gen).expand(10, 30)  # the same map for every digit
    perm = torch.arange(30)
    same = U.matched_spearman(shared, shared, perm)
    other = U.other_digit_spearman(shared, shared, perm)
    torch.testing.assert_close(same, other)  # nothing digit-specific
    specific = torch.rand(10, 30, generator=gen)
    assert (U.matched_spearman(specific, specific, perm) - U.other_digit_spearman(specific, specific, perm)).min() > 0.5


def test_live_units_are_those_whose_activation_varies():
    acts = {"fc1": torch.tensor([[0.0, 1.0, 0.5], [0.0, 2.0, 0.5], [0.0, 0.0, 0.5]])}
    assert U.live_units(acts)["fc1"].tolist() == [False, True, False]
    live_a, live_b = torch.tensor([True, True, False, True]), torch.tensor([True, False, True, True])
    # A's unit 0 -> B's 1 (dead), 1 -> 0, 2 (dead) -> 3, 3 -> 2
    assert U.live_matched(live_a, live_b, torch.tensor([1, 0, 3, 2])).tolist() == [1, 3]


def test_dead_units_are_dropped_from_the_agreement():
    """Ten live units whose maps disagree perfectly, and twenty dead ones that every map ranks first in both
    networks: over all units ρ is high, over the live matched units it is -1."""
    gen = torch.Generator().manual_seed(0)
    live_map = torch.rand(10, 10, generator=gen)
    map_a = torch.cat([live_map, torch.full((10, 20), 5.0)], 1)
    map_b = torch.cat([-live_map, torch.full((10, 20), 5.0)], 1)
    perm = torch.arange(30)
    live = torch.arange(30) < 10
    assert U.matched_spearman(map_a, map_b, perm).min() > 0.5, "the dead units dominate the all-unit ρ"
    units = U.live_matched(live, live, perm)
    got = U.agreement(map_a, map_b, perm, units, n_null=50, seed=0)
    torch.testing.assert_close(got["rho"], -torch.ones(10, dtype=got["rho"].dtype))
    torch.testing.assert_close(got["rho_other"], U.other_digit_spearman(live_map, -live_map, torch.arange(10)))
    torch.testing.assert_close(got["null"], U.permutation_null(live_map, -live_map, 50, seed=0))
    with pytest.raises(ValueError, match="live matched units"):
        U.agreement(map_a, map_b, perm, units[:2])


def test_pair_agreements_store_the_null_draws_of_every_method_and_layer():
    gen = torch.Generator().manual_seed(0)
    maps = {m: {"fc1": torch.rand(10, 12, generator=gen), "conv2": torch.rand(10, 8, generator=gen)}
            for m in ("symbiote", "ablation")}
    perms = {"fc1": torch.randperm(12, generator=gen), "conv2": torch.randperm(8, generator=gen)}
    live = {"fc1": torch.arange(12) % 4 != 0, "conv2": torch.ones(8, dtype=torch.bool)}
    got = U.pair_agreements(maps, maps, perms, live, live, n_null=30, seed=1)
    assert got["live"] == {"fc1": len(U.live_matched(live["fc1"], live["fc1"], perms["fc1"])), "conv2": 8}
    assert set(got["rho_null"]) == {"symbiote/fc1", "symbiote/conv2", "ablation/fc1", "ablation/conv2"}
    null = got["rho_null"]["symbiote/fc1"]
    assert len(null["draws"]) == 30 and null["q975"] == pytest.approx(float(np.quantile(null["draws"], 0.975)))
    assert len(got["rho"]["ablation/conv2"]) == N_DIGITS


# --- intervals over pairs --------------------------------------------------------------------------------------------


def test_pair_interval_of_additive_pairs_is_the_t_interval_over_seeds():
    x = [0.3, 1.1, -0.4, 0.9, 0.2]
    pairs = {(i, j): (x[i] + x[j]) / 2 for i, j in itertools.combinations(range(5), 2)}
    got, want = U.pair_interval(pairs), t_interval(x)
    for key in ("mean", "low", "high", "sd"):
        assert got[key] == pytest.approx(want[key] if key != "sd" else want["sd"] / 5**0.5, rel=1e-9), key
    assert got["se"] == got["sd"] and got["df"] == 4 and got["method"] == "jackknife t"
    ordered = {(i, j): (x[i] + x[j]) / 2 for i, j in itertools.permutations(range(5), 2)}
    assert U.pair_interval(ordered)["low"] == pytest.approx(want["low"], rel=1e-9)


def test_pair_interval_refuses_too_few_seeds_and_nan():
    with pytest.raises(ValueError, match="at least 3 seeds"):
        U.pair_interval({(0, 1): 0.5})
    with pytest.raises(ValueError, match="NaN"):
        U.pair_interval({(0, 1): float("nan"), (0, 2): 0.1, (1, 2): 0.2})
    flat = U.pair_interval({p: 0.25 for p in itertools.combinations(range(4), 2)})
    assert flat["low"] == flat["high"] == pytest.approx(0.25)


# --- the verdict -----------------------------------------------------------------------------------------------------


def synthetic_result(n_seeds=5, rho=0.5, other=0.1, spread=0.02, null_sd=0.05, n_null=200, seed=0):
    """A result of ``run_universality``'s layout: per seed a level around ``rho``, each pair's same-digit ρ the mean
    of its two seeds' levels, the other-digit ρ ``other`` lower by the same amount, null draws around 0."""
    gen = np.random.default_rng(seed)
    seeds = list(range(n_seeds))
    level = {s: rho + spread * gen.standard_normal() for s in seeds}
    scores = {"forget": [0.0] * 10, "retain_drop": [0.001] * 10}
    pairs = {}
    for a, b in itertools.combinations(seeds, 2):
        r = (level[a] + level[b]) / 2
        pairs[f"{a}-{b}"] = {
            "corr": {"fc1": [0.9, 0.7]}, "corr_shuffled": {"fc1": [0.1, 0.0]}, "live": {"fc1": 50, "conv2": 30},
            "rho": {f"symbiote/{layer}": [r] * 10 for layer in ("conv2", "fc1")},
            "rho_other": {f"symbiote/{layer}": [r - (rho - other)] * 10 for layer in ("conv2", "fc1")},
            "rho_null": {f"symbiote/{layer}": {"draws": (null_sd * gen.standard_normal(n_null)).tolist(),
                                               "q975": 1.96 * null_sd, "median": 0.0}
                         for layer in ("conv2", "fc1")}}
    transfer = {f"{s}-{s}": {"own": scores} for s in seeds}
    transfer.update({f"{a}-{b}": {"as_is": scores, "outputs": scores, "full": scores}
                     for a, b in itertools.permutations(seeds, 2)})
    return {"seeds": seeds, "n_eval": 5000, "pairs": pairs, "transfer": transfer,
            "random": {str(s): {"fc1": [0.2, 0.4]} for s in seeds}}


def estimates_with(**means):
    """Estimates of the four tested numbers: mean 0.3, standard error 0.02 on 4 df, a pooled null around 0; any
    ``<test>_<layer>=mean`` (e.g. ``specific_fc1=-0.2``) moves that test's number."""
    gen = np.random.default_rng(0)
    out = {}
    for test in U.TESTS:
        part, layer = test.name.split("/")
        m = means.get(f"{part}_{layer}", 0.3)
        out[test.number] = {"n": 5, "mean": m, "se": 0.02, "df": 4, "low": m - 0.06, "high": m + 0.06,
                            "method": "jackknife t", "null": 0.02 * gen.standard_normal(5000)}
    return out


def test_the_rule_has_two_margin_tests_per_edited_layer():
    tests, rule = U.verdict_tests()
    assert [t.name for t in tests] == ["above_null/conv2", "specific/conv2", "above_null/fc1", "specific/fc1"]
    assert all(t.margin == 0.1 and t.threshold == 0 and t.side == 1 for t in tests)
    assert [t.null for t in tests] == ["permutation", "interval"] * 2
    assert rule({t.name: 1 for t in tests}) == "supported"
    assert rule({"above_null/conv2": 1, "specific/conv2": 0, "above_null/fc1": 0, "specific/fc1": 0}) == "partly"
    assert rule({t.name: int(t.name.startswith("specific")) for t in tests}) == "not supported"


def test_verdict_rule_on_estimates():
    assert U.verdict(estimates_with()) == "supported"
    assert U.verdict(estimates_with(specific_fc1=-0.2)) == "partly"
    assert U.verdict(estimates_with(above_null_conv2=0.0, above_null_fc1=0.01)) == "not supported"
    # a specific part halfway to the margin: neither 0 nor the margin can be excluded at 5 seeds
    assert U.verdict(estimates_with(specific_fc1=0.05)) == "inconclusive at 5 seeds"


def test_decision_rows_deciding_number_and_seeds_to_decide():
    decision = U.decide_universality(estimates_with(specific_fc1=0.05))
    rows = {r["test"]: r for r in decision.rows}
    assert rows["specific/fc1"]["outcome"] == UNDECIDED and rows["above_null/fc1"]["outcome"] == PASS
    assert rows["specific/fc1"]["seeds_to_decide"] is not None
    assert decision.decider()["test"] == "specific/fc1"
    assert decision.decider_text() == "ρ same − other digits fc1, symbiote 0.050 [-0.010, 0.110] (undecided)"
    glued = decision.glue_values()
    assert glued["uni_verdict"] == "inconclusive at 5 seeds" and glued["uni_to_decide"] != "decided"
    assert glued["uni_n_hypotheses"] == 8
    table = decision.tests_table()
    assert list(table["outcome"]) == [rows[t.name]["outcome"] for t in U.TESTS]
    assert "margin 0.1, pass side by pooled permutation" in table["test"][0]
    decided = U.decide_universality(estimates_with())
    assert decided.seeds_to_decide() is None and decided.glue_values()["uni_to_decide"] == "decided"
    with pytest.raises(ValueError, match="summarise"):
        U.decide_universality({})


def test_holm_corrects_over_the_chapters_eight_hypotheses():
    decision = U.decide_universality(estimates_with())
    ps = sorted(p for r in decision.rows for p in (r["p_pass"], r["p_fail"]))
    assert min(r["p_pass_holm"] for r in decision.rows) == pytest.approx(min(1.0, 8 * ps[0]))


def test_summarise_reads_a_result_and_takes_intervals_over_pairs():
    result = synthetic_result(n_seeds=3, rho=0.5, other=0.2, spread=0.0)
    stats = U.summarise(result)
    assert stats["corr/fc1"]["mean"] == pytest.approx(0.8) and stats["corr_random/fc1"]["mean"] == pytest.approx(0.3)
    assert stats["rho/symbiote/fc1"]["mean"] == pytest.approx(0.5)
    assert stats["rho_specific/symbiote/fc1"]["mean"] == pytest.approx(0.3)
    assert stats["rho_specific/symbiote/fc1"]["df"] == 2 and "se" in stats["rho/symbiote/conv2"]
    assert stats["live/fc1"]["mean"] == 50 and stats["live/conv2"]["mean"] == 30
    assert stats["transfer/own/drop"]["mean"] == pytest.approx(0.1)
    assert stats["transfer/full/forget"]["n"] == 3
    for variant in ("own", "as_is", "outputs", "full"):  # rates: Wilson intervals inside 0-100 %
        forget = stats[f"transfer/{variant}/forget"]
        assert forget["method"] == "Wilson" and 0 <= forget["low"] <= forget["mean"] <= forget["high"] <= 100
    assert "rho_above_null/symbiote/fc1" not in stats


def test_the_null_is_pooled_over_pairs():
    result = synthetic_result(n_seeds=4, null_sd=0.1, n_null=400)
    stats = U.summarise(result)
    null = stats["rho/symbiote/fc1"]["null"]
    per_pair = np.array([p["rho_null"]["symbiote/fc1"]["draws"] for p in result["pairs"].values()])
    assert null.mean() == pytest.approx(per_pair.mean(), abs=0.01)
    # a mean over the six pairs' independent draws: its spread is the pairs' over √6
    assert null.std() == pytest.approx(per_pair.std() / 6**0.5, rel=0.1)
    ref = stats["rho_null/symbiote/fc1"]
    assert ref["low"] < ref["mean"] < ref["high"] and ref["high"] == pytest.approx(np.quantile(null, 0.975))


def test_a_flat_agreement_is_not_supported_with_enough_seeds():
    """ρ ≈ 0 with a small spread: the margin makes "no agreement" decidable, it is no longer inconclusive."""
    stats = U.summarise(synthetic_result(n_seeds=12, rho=0.0, other=0.0, spread=0.02))
    decision = U.decide_universality(stats)
    assert all(r["outcome"] == FAIL for r in decision.rows), decision.tests_table()
    assert decision.verdict == "not supported"
    assert decision.decider_text().endswith("(fail)")


def test_a_strong_agreement_is_supported():
    stats = U.summarise(synthetic_result(n_seeds=5, rho=0.5, other=0.1, spread=0.02))
    decision = U.decide_universality(stats, ALPHA)
    assert all(r["outcome"] == PASS for r in decision.rows), decision.tests_table()
    assert decision.verdict == "supported"


def test_chapter_9_compares_chains_chapter_8_already_trained():
    root = Path(__file__).resolve().parent.parent

    def defaults(name):
        source = (root / "notebooks" / name).read_text()
        return [int(re.search(rf"^{key} = (\d+)", source, re.M).group(1)) for key in ("N_SEEDS", "FIRST_SEED")]

    n9, first9 = defaults("09_universality.py")
    n8, first8 = defaults("08_replication.py")
    assert set(range(first9, first9 + n9)) <= set(range(first8, first8 + n8)), "chapter 9 would train new chains"
    assert U.UniversalityConfig().seeds == tuple(range(first9, first9 + n9))
    source = (root / "notebooks" / "09_universality.py").read_text()
    assert f"n_chapter8 = {n8} " in source, "chapter 9's count of chapter 8's chains is chapter 8's default"


@pytest.mark.parametrize("seeds", [(0, 1), (0, 1, 1)])
def test_run_universality_refuses_too_few_or_repeated_seeds(seeds):
    with pytest.raises(ValueError, match="at least 3 distinct seeds"):
        U.run_universality(U.UniversalityConfig(seeds=seeds), torch.device("cpu"))


def test_transfer_panels_average_each_ordered_pair_over_digits():
    own = {s: {"forget": [0.01 * s] * 10, "retain_drop": [0.001] * 10} for s in (0, 1)}
    transfer = {f"{s}-{s}": {"own": own[s]} for s in (0, 1)}
    transfer["0-1"] = {v: {"forget": [0.5] * 5 + [0.0] * 5, "retain_drop": [0.002] * 10}
                       for v in ("as_is", "outputs", "full")}
    transfer["1-0"] = {v: {"forget": [0.2] * 10, "retain_drop": [0.0] * 10} for v in ("as_is", "outputs", "full")}
    panels = U.transfer_panels({"transfer": transfer})
    forget = panels["forget (%)"]
    assert list(forget) == ["own symbiote", "as is", "outputs matched", "fully matched"]
    assert forget["own symbiote"] == pytest.approx([1.0, 0.0])  # B's own: seed 1 for pair 0-1, seed 0 for 1-0
    assert forget["as is"] == pytest.approx([25.0, 20.0])
    assert panels["retain drop (points)"]["fully matched"] == pytest.approx([0.2, 0.0])
