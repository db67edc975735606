import pytest
import torch

from symbiote_lite import primary
from symbiote_lite.metrics import confusion_matrix, per_class_accuracy
from symbiote_lite.primary import (
    FIRST_LAYER,
    HIDDEN_LAYERS,
    LAST_LAYER,
    PrimaryCNN,
    PrimaryConfig,
    accuracy,
    train,
)


def test_layer_roles_and_shapes():
    model = PrimaryCNN()
    names = [n for n, _ in model.named_children()]
    assert names[0] == FIRST_LAYER and names[-1] == LAST_LAYER
    assert set(HIDDEN_LAYERS) == set(names[1:-1]) and len(HIDDEN_LAYERS) >= 2
    logits, hidden = model(torch.zeros(3, 1, 28, 28), return_hidden=True)
    assert logits.shape == (3, 10)
    assert hidden["fc1"].shape == (3, model.fc1.out_features)


def test_same_seed_gives_identical_weights(toy_digits):
    x, y = toy_digits()
    cfg = PrimaryConfig(epochs=1, batch_size=32, seed=7)
    a, _ = train(cfg, x, y, progress=False)
    b, _ = train(cfg, x, y, progress=False)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    c, _ = train(PrimaryConfig(epochs=1, batch_size=32, seed=8), x, y, progress=False)
    assert not torch.equal(a.conv1.weight, c.conv1.weight)


def test_training_learns_a_separable_task(toy_digits):
    x, y = toy_digits(512)
    xt, yt = toy_digits(200, seed=1)
    model, history = train(PrimaryConfig(epochs=3, batch_size=32, lr=3e-3), x, y, xt, yt, progress=False)
    assert history["loss"][-1] < history["loss"][0]
    assert len(history["eval_acc"]) == 3 * 4 and history["eval_step"][-1] == 3 * history["steps_per_epoch"]
    assert history["seconds"] > 0 and history["eval_seconds"] == sorted(history["eval_seconds"])
    assert accuracy(model, xt, yt) > 0.9


def test_confusion_matrix_and_per_class_accuracy_by_hand():
    target = torch.tensor([0, 0, 1, 1, 1, 2])
    pred = torch.tensor([0, 1, 1, 1, 0, 2])
    cm = confusion_matrix(pred, target, n_classes=3)
    assert cm.tolist() == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    assert torch.allclose(per_class_accuracy(cm), torch.tensor([0.5, 2 / 3, 1.0], dtype=torch.float64))


def test_activations_reads_every_layer_in_batches(toy_digits):
    torch.manual_seed(0)
    model = primary.PrimaryCNN(4, 8, 16).eval()
    x, _ = toy_digits(50)
    logits, hidden = primary.activations(model, x, batch_size=16)
    whole_logits, whole = model(x, return_hidden=True)
    assert torch.allclose(logits, whole_logits, atol=1e-6) and set(hidden) == {"conv1", "conv2", "fc1"}
    assert all(torch.allclose(hidden[k], whole[k], atol=1e-6) for k in whole)
    assert set(primary.activations(model, x, ("fc1",))[1]) == {"fc1"}
    with pytest.raises(ValueError, match="choose conv1, conv2, fc1"):
        primary.activations(model, x, ("fc2",))
