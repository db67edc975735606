import math

import pytest
import torch

from symbiote_lite import toy, toy_edit


def pentagon(scale: float = 1.1, bias: float = -0.25):
    """Five features on a regular pentagon in 2-D (superposition), negative biases."""
    angles = torch.arange(5) * 2 * math.pi / 5
    W = scale * torch.stack([angles.cos(), angles.sin()])
    return W, torch.full((5,), bias)


def orthogonal():
    """Three features with orthogonal columns in 3-D and one unrepresented feature (no superposition)."""
    W = torch.zeros(3, 4)
    W[0, 0], W[1, 1], W[2, 2] = 1.0, 0.9, 1.2
    return W, torch.tensor([0.05, -0.02, 0.0, 0.3])


def inputs(n: int, batch: int = 4000, density: float = 0.5, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(batch, n, generator=g)
    return u * (torch.rand(batch, n, generator=g) < density)


def test_edited_output_without_diff_is_the_toy_model():
    W, b = pentagon()
    x = inputs(5)
    expected = torch.relu(x @ W.T @ W + b)
    assert torch.allclose(toy_edit.edited_output(W, b, x), expected, atol=1e-6)
    zero = torch.zeros(3, *W.shape)
    out = toy_edit.edited_output(W, b, x, zero, torch.zeros(3, 5))
    assert out.shape == (3, len(x), 5)
    # a batched product may sum in another order than the single one (CPU-dependent), so not bit for bit
    assert torch.allclose(out, toy_edit.edited_output(W, b, x).expand(3, -1, -1), rtol=0, atol=1e-6)


def test_edited_output_matches_chapter_one_loss():
    W, b = pentagon()
    x = inputs(5)
    imp = 0.9 ** torch.arange(5.0)
    ours = (imp * (x - toy_edit.edited_output(W, b, x)) ** 2).sum(-1).mean()
    ref = toy.reference_loss(W[None], b[None], x[None], imp[None])[0]
    assert torch.allclose(ours, ref, atol=1e-6)


@pytest.mark.parametrize("model", [pentagon, orthogonal])
def test_exact_reference_zeroes_the_feature_on_every_input(model):
    W, b = model()
    x = inputs(W.shape[1])
    for i in range(W.shape[1]):
        dW, db = toy_edit.exact_reference(W, b, i)
        out = toy_edit.edited_output(W, b, x, dW, db)
        assert out[:, i].abs().max() == 0


def test_exact_reference_leaves_a_non_superposed_models_other_features_unchanged():
    W, b = orthogonal()
    x = inputs(4)
    before = toy_edit.edited_output(W, b, x)
    for i in range(3):
        dW, db = toy_edit.exact_reference(W, b, i)
        after = toy_edit.edited_output(W, b, x, dW, db)
        others = [j for j in range(4) if j != i]
        assert torch.allclose(after[:, others], before[:, others], atol=1e-6)
        scores = toy_edit.switch_off_scores(W, b, x, i, torch.ones(4), dW, db)
        assert scores["residual"] == 0
        assert abs(scores["collateral"]) < 1e-6


def test_exact_reference_in_superposition_removes_only_the_features_interference():
    W, b = pentagon()
    x = inputs(5)
    i = 2
    dW, db = toy_edit.exact_reference(W, b, i)
    assert torch.equal(db, torch.zeros(5))  # negative biases: the reference edits W alone
    pre_before = x @ W.T @ W + b
    pre_after = x @ (W + dW).T @ (W + dW) + b
    gram = W.T @ W
    others = [j for j in range(5) if j != i]
    expected = pre_before[:, others] - x[:, [i]] * gram[i, others]
    assert torch.allclose(pre_after[:, others], expected, atol=1e-5)


def test_share_and_cosine():
    W, b = pentagon()
    dW, _ = toy_edit.exact_reference(W, b, 1)
    assert torch.allclose(toy_edit.column_share(dW, 1), torch.tensor(1.0))
    assert torch.allclose(toy_edit.reference_cosine(dW, W, 1), torch.tensor(1.0))
    assert toy_edit.column_share(dW, 0) == 0
    assert toy_edit.reference_cosine(dW, W, 0) == 0
    assert toy_edit.reference_cosine(-dW, W, 1) < -0.999  # adding the column back is the opposite edit
    zero = torch.zeros_like(W)
    assert toy_edit.column_share(zero, 1) == 0 and toy_edit.reference_cosine(zero, W, 1) == 0
    spread = torch.ones(2, 5)  # every column alike: a fifth of the norm on each
    assert torch.allclose(toy_edit.column_share(spread, 3), torch.tensor(0.2))


def test_bad_input_is_refused_with_the_allowed_range():
    W, b = pentagon()
    with pytest.raises(ValueError, match="features 0..4"):
        toy_edit.exact_reference(W, b, 5)
    with pytest.raises(ValueError, match="expected W"):
        toy_edit.edited_output(W, b, inputs(4))
    with pytest.raises(ValueError, match="dW has shape"):
        toy_edit.edited_output(W, b, inputs(5), torch.zeros(5, 2))
    Wo, bo = orthogonal()
    with pytest.raises(ValueError, match="nothing to switch off"):
        toy_edit.switch_off_scores(Wo, torch.tensor([0.0, 0.0, 0.0, -0.1]), inputs(4), 3, torch.ones(4))


# --- the learnt editors, the baselines and the chapter's rule -------------------------------------------------


def batch_of(*models):
    W = torch.stack([m[0] for m in models])
    b = torch.stack([m[1] for m in models])
    return W, b


def test_symbiote_fits_in_half_of_every_toy_model_the_chapter_uses():
    for n, m in ((5, 2), (20, 5)):
        assert toy_edit.ToySymbiote.parameter_count(m) <= (m * n + n) / 2
        sym = toy_edit.ToySymbiote(1, m)
        assert sum(p.numel() for p in sym.parameters()) == toy_edit.ToySymbiote.parameter_count(m)


def test_symbiote_family_contains_the_exact_reference():
    W, b = batch_of(pentagon())
    sym = toy_edit.ToySymbiote(1, 2)
    with torch.no_grad():  # score W_jᵀW_i: 1.21 for j = i, at most 0.37 for the others; threshold in between
        sym.Q.copy_(torch.eye(2)[None] / 1.21 * 3)
        sym.tau.fill_(2.0)
    commands = toy_edit.Commands(torch.zeros(5, dtype=torch.long), torch.arange(5))
    dW, db = sym.diffs(W, b, commands)
    for k in range(5):
        ref_W, _ = toy_edit.exact_reference(W[0], b[0], k)
        assert torch.allclose(dW[k], ref_W, atol=1e-6)
        assert torch.allclose(db[k], -b[0] * torch.eye(5)[k])  # g = −e_i scales the bias of neuron i to 0 too


def test_command_terms_agree_with_switch_off_scores():
    W, b = batch_of(pentagon(), pentagon(0.9, -0.1))
    x = torch.stack([inputs(5, seed=1), inputs(5, seed=2)])
    imp = 0.9 ** torch.arange(5.0).repeat(2, 1)
    commands = toy_edit.Commands(torch.tensor([0, 1]), torch.tensor([3, 1]))
    dW = torch.stack([toy_edit.exact_reference(W[0], b[0], 3)[0], 0.5 * toy_edit.exact_reference(W[1], b[1], 1)[0]])
    db = torch.zeros(2, 5)
    before = toy_edit.command_terms(W, b, x, imp, commands)
    after = toy_edit.command_terms(W, b, x, imp, commands, dW, db)
    for k, (m, i) in enumerate(commands.pairs()):
        s = toy_edit.switch_off_scores(W[m], b[m], x[m], i, imp[m], dW[k], db[k])
        assert torch.allclose(after["forget"][k] / before["forget"][k], s["residual"], atol=1e-6)
        assert torch.allclose(after["retain"][k] / before["retain"][k] - 1, s["collateral"], atol=1e-5)


def test_bias_edit_switches_the_feature_off_and_moves_nothing_else():
    W, b = pentagon()
    x = inputs(5)
    before = toy_edit.edited_output(W, b, x)
    for i in range(5):
        db = toy_edit.bias_edit(W, b, i)
        after = toy_edit.edited_output(W, b, x, None, db)
        assert after[:, i].abs().max() == 0
        others = [j for j in range(5) if j != i]
        assert torch.equal(after[:, others], before[:, others])
        corner = toy_edit.edited_output(W, b, torch.ones(1, 5), None, db)  # the largest input
        assert corner[0, i] == 0


def test_column_left_and_on_feature():
    W, b = pentagon()
    ref_W, ref_b = toy_edit.exact_reference(W, b, 2)
    assert toy_edit.column_left(ref_W, W, 2) == 0
    assert torch.allclose(toy_edit.column_left(0.5 * ref_W, W, 2), torch.tensor(0.5))
    assert torch.allclose(toy_edit.column_left(torch.zeros_like(W), W, 2), torch.tensor(1.0))
    dW, db = torch.randn(2, 5), torch.randn(5)
    kW, kb = toy_edit.on_feature(dW, db, 3)
    assert torch.equal(kW[:, 3], dW[:, 3]) and kW[:, [0, 1, 2, 4]].abs().sum() == 0
    assert kb[3] == db[3] and kb[[0, 1, 2, 4]].abs().sum() == 0


def test_learnt_editors_switch_off_a_non_superposed_feature():
    W, b = batch_of(orthogonal())
    imp, density = torch.ones(1, 4), torch.tensor([0.5])
    commands = toy_edit.Commands.represented(W)
    assert commands.pairs() == [(0, 0), (0, 1), (0, 2)]
    config = toy_edit.EditConfig(steps=150, batch_size=256, eval_size=4000)
    x = inputs(4, seed=5)
    for train in (toy_edit.train_symbiote, toy_edit.optimise_directly):
        run = train(W, b, imp, density, commands, config)
        for k, (_, i) in enumerate(commands.pairs()):
            scores = toy_edit.switch_off_scores(W[0], b[0], x, i, imp[0], run["dW"][k], run["db"][k])
            assert scores["residual"] < 0.05, (train.__name__, i, scores)


def test_bootstrap_interval_stays_in_range():
    assert toy_edit.bootstrap_interval([0.0] * 5) == (0.0, 0.0)
    assert toy_edit.bootstrap_interval([1.0] * 5) == (1.0, 1.0)
    low, high = toy_edit.bootstrap_interval([0.0, 1.0, 1.0, 0.0, 1.0])
    assert 0.0 <= low < 0.6 < high <= 1.0
    with pytest.raises(ValueError, match="at least one"):
        toy_edit.bootstrap_interval([])


def rule_row(**kw):
    row = {"residual_high": 0.01, "excess_high": 0.01, "share_low": 0.95, "share_high": 0.99,
           "cosine_low": 0.95, "cosine_high": 0.99}
    return row | kw


def test_verdict_rule():
    assert toy_edit.verdict(rule_row()) == "finds the feature"
    assert toy_edit.verdict(rule_row(share_low=0.5, share_high=0.8)) == "misses the feature"
    assert toy_edit.verdict(rule_row(cosine_low=0.5, cosine_high=0.89)) == "misses the feature"
    assert toy_edit.verdict(rule_row(share_low=0.85)) == "undecided"
    assert toy_edit.verdict(rule_row(residual_high=0.2)) == "undecided"  # on the column, but not off
    assert toy_edit.verdict(rule_row(excess_high=0.2)) == "undecided"


def test_claim_verdict_names_the_regimes_that_break():
    import pandas as pd

    rows = [{"editor": "symbiote", "setting": "n = 5, m = 2", "sparsity": s, "verdict": v}
            for s, v in ((0.0, "finds the feature"), (0.9, "misses the feature"))]
    summary = pd.DataFrame(rows)
    assert toy_edit.claim_verdict(summary) == {"verdict": "not supported", "where": "n = 5, m = 2 at S = 0.9"}
    summary.loc[1, "verdict"] = "undecided"
    assert toy_edit.claim_verdict(summary)["verdict"] == "inconclusive"
    summary.loc[1, "verdict"] = "finds the feature"
    assert toy_edit.claim_verdict(summary)["verdict"] == "supported"
    with pytest.raises(ValueError, match="no rows for editor"):
        toy_edit.claim_verdict(summary, "steering")


def test_summarise_reads_rows_per_seed():
    rows = []
    for seed in range(3):
        for feature in range(2):
            rows.append({"setting": "n = 5, m = 2", "seed": seed, "sparsity": 0.9, "dims_per_feature": 0.3,
                         "feature": feature, "editor": "symbiote", "residual": 0.0, "collateral": 0.0,
                         "excess": 0.0, "share": 1.0, "cosine": 1.0, "left": 0.0, "column_residual": 0.0})
    summary = toy_edit.summarise(rows)
    assert len(summary) == 1
    row = summary.iloc[0]
    assert row["seeds"] == 3 and row["share_low"] == 1.0 and row["verdict"] == "finds the feature"
    assert row["regime"] == "more than two per dimension"


def test_bad_configs_and_commands_are_refused():
    with pytest.raises(ValueError, match="steps"):
        toy_edit.EditConfig(steps=0)
    with pytest.raises(ValueError, match="distinct seeds"):
        toy_edit.ToyEditExperiment(seeds=(1, 1))
    with pytest.raises(ValueError, match="eight sparsities"):
        toy_edit.ToyEditExperiment(sparsity_index=(8,))
    with pytest.raises(ValueError, match="nothing to switch off"):
        toy_edit.Commands.represented(torch.zeros(1, 2, 5))
    with pytest.raises(ValueError, match="unknown setting"):
        toy_edit.load_models("n = 3", 0, toy_edit.ToyEditExperiment())
