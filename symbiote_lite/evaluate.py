"""Metrics the book reports, computed from predictions and labels."""

import torch


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, n_classes: int = 10) -> torch.Tensor:
    """``cm[i, j]`` = number of samples of true class i predicted as j."""
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must have one shape")
    idx = target.long().cpu() * n_classes + pred.long().cpu()
    return torch.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_accuracy(cm: torch.Tensor) -> torch.Tensor:
    """Recall of each class: diagonal over row sums (NaN for a class with no samples)."""
    cm = cm.double()
    return cm.diagonal() / cm.sum(1)
