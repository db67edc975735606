import pytest
import torch

from symbiote_lite import editors as E
from symbiote_lite.metrics import scores_under
from symbiote_lite.primary import PrimaryCNN, count_parameters
from symbiote_lite.symbiote import DirectDiff, Symbiote, SymbioteConfig, edited_logits


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    return PrimaryCNN(4, 8, 16).eval(), torch.randn(6, 1, 28, 28)


def test_offsets_are_bias_diffs(tiny):
    """A constant added to a layer's pre-activation is the same as a change of its bias."""
    primary, x = tiny
    off = {"conv2": torch.randn(3, 8), "fc1": torch.randn(3, 16)}
    diffs = {
        "conv2.weight": torch.zeros(3, *primary.conv2.weight.shape), "conv2.bias": off["conv2"],
        "fc1.weight": torch.zeros(3, *primary.fc1.weight.shape), "fc1.bias": off["fc1"],
    }
    assert torch.allclose(E.steered_logits(primary, off, x), edited_logits(primary, diffs, x), atol=1e-5)
    only_fc1 = E.steered_logits(primary, {"fc1": off["fc1"]}, x)
    assert torch.allclose(only_fc1, edited_logits(primary, {"fc1.bias": off["fc1"]}, x), atol=1e-5)
    zero = E.steered_logits(primary, {k: 0 * v for k, v in off.items()}, x)
    # equal up to float rounding: the batched forward may take another kernel than the unbatched one
    assert torch.allclose(zero, primary(x)[None].expand(3, -1, -1), rtol=0, atol=1e-6)
    assert not primary.conv2._forward_hooks and not primary.fc1._forward_hooks, "hooks must be removed"


def test_steering_width_fits_the_budget(tiny):
    primary, _ = tiny
    for budget in (500, 2000, 17952):
        w = E.steering_width(primary, budget)
        assert count_parameters(E.SteeringSymbiote(primary, w)) <= budget < count_parameters(
            E.SteeringSymbiote(primary, w + 1))
    with pytest.raises(ValueError, match="too small"):
        E.steering_width(primary, 10)


def test_steering_symbiote_shapes_and_zero_intervention(tiny):
    primary, x = tiny
    sym = E.SteeringSymbiote(primary, 5, E.preactivation_rms(primary, x))
    torch.nn.init.normal_(sym.heads["fc1"].weight)
    z = torch.zeros(2, 10)
    z[1, 3] = 1
    off = sym(z)
    assert off["conv2"].shape == (2, 8) and off["fc1"].shape == (2, 16)
    assert torch.all(off["fc1"][0] == 0) and off["fc1"][1].abs().sum() > 0, "the bias-free trunk maps z=0 to 0"
    assert sym.penalty(off) > 0
    with pytest.raises(ValueError, match="shape"):
        sym(torch.zeros(10))


def test_preactivation_rms(tiny):
    primary, x = tiny
    with torch.no_grad():
        ref = primary.fc1(torch.nn.functional.max_pool2d(torch.relu(primary.conv2(
            torch.nn.functional.max_pool2d(torch.relu(primary.conv1(x)), 2))), 2).flatten(1))
    assert E.preactivation_rms(primary, x)["fc1"] == pytest.approx(ref.pow(2).mean().sqrt().item(), rel=1e-5)


def test_split_pairs():
    seen, held = E.split_pairs(15, seed=0)
    assert len(seen) == 30 and len(held) == 15
    together = sorted(map(tuple, torch.cat([seen, held]).tolist()))
    assert together == sorted(map(tuple, E.all_pairs().tolist())), "a partition of the 45 pairs"
    assert seen.unique().numel() == 10
    assert torch.equal(E.split_pairs(15, seed=0)[1], held), "seeded"
    with pytest.raises(ValueError, match="n_held_out"):
        E.split_pairs(45, seed=0)


def test_interventions_and_sampler():
    z = E.interventions_of(torch.tensor([[1, 7], [0, 2]]))
    assert z.sum(1).tolist() == [2.0, 2.0] and z[0, 1] == 1 and z[0, 7] == 1
    allowed = torch.tensor([[3, 4], [5, 6]])
    sample = E.pair_sampler(allowed, 6, "cpu")
    batch = sample(torch.Generator().manual_seed(0))
    assert batch.shape == (16, 10) and torch.equal(batch[:10], torch.eye(10))
    assert all(tuple(r.nonzero().flatten().tolist()) in {(3, 4), (5, 6)} for r in batch[10:])


def test_scores_under():
    y = torch.tensor([0, 0, 1, 2])
    pred = torch.tensor([[1, 0, 1, 2], [0, 0, 0, 0]])
    z = torch.zeros(2, 10)
    z[0, 0] = 1  # inhibit 0: one of two 0s still 0 -> forget 0.5; the 1 and the 2 right -> retain 1
    z[1, [1, 2]] = 1  # inhibit 1 and 2: neither survives -> forget 0; both 0s right -> retain 1
    out = scores_under(pred, y, z, base=torch.tensor([0, 1, 1, 2]))  # base: one 0 wrong
    assert out["forget"].tolist() == [0.5, 0.0] and out["retain"].tolist() == [1.0, 1.0]
    assert out["retain_drop"].tolist() == [0.0, -0.5], "base retain: 1 for the 1 and 2; 1/2 for the two 0s"


def test_train_editor_inhibits_and_is_deterministic(tiny):
    """A few steps of steering on a tiny primary labelled by itself measurably lower the target's accuracy."""
    primary, _ = tiny
    x = torch.randn(100, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    y = primary(x).argmax(1).detach()  # the primary is right on every image by definition
    target = int(y.mode().values)
    config = SymbioteConfig(steps=15, batch_size=32, lr=0.1, inhibit_weight=1.0)
    sampler = lambda gen: torch.eye(10)[[target]]

    def run():
        sym = lambda: E.SteeringSymbiote(primary, 8, E.preactivation_rms(primary, x))
        return E.train_editor(sym, E.steered_logits, lambda ed, off: ed.penalty(off), primary, x, y, sampler, config,
                              progress=False)

    editor, history = run()
    z = torch.eye(10)[[target]]
    with torch.no_grad():
        scores = scores_under(E.predict_under(E.steered_logits, primary, editor(z), x), y, z)
    assert scores["forget"].item() < 0.5, f"the target survives: {scores}"
    assert len(history["loss"]) == 15 and history["n_params"] == count_parameters(editor)
    again, _ = run()
    assert all(torch.equal(a, b) for a, b in zip(editor.state_dict().values(), again.state_dict().values(),
                                                  strict=True))


def test_build_editor_matches_the_symbiote_budget(tiny):
    primary, _ = tiny
    config = SymbioteConfig(hidden=8, rank=2, max_fraction=1.0)
    weights = E.build_editor(E.EditorRun("weights", config, "k"), primary)
    steering = E.build_editor(E.EditorRun("steering", config, "k"), primary)
    assert isinstance(weights, Symbiote)
    assert count_parameters(steering) <= count_parameters(weights)
    with pytest.raises(ValueError, match="kind"):
        E.build_editor(E.EditorRun("gradients", config, "k"), primary)
    assert E.with_steps(config, 7).steps == 7 and E.with_steps(config, 7).val_every == 7


def test_direct_diffs_give_each_digit_its_own_diff(tiny):
    primary, _ = tiny
    torch.manual_seed(0)
    direct = E.DirectDiffs(primary, rank=2)
    assert all(isinstance(d, DirectDiff) for d in direct.digits) and len(direct.digits) == 10
    with torch.no_grad():
        for d in direct.digits:
            for p in d.coef.values():
                p.normal_()
        z = torch.eye(10)[[3, 5]]
        z[1, 7] = 1  # the pair (5, 7)
        out = direct(z)
        three, five, seven = direct.digits[3](), direct.digits[5](), direct.digits[7]()
    for k, v in out.items():
        assert torch.allclose(v[0], three[k][0]) and torch.allclose(v[1], five[k][0] + seven[k][0], atol=1e-6)


def test_forward_hooks_are_removed_on_exit_and_on_error():
    from torch import nn

    from symbiote_lite.runtime import forward_hooks

    layer = nn.Identity()
    x = torch.ones(2)
    with forward_hooks([(layer, lambda m, i, out: out + 1)]):
        assert torch.equal(layer(x), x + 1)
    assert torch.equal(layer(x), x), "the hook outlived its block"
    with pytest.raises(RuntimeError), forward_hooks([(layer, lambda m, i, out: out * 3)]):
        raise RuntimeError("boom")
    assert torch.equal(layer(x), x), "an error left the hook in place"
