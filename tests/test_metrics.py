"""The scores the book reports: confusion matrices, forget/retain accuracy, edit summaries and class means."""

import pytest
import torch

from symbiote_lite.metrics import (
    batched_confusion,
    class_means,
    confusion_matrix,
    edit_scores,
    edit_summary,
    forget_retain,
    per_class_accuracy,
)

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
    s = edit_summary(scores)
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


def test_class_means_are_classes_by_units():
    table = torch.rand(10, 4, generator=torch.Generator().manual_seed(0))  # class -> activation of 4 units
    y = torch.arange(50) % 10
    assert torch.allclose(class_means(table[y], y), table)
    v = torch.tensor([[1.0], [3.0], [10.0]])
    assert class_means(v, torch.tensor([0, 0, 1]), n_classes=2).flatten().tolist() == [2.0, 10.0]
    with pytest.raises(ValueError, match="no images"):
        class_means(v, torch.tensor([0, 0, 0]), n_classes=2)
