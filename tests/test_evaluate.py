"""Metrics on hand-made confusion matrices, and the baselines of chapter 5 on a tiny model."""

import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from symbiote_lite.evaluate import (
    BaselineConfig,
    batched_confusion,
    confusion_matrix,
    edit_scores,
    finetune_unlearn,
    forget_retain,
    per_class_accuracy,
    random_like,
    retrain_without,
    summarise,
    suppress_row,
)
from symbiote_lite.primary import predict
from symbiote_lite.primary import train as train_primary
from symbiote_lite.symbiote import Symbiote, edited_predict

sys.path.insert(0, str(Path(__file__).parent))
from test_symbiote import TINY, TINY_SYM, fake_masks, pruned_copy, randomise_heads, synthetic_digits  # noqa: E402

# true digit (rows) x predicted digit (columns) for a 3-class problem
CM = torch.tensor([[8, 2, 0], [1, 9, 0], [0, 5, 5]])


def test_confusion_matrix_and_recall():
    pred, target = torch.tensor([0, 1, 1, 2, 0]), torch.tensor([0, 1, 2, 2, 1])
    cm = confusion_matrix(pred, target, n_classes=3)
    assert cm.tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 1]]
    assert per_class_accuracy(cm).tolist() == [1.0, 0.5, 0.5]


def test_forget_retain_by_hand():
    assert forget_retain(CM, [0]) == pytest.approx((8 / 10, (9 + 5) / 20))
    assert forget_retain(CM, 2) == pytest.approx((5 / 10, (8 + 9) / 20))
    assert forget_retain(CM, [0, 2]) == pytest.approx(((8 + 5) / 20, 9 / 10))
    with pytest.raises(ValueError, match="targets"):
        forget_retain(CM, [3])


def test_edit_scores_and_summary():
    edited = torch.stack(
        [torch.tensor([[0, 9, 1], [1, 9, 0], [0, 4, 6]]), torch.tensor([[8, 0, 2], [6, 0, 4], [0, 0, 10]])]
    )
    scores = edit_scores(edited, [0, 1], CM)
    assert scores["forget"] == pytest.approx([0.0, 0.0])
    assert scores["retain"] == pytest.approx([15 / 20, 18 / 20])
    assert scores["base_forget"] == pytest.approx([0.8, 0.9])
    assert scores["base_retain"] == pytest.approx([14 / 20, 13 / 20])
    assert scores["retain_drop"] == pytest.approx([14 / 20 - 15 / 20, 13 / 20 - 18 / 20])
    s = summarise(scores)
    assert s["forget_max"] == 0 and s["drop_max"] == pytest.approx(-0.05) and s["n_digits"] == 2


def test_batched_confusion_matches_single():
    gen = torch.Generator().manual_seed(0)
    target = torch.randint(10, (50,), generator=gen)
    pred = torch.randint(10, (4, 50), generator=gen)
    cms = batched_confusion(pred, target)
    for b in range(4):
        assert torch.equal(cms[b], confusion_matrix(pred[b], target))
    with pytest.raises(ValueError):
        batched_confusion(pred, target[:10])


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    x, y = synthetic_digits(600)
    model, _ = train_primary(TINY, x, y, progress=False)
    return model.requires_grad_(False), synthetic_digits(200, seed=2)


def test_suppress_row_forgets_exactly(tiny):
    model, (x, y) = tiny
    rows = suppress_row(model, [3, 7])
    assert set(rows) == {"fc2.weight", "fc2.bias"}
    pred = edited_predict(model, rows, x)
    base = predict(model, x)
    assert not (pred[0] == 3).any() and not (pred[1] == 7).any()
    untouched = base != 3
    assert torch.equal(pred[0][untouched], base[untouched]), "only answers that were 3 may change"


def test_random_like_keeps_norms_and_masks(tiny):
    model, _ = tiny
    masks = fake_masks(model)
    pruned = pruned_copy(model, masks)
    diffs = randomise_heads(Symbiote(pruned, masks, TINY_SYM))(torch.eye(10))
    noise = random_like(diffs, pruned, masks, seed=1)
    for k, d in diffs.items():
        torch.testing.assert_close(noise[k].flatten(1).norm(dim=1), d.flatten(1).norm(dim=1))
        assert not torch.allclose(noise[k], d)
    for k, m in masks.items():
        assert (noise[k][:, ~m] == 0).all()


def test_finetune_unlearning_forgets_and_respects_masks(tiny):
    model, (xv, yv) = tiny
    masks = fake_masks(model, keep=0.3)
    pruned = pruned_copy(model, masks)
    x, y = synthetic_digits(600, seed=1)
    cfg = BaselineConfig(finetune_lr=1e-2, finetune_max_steps=60, finetune_batch=32)
    edited, seconds, steps = finetune_unlearn(pruned, masks, 4, cfg, x, y, xv, yv)
    pred = predict(edited, xv)
    assert (pred[yv == 4] == 4).float().mean() <= cfg.forget_goal, "stopped before the target was forgotten"
    assert steps < cfg.finetune_max_steps and seconds > 0
    for k, m in masks.items():
        assert (edited.get_parameter(k)[~m] == 0).all()
    for k in ("conv1.weight", "fc2.weight", "fc2.bias"):
        assert torch.equal(edited.get_parameter(k), pruned.get_parameter(k)), f"{k} is not a hidden layer"
    assert torch.equal(pruned.fc1.weight, pruned_copy(model, masks).fc1.weight), "the primary was modified"


def test_retrain_without_digit(tiny):
    _, (xv, yv) = tiny
    x, y = synthetic_digits(600, seed=1)
    model, seconds = retrain_without(TINY, None, 6, x, y, epochs=2)
    pred = predict(model, xv)
    assert (pred == 6).float().mean() < 0.02, "a model that never saw a 6 should hardly ever predict one"
    assert (pred[yv != 6] == yv[yv != 6]).float().mean() > 0.8
    masks = fake_masks(model, keep=0.5)
    sparse, _ = retrain_without(TINY, masks, 6, x, y, epochs=1)
    for k, m in masks.items():
        assert (sparse.get_parameter(k)[~m] == 0).all()


def test_retrain_without_is_the_primary_recipe_on_the_other_digits():
    x, y = synthetic_digits(300, seed=3)
    model, _ = retrain_without(TINY, None, 6, x, y, epochs=1)
    reference, _ = train_primary(replace(TINY, epochs=1), x[y != 6], y[y != 6], progress=False)
    for (name, a), b in zip(model.state_dict().items(), reference.state_dict().values(), strict=True):
        assert torch.equal(a, b), f"{name} differs from primary.train on the other digits"
