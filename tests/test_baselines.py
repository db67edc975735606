"""The baselines of chapter 5 on a tiny model."""

import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from symbiote_lite.baselines import (
    BaselineConfig,
    finetune_unlearn,
    random_like,
    retrain_without,
    suppress_row,
)
from symbiote_lite.primary import predict
from symbiote_lite.primary import train as train_primary
from symbiote_lite.symbiote import Symbiote, edited_predict

sys.path.insert(0, str(Path(__file__).parent))
from test_symbiote import TINY, TINY_SYM, fake_masks, pruned_copy, randomise_heads, synthetic_digits  # noqa: E402


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
