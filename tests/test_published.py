"""The published design, re-implemented: offset hooks, parameter counts, the loss, recipes (chapter 7)."""

import math
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from symbiote_lite import published as P
from symbiote_lite.primary import count_parameters


@pytest.fixture(scope="module")
def cnn():
    torch.manual_seed(0)
    model = P.PublishedCNN()
    model.train()  # give the batch norms non-trivial running statistics
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(32, 1, 28, 28))
    return model.eval().requires_grad_(False)


@pytest.fixture(scope="module")
def images():
    return torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1))


def record(model, x, offsets=None):
    """Pre-ReLU (batch-norm output) and post-ReLU activations of every offset layer, and the logits."""
    seen = {}
    norms = {"conv1": model.bn1, "conv2": model.bn2, "conv3": model.bn3, "fc1": model.bn_fc1, "fc2": model.bn_fc2}
    handles = [bn.register_forward_hook(lambda m, i, o, n=n: seen.__setitem__(f"pre_{n}", o))
               for n, bn in norms.items()]
    handles.append(model.conv3.register_forward_pre_hook(lambda m, i: seen.__setitem__("conv3_input", i[0])))
    try:
        with P.offset_hooks(model, offsets or {}):
            # registered after the offset hook, so it sees the ReLU output with the offset added
            handles += [model.relu[n].register_forward_hook(lambda m, i, o, n=n: seen.__setitem__(f"post_{n}", o))
                        for n in P.OFFSET_SHAPES]
            logits = model(x)
    finally:
        for h in handles:
            h.remove()
    return logits, seen


def test_zero_offsets_leave_the_logits_unchanged(cnn, images):
    zeros = {n: torch.zeros(1, *s) for n, s in P.OFFSET_SHAPES.items()}
    assert torch.equal(P.offset_logits(cnn, zeros, images), cnn(images))


def test_hooks_are_removed_on_exit(cnn, images):
    before = cnn(images)
    P.offset_logits(cnn, {"fc1": torch.ones(1, 128)}, images)
    assert torch.equal(cnn(images), before)
    assert all(not relu._forward_hooks for relu in cnn.relu.values())


@pytest.mark.parametrize("layer", list(P.OFFSET_SHAPES))
def test_an_offset_lands_after_its_layers_relu_only(cnn, images, layer):
    order = list(P.OFFSET_SHAPES)
    offset = torch.randn(1, *P.OFFSET_SHAPES[layer], generator=torch.Generator().manual_seed(2))
    base_logits, base = record(cnn, images)
    logits, edited = record(cnn, images, {layer: offset})
    k = order.index(layer)
    for name in order[:k]:  # everything before the edited layer is untouched
        assert torch.equal(edited[f"pre_{name}"], base[f"pre_{name}"]), name
        assert torch.equal(edited[f"post_{name}"], base[f"post_{name}"]), name
    # the edited layer's pre-activation is untouched: the offset is not added before the ReLU ...
    assert torch.equal(edited[f"pre_{layer}"], base[f"pre_{layer}"])
    # ... but exactly after it
    torch.testing.assert_close(edited[f"post_{layer}"], F.relu(base[f"pre_{layer}"]) + offset, rtol=0, atol=0)
    for name in order[k + 1 :]:  # and everything after it moves
        assert not torch.equal(edited[f"pre_{name}"], base[f"pre_{name}"]), name
    assert not torch.equal(logits, base_logits)


def test_a_negative_offset_is_not_clipped_by_the_relu(cnn, images):
    _, seen = record(cnn, images, {"conv2": torch.full((1, 64, 28, 28), -5.0)})
    assert seen["conv3_input"].min() < 0  # pooled (ReLU output − 5): negative values pass on


def test_per_image_offsets_reach_their_own_image(cnn, images):
    offsets = torch.zeros(len(images), 128)
    offsets[2] = 3.0
    logits = P.offset_logits(cnn, {"fc1": offsets}, images)
    base = cnn(images)
    changed = ~torch.isclose(logits, base).all(1)
    assert changed.tolist() == [i == 2 for i in range(len(images))]


def test_the_staged_forward_is_the_forward(cnn, images):
    h = images
    for name in list(P.OFFSET_SHAPES)[:3]:
        h = cnn.stage(name, h)
    assert torch.equal(cnn(h, start="conv3"), cnn(images))


def test_predict_many_matches_one_set_at_a_time(cnn, images):
    gen = torch.Generator().manual_seed(4)
    sets = [{}, {"conv2": torch.randn(1, 64, 28, 28, generator=gen)},
            {"conv2": torch.randn(1, 64, 28, 28, generator=gen), "fc1": 3 * torch.randn(1, 128, generator=gen)},
            {"fc2": 3 * torch.randn(1, 64, generator=gen)}]
    many = P.predict_many(cnn, sets, images, chunk=4)
    one = torch.stack([P.predict_with(cnn, s, images) for s in sets])
    assert torch.equal(many, one)
    assert not torch.equal(one[0], one[3])  # the offsets change some predictions, so the test can fail


def test_offsets_of_a_wrong_layer_or_shape_are_refused(cnn, images):
    with pytest.raises(ValueError, match="no offset layer 'fc3'"):
        P.offset_logits(cnn, {"fc3": torch.zeros(1, 10)}, images)
    with pytest.raises(ValueError, match=r"expected \(B, 64, 28, 28\)"):
        P.offset_logits(cnn, {"conv2": torch.zeros(1, 64, 14, 14)}, images)


def test_parameter_counts_match_the_architecture():
    conv = (1 * 32 + 32 * 64 + 64 * 128) * 9 + (32 + 64 + 128)  # kernels and biases
    norms = 2 * (32 + 64 + 128 + 128 + 64)  # weight and shift of every batch norm
    fc = 6272 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert count_parameters(P.PublishedCNN()) == conv + norms + fc == 905_354
    trunk = (10 * 512 + 512) + 2 * 512 + (512 * 512 + 512) + 2 * 512
    heads = 513 * (32 * 28 * 28 + 64 * 28 * 28 + 128 * 14 * 14 + 128 + 64)
    assert P.puppeteer_parameters(512) == trunk + heads == 51_849_408
    assert round(51_849_408 / 905_354, 1) == 57.3


@pytest.mark.parametrize(("width", "layers", "per_channel"),
                         [(4, ("fc1",), False), (7, P.WRITEUP_LAYERS, False), (3, P.PUBLISHED_LAYERS, False),
                          (9, P.WRITEUP_LAYERS, True), (5, P.PUBLISHED_LAYERS, True)])
def test_parameter_formula_counts_the_module(width, layers, per_channel):
    net = P.PuppeteerNet(width, layers, per_channel=per_channel)
    assert P.puppeteer_parameters(width, layers, per_channel) == count_parameters(net)


def test_per_channel_offsets_are_constant_over_positions():
    net = P.PuppeteerNet(6, ("conv2", "fc1"), per_channel=True).eval()
    out = net(P.one_hot(torch.tensor([3, 7])))
    assert out["conv2"].shape == (2, 64, 28, 28) and out["fc1"].shape == (2, 128)
    assert torch.equal(out["conv2"], out["conv2"][:, :, :1, :1].expand(-1, -1, 28, 28))


def test_writeup_recipe_keeps_the_rules():
    for per_channel, width in ((False, 5), (True, 512)):
        r = P.writeup_recipe(P.PuppeteerRecipe(), 905_354, per_channel=per_channel)
        assert r.layers == ("conv2", "conv3", "fc1") and r.digits == tuple(range(10)) and r.width == width
        assert P.puppeteer_parameters(r.width, r.layers, per_channel) <= 905_354 // 2


def test_width_for_budget_is_the_largest_that_fits():
    budget = 905_354 // 2
    w = P.width_for_budget(budget, P.WRITEUP_LAYERS)
    assert P.puppeteer_parameters(w, P.WRITEUP_LAYERS) <= budget < P.puppeteer_parameters(w + 1, P.WRITEUP_LAYERS)
    with pytest.raises(ValueError, match="below the smallest"):
        P.width_for_budget(100, P.WRITEUP_LAYERS)


def test_puppeteer_output_shapes_and_range():
    net = P.PuppeteerNet(6, ("conv1", "fc2")).eval()
    out = net(P.one_hot(torch.tensor([3, 7])))
    assert set(out) == {"conv1", "fc2"}
    assert out["conv1"].shape == (2, 32, 28, 28) and out["fc2"].shape == (2, 64)
    assert all(v.abs().max() < 1 for v in out.values())  # tanh
    with pytest.raises(ValueError, match=r"shape \(B, 10\)"):
        net(torch.zeros(2, 9))


def test_batch_norm_erases_the_digit_of_a_batch_of_identical_one_hots():
    """In training mode a batch of copies of one one-hot vector has zero variance: the first batch norm outputs its
    shift whatever the digit, so (without dropout) every digit gets the same offsets."""
    torch.manual_seed(0)
    net = P.PuppeteerNet(8, ("fc2",), dropout=0.0).train()
    three = net(P.one_hot(torch.full((4,), 3)))["fc2"]
    seven = net(P.one_hot(torch.full((4,), 7)))["fc2"]
    torch.testing.assert_close(three, seven, rtol=0, atol=1e-4)  # equal up to rounding in the batch mean
    mixed = net(P.one_hot(torch.tensor([3, 3, 7, 7])))["fc2"]
    assert (mixed[0] - mixed[2]).abs().max() > 1e-2  # a mixed batch does see the digit


def test_training_offsets_average_the_dropout_draws_and_leave_the_statistics():
    torch.manual_seed(0)
    net = P.PuppeteerNet(8, ("fc2",)).train()
    net(P.one_hot(torch.tensor([3, 7, 1, 3])))  # some running statistics
    before = {k: v.clone() for k, v in net.state_dict().items()}
    got = P.training_offsets(net, 3, n=32, seed=5)["fc2"]
    assert got.shape == (1, 64) and not net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items() if "num_batches" not in k)
    torch.testing.assert_close(got, P.training_offsets(net, 3, n=32, seed=5)["fc2"])  # seeded
    eval_out = P.offsets_for(net, 3)["fc2"]
    assert not torch.allclose(got, eval_out)  # batch statistics, not running ones


def test_published_loss_by_hand():
    logits = torch.tensor([[0.0, 0.0, 0.0], [math.log(3.0), 0.0, 0.0]])
    y, target = torch.tensor([0, 1]), torch.tensor([2, 0])
    # image 0: p = (1/3, 1/3, 1/3), target 2; image 1: p = (3/5, 1/5, 1/5), target 0
    ce = (math.log(3) + math.log(5)) / 2
    inhibit = (-math.log(1 - 1 / 3 + 1e-6) - math.log(1 - 3 / 5 + 1e-6)) / 2
    total, ce_t, inhibit_t = P.published_loss(logits, y, target, alpha=5.0)
    assert ce_t.item() == pytest.approx(ce, rel=1e-6)
    assert inhibit_t.item() == pytest.approx(inhibit, rel=1e-6)
    assert total.item() == pytest.approx(ce + 5 * inhibit, rel=1e-6)


def test_the_inhibition_term_is_finite_when_the_target_is_certain():
    logits = torch.tensor([[0.0, 100.0]])
    _, _, inhibit = P.published_loss(logits, torch.tensor([1]), torch.tensor([1]))
    assert inhibit.item() == pytest.approx(-math.log(1e-6), rel=1e-3)


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        (P.PuppeteerRecipe(digits=(3, 11)), "digits"),
        (P.PuppeteerRecipe(digits=(3, 3)), "digits"),
        (P.PuppeteerRecipe(digits=()), "digits"),
        (P.PuppeteerRecipe(layers=("fc3",)), "layers"),
        (P.PuppeteerRecipe(dropout=1.0), "dropout"),
        (P.PuppeteerRecipe(steps=0), "steps"),
        (P.CNNRecipe(batch_size=1), "batch_size"),
        (P.CNNRecipe(lr=0.0), "lr"),
        (P.CNNRecipe(drop_at=1.5), "drop_at"),
    ],
)
def test_recipes_are_validated(recipe, message):
    with pytest.raises(ValueError, match=message):
        P.check_recipe(recipe)


def test_batches_reshuffle_each_pass():
    got = list(P.batches(10, 4, 5, torch.Generator().manual_seed(0)))
    assert len(got) == 5 and all(len(b) == 4 and len(set(b.tolist())) == 4 for b in got)
    first_pass = torch.cat(got[:2]).tolist()
    assert len(set(first_pass)) == 8  # no image twice within a pass


def test_training_is_seeded_and_reduces_the_inhibited_probability(cnn):
    gen = torch.Generator().manual_seed(3)
    x, y = torch.rand(64, 1, 28, 28, generator=gen), torch.randint(10, (64,), generator=gen)
    recipe = P.PuppeteerRecipe(width=8, layers=("fc2",), digits=(3,), steps=8, lr=5e-2)
    net_a, hist_a, _ = P.train_puppeteer(recipe, cnn, x, y, progress=False)
    net_b, hist_b, _ = P.train_puppeteer(recipe, cnn, x, y, progress=False)
    assert hist_a["loss"] == hist_b["loss"]
    assert hist_a["n_params"] == P.puppeteer_parameters(8, ("fc2",))
    p3 = lambda offsets: P.offset_logits(cnn, offsets, x).softmax(1)[:, 3].mean()  # noqa: E731
    with torch.no_grad():
        assert p3(P.offsets_for(net_a, 3)) < 0.5 * p3({})


def test_scores_are_overall_other_and_digit_accuracy():
    y = torch.tensor([3, 3, 1, 2])
    pred = torch.tensor([3, 0, 1, 0])
    s = P.scores(pred, y, 3)
    assert s == {"overall": 50.0, "other": 50.0, "digit": 50.0}


def tiny_data(n=40):
    gen = torch.Generator().manual_seed(5)
    return torch.rand(n, 1, 28, 28, generator=gen), torch.randint(10, (n,), generator=gen)


def test_a_resumed_run_is_the_straight_run(cnn):
    x, y = tiny_data()
    recipe = P.PuppeteerRecipe(width=8, layers=("conv3", "fc2"), digits=(3, 7), steps=7, batch_size=16, lr=1e-2)
    straight, hist, _ = P.train_puppeteer(recipe, cnn, x, y, progress=False)
    _, _, half = P.train_puppeteer(replace(recipe, steps=3), cnn, x, y, progress=False)
    resumed, hist_r, _ = P.train_puppeteer(recipe, cnn, x, y, progress=False, resume=half)
    assert hist_r["loss"] == hist["loss"] and hist_r["bn2_z"] == hist["bn2_z"]  # 40 images: crosses a pass too
    for key, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key
    with pytest.raises(ValueError, match="cannot resume"):
        P.train_puppeteer(replace(recipe, steps=2), cnn, x, y, progress=False, resume=half)


def test_batch_norm_state_reads_the_running_statistics():
    net = P.PuppeteerNet(width=4, layers=("fc2",)).train()
    state = P.batch_norm_state(net, (3,))
    assert state["bn1_var"] == 1.0 and state["bn2_var"] == 1.0  # fresh running statistics
    with torch.no_grad():
        a1 = net.base[0](P.one_hot(torch.tensor([3])))
    assert state["bn1_z"] == pytest.approx(a1.abs().mean().item() / math.sqrt(1 + 1e-5))
    assert net.training  # the mode it was in


def test_budgets_reuse_only_a_cached_run_of_the_same_config(cnn, tmp_path, monkeypatch):
    monkeypatch.setenv("SYMBIOTE_LITE_DATA", str(tmp_path))
    x, y = tiny_data(64)
    monkeypatch.setattr(P, "training_data", lambda fraction, seed, device: ((x, y), (x[:0], y[:0])))
    calls = []
    real = P.train_puppeteer

    def spy(recipe, *args, resume=None, **kwargs):
        calls.append((recipe.steps, None if resume is None else len(resume["history"]["loss"]), recipe.lr))
        return real(recipe, *args, resume=resume, **kwargs)

    monkeypatch.setattr(P, "train_puppeteer", spy)
    run = P.PuppeteerRun(P.PuppeteerRecipe(width=8, layers=("fc2",), steps=1, lr=1e-2), P.CNNRecipe(steps=10))
    first = P.load_or_train_budgets(run, cnn, [2, 5])
    assert calls == [(2, None, 1e-2), (5, 2, 1e-2)]  # 5 continues 2
    again = P.load_or_train_budgets(run, cnn, [5, 2, 9])
    assert calls[2:] == [(9, 5, 1e-2)]  # 2 and 5 from the cache, 9 continues 5
    assert [len(h["loss"]) for _, h in again] == [5, 2, 9]
    assert torch.equal(first[1][0].heads["fc2"].weight, again[0][0].heads["fc2"].weight)
    other = replace(run, puppeteer=replace(run.puppeteer, lr=2e-2))
    P.load_or_train_budgets(other, cnn, [5])
    assert calls[3:] == [(5, None, 2e-2)]  # another learning rate starts afresh
    with pytest.raises(ValueError, match="positive step counts"):
        P.load_or_train_budgets(run, cnn, [0])


def test_budget_scores_read_each_net_both_ways_on_each_split(cnn):
    x, y = tiny_data(24)
    nets = {steps: P.PuppeteerNet(width=8, layers=("fc2",)).eval() for steps in (4, 2)}
    with torch.no_grad():
        nets[4].heads["fc2"].bias.fill_(-5.0)  # tanh → −1 everywhere: a different prediction than net 2's
    rows = P.budget_scores(cnn, nets, {"a": (x, y), "b": (x[:10], y[:10])}, digit=3, seed=1)
    assert [(r["steps"], r["split"], r["mode"]) for r in rows] == [
        (s, split, mode) for s in (2, 4) for split in ("a", "b") for mode in ("evaluation mode", "training mode")]
    for r in rows:
        net = nets[r["steps"]]
        xs, ys = (x, y) if r["split"] == "a" else (x[:10], y[:10])
        offsets = P.offsets_for(net, 3) if r["mode"] == "evaluation mode" else P.training_offsets(net, 3, seed=1)
        expect = P.scores(P.predict_with(cnn, offsets, xs), ys, 3)
        assert {k: r[k] for k in expect} == pytest.approx(expect)
    with pytest.raises(ValueError, match="at least one"):
        P.budget_scores(cnn, {}, {"a": (x, y)})


def test_first_layer_gradients_are_rounding_for_identical_rows_and_touch_nothing(cnn):
    x, y = tiny_data(32)
    net = P.PuppeteerNet(width=16, layers=("fc1", "fc2")).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    rng = torch.get_rng_state()
    one = P.first_layer_gradients(net, cnn, x, y, P.PuppeteerRecipe(width=16, layers=("fc1", "fc2"), digits=(3,)))
    mixed = P.first_layer_gradients(net, cnn, x, y,
                                    P.PuppeteerRecipe(width=16, layers=("fc1", "fc2"), digits=tuple(range(10))))
    assert one["first"] < 1e-3 * one["bn1"]  # identical one-hots: batch norm passes back (almost) nothing
    assert mixed["first"] > 100 * one["first"]  # a mix of digits: a real gradient
    assert not net.training and torch.equal(torch.get_rng_state(), rng)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in net.parameters())


def test_offsets_read_spans_evaluation_and_training_mode():
    torch.manual_seed(3)
    net = P.PuppeteerNet(width=8, layers=("fc1", "fc2")).train()
    with torch.no_grad():
        for _ in range(3):
            net(P.one_hot(torch.randint(10, (16,))))  # non-trivial running statistics
    net.eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    ev, tr = P.offsets_read(net, 3, "running", False), P.offsets_read(net, 3, "batch", True, seed=2)
    for name, v in P.offsets_for(net, 3).items():
        assert torch.allclose(ev[name], v, atol=1e-6)
        assert torch.allclose(tr[name], P.training_offsets(net, 3, seed=2)[name], atol=1e-6)
    mixed = P.offsets_read(net, 3, "running", True)
    assert not torch.allclose(mixed["fc1"], ev["fc1"])  # dropout on changes the average
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert not net.training
    with pytest.raises(ValueError, match="running"):
        P.offsets_read(net, 3, "mean")
