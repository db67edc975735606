import math

import pytest
import torch

from symbiote_lite import bimt
from symbiote_lite.artifacts import DATA_ENV
from symbiote_lite.metrics import class_means
from symbiote_lite.primary import PrimaryCNN, PrimaryConfig

SMALL = PrimaryConfig(channels1=3, channels2=4, hidden=5, epochs=1, batch_size=4)


def _small_model(seed=0):
    torch.manual_seed(seed)
    return PrimaryCNN(SMALL.channels1, SMALL.channels2, SMALL.hidden)


def _random_perm(n, seed):
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


# --- geometry and connection cost ---


def test_positions_and_lengths_by_hand():
    pos = bimt.neuron_positions([1, 2, 1])
    assert torch.allclose(pos[0], torch.tensor([[0.5, 0.0]]))
    assert torch.allclose(pos[1], torch.tensor([[0.25, 0.5], [0.75, 0.5]]))
    assert torch.allclose(pos[2], torch.tensor([[0.5, 1.0]]))
    lengths = bimt.wire_lengths(pos)
    assert [tuple(d.shape) for d in lengths] == [(2, 1), (1, 2)]
    assert torch.allclose(torch.cat([d.flatten() for d in lengths]), torch.full((4,), math.sqrt(0.25**2 + 0.5**2)))


def test_connection_cost_of_a_hand_made_network():
    lengths = bimt.wire_lengths(bimt.neuron_positions([1, 2, 1]))
    strengths = [torch.tensor([[1.0], [2.0]]), torch.tensor([[3.0, 0.5]])]
    expected = (1 + 2 + 3 + 0.5) * (2.0 * math.sqrt(0.3125) + 0.1)  # every wire has the same length here
    assert bimt.connection_cost(strengths, lengths, A=2.0, l0=0.1).item() == pytest.approx(expected, rel=1e-6)
    # a longer wire costs more: rows [2, 1, 2] put the outer neurons further from the middle one
    lengths = bimt.wire_lengths(bimt.neuron_positions([2, 1]))
    d = math.sqrt(0.25**2 + 1.0)
    cost = bimt.connection_cost([torch.tensor([[1.0, 3.0]])], lengths, A=1.0, l0=0.0)
    assert cost.item() == pytest.approx(4 * d, rel=1e-6)


def test_connection_strengths_aggregate_kernels_and_fc1_blocks():
    model = _small_model()
    with torch.no_grad():
        model.conv2.weight.copy_(-torch.arange(4 * 3 * 25, dtype=torch.float32).reshape(4, 3, 5, 5) / 100)
        o, c, p = torch.meshgrid(torch.arange(5), torch.arange(4), torch.arange(16), indexing="ij")
        fc1 = (o + 1.0) * (c + 1.0) * (-1.0) ** p / 16  # channel c owns columns c*16 ... c*16 + 15
        model.fc1.weight.copy_(fc1.reshape(5, 64))
    a = bimt.connection_strengths(model)
    assert [tuple(t.shape) for t in a] == [(3, 1), (4, 3), (5, 4), (10, 5)]
    assert torch.allclose(a[1], model.conv2.weight.abs().sum((2, 3)))
    assert torch.allclose(a[2], torch.outer(torch.arange(1.0, 6.0), torch.arange(1.0, 5.0)))
    assert torch.allclose(a[3], model.fc2.weight.abs())
    signed = bimt.connection_strengths(model, signed=True)
    assert torch.allclose(signed[2], torch.zeros(5, 4), atol=1e-6)  # alternating signs cancel
    assert torch.allclose(signed[1], -a[1])


# --- swaps ---


def _outputs(model, seed=1):
    x = torch.randn(6, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return model(x)


@pytest.mark.parametrize("pruned", [False, True])
def test_swapping_neurons_keeps_the_function(pruned):
    model = _small_model()
    if pruned:
        bimt.attach_masks(model)
        bimt.prune_to(model, 0.5)
    before = _outputs(model)
    conv2_before = model.conv2.weight.clone()
    for k, row in enumerate(bimt.SWAP_ROWS):
        n = bimt.row_sizes(model)[bimt.NEURON_ROWS.index(row)]
        bimt.permute_neurons(model, row, _random_perm(n, k + 3))
    assert not torch.equal(model.conv2.weight, conv2_before), "the permutation must actually move weights"
    assert torch.allclose(_outputs(model), before, atol=1e-5)
    if pruned:  # masks moved with their weights: still exactly the pruned entries are zero
        for name, mask in bimt.current_masks(model).items():
            weight = getattr(model, name.split(".")[0]).weight
            assert torch.equal(weight[~mask], torch.zeros(int((~mask).sum())))


def test_permute_rejects_bad_input():
    model = _small_model()
    with pytest.raises(ValueError, match="row"):
        bimt.permute_neurons(model, "fc2", torch.arange(10))
    with pytest.raises(ValueError, match="permutation"):
        bimt.permute_neurons(model, "conv2", torch.tensor([0, 0, 1, 2]))


def test_swap_commutes_with_training_because_optimizer_state_moves_too():
    x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    y = torch.arange(8) % 10

    def step(model, opt):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    perm = _random_perm(4, 5)
    models = []
    for swap_first in (True, False):
        model = _small_model()
        bimt.attach_masks(model)
        bimt.prune_to(model, 0.3)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
        step(model, opt)
        if swap_first:
            bimt.permute_neurons(model, "conv2", perm, opt)
            step(model, opt)
        else:
            step(model, opt)
            bimt.permute_neurons(model, "conv2", perm, opt)
        models.append(model)
    effective = [m.fc1.weight_orig * m.fc1.weight_mask for m in models]  # .weight is refreshed only by a forward
    assert torch.allclose(effective[0], effective[1], atol=1e-6)
    assert torch.allclose(_outputs(models[0]), _outputs(models[1]), atol=1e-5)


def test_swap_deltas_equal_the_brute_force_cost_change():
    model = _small_model()
    lengths = bimt.model_lengths(model)
    cost = lambda m: bimt.connection_cost(bimt.connection_strengths(m), lengths, 1.5, 0.2).item()
    base = cost(model)
    for r, row in enumerate(bimt.SWAP_ROWS, start=1):
        a = bimt.connection_strengths(model)
        deltas = bimt.swap_deltas(a[r - 1], a[r], lengths[r - 1], lengths[r], 1.5, 0.2)
        n = deltas.shape[0]
        assert torch.all(deltas.diagonal() == 0) and torch.allclose(deltas, deltas.T)
        for i, j in [(0, n - 1), (1, 2)]:
            perm = torch.arange(n)
            perm[[i, j]] = perm[[j, i]]
            swapped = _small_model()
            swapped.load_state_dict(model.state_dict())
            bimt.permute_neurons(swapped, row, perm)
            assert cost(swapped) - base == pytest.approx(deltas[i, j].item(), abs=1e-4)


def test_swap_round_lowers_the_cost_and_keeps_the_function():
    model = _small_model()
    lengths = bimt.model_lengths(model)
    cost = lambda: bimt.connection_cost(bimt.connection_strengths(model), lengths, 1.0, 0.1).item()
    before, out = cost(), _outputs(model)
    made = bimt.swap_round(model, lengths, 1.0, 0.1, top_k=3)
    assert made > 0 and cost() < before
    assert torch.allclose(_outputs(model), out, atol=1e-5)


# --- pruning ---


def test_schedules_by_hand():
    assert bimt.cubic_sparsity(0, 100, 0.9) == 0.0
    assert bimt.cubic_sparsity(50, 100, 0.9) == pytest.approx(0.9 * (1 - 0.5**3))
    assert bimt.cubic_sparsity(100, 100, 0.9) == pytest.approx(0.9)
    assert bimt.cubic_sparsity(250, 100, 0.9) == pytest.approx(0.9)
    assert [bimt.lam_at(s, 100, 1e-3, 10.0, (0.25, 0.5)) for s in (0, 24, 25, 49, 50, 99)] == pytest.approx(
        [1e-3, 1e-3, 1e-2, 1e-2, 1e-1, 1e-1]
    )


def test_prune_to_reaches_the_exact_sparsity_and_never_revives():
    model = _small_model()
    bimt.attach_masks(model)
    bimt.prune_to(model, 0.5, scope="layer")
    first = bimt.current_masks(model)
    report = bimt.sparsity_report(first)
    assert report["conv2"] == pytest.approx(round(0.5 * 300) / 300)
    assert report["fc1"] == pytest.approx(round(0.5 * 320) / 320)
    # the survivors are the largest |w|
    w = model.fc1.weight_orig.abs()
    assert w[first["fc1.weight"]].min() >= w[~first["fc1.weight"]].max()
    bimt.prune_to(model, 0.8, scope="layer")
    second = bimt.current_masks(model)
    for name in first:
        assert not (second[name] & ~first[name]).any(), f"{name}: a pruned weight came back"
    assert bimt.sparsity_report(second)["hidden"] == pytest.approx((round(0.8 * 300) + round(0.8 * 320)) / 620)
    with pytest.raises(ValueError, match="sparsity"):
        bimt.prune_to(model, 1.0)
    with pytest.raises(ValueError, match="attach_masks"):
        bimt.prune_to(_small_model(), 0.5)
    with pytest.raises(ValueError, match="scope"):
        bimt.prune_to(model, 0.9, scope="neuron")


def test_global_pruning_uses_one_threshold_and_never_revives():
    model = _small_model()
    with torch.no_grad():
        model.conv2.weight.add_(model.conv2.weight.sign())  # every |w| of conv2 now exceeds every |w| of fc1,
    # so global pruning must take fc1's weights first
    bimt.attach_masks(model)
    bimt.prune_to(model, 0.4)
    first = bimt.current_masks(model)
    assert bimt.sparsity_report(first)["hidden"] == pytest.approx(round(0.4 * 620) / 620)
    scores = {name: getattr(model, name.split(".")[0]).weight_orig.abs() for name in first}
    kept = torch.cat([scores[name][mask] for name, mask in first.items()])
    gone = torch.cat([scores[name][~mask] for name, mask in first.items()])
    assert kept.min() >= gone.max()
    assert bimt.sparsity_report(first)["fc1"] == pytest.approx(248 / 320) and bimt.sparsity_report(first)["conv2"] == 0
    with torch.no_grad():  # make a pruned weight the largest of all: it must stay pruned
        i = torch.nonzero(~first["fc1.weight"])[0]
        model.fc1.weight_orig[i[0], i[1]] = 100.0
    bimt.prune_to(model, 0.7)
    second = bimt.current_masks(model)
    for name in first:
        assert not (second[name] & ~first[name]).any(), f"{name}: a pruned weight came back"
    assert bimt.sparsity_report(second)["hidden"] == pytest.approx(round(0.7 * 620) / 620)


def test_masks_persist_through_adamw_steps_and_removal():
    model = _small_model()
    bimt.attach_masks(model)
    bimt.prune_to(model, 0.7)
    masks = bimt.current_masks(model)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.5)
    x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    y = torch.arange(8)
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        for name, mask in masks.items():
            grad = getattr(model, name.split(".")[0]).weight_orig.grad
            assert torch.equal(grad[~mask], torch.zeros(int((~mask).sum()))), f"{name}: gradient on a pruned weight"
        opt.step()
        model(x)  # the pruning hook recomputes weight = weight_orig * weight_mask
        for name, mask in masks.items():
            weight = getattr(model, name.split(".")[0]).weight
            assert (weight[~mask] == 0).all() and (weight[mask] != 0).all()
    bimt.detach_masks(model)
    for name, mask in masks.items():
        layer = getattr(model, name.split(".")[0])
        assert not hasattr(layer, "weight_orig") and not layer._forward_pre_hooks
        assert isinstance(layer.weight, torch.nn.Parameter) and (layer.weight[~mask] == 0).all()


def test_magnitude_pruned_copy_touches_only_hidden_layers():
    model = _small_model()
    pruned = bimt.magnitude_pruned(model, 0.75, scope="layer")
    assert int((pruned.conv2.weight == 0).sum()) == 225 and int((pruned.fc1.weight == 0).sum()) == 240
    pruned = bimt.magnitude_pruned(model, 0.75)
    assert int((pruned.conv2.weight == 0).sum()) + int((pruned.fc1.weight == 0).sum()) == 465
    assert torch.equal(pruned.conv1.weight, model.conv1.weight) and torch.equal(pruned.fc2.weight, model.fc2.weight)
    assert not (model.conv2.weight == 0).any(), "the original must be left alone"


def test_train_pruned_returns_a_plain_pruned_model(toy_digits):
    x, y = toy_digits(160)
    cfg = bimt.BIMTConfig(
        primary=SMALL, from_dense=False, epochs=2, batch_size=16, target_sparsity=0.8, prune_until=0.5,
        prune_every=2, swap_every=3, lam=1e-3, n_checkpoints=4,
    )
    model, masks, history = bimt.train_pruned(cfg, x, y, x[:40], y[:40], progress=False)
    assert isinstance(model, PrimaryCNN) and not model.training
    assert set(masks) == {"conv2.weight", "fc1.weight"}
    for name, mask in masks.items():
        layer = getattr(model, name.split(".")[0])
        assert not layer._forward_pre_hooks and not hasattr(layer, "weight_orig")
        assert mask.dtype == torch.bool and mask.shape == layer.weight.shape
        assert (layer.weight[~mask] == 0).all()
    assert bimt.sparsity_report(masks)["hidden"] == pytest.approx(0.8, abs=0.01)
    assert history["steps"] == 20 and len(history["step"]) == 4 and history["step"][-1] == 20
    assert history["sparsity"][0] == 0.0 and history["sparsity"][-1] == pytest.approx(0.8, abs=0.01)
    assert history["lam"] == pytest.approx([1e-3, 1e-2, 1e-1, 1e-1])
    assert set(history["wiring"]) == {"start", "middle", "end"} and len(history["eval_acc"]) == 4
    assert history["cost"][-1] < history["cost"][0]
    again, _, history2 = bimt.train_pruned(cfg, x, y, progress=False)
    assert torch.equal(again.fc1.weight, model.fc1.weight), "same config must give the same weights"
    assert history2["swaps"] == history["swaps"]


def test_load_or_train_pruned_caches_the_public_interface(fake_mnist, monkeypatch):
    root, _ = fake_mnist
    monkeypatch.setenv(DATA_ENV, str(root))
    cfg = bimt.BIMTConfig(primary=SMALL, epochs=2, batch_size=4, prune_every=1, swap_every=2, n_checkpoints=3)
    model, masks, history = bimt.load_or_train_pruned(cfg, device="cpu", progress=False)
    assert isinstance(model, PrimaryCNN) and not model.training
    assert not any(k.endswith(("_orig", "_mask")) for k in model.state_dict())
    for name, mask in masks.items():
        assert (model.get_parameter(name)[~mask] == 0).all()
    assert len(list((root / "artifacts").glob("bimt-*.pt"))) == 1
    model2, masks2, history2 = bimt.load_or_train_pruned(cfg, device="cpu", progress=False)  # from the cache
    assert torch.equal(model2.fc1.weight, model.fc1.weight) and torch.equal(masks2["fc1.weight"], masks["fc1.weight"])
    assert history2["sparsity"] == history["sparsity"]


# --- polysemanticity ---


def test_polysemanticity_metrics_on_synthetic_neurons():
    means = torch.zeros(5, 10)
    means[0, 3] = 2.0  # fires for one digit only
    means[1] = 1.0  # fires equally for all
    means[2] = 0.4
    means[2, :2] = 1.0  # two digits strongly, the rest weakly
    means[3, :5] = torch.tensor([1.0, 0.8, 0.6, 0.5, 0.49])  # 4 at >= 0.5 of the max
    # neuron 4 is dead
    means = means.T  # class statistics are (classes, neurons)
    assert bimt.classes_responded(means, 0.5).tolist() == [1, 10, 2, 4, 0]
    assert bimt.classes_responded(means, 0.3).tolist() == [1, 10, 10, 5, 0]
    sel = bimt.selectivity_index(means)
    rest2 = (1.0 + 8 * 0.4) / 9
    assert sel[:3].tolist() == pytest.approx([1.0, 0.0, (1 - rest2) / (1 + rest2)])
    assert math.isnan(sel[4])
    with pytest.raises(ValueError, match="fraction"):
        bimt.classes_responded(means, 0.0)


def test_polysemanticity_of_a_model_has_one_entry_per_hidden_neuron(toy_digits):
    model = _small_model()
    x, y = toy_digits(40)
    out = bimt.polysemanticity(model, x, y, 0.5)
    assert out["conv2"]["n_classes"].shape == (4,) and out["fc1"]["selectivity"].shape == (5,)
    assert out["fc1"]["means"].shape == (10, 5)
    acts = bimt.hidden_activations(model, x)
    assert torch.allclose(out["fc1"]["means"], class_means(acts["fc1"], y))


def test_permutation_test_separates_different_means_only():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200, generator=g)
    assert bimt.permutation_test(a, a.clone(), n_resamples=500) == 1.0
    assert bimt.permutation_test(a, a + 1.0, n_resamples=500) == pytest.approx(1 / 501)
    p = bimt.permutation_test(a[:100], a[100:], n_resamples=500)
    assert 0.01 < p <= 1.0


# --- modularity ---


def _two_modules(noise=0.0):
    """Rows [2, 4, 4, 2] wired as two disjoint halves (plus optional weak cross wiring)."""
    blocks = []
    for n_out, n_in in [(4, 2), (4, 4), (2, 4)]:
        a = torch.full((n_out, n_in), noise)
        a[: n_out // 2, : n_in // 2] = 1.0
        a[n_out // 2 :, n_in // 2 :] = 1.0
        blocks.append(a)
    return blocks


def test_weight_graph_has_every_neuron_and_nonzero_edge():
    a = _two_modules()
    graph = bimt.weight_graph(a)
    assert graph.number_of_nodes() == 12
    assert graph.number_of_edges() == sum(int((t != 0).sum()) for t in a)
    assert graph.edges[(1, 0), (0, 0)]["weight"] == 1.0


def test_modularity_of_two_separate_modules_and_its_null_model():
    q, parts = bimt.modularity(_two_modules())
    assert q == pytest.approx(0.5, abs=1e-6) or q > 0.5  # the two halves alone give exactly 0.5
    assert sum(len(p) for p in parts) == 12
    q_mixed, _ = bimt.modularity(_two_modules(noise=1.0))  # fully connected, uniform weights
    assert q_mixed < 0.1
    shuffled = bimt.shuffled_strengths(_two_modules(), seed=0)
    for s, a in zip(shuffled, _two_modules(), strict=True):
        assert torch.equal(s.flatten().sort().values, a.flatten().sort().values)


def _stats(n_classes, selectivity, dead=1):
    n = len(n_classes)
    return {
        "n_classes": torch.tensor(list(n_classes) + [0] * dead),
        "selectivity": torch.tensor(list(selectivity) + [float("nan")] * dead),
        "alive": torch.tensor([True] * n + [False] * dead),
    }


def test_compare_polysemanticity_verdicts():
    g = torch.Generator().manual_seed(0)
    mono = _stats([1, 1, 2, 1] * 10, (0.9 + 0.05 * torch.rand(40, generator=g)).tolist())
    poly = _stats([5, 6, 4, 7] * 10, (0.3 + 0.05 * torch.rand(40, generator=g)).tolist(), dead=3)
    res = bimt.compare_polysemanticity({"fc1": mono}, {"fc1": poly}, n_resamples=200)
    assert res["fc1"]["verdict"] == "more polysemantic" and res["all"]["verdict"] == "more polysemantic"
    assert res["fc1"]["live"] == (40, 40)
    assert res["fc1"]["classes"] == pytest.approx((1.25, 5.5))
    assert res["fc1"]["p_classes"] < 0.01
    assert bimt.compare_polysemanticity({"fc1": poly}, {"fc1": mono}, n_resamples=200)["fc1"]["verdict"] == (
        "less polysemantic"
    )
    assert bimt.compare_polysemanticity({"fc1": mono}, {"fc1": mono}, n_resamples=200)["fc1"]["verdict"] == (
        "no significant change"
    )
    mixed = _stats([5, 6, 4, 7] * 10, (0.9 + 0.05 * torch.rand(40, generator=g)).tolist())
    assert bimt.compare_polysemanticity({"fc1": mono}, {"fc1": mixed}, n_resamples=200)["fc1"]["verdict"] == "mixed"


def test_ablation_configs_switch_off_one_ingredient_each():
    cfg = bimt.BIMTConfig(lam=2e-5, target_sparsity=0.8)
    ab = bimt.ablation_configs(cfg)
    assert list(ab) == ["fine-tuned", "wire cost only", "pruning only", "BIMT + pruning"]
    assert ab["BIMT + pruning"] == cfg
    assert (ab["fine-tuned"].lam, ab["fine-tuned"].target_sparsity) == (0.0, 0.0)
    assert (ab["wire cost only"].lam, ab["wire cost only"].target_sparsity) == (2e-5, 0.0)
    assert (ab["pruning only"].lam, ab["pruning only"].target_sparsity) == (0.0, 0.8)
    assert all(c.epochs == cfg.epochs and c.lr == cfg.lr and c.seed == cfg.seed for c in ab.values())


@pytest.mark.parametrize(
    "bad", [{"target_sparsity": 1.0}, {"prune_scope": "neuron"}, {"n_checkpoints": 1}, {"lam": -1.0}, {"epochs": 0}]
)
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        bimt.BIMTConfig(**bad)


# --- modularity against a null model, and what the wiring diagram draws ---


def _planted_modules(n_rows=4, width=12, modules=3, seed=0, p_in=0.8):
    """``modules`` groups of neurons per row, wired (with probability p_in, random strengths) only inside a group."""
    g = torch.Generator().manual_seed(seed)
    group = torch.arange(width) * modules // width
    same = group[:, None] == group[None, :]
    return [torch.where(same & (torch.rand(width, width, generator=g) < p_in), 0.5 + torch.rand(width, width,
            generator=g), torch.zeros(width, width)) for _ in range(n_rows - 1)]


def test_kept_strengths_applies_a_per_layer_relative_threshold():
    a = [torch.tensor([[1.0, -0.04], [0.25, 0.0]]), torch.tensor([[10.0, 0.4]])]
    kept = bimt.kept_strengths(a, 0.05)
    assert kept[0].tolist() == [[1.0, 0.0], [0.25, 0.0]]  # 0.04 < 0.05 x 1
    assert kept[1].tolist() == [[10.0, 0.0]]  # 0.4 < 0.05 x 10
    assert [t.tolist() for t in bimt.kept_strengths(a, 0.0)] == [t.abs().tolist() for t in a]
    with pytest.raises(ValueError, match="threshold"):
        bimt.kept_strengths(a, 1.5)


def test_rewired_null_keeps_degrees_and_out_strengths_but_moves_connections():
    a = _planted_modules()
    rewired = bimt.rewired_strengths(a, seed=3)
    for r, s in zip(rewired, a, strict=True):
        assert torch.equal((r != 0).sum(0), (s != 0).sum(0))  # in-degree of every neuron of the earlier row
        assert torch.equal((r != 0).sum(1), (s != 0).sum(1))  # out-degree of every neuron of the later row
        assert torch.allclose(r.sum(1), s.sum(1))  # strength of every neuron of the later row
        assert torch.equal(r.flatten().sort().values, s.flatten().sort().values)
        assert not torch.equal(r != 0, s != 0)
    assert all(torch.equal(x, y) for x, y in zip(rewired, bimt.rewired_strengths(a, seed=3), strict=True))


def test_planted_modules_stand_above_both_nulls_and_a_random_graph_does_not():
    res = bimt.modularity_with_null(_planted_modules(), n_null=8, seed=0)
    assert res["q"] > 0.5 and res["margin"] > 0.1 and res["z"] > 5
    assert res["null_low"] <= res["null_mean"] <= res["null_high"] < res["q"]
    assert len(res["null"]) == 8 and res["edges"] == sum(int((t != 0).sum()) for t in _planted_modules())
    shuffled = bimt.modularity_with_null(_planted_modules(), n_null=8, seed=0, null="shuffled")
    assert shuffled["margin"] > 0.1
    g = torch.Generator().manual_seed(1)
    random_graph = [torch.rand(12, 12, generator=g) * (torch.rand(12, 12, generator=g) < 0.27) for _ in range(3)]
    res = bimt.modularity_with_null(random_graph, n_null=8, seed=0)
    assert res["margin"] < 0.02 and abs(res["z"]) < 3
    with pytest.raises(ValueError, match="null"):
        bimt.modularity_with_null(random_graph, null="configuration")
    with pytest.raises(ValueError, match="n_null"):
        bimt.modularity_with_null(random_graph, n_null=1)


def test_within_share_by_hand():
    a = _two_modules(noise=0.5)  # every layer: two blocks of 1.0 plus cross wiring of 0.5
    halves = [{(row, i) for row, n in enumerate([2, 4, 4, 2]) for i in range(n) if (i < n // 2) == first}
              for first in (True, False)]
    inside = sum(2 * (o // 2) * (i // 2) for o, i in [(4, 2), (4, 4), (2, 4)])  # block entries, weight 1
    cross = sum(o * i - o * i // 2 for o, i in [(4, 2), (4, 4), (2, 4)])  # the other entries, weight 0.5
    assert bimt.within_share(a, halves) == pytest.approx(inside / (inside + 0.5 * cross))
    assert bimt.within_share(a, [set().union(*halves)]) == pytest.approx(1.0)


def test_wiring_diagram_draws_no_pruned_or_faint_connection():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from symbiote_lite import plots_bimt as plots

    strength = [torch.tensor([[1.0, 0.0], [0.5, 0.01]]), torch.tensor([[0.0, 2.0]])]
    signed = [torch.tensor([[1.0, 0.0], [-0.5, 0.01]]), torch.tensor([[0.0, -2.0]])]
    positions = bimt.neuron_positions([2, 2, 1])
    ax = plots.wiring_diagram(strength, signed, positions, threshold=0.05)
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    segments = [s for c in lines for s in c.get_segments()]
    assert len(segments) == 3  # 1.0, 0.5 and 2.0; the zeros and 0.01 (< 0.05 x 1.0) are left out
    widths = sorted(w for c in lines for w in c.get_linewidths())
    assert widths == pytest.approx([1.0, 2.0, 2.0])  # 0.5 of its layer's largest -> half the widest line
    colours = [tuple(col[:3]) for c in lines for col in c.get_colors()]
    assert colours.count(plots.NEGATIVE) == 2 and colours.count(plots.POSITIVE) == 1
    fig = plots.wiring_stages({"a": (strength, signed), "b": (strength, signed)}, positions, threshold=0.05)
    assert len(fig.axes) == 2 and [a.get_title() for a in fig.axes] == ["a", "b"]
    assert fig.legends, "the row of stages carries the weight legend"
    plt.close("all")
