import itertools
import re
from pathlib import Path

import pytest
import torch

from symbiote_lite import universality as U
from symbiote_lite.metrics import N_DIGITS
from symbiote_lite.primary import PrimaryCNN
from symbiote_lite.stats import t_interval
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


# --- intervals over pairs --------------------------------------------------------------------------------------------


def test_pair_interval_of_additive_pairs_is_the_t_interval_over_seeds():
    x = [0.3, 1.1, -0.4, 0.9, 0.2]
    pairs = {(i, j): (x[i] + x[j]) / 2 for i, j in itertools.combinations(range(5), 2)}
    got, want = U.pair_interval(pairs), t_interval(x)
    for key in ("mean", "low", "high", "sd"):
        assert got[key] == pytest.approx(want[key] if key != "sd" else want["sd"] / 5**0.5, rel=1e-9), key
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


def stats_with(**intervals):
    keys = [f"rho_{part}/symbiote/{layer}" for part in ("above_null", "specific") for layer in ("conv2", "fc1")]
    out = {k: {"n": 5, "low": 0.1, "high": 0.3, "mean": 0.2} for k in keys}
    for name, (low, high) in intervals.items():
        part, layer = name.rsplit("_", 1)
        out[f"rho_{part}/symbiote/{layer}"] = {"n": 5, "low": low, "high": high, "mean": (low + high) / 2}
    return out


def test_verdict_rule_on_intervals():
    assert U.verdict(stats_with()) == "supported"
    assert U.verdict(stats_with(specific_fc1=(-0.3, -0.1))) == "partly"
    assert U.verdict(stats_with(above_null_conv2=(-0.3, -0.1), above_null_fc1=(-0.2, -0.05))) == "not supported"
    assert U.verdict(stats_with(specific_fc1=(-0.1, 0.1))) == "inconclusive at 5 seeds"


def test_summarise_reads_a_result_and_takes_intervals_over_pairs():
    seeds = [0, 1, 2]
    scores = {"forget": [0.0] * 10, "retain_drop": [0.001] * 10}
    rho = {"symbiote/fc1": [0.5] * 10}
    pairs = {f"{a}-{b}": {"corr": {"fc1": [0.9, 0.7]}, "corr_shuffled": {"fc1": [0.1, 0.0]}, "rho": rho,
                          "rho_other": {"symbiote/fc1": [0.2] * 10},
                          "rho_null": {"symbiote/fc1": {"q975": 0.3, "median": 0.0}}}
             for a, b in itertools.combinations(seeds, 2)}
    transfer = {f"{s}-{s}": {"own": scores} for s in seeds}
    transfer.update({f"{a}-{b}": {"as_is": scores, "outputs": scores, "full": scores}
                     for a, b in itertools.permutations(seeds, 2)})
    result = {"seeds": seeds, "pairs": pairs, "transfer": transfer,
              "random": {str(s): {"fc1": [0.2, 0.4]} for s in seeds}}
    stats = U.summarise(result)
    assert stats["corr/fc1"]["mean"] == pytest.approx(0.8) and stats["corr_random/fc1"]["mean"] == pytest.approx(0.3)
    assert stats["rho_above_null/symbiote/fc1"]["mean"] == pytest.approx(0.2)
    assert stats["rho_specific/symbiote/fc1"]["mean"] == pytest.approx(0.3)
    assert stats["transfer/own/drop"]["mean"] == pytest.approx(0.1)
    assert stats["transfer/full/forget"]["n"] == 3


def test_chapter_9_compares_exactly_chapter_8s_default_chains():
    root = Path(__file__).resolve().parent.parent

    def defaults(name):
        source = (root / "notebooks" / name).read_text()
        return [int(re.search(rf"^{key} = (\d+)", source, re.M).group(1)) for key in ("N_SEEDS", "FIRST_SEED")]

    assert defaults("09_universality.py") == defaults("08_replication.py"), "chapter 9 would train chains twice"
    n, first = defaults("09_universality.py")
    assert U.UniversalityConfig().seeds == tuple(range(first, first + n))


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
