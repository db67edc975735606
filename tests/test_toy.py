"""Pins of symbiote_lite.toy: the trainer equals the plain formulation, the metrics and the phase-diagram
losses match values computed by hand, configs are validated, and training is deterministic."""

import math

import pytest
import torch

from symbiote_lite import toy
from symbiote_lite.toy import ToyConfig

SMALL = dict(n_features=6, n_hidden=2, sparsity=(0.0, 0.5, 0.9), importance_decay=(0.9,), steps=30, batch_size=64)


def regular_polygon(k: int) -> torch.Tensor:
    """W (2, k): k unit vectors at equal angles."""
    angle = 2 * math.pi * torch.arange(k, dtype=torch.float64) / k
    return torch.stack([angle.cos(), angle.sin()])


# --- metrics -------------------------------------------------------------------------------------------


def test_dimensionality_of_antipodal_pair_is_one_half():
    W = torch.tensor([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)  # pair on axis 0, feature 3 alone
    D = toy.feature_dimensionality(W)
    assert torch.allclose(D, torch.tensor([0.5, 0.5, 1.0], dtype=torch.float64))


def test_dimensionality_of_pentagon_is_two_fifths():
    D = toy.feature_dimensionality(regular_polygon(5))
    assert torch.allclose(D, torch.full((5,), 0.4, dtype=torch.float64))


def test_dimensionality_of_triangle_and_scale_invariance():
    # Σ_j cos²(2πj/3) = 1 + 2·(1/4) = 3/2 -> D = 1 / (3/2) = 2/3, whatever the common norm
    D = toy.feature_dimensionality(3.0 * regular_polygon(3))
    assert torch.allclose(D, torch.full((3,), 2 / 3, dtype=torch.float64))


def test_unembedded_feature_has_dimensionality_zero():
    W = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    assert toy.feature_dimensionality(W).tolist() == [1.0, 0.0]


def test_dims_per_feature_of_identity_embedding_is_one():
    W = torch.eye(4)[:, :4]  # 4 features, 4 hidden dims, one each
    assert toy.dims_per_feature(W).item() == pytest.approx(1.0)
    W = torch.cat([torch.eye(3), torch.zeros(3, 2)], dim=1)  # 3 of 5 features embedded, 2 dropped
    assert toy.dims_per_feature(W).item() == pytest.approx(1.0)
    assert toy.dims_per_feature(regular_polygon(4)).item() == pytest.approx(0.5)  # two antipodal pairs


def test_norms_and_interference_by_hand():
    W = torch.tensor([[1.0, 0.0, 0.6], [0.0, 2.0, 0.8]])
    assert torch.allclose(toy.feature_norms(W), torch.tensor([1.0, 2.0, 1.0]))
    # feature 0: (ê0·W1)² + (ê0·W2)² = 0 + 0.36 ; feature 1: (ê1·W0)² + (ê1·W2)² = 0 + 0.64
    # feature 2: (Ŵ2·W0)² + (Ŵ2·W1)² = 0.36 + 1.6² = 2.92
    assert torch.allclose(toy.interference(W), torch.tensor([0.36, 0.64, 2.92]))
    assert toy.represented(W).tolist() == [True, True, True]
    assert toy.represented(0.4 * W).tolist() == [False, True, False]


def test_longest_run_and_line_cluster():
    assert toy.longest_run_near([1.0, 0.52, 0.49, 0.6, 0.5, 0.51, 0.47, 0.3], 0.5, 0.05) == 3
    assert toy.longest_run_near([], 0.5, 0.05) == 0
    values = [0.5] * 10 + [0.515] * 5 + [0.485] * 5 + [0.2]
    c = toy.line_cluster(values, 0.5)
    assert (c["near"], c["below"], c["above"], c["cluster"]) == (10, 5, 5, True)
    assert not toy.line_cluster(values + [0.48], 0.5)["cluster"]  # 6 below: 10 < 2·6
    assert not toy.line_cluster([0.5] * 9, 0.5)["cluster"]  # fewer than 10


# --- phase diagram: closed forms vs hand values and vs quadrature ----------------------------------------


def test_single_feature_loss_by_hand():
    # dropped feature, best constant output E[x] = p/2: Var = p/3 − p²/4
    assert toy.single_feature_loss(1.0).item() == pytest.approx(1 / 12)
    assert toy.single_feature_loss(0.5).item() == pytest.approx(1 / 6 - 1 / 16)


def test_antipodal_loss_by_hand():
    # p = 1 (both always present), β = 1/2: K = 1/24 + 1/24 − 1/96 = 7/96
    assert toy.antipodal_loss(0.5, 1.0).item() == pytest.approx(7 / 96)
    # β = 0: only "both present" costs, E over u>v of v² and u<v of u² = 1/6
    assert toy.antipodal_loss(0.0, 0.5).item() == pytest.approx(0.25 / 6)
    # p = 0.5, β = 0.1: 0.5·0.01 + 0.25·0.001/3 + 0.25·(0.001/3 + 0.729/3 − 0.6561/6)
    expected = 0.005 + 0.25 * 0.001 / 3 + 0.25 * (0.001 / 3 + 0.729 / 3 - 0.6561 / 6)
    assert toy.antipodal_loss(0.1, 0.5).item() == pytest.approx(expected)


def test_candidate_losses_by_hand():
    L = toy.candidate_losses(1.0, 2.0)
    assert L[0].item() == pytest.approx(2 / 12)  # W=[1,0]: feature 2 (importance 2) dropped
    assert L[1].item() == pytest.approx(1 / 12)  # W=[0,1]: feature 1 dropped
    beta, a = toy.antipodal_optimal(1.0)
    assert 0.40 < beta.item() < 0.48  # root of K'(β) = β² − (1−β)² + 2(1−β)³/3
    assert L[2].item() == pytest.approx(3 * a.item())
    assert a.item() == pytest.approx(0.0705, abs=5e-4)
    # dense and important feature 2 -> it gets the dimension; sparse -> superposition
    assert toy.analytic_phase(1.0, 2.0).item() == toy.DEDICATED
    assert toy.analytic_phase(1.0, 0.5).item() == toy.NOT_REPRESENTED
    assert toy.analytic_phase(0.05, 0.5).item() == toy.SUPERPOSITION


@pytest.mark.parametrize("p", [1.0, 0.3, 0.02])
def test_closed_forms_match_quadrature(p):
    r = 1.7
    beta = toy.antipodal_optimal(p)[0].item()
    W = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]], [[1.0, -1.0]]])
    b = torch.tensor([[0.0, p / 2], [p / 2, 0.0], [beta, beta]])
    imp = torch.tensor([[1.0, r]] * 3)
    numeric = toy.expected_loss_n2(W, b, torch.full((3,), p), imp, grid=400)
    closed = toy.candidate_losses(p, r)
    assert torch.allclose(numeric, closed, rtol=1e-4, atol=1e-9)


def test_expected_loss_matches_monte_carlo():
    W = torch.tensor([[[0.9, -0.7]]])
    b = torch.tensor([[0.05, -0.1]])
    imp, p = torch.tensor([[1.0, 0.6]]), 0.4
    exact = toy.expected_loss_n2(W, b, torch.tensor([p]), imp).item()
    x = toy.sample_batch(torch.tensor([p]), 400_000, 2, toy.UniformSource(1, "cpu"))
    mc = toy.reference_loss(W, b, x, imp).item()
    assert mc == pytest.approx(exact, rel=0.01)


def test_hidden_vectors_and_memorisation_ratio_by_hand():
    W = torch.tensor([[1.0, 0.0, 0.5], [0.0, 2.0, 0.0]])  # feature norms 1, 2, 0.5
    X = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])  # hidden vectors (1, 0) and (1, 0)
    assert torch.equal(toy.hidden_vectors(W, X), torch.tensor([[1.0, 0.0], [1.0, 0.0]]))
    assert toy.memorisation_ratio(W, X) == pytest.approx(1.0 / 2.0)
    assert toy.memorisation_ratio(W, 4 * X) == pytest.approx(2.0)


def test_classify_phase():
    W = torch.tensor([[[1.0, 0.1]], [[0.05, -1.0]], [[1.0, -0.9]], [[0.8, 0.9]]])
    assert toy.classify_phase(W).tolist() == [toy.NOT_REPRESENTED, toy.DEDICATED, toy.SUPERPOSITION, toy.OTHER]


# --- sampler and trainer ---------------------------------------------------------------------------------


def test_sample_batch_statistics():
    density = torch.tensor([1.0, 0.6, 0.1, 0.003])
    cells = 2000 * 50
    x = toy.sample_batch(density, 2000, 50, toy.UniformSource(0, "cpu"))
    assert x.shape == (4, 2000, 50) and x.min() >= 0 and x.max() < 1
    kept = (x > 0).float().mean((1, 2))
    assert ((kept - density).abs() <= 4 * (density * (1 - density) / cells).sqrt()).all()  # 4 binomial s.d.
    mean_kept = x.sum((1, 2)) / (x > 0).sum((1, 2))
    assert torch.allclose(mean_kept, torch.full((4,), 0.5), atol=0.02)
    # every feature is hit at the same rate, and the features of one sample are independent (the count of
    # non-zeros per sample has the binomial spread)
    assert ((x[2] > 0).float().mean(0) - 0.1).abs().max() < 0.03
    per_sample = (x[1] > 0).float().sum(1)
    assert per_sample.std().item() == pytest.approx((50 * 0.6 * 0.4) ** 0.5, rel=0.1)


def test_sample_batch_shares_one_uniform_per_cell_across_instances():
    density = torch.tensor([0.9, 0.3, 0.05])
    source = toy.UniformSource(0, "cpu")
    x = toy.sample_batch(density, 300, 7, source)
    assert x.transpose(1, 2).is_contiguous()  # feature-major storage
    u = x * density[:, None, None]  # the shared uniform, where kept
    assert torch.allclose(u[0][x[1] > 0], u[1][x[1] > 0]) and torch.allclose(u[1][x[2] > 0], u[2][x[2] > 0])
    assert ((x[2] > 0) <= (x[1] > 0)).all() and ((x[1] > 0) <= (x[0] > 0)).all()  # nested supports
    again = toy.sample_batch(density, 300, 7, source)
    assert not torch.equal(x, again)  # a fresh draw every batch
    assert torch.equal(x, toy.sample_batch(density, 300, 7, toy.UniformSource(0, "cpu")))  # seeded


def test_sample_batch_into_a_workspace_and_bad_buffers():
    density = torch.tensor([0.5, 0.2])
    work = toy.Workspace(2, 3, 7, 40)
    x = toy.sample_batch(density, 40, 7, toy.UniformSource(4, "cpu"), out=work.x)
    assert x.data_ptr() == work.x.data_ptr() and x.shape == (2, 40, 7)
    assert torch.equal(x, toy.sample_batch(density, 40, 7, toy.UniformSource(4, "cpu")))
    wrong = (torch.empty(2, 40, 7), torch.empty(2, 7, 40, dtype=torch.float64), torch.empty(2, 40, 7).transpose(1, 2))
    for bad in wrong:  # batch-major, float64, not contiguous
        with pytest.raises(ValueError, match="Workspace.x"):
            toy.sample_batch(density, 40, 7, toy.UniformSource(4, "cpu"), out=bad)


def test_fast_gradient_equals_dense_formulation():
    torch.manual_seed(0)
    config = ToyConfig(**{**SMALL, "sparsity": (0.0, 0.3, 0.8, 0.97)})
    W, b = toy.init_params(config, torch.Generator().manual_seed(3))
    b = b + 0.1 * torch.randn_like(b)  # both signs of the bias, so the ReLU mask matters
    x = toy.sample_batch(toy.feature_density(config), 64, 6, toy.UniformSource(0, "cpu"))
    imp = toy.feature_importance(config)
    Wr, br = W.clone().double().requires_grad_(), b.clone().double().requires_grad_()
    ref = toy.reference_loss(Wr, br, x.double(), imp.double())
    ref.sum().backward()
    loss, dW, db = toy.loss_and_grads(W.double(), b.double(), x.double(), imp.double(), with_loss=True)
    assert torch.allclose(loss, ref.detach(), atol=1e-12)
    assert torch.allclose(dW, Wr.grad, atol=1e-12)
    assert torch.allclose(db, br.grad, atol=1e-12)


def test_training_steps_equal_autograd_adamw_on_the_dense_formulation():
    # train() (hand-derived gradients, fused AdamW) against plain autograd on reference_loss with the
    # unfused AdamW, on the same batches: catches a wrong gradient as well as one the optimizer misreads
    # (the fused kernel ignores a non-contiguous gradient's strides).
    config = ToyConfig(**{**SMALL, "sparsity": (0.0, 0.5, 0.97), "steps": 4, "lr": 0.05})
    run = toy.train(config, device="cpu", progress=False, log_every=1)
    W, b = toy.init_params(config, toy.seed_everything(config.seed))
    W.requires_grad_(True)
    b.requires_grad_(True)
    opt = torch.optim.AdamW([W, b], lr=config.lr, weight_decay=config.weight_decay, foreach=False)
    source = toy.UniformSource(config.seed, "cpu")
    density, imp = toy.feature_density(config), toy.feature_importance(config)
    for step in range(config.steps):
        opt.param_groups[0]["lr"] = config.lr * toy._cosine(step, config.steps)
        opt.zero_grad()
        loss = toy.reference_loss(W, b, toy.sample_batch(density, config.batch_size, 6, source), imp)
        assert torch.allclose(loss.detach(), torch.tensor(run["loss"][step]), atol=1e-5)
        loss.sum().backward()
        opt.step()
    assert torch.allclose(run["W"], W.detach(), atol=1e-5) and torch.allclose(run["b"], b.detach(), atol=1e-5)


def test_importance_and_density():
    config = ToyConfig(**{**SMALL, "importance_decay": (0.9, 1.0, 2.0)})
    imp = toy.feature_importance(config)
    assert imp.shape == (3, 6)
    assert torch.allclose(imp[0], 0.9 ** torch.arange(6.0)) and imp[1].eq(1).all() and imp[2, 1] == 2
    assert torch.allclose(toy.feature_density(config), torch.tensor([1.0, 0.5, 0.1]))


def test_training_is_deterministic_and_learns():
    config = ToyConfig(**SMALL)
    a, b = toy.train(config, device="cpu", progress=False), toy.train(config, device="cpu", progress=False)
    assert torch.equal(a["W"], b["W"]) and torch.equal(a["b"], b["b"])
    assert a["W"].shape == (3, 2, 6) and a["b"].shape == (3, 6)
    first, last = torch.tensor(a["loss"][0]), torch.tensor(a["loss"][-1])
    assert (last < first).all()
    other = toy.train(ToyConfig(**{**SMALL, "seed": 1}), device="cpu", progress=False)
    assert not torch.equal(a["W"], other["W"])


def test_trained_payload_round_trips_through_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMBIOTE_LITE_DATA", str(tmp_path))
    config = ToyConfig(**{**SMALL, "steps": 5})
    first = toy.load_or_train("toy-test", config, device="cpu", progress=False)
    again = toy.load_or_train("toy-test", config, device="cpu", progress=False)
    assert torch.equal(first["W"], again["W"]) and again["logged_steps"] == first["logged_steps"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"n_hidden": 6}, "n_hidden"),
        ({"n_hidden": 0}, "n_hidden"),
        ({"sparsity": (0.5, 1.0)}, "sparsity"),
        ({"sparsity": ()}, "sparsity"),
        ({"sparsity": [0.5]}, "sparsity"),
        ({"importance_decay": (0.9, 0.8)}, "importance_decay"),
        ({"importance_decay": (0.0,)}, "importance_decay"),
        ({"steps": 0}, "steps"),
        ({"lr": -1.0}, "lr"),
        ({"batch_size": 2.5}, "batch_size"),
    ],
)
def test_config_validation(change, message):
    with pytest.raises(ValueError, match=message):
        ToyConfig(**{**SMALL, **change})


# --- experiment helpers -------------------------------------------------------------------------------


def test_experiment_configs_are_valid_and_ordered():
    for make in (toy.pentagon_config, toy.norms_config, toy.dimensionality_config):
        config = make(steps=7)
        assert config.steps == 7 and config.n_hidden < config.n_features
    inv = 1 / toy.feature_density(toy.dimensionality_config())
    assert inv[0] == pytest.approx(1.0) and inv[-1] == pytest.approx(15.0, rel=1e-4) and (inv.diff() > 0).all()
    config = toy.phase_config(grid=3, seeds=2)
    assert config.n_instances == 18 and (config.n_features, config.n_hidden) == (2, 1)
    # density slowest, importance next, seed fastest
    assert config.sparsity[:6] == (0.0,) * 6 and config.sparsity[6] == pytest.approx(0.9)
    assert config.importance_decay[:6] == pytest.approx((0.1, 0.1, 1.0, 1.0, 10.0, 10.0))


def test_best_of_seeds():
    losses = torch.tensor([3.0, 1.0, 2.0, 0.5, 0.7, 0.9])  # two cells of three seeds
    assert toy.best_of_seeds(losses, 3).tolist() == [1, 3]


def test_finite_data_training_memorises_a_tiny_set_and_is_deterministic():
    config = toy.FiniteDataConfig(n_features=60, sparsity=0.9, dataset_sizes=(3, 400), steps=600, test_size=500)
    a = toy.train_finite(config, device="cpu")
    b = toy.train_finite(config, device="cpu")
    assert all(torch.equal(u, v) for u, v in zip(a["W"], b["W"], strict=True)) and a["test_loss"] == b["test_loss"]
    assert [X.shape for X in a["X"]] == [(3, 60), (400, 60)] and a["W"][0].shape == (2, 60)
    trivial = 60 * toy.single_feature_loss(0.1).item()
    assert a["train_loss"][0] < 0.05 * trivial  # three samples are memorised ...
    assert a["test_loss"][0] > 0.9 * trivial  # ... which does not carry over to new samples
    assert toy.memorisation_ratio(a["W"][0], a["X"][0]) > 1 > toy.memorisation_ratio(a["W"][1], a["X"][1])


@pytest.mark.parametrize(
    "change, message",
    [({"dataset_sizes": ()}, "dataset_sizes"), ({"dataset_sizes": (3, 0)}, "dataset_sizes"),
     ({"sparsity": 1.0}, "sparsity"), ({"n_hidden": 60}, "n_hidden"), ({"warmup": 2.0}, "warmup")],
)
def test_finite_data_config_validation(change, message):
    with pytest.raises(ValueError, match=message):
        toy.FiniteDataConfig(**{"n_features": 60, **change})
