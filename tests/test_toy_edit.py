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
    assert torch.equal(out, toy_edit.edited_output(W, b, x).expand(3, -1, -1))


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
