"""SymbioteNet: which weights a diff may touch, the parameter budget, batched == loop, and that training inhibits."""

import pytest
import torch

from symbiote_lite.primary import PrimaryCNN, PrimaryConfig, build_model, count_parameters
from symbiote_lite.primary import train as train_primary
from symbiote_lite.symbiote import (
    Symbiote,
    SymbioteConfig,
    edited_logits,
    edited_logits_loop,
    edited_predict,
    inhibition_loss,
    multi_hot,
    optimise_diff,
    param_names,
    train_symbiote,
)

TINY = PrimaryConfig(channels1=4, channels2=8, hidden=16, epochs=3, batch_size=32, lr=1e-2)
TINY_SYM = SymbioteConfig(
    hidden=8, rank=3, steps=80, batch_size=48, n_pairs=1, lr=3e-2, inhibit_weight=1.0, val_size=50, val_every=40
)


def randomise_heads(sym: Symbiote, seed: int = 0) -> Symbiote:
    """Non-zero output heads, so that every intervention produces a non-trivial diff."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for head in sym.heads.values():
            head.weight.copy_(torch.randn(head.weight.shape, generator=gen))
    return sym


def fake_masks(model: PrimaryCNN, keep: float = 0.1, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.rand(model.get_parameter(k).shape, generator=gen) < keep for k in ("conv2.weight", "fc1.weight")}


def pruned_copy(model: PrimaryCNN, masks) -> PrimaryCNN:
    out = build_model(TINY)
    out.load_state_dict(model.state_dict())
    with torch.no_grad():
        for k, m in masks.items():
            out.get_parameter(k).mul_(m)
    return out.eval()


def synthetic_digits(n: int, seed: int = 0):
    """Ten classes of 28x28 images: a fixed random blob pattern per class plus noise (easy, learnt in seconds)."""
    gen = torch.Generator().manual_seed(123)
    templates = torch.nn.functional.avg_pool2d(torch.randn(10, 1, 28, 28, generator=gen), 5, 1, 2) * 3
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 10
    x = templates[y] + 0.5 * torch.randn(n, 1, 28, 28, generator=gen)
    return x, y


@pytest.fixture(scope="module")
def tiny_primary():
    torch.manual_seed(0)
    x, y = synthetic_digits(600)
    model, _ = train_primary(TINY, x, y, progress=False)
    return model.requires_grad_(False)


def test_diffs_only_touch_hidden_layers(tiny_primary):
    sym = randomise_heads(Symbiote(tiny_primary, None, TINY_SYM))
    diffs = sym(torch.eye(10))
    assert set(diffs) == set(param_names()) == {"conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias"}
    params = dict(tiny_primary.named_parameters())
    for k, d in diffs.items():
        assert d.shape == (10, *params[k].shape)
        assert d.abs().sum() > 0, f"{k} got no diff"


def test_diffs_only_touch_surviving_weights(tiny_primary):
    masks = fake_masks(tiny_primary)
    assert 0.85 < 1 - torch.cat([m.flatten().float() for m in masks.values()]).mean() < 0.95
    pruned = pruned_copy(tiny_primary, masks)
    sym = randomise_heads(Symbiote(pruned, masks, TINY_SYM))
    diffs = sym(torch.eye(10))
    for k, m in masks.items():
        assert (diffs[k][:, ~m] == 0).all(), f"{k}: a diff re-grows a pruned weight"
        assert (diffs[k][:, m] != 0).float().mean() > 0.9, f"{k}: surviving weights should be editable"
        edited = pruned.get_parameter(k) + diffs[k]
        assert (edited[:, ~m] == 0).all()


def test_mask_errors_are_clear(tiny_primary):
    with pytest.raises(ValueError, match="fc1.weight"):
        Symbiote(tiny_primary, {"conv2.weight": torch.ones(8, 4, 5, 5, dtype=torch.bool)}, TINY_SYM)
    with pytest.raises(ValueError, match="shape"):
        Symbiote(tiny_primary, {"conv2.weight": torch.ones(3), "fc1.weight": torch.ones(3)}, TINY_SYM)


def test_parameter_budget():
    primary = PrimaryCNN(*(getattr(PrimaryConfig(), f) for f in ("channels1", "channels2", "hidden")))
    sym = Symbiote(primary, None, SymbioteConfig())
    assert count_parameters(sym) <= 0.5 * count_parameters(primary)
    with pytest.raises(ValueError, match="parameters, more than max_fraction"):
        Symbiote(primary, None, SymbioteConfig(hidden=256, rank=64))
    with pytest.raises(ValueError, match="max_fraction"):
        Symbiote(primary, None, SymbioteConfig(max_fraction=0.01))


def test_empty_intervention_is_no_edit(tiny_primary):
    sym = randomise_heads(Symbiote(tiny_primary, None, TINY_SYM))
    for d in sym(torch.zeros(1, 10)).values():
        assert (d == 0).all()


def test_batched_equals_loop(tiny_primary):
    sym = randomise_heads(Symbiote(tiny_primary, None, TINY_SYM))
    z = torch.stack([multi_hot([3]), multi_hot([1, 7]), multi_hot([])])
    x, _ = synthetic_digits(20)
    with torch.no_grad():
        diffs = {k: 0.05 * v for k, v in sym(z).items()}
        batched, looped = edited_logits(tiny_primary, diffs, x), edited_logits_loop(tiny_primary, diffs, x)
    assert batched.shape == (3, 20, 10)
    torch.testing.assert_close(batched, looped, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(batched[2], tiny_primary(x), rtol=1e-5, atol=1e-5)  # empty intervention
    assert not torch.allclose(batched[0], batched[2])


@pytest.mark.parametrize("keys", [["fc1.bias"], ["conv2.bias"], ["fc1.weight", "fc2.bias"],
                                  ["conv1.weight", "fc1.weight"],
                                  ["conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias"]])
def test_any_batched_subset_equals_loop(tiny_primary, keys):
    """Every path of ``forward_many``: shared layers, one conv with B·out filters, grouped convs after a batched
    conv1, batched matrix products, and a batched parameter after shared ones."""
    gen = torch.Generator().manual_seed(1)
    params = dict(tiny_primary.named_parameters())
    diffs = {k: 0.2 * torch.randn(3, *params[k].shape, generator=gen) for k in keys}
    x, _ = synthetic_digits(12)
    with torch.no_grad():
        torch.testing.assert_close(edited_logits(tiny_primary, diffs, x), edited_logits_loop(tiny_primary, diffs, x),
                                   rtol=1e-5, atol=1e-5)


def test_forward_works_under_vmap(tiny_primary):
    """The primary stays usable with torch.func transforms (e.g. vmap over parameter sets, per-sample gradients)."""
    from torch.func import functional_call, vmap

    params = {k: v.detach() for k, v in tiny_primary.named_parameters()}
    diffs = {"fc1.bias": 0.3 * torch.randn(2, 16)}
    x, _ = synthetic_digits(6)
    out = vmap(lambda d: functional_call(tiny_primary, {**params, "fc1.bias": params["fc1.bias"] + d}, (x,)))(
        diffs["fc1.bias"])
    torch.testing.assert_close(out, edited_logits(tiny_primary, diffs, x), rtol=1e-5, atol=1e-5)


def test_batched_gradients_equal_loop(tiny_primary):
    sym = randomise_heads(Symbiote(tiny_primary, None, TINY_SYM))
    z = torch.stack([multi_hot([3]), multi_hot([1, 7])])
    x, _ = synthetic_digits(16)
    grads = []
    for fn in (edited_logits, edited_logits_loop):
        sym.zero_grad()
        fn(tiny_primary, {k: 0.05 * v for k, v in sym(z).items()}, x).logsumexp(-1).sum().backward()
        grads.append({k: p.grad.clone() for k, p in sym.named_parameters()})
    for k in grads[0]:
        torch.testing.assert_close(grads[0][k], grads[1][k], rtol=1e-4, atol=1e-5)


def test_batched_forward_rejects_bad_parameters(tiny_primary):
    params = dict(tiny_primary.named_parameters())
    x, _ = synthetic_digits(4)
    with pytest.raises(ValueError, match="not parameters of the primary"):
        edited_logits(tiny_primary, {"conv3.weight": torch.zeros(2, 3)}, x)
    with pytest.raises(ValueError, match="disagree on the batch size"):
        edited_logits(tiny_primary, {"fc1.bias": torch.zeros(2, 16), "conv2.bias": torch.zeros(3, 8)}, x)
    with pytest.raises(ValueError, match="wrong shape: fc1.bias"):
        edited_logits(tiny_primary, {"fc1.bias": torch.zeros(2, 17)}, x)
    with pytest.raises(ValueError, match="wrong shape: fc1.bias"):
        tiny_primary.forward_many({**params, "fc1.bias": torch.zeros(2, 17)}, x)
    with pytest.raises(ValueError, match="missing"):
        tiny_primary.forward_many({k: v for k, v in params.items() if k != "fc2.bias"}, x)


def test_multi_hot():
    assert multi_hot([1, 7]).tolist() == [0, 1, 0, 0, 0, 0, 0, 1, 0, 0]
    with pytest.raises(ValueError, match="10"):
        multi_hot([10])


def test_inhibition_loss_terms_and_bound():
    y = torch.tensor([0, 1, 2, 3])
    z = multi_hot([1])[None]
    logits = torch.randn(1, 4, 10)
    total, retain, inhibit = inhibition_loss(logits, y, z, inhibit_weight=0.5)
    keep = y != 1
    torch.testing.assert_close(retain, torch.nn.functional.cross_entropy(logits[0, keep], y[keep]))
    p1 = logits[0, 1].softmax(-1)[1]
    torch.testing.assert_close(inhibit, -torch.log1p(-p1))
    torch.testing.assert_close(total, retain + 0.5 * inhibit)
    # bounded below by 0 and reaching 0 once the target has no probability left (unlike gradient ascent on CE)
    logits[0, 1, 1] = -1e4
    assert inhibition_loss(logits, y, z)[2].item() == pytest.approx(0.0, abs=1e-6)
    # several inhibited digits: the probability of the whole set
    z2 = multi_hot([1, 2])[None]
    logits = torch.randn(1, 4, 10)
    p = logits[0].softmax(-1)
    expected = -torch.log1p(-(p[1:3, 1] + p[1:3, 2])).mean()
    torch.testing.assert_close(inhibition_loss(logits, y, z2)[2], expected)


def test_training_lowers_target_accuracy_and_keeps_the_rest(tiny_primary):
    x, y = synthetic_digits(600, seed=1)
    xv, yv = synthetic_digits(200, seed=2)
    before = tiny_primary(xv).argmax(1)
    assert (before == yv).float().mean() > 0.9, "the tiny primary should have learnt the synthetic digits"
    sym, history = train_symbiote(tiny_primary, None, TINY_SYM, x, y, xv, yv, progress=False)
    pred = edited_predict(tiny_primary, sym(torch.eye(10)), xv)  # (10 edits, 200 images)
    own = yv[None, :] == torch.arange(10)[:, None]  # own[t, n]: image n shows the inhibited digit t
    forget = ((pred == yv) & own).sum(1) / own.sum(1)  # per edit
    retain = ((pred == yv) & ~own).sum(1) / (~own).sum(1)
    retain_before = ((before == yv)[None] & ~own).sum(1) / (~own).sum(1)
    assert forget[3] < 0.5, f"forget accuracy of 3 is {forget[3]:.2f}: the symbiote did not inhibit it"
    assert forget.mean() < 0.3, f"mean forget accuracy {forget.mean():.2f} (unedited > 0.9)"
    assert retain.mean() > retain_before.mean() - 0.15, f"retain {retain_before.mean():.2f} -> {retain.mean():.2f}"
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert len(history["step"]) == len(history["train_loss"]) == 2


def test_direct_diff_on_pruned_primary(tiny_primary):
    x, y = synthetic_digits(600, seed=1)
    masks = fake_masks(tiny_primary, keep=0.3)
    pruned = pruned_copy(tiny_primary, masks)
    diffs, seconds = optimise_diff(pruned, masks, multi_hot([5]), TINY_SYM, x, y, steps=40)
    for k, m in masks.items():
        assert (diffs[k][:, ~m] == 0).all()
    xv, yv = synthetic_digits(200, seed=2)
    before = (pruned(xv).argmax(1)[yv == 5] == 5).float().mean()
    after = (edited_predict(pruned, diffs, xv)[0][yv == 5] == 5).float().mean()
    assert after < before - 0.5 and seconds > 0


def test_direct_diffs_batched_each_inhibits_its_own_digit(tiny_primary):
    x, y = synthetic_digits(600, seed=1)
    z = torch.stack([multi_hot([5]), multi_hot([2])])
    diffs, _ = optimise_diff(tiny_primary, None, z, TINY_SYM, x, y, steps=40)
    assert all(d.shape[0] == 2 for d in diffs.values())
    xv, yv = synthetic_digits(200, seed=2)
    pred = edited_predict(tiny_primary, diffs, xv)  # (2, N)
    for row, (target, other) in enumerate([(5, 2), (2, 5)]):
        forget = (pred[row][yv == target] == target).float().mean()
        kept = (pred[row][yv == other] == other).float().mean()
        assert forget < 0.3 and kept > 0.7, f"diff {row}: forget {forget:.2f} of {target}, kept {kept:.2f} of {other}"
