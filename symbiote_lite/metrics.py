"""The book's constants, defined once: the number of digits and chapter 5's targets for an edit.

An edit "inhibits digit k" when the edited primary's accuracy on the test images of k (its **forget** accuracy)
is at most ``FORGET_TARGET`` and its accuracy on the other digits (its **retain** accuracy) falls by at most
``DROP_TARGET`` against the unedited primary (the **retain drop**). Both are fractions; the book prints them as
percent and points.

The scores: class means (one orientation, classes x units), confusion matrices, forget and retain accuracy of an
edit, and their summaries.
"""

import torch
import torch.nn.functional as F

N_DIGITS = 10  # MNIST's classes; an intervention is a 0/1 vector over them
FORGET_TARGET = 0.005  # forget accuracy ≤ 0.5 %
DROP_TARGET = 0.003  # retain drop ≤ 0.3 points


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, n_classes: int = N_DIGITS) -> torch.Tensor:
    """``cm[i, j]`` = number of samples of true class i predicted as j."""
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must have one shape")
    idx = target.long().cpu() * n_classes + pred.long().cpu()
    return torch.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def class_means(values: torch.Tensor, y: torch.Tensor, n_classes: int = N_DIGITS) -> torch.Tensor:
    """Class statistics have one orientation, (classes, units): values (N, D) -> (n_classes, D), the mean over the
    images of each class."""
    onehot = F.one_hot(y, n_classes).to(values.dtype)
    counts = onehot.sum(0)
    if (counts == 0).any():
        raise ValueError(f"classes {torch.nonzero(counts == 0).flatten().tolist()} have no images")
    return (onehot.T @ values) / counts[:, None]


def per_class_accuracy(cm: torch.Tensor) -> torch.Tensor:
    """Recall of each class: diagonal over row sums (NaN for a class with no samples)."""
    cm = cm.double()
    return cm.diagonal() / cm.sum(1)


def batched_confusion(pred: torch.Tensor, target: torch.Tensor, n_classes: int = N_DIGITS) -> torch.Tensor:
    """Confusion matrices of B prediction rows against one label vector: pred (B, N), target (N,) -> (B, C, C)."""
    if pred.ndim != 2 or pred.shape[1] != target.shape[0]:
        raise ValueError(f"pred {tuple(pred.shape)} must be (B, N) with N = len(target) = {target.shape[0]}")
    b = torch.arange(pred.shape[0], device=pred.device)[:, None]
    idx = (b * n_classes + target.long()[None, :]) * n_classes + pred.long()  # (B, N) flat index of (b, true, pred)
    counts = torch.bincount(idx.flatten().cpu(), minlength=pred.shape[0] * n_classes * n_classes)
    return counts.reshape(pred.shape[0], n_classes, n_classes)


def forget_retain(cm: torch.Tensor, targets) -> tuple[float, float]:
    """From one confusion matrix and the inhibited digits:

    * forget accuracy = fraction of images of an inhibited digit still classified as that digit;
    * retain accuracy = accuracy on the images of every other digit.
    """
    targets = [int(t) for t in ([targets] if isinstance(targets, int) else targets)]
    if not targets or any(not 0 <= t < cm.shape[0] for t in targets):
        raise ValueError(f"targets={targets}: give one or more digits in 0..{cm.shape[0] - 1}")
    cm = cm.double()
    inhibited = torch.zeros(cm.shape[0], dtype=torch.bool)
    inhibited[targets] = True
    diag = cm.diagonal()
    forget = diag[inhibited].sum() / cm[inhibited].sum()
    retain = diag[~inhibited].sum() / cm[~inhibited].sum()
    return forget.item(), retain.item()


def edit_scores(cms: torch.Tensor, digits, base_cm: torch.Tensor) -> dict[str, list]:
    """Per single-digit edit: forget and retain accuracy, beside the unedited primary's on the same images.

    cms (T, C, C): confusion matrix after inhibiting ``digits[t]``; base_cm: the unedited primary's.
    ``retain_drop`` = unedited retain − edited retain (a fraction; ×100 for points).
    """
    out = {"digit": [], "forget": [], "retain": [], "base_forget": [], "base_retain": [], "retain_drop": []}
    for cm, d in zip(cms, digits, strict=True):
        f, r = forget_retain(cm, [d])
        bf, br = forget_retain(base_cm, [d])
        for key, val in zip(out, (int(d), f, r, bf, br, br - r), strict=True):
            out[key].append(val)
    return out


def edit_summary(scores: dict[str, list]) -> dict[str, float]:
    """Worst and mean forget accuracy and retain drop over the edited digits."""
    f, drop = torch.tensor(scores["forget"]), torch.tensor(scores["retain_drop"])
    return {
        "n_digits": len(f),
        "forget_mean": f.mean().item(),
        "forget_max": f.max().item(),
        "drop_mean": drop.mean().item(),
        "drop_max": drop.max().item(),
    }


def scores_under(pred: torch.Tensor, y: torch.Tensor, z: torch.Tensor, base: torch.Tensor | None = None):
    """Forget and retain accuracy (``forget_retain``) of each intervention: pred (B, N), z (B, 10).

    With ``base`` (N,), the unedited predictions, also ``retain_drop`` = unedited retain − edited retain (a
    fraction), as in ``edit_scores``.
    Returns {name: (B,) float64 tensor}.
    """
    cms = batched_confusion(pred, y)
    targets = [torch.nonzero(zi).flatten().tolist() for zi in z.cpu()]
    forget, retain = torch.tensor([forget_retain(cm, t) for cm, t in zip(cms, targets, strict=True)]).double().T
    out = {"forget": forget, "retain": retain}
    if base is not None:
        base_cm = batched_confusion(base[None], y)[0]
        out["retain_drop"] = torch.tensor([forget_retain(base_cm, t)[1] for t in targets]).double() - retain
    return out
