"""The BIMT MLP of chapter 3: geometry, connection cost, swaps and training."""

import math

import pytest
import torch

from symbiote_lite import bimt_mlp as bm


def small_config(**kw):
    return bm.MLPConfig(**({"widths": (16, 4, 4, 3), "steps": 40, "batch_size": 8, "swap_every": 10,
                            "swap_top_k": 4, "n_checkpoints": 3} | kw))


def test_grid_positions_by_hand():
    pos = bm.grid_positions(4)  # a 2x2 grid: cell centres 1/4 and 3/4, row-major
    assert torch.allclose(pos, torch.tensor([[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]]))
    assert bm.grid_positions(784)[28 * 3 + 5].tolist() == pytest.approx([5.5 / 28, 3.5 / 28])  # pixel (3, 5)
    with pytest.raises(ValueError, match="square"):
        bm.grid_positions(10)


def test_ring_positions_by_hand():
    pos = bm.ring_positions(4)
    r = 0.25 / math.sqrt(2)
    assert torch.allclose(pos[0], torch.tensor([0.5 + r, 0.5 + r]), atol=1e-6)
    assert torch.allclose(pos[2], torch.tensor([0.5 - r, 0.5 - r]), atol=1e-6)
    assert torch.allclose((pos - 0.5).norm(dim=1), torch.full((4,), 0.25))


def test_l1_lengths_and_prices_by_hand():
    positions = [torch.tensor([[0.0, 0.0], [1.0, 0.0]]), torch.tensor([[0.0, 1.0]])]
    (d,) = bm.l1_lengths(positions)
    assert d.tolist() == [[1.0, 2.0]]
    (p,) = bm.wire_prices([d], A=2.0, l0=0.5)
    assert p.tolist() == [[(2 * 1 + 0.5) / 2, (2 * 2 + 0.5) / 2]]  # mean over the layer's 2 weights
    (p,) = bm.wire_prices([d], A=2.0, l0=0.5, distance_in_last=False)
    assert p.tolist() == [[0.25, 0.25]]


def test_connection_cost_of_a_hand_made_network():
    """mean(|W| (2 d + 0.5)) + 0.5 mean|b| per layer, computed by hand for a 4-1-1 net... on a 2x2 input grid."""
    model = bm.GridMLP((4, 1, 1))
    with torch.no_grad():
        model.layers[0].weight.copy_(torch.tensor([[1.0, -2.0, 0.0, 0.0]]))
        model.layers[0].bias.fill_(-4.0)
        model.layers[1].weight.fill_(3.0)
        model.layers[1].bias.fill_(0.0)
    lengths = bm.l1_lengths(bm.layer_positions((4, 1, 1)))
    # the hidden neuron sits at (1/2, 1/2); inputs at (1/4, 1/4) and (3/4, 1/4): L1 distance 1/2 each.
    # the output sits on the ring at angle pi: (1/4, 1/2), L1 distance 1/4 from the hidden neuron.
    first = (1 * (2 * 0.5 + 0.5) + 2 * (2 * 0.5 + 0.5)) / 4 + 0.5 * 4
    second = 3 * (2 * 0.25 + 0.5) + 0.5 * 0
    cost = bm.connection_cost(model, bm.wire_prices(lengths, 2.0, 0.5), 0.5)
    assert cost.item() == pytest.approx(first + second)


def test_forward_undoes_the_normalisation_and_reads_classes_through_out_labels():
    model = bm.GridMLP((4, 2, 3))
    x = torch.randn(5, 1, 2, 2)
    logits = model(x)
    assert logits.shape == (5, 3)
    with torch.no_grad():
        model.out_labels.copy_(torch.tensor([2, 0, 1]))  # slot 0 computes class 2, ...
    relabelled = model(x)
    assert torch.equal(relabelled[:, 2], logits[:, 0]) and torch.equal(relabelled[:, 0], logits[:, 1])


@pytest.mark.parametrize("layer", [1, 2, 3])
def test_permuting_any_layer_keeps_the_function(layer):
    torch.manual_seed(0)
    model = bm.GridMLP((16, 4, 4, 3))
    x = torch.randn(7, 1, 4, 4)
    before = model(x)
    perm = torch.randperm(model.widths[layer])
    bm.permute_layer(model, layer, perm)
    assert torch.allclose(model(x), before, atol=1e-6)
    if layer < 3:  # a hidden layer really moved
        assert not torch.equal(perm, torch.arange(len(perm)))
    with pytest.raises(ValueError, match="inputs"):
        bm.permute_layer(model, 0, torch.arange(16))
    with pytest.raises(ValueError, match="permutation"):
        bm.permute_layer(model, 1, torch.tensor([0, 0, 1, 2]))


def test_swap_round_lowers_the_cost_keeps_the_function_and_moves_adam_state():
    torch.manual_seed(1)
    model = bm.GridMLP((16, 4, 4, 3))
    prices = bm.wire_prices(bm.l1_lengths(bm.layer_positions(model.widths)), 2.0, 0.5)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(9, 1, 4, 4)
    model(x).square().sum().backward()
    opt.step()
    moment = opt.state[model.layers[0].weight]["exp_avg"].clone()
    rows_before = {tuple(r.tolist()): tuple(m.tolist()) for r, m in zip(model.layers[0].weight, moment, strict=True)}
    before, cost = model(x), bm.connection_cost(model, prices, 0.5).item()
    n = bm.swap_round(model, prices, top_k=4, optimizer=opt)
    assert n > 0
    assert bm.connection_cost(model, prices, 0.5).item() < cost
    assert torch.allclose(model(x), before, atol=1e-6)
    moment = opt.state[model.layers[0].weight]["exp_avg"]
    for r, m in zip(model.layers[0].weight, moment, strict=True):  # each row kept its own Adam moment
        assert rows_before[tuple(r.tolist())] == tuple(m.tolist())


def test_train_is_seeded_and_records_its_history(toy_digits):
    x, y = toy_digits(64)
    x = x[:, :, :4, :4].contiguous()
    config = small_config(widths=(16, 4, 4, 10))
    model, history = bm.train(config, x, y, x, y, progress=False)
    again, _ = bm.train(config, x, y, progress=False)
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert history["step"] == [0, 20, 40] and history["lam"] == [0.01, 1.0, 1.0]  # x10 at steps 10 and 20
    assert sorted(history["stages"]) == [0, 10, 20, 40]
    assert history["swaps"][-1] >= 1 and len(history["eval_acc"]) == 3
    assert [w.shape for w in history["stages"][40]["weights"]] == [(4, 16), (4, 4), (10, 4)]


def test_load_or_train_caches(fake_mnist, monkeypatch):
    root, _ = fake_mnist
    monkeypatch.setenv("SYMBIOTE_LITE_DATA", str(root))
    config = small_config(widths=(784, 4, 4, 10), steps=4, swap_every=2, n_checkpoints=2)
    model, history = bm.load_or_train(config, "cpu", progress=False)
    assert list(root.glob("artifacts/bimt_mlp-*.pt"))
    again, _ = bm.load_or_train(config, "cpu", progress=False)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values(),
                                                   strict=True))


@pytest.mark.parametrize("bad", [{"steps": 0}, {"widths": (10, 4, 3)}, {"widths": (16, 3)}, {"stages": (1.5,)}])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        small_config(**bad)
