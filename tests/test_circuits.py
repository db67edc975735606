import itertools

import pytest
import torch

from symbiote_lite import circuits as C
from symbiote_lite.metrics import class_means
from symbiote_lite.primary import PrimaryCNN

# --- a tiny world with a known answer: ten classes = ten noisy templates -------------------------------------


def templates(n_per_class: int, seed: int):
    """Images (N, 1, 28, 28) of class k: the k-th of ten fixed random templates plus fresh noise."""
    protos = torch.randn(10, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat_interleave(n_per_class)
    return protos[y] + 0.5 * torch.randn(len(y), 1, 28, 28, generator=gen), y


@pytest.fixture(scope="module")
def world():
    torch.manual_seed(0)
    primary = PrimaryCNN(4, 8, 20).eval()  # random convolutions: still enough to tell the squares apart
    (x, y), (xt, yt) = templates(60, seed=1), templates(30, seed=2)
    feats = C.conv_features(primary, x)
    planted = {
        kind: C.plant_circuits(primary, feats, y, C.PlantedConfig(kind=kind, epochs=10, batch_size=100, lr=1e-2))
        for kind in C.KINDS
    }
    return primary, planted, xt, yt


# --- the circuits -----------------------------------------------------------------------------------------------


def test_round_robin_pairs_are_all_pairs_in_perfect_rounds():
    pairs = C.round_robin_pairs(10)
    assert sorted(pairs) == list(itertools.combinations(range(10), 2))
    for r in range(9):
        assert sorted(sum(pairs[5 * r : 5 * r + 5], ())) == list(range(10)), f"round {r} is not a perfect matching"
    with pytest.raises(ValueError, match="even"):
        C.round_robin_pairs(7)


def test_membership_mono_and_poly():
    mono = C.membership("mono", 64)
    assert mono.sum(0).eq(1).all() and mono.sum(1).tolist() == [7, 7, 7, 7, 6, 6, 6, 6, 6, 6]
    poly = C.membership("poly", 64)
    assert poly.sum(0).eq(2).all(), "every unit carries exactly two classes"
    shared = poly.float() @ poly.float().T  # (10, 10): units shared by two classes
    assert shared[~torch.eye(10, dtype=torch.bool)].min() >= 1, "every pair of classes shares a unit"
    assert C.membership("poly", 20).sum(1).eq(4).all(), "whole rounds give every class the same number of units"
    with pytest.raises(ValueError, match="kind"):
        C.membership("dense", 64)
    with pytest.raises(ValueError, match="hidden"):
        C.membership("mono", 5)


def test_planted_fc2_is_the_membership_and_the_model_learns(world):
    primary, planted, xt, yt = world
    for kind, model in planted.items():
        assert torch.equal(model.fc2.weight, C.membership(kind, 20).float())
        assert torch.equal(model.conv2.weight, primary.conv2.weight), "the convolutions are the primary's"
        assert (model(xt).argmax(1) == yt).float().mean() >= 0.95, kind


def test_ablating_a_mono_circuit_removes_its_class_and_nothing_else(world):
    """Monosemantic: zeroing S_k sets logit k to 0 and leaves every other logit exactly as it was, so no image
    that was not predicted k changes its prediction; class k itself drops to (almost) 0."""
    _, planted, xt, yt = world
    model, member = planted["mono"], C.membership("mono", 20)
    base = model(xt).detach()
    logits = C.ablated_logits(model, xt, member)  # (10, N, 10)
    base_acc = C.per_class_accuracy_matrix(base.argmax(1)[None], yt)[0]
    acc = C.per_class_accuracy_matrix(logits.argmax(-1), yt)  # (ablated class, true class)
    for k in range(10):
        assert torch.all(logits[k, :, k] == 0)
        others = [c for c in range(10) if c != k]
        assert torch.equal(logits[k][:, others], base[:, others])
        unchanged = base.argmax(1) != k
        assert torch.equal(logits[k].argmax(1)[unchanged], base.argmax(1)[unchanged])
        assert acc[k, k] <= 0.05, f"class {k} survives its ablation: {acc[k, k]:.2f}"
        assert (acc[k, others] >= base_acc[others]).all(), "another class lost accuracy"


def test_ablating_a_poly_circuit_removes_its_class_and_only_dents_the_others(world):
    """Polysemantic: zeroing S_k sets logit k to 0 and lowers each logit l by exactly the shared units' share
    Σ_{j ∈ S_k ∩ S_l} h_j; class k drops to (almost) 0 while the other classes keep most of their accuracy."""
    _, planted, xt, yt = world
    model, member = planted["poly"], C.membership("poly", 20)
    base = model(xt).detach()
    _, h = C.fc1_activations(model, xt)
    logits = C.ablated_logits(model, xt, member)
    acc = C.per_class_accuracy_matrix(logits.argmax(-1), yt)
    for k in range(10):
        shared = (member[k][None] & member).float()  # (10, hidden): units of S_k that class l also uses
        assert torch.allclose(logits[k], base - h @ shared.T, atol=1e-5)
        assert torch.all(logits[k, :, k] == 0)
        others = [c for c in range(10) if c != k]
        assert acc[k, k] <= 0.05
        assert acc[k, others].mean() >= 0.8, f"ablating class {k} wrecks the others: {acc[k, others]}"
    moved = (logits - base[None]).abs().amax(1) > 0  # (10, 10): did logit l move when S_k was ablated?
    assert torch.equal(moved, (member.float() @ member.float().T) > 0), "exactly the classes sharing units move"
    assert moved.sum() > 10, "units are shared, so ablations reach beyond their own class"


def test_ablated_logits_without_ablation_is_the_model():
    torch.manual_seed(0)
    model, x = PrimaryCNN(4, 8, 12).eval(), torch.randn(5, 1, 28, 28)
    assert torch.allclose(C.ablated_logits(model, x, torch.zeros(1, 12, dtype=torch.bool))[0], model(x), atol=1e-6)


# --- ablation importance --------------------------------------------------------------------------------------


def _brute_force(model, x, y, layer, n):
    """Zero one neuron's incoming weights and bias (so its post-ReLU activation is 0) and rerun the whole model."""
    base = model(x).log_softmax(-1)
    rows = []
    for j in range(n):
        m = PrimaryCNN(4, 8, 12)
        m.load_state_dict(model.state_dict())
        with torch.no_grad():
            getattr(m, layer).weight[j] = 0
            getattr(m, layer).bias[j] = 0
        drop = base - m(x).log_softmax(-1)
        rows.append(drop.gather(1, y[:, None])[:, 0])
    return class_means(torch.stack(rows, 1), y)


def test_ablation_importance_equals_brute_force():
    torch.manual_seed(0)
    model = PrimaryCNN(4, 8, 12).eval()
    x, y = torch.randn(40, 1, 28, 28), torch.arange(10).repeat(4)
    with torch.no_grad():
        assert torch.allclose(C.fc1_ablation_importance(model, x, y), _brute_force(model, x, y, "fc1", 12), atol=1e-5)
        assert torch.allclose(C.conv2_ablation_importance(model, x, y, chunk=7),
                              _brute_force(model, x, y, "conv2", 8), atol=1e-5)


def test_per_class_accuracy_matrix():
    y = torch.tensor([0, 0, 1, 1])
    pred = torch.tensor([[0, 1, 1, 1], [1, 1, 0, 0]])
    assert C.per_class_accuracy_matrix(pred, y, n_classes=2).tolist() == [[0.5, 1.0], [0.0, 0.0]]


def test_neuron_edit_norms():
    diffs = {"fc1.weight": torch.zeros(2, 3, 4), "fc1.bias": torch.zeros(2, 3)}
    diffs["fc1.weight"][1, 2, :] = torch.tensor([1.0, 1.0, 1.0, 0.0])
    diffs["fc1.bias"][1, 2] = 1.0
    diffs["fc1.bias"][0, 0] = -2.0
    assert C.neuron_edit_norms(diffs, "fc1").tolist() == [[2.0, 0.0, 0.0], [0.0, 0.0, 2.0]]
    offsets = {"conv2": torch.tensor([[-3.0, 0.5]])}
    assert C.neuron_edit_norms(offsets, "conv2").tolist() == [[3.0, 0.5]]
    with pytest.raises(ValueError, match="no entry"):
        C.neuron_edit_norms(diffs, "conv2")


def test_edit_cosine():
    diffs = {"fc1.weight": torch.tensor([[[1.0, 0.0]], [[2.0, 0.0]], [[0.0, 1.0]]]), "fc1.bias": torch.zeros(3, 1)}
    cos = C.edit_cosine(diffs, "fc1")
    assert cos.tolist() == [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert C.edit_cosine({"fc1": torch.tensor([[1.0, 1.0], [1.0, -1.0]])}, "fc1")[0, 1].item() == 0.0
    with pytest.raises(ValueError, match="no entry"):
        C.edit_cosine(diffs, "conv2")


# --- scores -----------------------------------------------------------------------------------------------------


def test_average_ranks_share_ties():
    assert C.average_ranks(torch.tensor([10.0, 30.0, 20.0, 20.0])).tolist() == [1.0, 4.0, 2.5, 2.5]


def test_average_ranks_equal_the_pairwise_definition():
    x = torch.randint(0, 7, (3, 5, 40), generator=torch.Generator().manual_seed(0)).float()  # many ties, batched
    less = (x[..., None, :] < x[..., :, None]).sum(-1).double()
    equal = (x[..., None, :] == x[..., :, None]).sum(-1).double()
    assert torch.equal(C.average_ranks(x), less + (equal + 1) / 2)
    assert torch.equal(C.average_ranks(x.transpose(1, 2))[0, 0], C.average_ranks(x[0, :, 0]))  # non-contiguous
    with pytest.raises(ValueError, match="NaN"):
        C.average_ranks(torch.tensor([1.0, float("nan")]))


def test_spearman_hand_made():
    a = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    assert C.spearman(a, a**3).item() == pytest.approx(1.0)
    assert C.spearman(a, -a).item() == pytest.approx(-1.0)
    # ranks (1,2,3,4,5) vs (2,1,4,3,5): 1 - 6·Σd²/(n(n²-1)) = 1 - 6·4/120 = 0.8
    assert C.spearman(a, torch.tensor([2.0, 1.0, 4.0, 3.0, 5.0])).item() == pytest.approx(0.8)
    assert C.spearman(torch.stack([a, -a]), a).tolist() == pytest.approx([1.0, -1.0]), "batched along rows"


def test_auroc_and_precision_at_k():
    labels = torch.tensor([True, True, False, False])
    assert C.auroc(torch.tensor([4.0, 3.0, 2.0, 1.0]), labels).item() == 1.0
    assert C.auroc(torch.tensor([1.0, 2.0, 3.0, 4.0]), labels).item() == 0.0
    assert C.auroc(torch.tensor([4.0, 1.0, 2.0, 3.0]), labels).item() == 0.5  # 2 of 4 (pos, neg) pairs ordered
    assert C.auroc(torch.ones(4), labels).item() == 0.5, "ties count one half"
    assert C.precision_at_k(torch.tensor([4.0, 1.0, 2.0, 3.0]), labels).item() == 0.5
    assert C.precision_at_k(torch.tensor([[4.0, 3.0, 2.0, 1.0]]), labels[None]).tolist() == [1.0]
    with pytest.raises(ValueError, match="positive"):
        C.auroc(torch.ones(3), torch.zeros(3, dtype=torch.bool))


def test_chance_levels_are_centred():
    importance = torch.randn(10, 64, generator=torch.Generator().manual_seed(0))
    null = C.random_spearman(importance, n_draws=400, seed=1)
    assert null.shape == (400, 10)
    mean = null.mean(1)  # chance level of a mean over ten rows: sd ≈ 1/sqrt(63·10) = 0.04
    assert abs(mean.mean().item()) < 0.01 and 0.02 < mean.std().item() < 0.06
    labels = C.membership("mono", 64)
    aucs = C.random_auroc(labels, n_draws=400, seed=1)
    assert aucs.shape == (400, 10) and abs(aucs.mean().item() - 0.5) < 0.01
