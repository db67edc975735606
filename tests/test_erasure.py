import copy

import pytest
import torch

from symbiote_lite import erasure as R
from symbiote_lite.editors import steered_logits
from symbiote_lite.metrics import N_DIGITS
from symbiote_lite.primary import PrimaryCNN
from symbiote_lite.stats import FAIL, PASS, UNDECIDED
from symbiote_lite.symbiote import edited_logits

CONFIG = R.ErasureConfig(n_probe=600, probe_split=300, attack_steps=5, eval_steps=(0, 1, 5), n_eval=5,
                         attack_batch=2)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    model = PrimaryCNN(4, 8, 12).eval().requires_grad_(False)
    with torch.no_grad():
        model.fc1.bias.uniform_(0.5, 1.0)
    x = torch.randn(600, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    y = torch.arange(600) % N_DIGITS
    return model, x, y


def test_fold_diffs_equals_the_batched_edit(net):
    model, x, _ = net
    gen = torch.Generator().manual_seed(2)
    diffs = {k: 0.1 * torch.randn(3, *p.shape, generator=gen) for k, p in model.named_parameters()
             if k.startswith(("conv2", "fc1"))}
    folded = R.fold_diffs(model, diffs)
    want = edited_logits(model, diffs, x[:50])
    for b, m in enumerate(folded):
        assert torch.allclose(m(x[:50]), want[b], atol=1e-5)
    assert torch.equal(model.fc1.weight, net[0].fc1.weight)  # the primary itself is not changed


def test_fold_offsets_equals_steering(net):
    model, x, _ = net
    gen = torch.Generator().manual_seed(3)
    offsets = {"conv2": torch.randn(2, 8, generator=gen), "fc1": torch.randn(2, 12, generator=gen)}
    want = steered_logits(model, offsets, x[:40])
    for b, m in enumerate(R.fold_offsets(model, offsets)):
        assert torch.allclose(m(x[:40]), want[b], atol=1e-5)


def test_fold_diffs_refuses_unknown_names(net):
    with pytest.raises(ValueError, match="not parameters"):
        R.fold_diffs(net[0], {"fc9.weight": torch.zeros(1, 3)})


def test_suppressed_never_predicts_the_digit_and_keeps_the_hidden_layers(net):
    model, x, _ = net
    sup = R.suppressed(model, 4, x)
    assert (sup(x).argmax(1) != 4).all()
    assert torch.equal(sup.fc1.weight, model.fc1.weight) and torch.equal(sup.conv2.weight, model.conv2.weight)
    assert sup.fc2.weight[4].abs().sum() == 0
    others = [d for d in range(N_DIGITS) if d != 4]
    assert torch.equal(sup(x)[:, others], model(x)[:, others])


def test_probe_reads_a_planted_signal_and_chance_without_it():
    gen = torch.Generator().manual_seed(4)
    y = torch.arange(1000) % N_DIGITS
    noise = torch.randn(2, 1000, 6, generator=gen)
    signal = noise.clone()
    signal[1, :, 0] += 3.0 * (y == 7)
    config = R.ErasureConfig(n_probe=1000, probe_split=500)
    feats = {layer: signal for layer in R.PROBE_LAYERS}
    out = R.probe_scores(feats, y, [7, 7], config)
    assert abs(out["fc1"]["auroc"][0] - 0.5) < 0.1  # network 0: no signal -> chance
    assert out["fc1"]["auroc"][1] > 0.95  # network 1: the digit is linearly readable
    assert out["fc1"]["recall"][1] > out["fc1"]["recall"][0]


def test_probe_on_a_network_with_the_features_zeroed_reads_chance(net):
    model, x, y = net
    dead = copy.deepcopy(model)
    with torch.no_grad():
        dead.fc1.weight.zero_()
        dead.fc1.bias.zero_()  # fc1 is all zero: nothing about any digit is left in it
    feats = {k: v[None] for k, v in R.probe_features(dead, x).items()}
    out = R.probe_scores(feats, y, [3], CONFIG)
    assert out["fc1"]["auroc"].item() == pytest.approx(0.5)


def test_probe_features_shapes(net):
    model, x, _ = net
    f = R.probe_features(model, x[:7])
    assert {k: tuple(v.shape) for k, v in f.items()} == {"conv1": (7, 4), "conv2": (7, 8), "fc1": (7, 12),
                                                          "fc2": (7, 10)}


def test_probe_features_from_shared_first_layer_equal_the_full_pass(net):
    model, x, _ = net
    edited = R.fold_diffs(model, {"conv2.weight": 0.1 * torch.ones(1, *model.conv2.weight.shape)})[0]
    assert R.same_first_layer(model, edited)
    assert not R.same_first_layer(model, R.fold_diffs(model, {"conv1.bias": torch.ones(1, 4)})[0])
    with torch.no_grad():
        first = model.first(x[:20])
    full, shared = R.probe_features(edited, x[:20]), R.probe_features(edited, x[:20], first)
    assert all(torch.allclose(full[k], shared[k], atol=1e-6) for k in full)
    assert not torch.allclose(full["fc1"], R.probe_features(model, x[:20])["fc1"]), "the edit must show"
    with pytest.raises(ValueError, match="conv1 activations of 19"):
        R.probe_features(edited, x[:20], first[:19])


def test_fit_probes_checks_shapes():
    with pytest.raises(ValueError, match=r"\(B, N, D\)"):
        R.fit_probes(torch.zeros(5, 3), torch.zeros(5, dtype=torch.long), 2, 1e-3, 10)


def test_leace_removes_the_linear_signal():
    """LEACE at fc1 of a network whose fc1 carries digit 0 linearly: a fresh probe then reads chance."""
    torch.manual_seed(6)
    model = PrimaryCNN(4, 8, 12).eval().requires_grad_(False)
    gen = torch.Generator().manual_seed(7)
    y = torch.arange(800) % N_DIGITS
    x = torch.randn(800, 1, 28, 28, generator=gen) + 2.0 * (y[:, None, None, None] == 0)
    config = R.ErasureConfig(n_probe=800, probe_split=400)
    before = R.probe_scores({k: v[None] for k, v in R.probe_features(model, x).items()}, y, [0], config)
    after = R.leace_scores(model, x, y, config)
    assert before["fc1"]["auroc"].item() > 0.9
    assert abs(after["auroc"][0].item() - 0.5) < 0.1
    assert after["auroc"].shape == after["forget"].shape == after["retain_drop"].shape == (N_DIGITS,)


def test_attack_leaves_the_networks_unchanged_and_matches_one_network_at_a_time(net):
    model, x, y = net
    models = [copy.deepcopy(model) for _ in range(2)]
    before = [copy.deepcopy(m.state_dict()) for m in models]
    idx = R.attack_sets(y, [1, 2], 3, seed=0)
    assert idx.shape == (2, 6) and (y[idx[:, :3]] == torch.tensor([[1], [2]])).all()
    assert (y[idx[0, 3:]] != 1).all() and (y[idx[1, 3:]] != 2).all()
    x_eval = torch.stack([x[y == 1][:5], x[y == 2][:5]])
    both = R.relearn(models, x[idx], y[idx], x_eval, [1, 2], CONFIG)
    for m, s in zip(models, before, strict=True):
        assert all(torch.equal(v, s[k]) for k, v in m.state_dict().items())
    one = R.relearn(models[1:], x[idx[1:]], y[idx[1:]], x_eval[1:], [2], CONFIG)
    assert both.shape == (2, 3) and torch.allclose(both[1], one[0])
    assert both[0, 0] == 100 * (model(x_eval[0]).argmax(1) == 1).float().mean()


def test_attack_raises_accuracy_on_a_learnable_digit(net):
    model, x, y = net
    gen = torch.Generator().manual_seed(8)
    xs = torch.randn(1, 20, 1, 28, 28, generator=gen)
    ys = torch.full((1, 20), 6)
    config = R.ErasureConfig(attack_steps=30, eval_steps=(0, 30), attack_lr=1e-2, attack_batch=10)
    curve = R.relearn([model], xs, ys, xs, [6], config)
    assert curve[0, 1] == 100 and curve[0, 1] > curve[0, 0]


def test_attack_sets_refuse_too_few_images():
    with pytest.raises(ValueError, match="needs at least k"):
        R.attack_sets(torch.tensor([0, 1, 1]), [0], 2, seed=0)


def test_distances_of_a_network_to_itself_are_zero_and_to_another_are_not(net):
    model, x, y = net
    logits = model(x)[None]
    d = R.distances(logits, logits, y, [3])
    assert d["agree"].item() == 100 and d["kl"].abs().item() < 1e-6 and d["tv"].item() == 0
    other = R.distances(logits, -logits, y, [3])
    assert other["agree"].item() < 50 and other["kl"].item() > 0 and other["tv"].item() > 0


def test_stacked_logits_equal_each_network_on_its_own_images(net):
    model, x, _ = net
    models = [copy.deepcopy(model) for _ in range(3)]
    with torch.no_grad():
        for i, m in enumerate(models):
            for p in m.parameters():
                p.add_(0.05 * i * torch.randn(p.shape, generator=torch.Generator().manual_seed(i)))
    xs = torch.stack([x[i * 7:(i + 1) * 7] for i in range(3)])
    got = R.stacked_logits(R.stacked_params(models), xs)
    for i, m in enumerate(models):
        assert torch.allclose(got[i], m(xs[i]), atol=1e-5)


def test_config_checks_its_splits_and_steps():
    with pytest.raises(ValueError, match="probe_split"):
        R.ErasureConfig(n_probe=100, probe_split=100)
    with pytest.raises(ValueError, match="end at attack_steps"):
        R.ErasureConfig(attack_steps=30, eval_steps=(0, 10))


def _record(values):
    """A record with given per-method (probe AUROC, 10-shot accuracy), the same for every digit."""
    rec = {"probe": {}, "relearn": {}, "eval_steps": [0, 30]}
    for m, (p, a) in values.items():
        rec["probe"][m] = {"fc1": {"auroc": torch.full((N_DIGITS,), p)}}
        rec["relearn"][m] = {10: torch.full((N_DIGITS, 2), a)}  # flat curve: its area is a
    return rec


def test_contrasts_place_a_method_between_the_references():
    refs = {"retrained": (0.9, 20.0), "suppression": (1.0, 100.0), "suppression (pruned)": (1.0, 100.0)}
    rec = _record(refs | {"symbiote (dense)": (0.91, 30.0)})
    c = R.contrasts([rec], "symbiote (dense)")
    assert c["erase_probe"][0] == pytest.approx(0.01 - 0.025, abs=1e-6)
    assert c["suppress_relearn"][0] == pytest.approx(10.0 - 60.0, abs=1e-4)
    assert R.gaps([rec]) == {"gap_probe": [pytest.approx(0.1, abs=1e-6)], "gap_relearn": [pytest.approx(80.0)]}


def test_method_rule_and_claim():
    rule = R.method_rule("symbiote (dense)")
    gaps = {"gap_probe": 1, "gap_relearn": 1}
    lv = gaps | {"symbiote_dense_erase_probe": 1, "symbiote_dense_erase_relearn": 1,
                 "symbiote_dense_suppress_probe": 0, "symbiote_dense_suppress_relearn": 0}
    assert rule(lv) == "erases"
    assert rule(lv | {"symbiote_dense_erase_relearn": 0, "symbiote_dense_suppress_relearn": 1}) == "partly"
    assert rule(lv | {"symbiote_dense_erase_probe": 0, "symbiote_dense_erase_relearn": 0,
                      "symbiote_dense_suppress_probe": 1, "symbiote_dense_suppress_relearn": 1}) == "suppresses"
    assert rule(lv | {"gap_probe": 0}) == "references indistinguishable"
    assert R.claim_verdict({"symbiote (dense)": "erases", "symbiote (pruned)": "erases"}) == "supported"
    assert R.claim_verdict({"symbiote (dense)": "erases", "symbiote (pruned)": "partly"}) == "partly"
    assert R.claim_verdict({"symbiote (dense)": "suppresses", "symbiote (pruned)": "partly"}) == "not supported"


def test_decide_on_clear_seeds_suppresses_and_on_noise_stays_open():
    gen = torch.Generator().manual_seed(9)
    records = []
    for _ in range(8):
        jit = lambda: 0.002 * torch.randn(1, generator=gen).item()  # noqa: E731
        vals = {"retrained": (0.9 + jit(), 20 + 100 * jit()), "suppression": (1.0 + jit(), 95 + 100 * jit()),
                "suppression (pruned)": (1.0 + jit(), 95 + 100 * jit())}
        vals |= {m: (1.0 + jit(), 95 + 100 * jit()) for m in R.METHODS}
        records.append(_record(vals))
    out = R.decide(records)
    assert set(out["verdicts"].values()) == {"suppresses"} and out["claim"] == "not supported"
    assert {r["outcome"] for r in out["rows"] if r["test"].startswith("gap")} == {PASS}
    noisy = R.decide(records[:2])
    assert all(v.startswith("inconclusive") for v in noisy["verdicts"].values())
    assert {r["outcome"] for r in noisy["rows"]} <= {PASS, FAIL, UNDECIDED}


def test_relearn_area_is_the_mean_accuracy_over_the_attack():
    curve = torch.tensor([[0.0, 0.0, 100.0], [100.0, 100.0, 100.0]])
    area = R.relearn_area(curve, [0, 10, 20])
    assert area.tolist() == [25.0, 100.0]
    with pytest.raises(ValueError, match="start at 0"):
        R.relearn_area(curve, [1, 10, 20])


def test_tables_over_seeds_stay_inside_the_range_next_to_a_bound():
    records = []
    for v in (0.9995, 0.9990, 1.0):
        rec = {"probe": {"m": {layer: {"auroc": torch.full((N_DIGITS,), v)} for layer in R.PROBE_LAYERS}},
               "relearn": {"m": {10: torch.tensor([[0.0, 99.0 + v]] * N_DIGITS)}}, "eval_steps": [0, 30]}
        records.append(rec)
    est = R.probe_table(records, 1000)["m"]["fc1"]
    assert 0 <= est["low"] <= est["mean"] <= est["high"] <= 1 and est["mean"] == pytest.approx(0.99950, abs=1e-5)
    curve = R.relearn_curves(records, 10, 1000)["m"]
    assert curve[0]["mean"] == 0 and 0 <= curve[30]["low"] <= curve[30]["mean"] <= curve[30]["high"] <= 100
    records[1]["eval_steps"] = [0, 20]
    with pytest.raises(ValueError, match="different attack steps"):
        R.relearn_curves(records, 10, 1000)


def test_the_claim_is_decided_when_no_open_test_lets_the_symbiote_erase():
    gen = torch.Generator().manual_seed(10)
    records = []
    for _ in range(5):
        jit = lambda s=1.0: s * torch.randn(1, generator=gen).item()  # noqa: E731
        vals = {"retrained": (0.90 + 0.001 * jit(), 20 + jit()), "suppression": (0.95 + 0.001 * jit(), 60 + jit()),
                "suppression (pruned)": (0.95 + 0.002 * jit(), 60 + jit())}
        # far from the retrained model, about halfway to suppression on the probe: suppress test open
        vals |= {m: (0.93 + 0.001 * jit(), 80 + jit()) for m in R.METHODS}
        records.append(_record(vals))
    out = R.decide(records)
    erase = [r for r in out["rows"] if "_erase_" in r["test"] and r["test"].startswith("symbiote")]
    assert {r["outcome"] for r in erase} == {FAIL}
    assert out["claim"] == "not supported"


def test_the_build_measures_exactly_the_chapters_default_seeds(build_seeds):
    default, listed = build_seeds("11_erasure", "ERASURE_SEEDS")
    assert listed == default


def test_the_command_refuses_repeated_or_negative_seeds():
    for argv in (["1", "1"], ["--measure", "-1"]):
        with pytest.raises(SystemExit, match="distinct non-negative"):
            R.main(argv)
