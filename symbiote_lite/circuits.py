"""Circuits with a known answer, and independent evidence about the circuits of a trained primary.

Chapter 6 asks whether the symbiote's diffs point at the primary's circuits. Two kinds of evidence:

**Planted circuits.** A primary of the usual architecture whose last hidden layer is wired by construction:
``fc2`` is fixed by hand to a 0/1 membership matrix ``M`` (classes × fc1 units), so the logit of class k is

    logit_k(x) = Σ_j M[k, j] · h_j(x),        h = ReLU(fc1(conv features of x)),

and only ``fc1`` is trained (the convolutions are the trained dense primary's). Unit j can raise no logit but
those of its classes, so the set ``S_k = {j : M[k, j] = 1}`` *is* the circuit of class k:

* **monosemantic** variant: unit j belongs to class ``j mod 10`` (disjoint sets);
* **polysemantic** variant: unit j belongs to *two* classes, the pairs of a round-robin schedule, so every pair
  of classes shares units and every unit carries two classes (features in superposition across units).

Ablating ``S_k`` (setting those units to 0) makes ``logit_k = 0`` for every input. In the monosemantic variant
nothing else changes, so a prediction that was not k never changes. In the polysemantic variant the logit of
each class l also loses the shared units ``S_k ∩ S_l``: class k is removed, the others are damaged a little.

**Ablation attribution on a real primary.** The importance of a hidden neuron for digit d is the drop of the
correct-class log-probability on digit-d images when that neuron is zeroed. Rank correlations (Spearman) and
AUROC compare such scores with the per-neuron size of an edit.
"""

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from symbiote_lite.artifacts import load_or_build
from symbiote_lite.data import load_mnist
from symbiote_lite.metrics import N_DIGITS, class_means
from symbiote_lite.primary import PrimaryCNN, activations
from symbiote_lite.runtime import seed_everything

KINDS = ("mono", "poly")


# --- planted circuits ---------------------------------------------------------------------------------------


def round_robin_pairs(n: int = N_DIGITS) -> list[tuple[int, int]]:
    """All n(n-1)/2 pairs of classes in n-1 rounds of n/2 disjoint pairs (circle method; n even).

    Taking the pairs in this order, every complete round gives each class exactly one more pair.
    """
    if n < 2 or n % 2:
        raise ValueError(f"n={n} must be an even number >= 2 for a round-robin of pairs")
    ring = list(range(1, n))
    pairs = []
    for _ in range(n - 1):
        order = [0, *ring]
        pairs += [tuple(sorted((order[i], order[n - 1 - i]))) for i in range(n // 2)]
        ring = ring[-1:] + ring[:-1]
    return pairs


def membership(kind: str, hidden: int, n_classes: int = N_DIGITS) -> torch.Tensor:
    """The planted circuits as a bool matrix ``M`` (n_classes, hidden): ``M[k, j]`` = unit j is in class k's circuit.

    ``"mono"``: unit j -> class ``j mod n``.  ``"poly"``: unit j -> both classes of pair ``j mod n(n-1)/2`` of
    ``round_robin_pairs``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}: choose one of {KINDS}")
    if hidden < n_classes:
        raise ValueError(f"hidden={hidden} units cannot give each of {n_classes} classes a unit; use >= {n_classes}")
    units = torch.arange(hidden)
    m = torch.zeros(n_classes, hidden, dtype=torch.bool)
    if kind == "mono":
        m[units % n_classes, units] = True
    else:
        pairs = torch.tensor(round_robin_pairs(n_classes))  # (P, 2)
        chosen = pairs[units % len(pairs)]  # (hidden, 2)
        m[chosen[:, 0], units] = True
        m[chosen[:, 1], units] = True
    return m


@dataclass(frozen=True)
class PlantedConfig:
    """How fc1 of a planted primary is fitted (conv layers: the trained primary's; fc2: the membership matrix)."""

    kind: str = "mono"
    n_images: int = 20000  # training images fc1 is fitted on (a seeded subset)
    epochs: int = 3
    batch_size: int = 256
    lr: float = 3e-3
    seed: int = 0


@torch.no_grad()
def conv_features(model: PrimaryCNN, x: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """The input of fc1 for every image: pooled conv2 activations, flattened, (N, c2·16)."""
    return activations(model, x, ("conv2",), batch_size)[1]["conv2"].flatten(1)


def plant_circuits(primary: PrimaryCNN, features: torch.Tensor, y: torch.Tensor, config: PlantedConfig) -> PrimaryCNN:
    """A copy of ``primary`` with ``fc2 = membership`` (bias 0) and a freshly fitted ``fc1``.

    ``features`` are ``conv_features(primary, x_train)``; fc1 is trained by cross-entropy with everything else
    frozen, so the convolutions are those of ``primary`` and the circuits are those of ``membership``. fc1 starts
    from a seeded random init plus, for each unit, the directions from the mean feature vector to its classes'
    means, with each bias set so that the unit fires on half of the images (no circuit starts dead).
    """
    gen = seed_everything(config.seed)
    model = copy.deepcopy(primary).eval().requires_grad_(False)
    hidden = model.fc1.out_features
    m = membership(config.kind, hidden).to(features.device)
    model.fc2.weight.copy_(m.float())
    model.fc2.bias.zero_()
    fc1 = torch.nn.Linear(model.fc1.in_features, hidden).to(features.device)  # fresh init (seeded)
    with torch.no_grad():
        # start each unit on its classes: + the unit-norm direction from the mean image to each class mean ...
        mu = class_means(features, y)  # (10, F)
        toward = F.normalize(mu - features.mean(0), dim=1)  # (10, F)
        fc1.weight.add_(m.float().T @ toward * fc1.weight.norm(dim=1, keepdim=True))  # (hidden, F)
        # ... with a bias that makes it fire on half of the images, so no circuit starts dead
        fc1.bias.copy_(-(features @ fc1.weight.T).median(0).values)
    opt = torch.optim.Adam(fc1.parameters(), lr=config.lr)
    steps = len(y) // config.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, config.lr, total_steps=config.epochs * steps)
    for _ in range(config.epochs):
        perm = torch.randperm(len(y), generator=gen).to(features.device)
        for i in range(steps):
            idx = perm[i * config.batch_size : (i + 1) * config.batch_size]
            logits = F.relu(fc1(features[idx])) @ model.fc2.weight.T  # (B, hidden) @ (hidden, 10)
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    model.fc1.load_state_dict(fc1.state_dict())
    return model.eval()


@dataclass(frozen=True)
class PlantedRun:
    """Keys a planted primary in the artifact cache: its config and the primary whose convolutions it keeps."""

    planted: PlantedConfig
    primary_key: str


def load_or_plant(primary: PrimaryCNN, config: PlantedConfig, primary_key: str) -> PrimaryCNN:
    """The planted primary for ``config`` built on ``primary`` (from the cache, or built and cached)."""
    device = primary.fc2.weight.device

    def build():
        x, y = load_mnist("train", device)
        keep = torch.randperm(len(y), generator=torch.Generator().manual_seed(config.seed))[: config.n_images]
        keep = keep.to(device)
        model = plant_circuits(primary, conv_features(primary, x[keep]), y[keep], config)
        return {"state": {k: v.cpu() for k, v in model.state_dict().items()}}

    payload = load_or_build(f"planted-{config.kind}", PlantedRun(config, primary_key), build)
    model = copy.deepcopy(primary)
    model.load_state_dict(payload["state"])
    return model.eval()


# --- ablation ------------------------------------------------------------------------------------------------


@torch.no_grad()
def fc1_activations(model: PrimaryCNN, x: torch.Tensor, batch_size: int = 2000):
    """(logits (N, 10), fc1 activations h (N, hidden)) of the unedited model."""
    logits, hidden = activations(model, x, ("fc1",), batch_size)
    return logits, hidden["fc1"]


@torch.no_grad()
def ablated_logits(model: PrimaryCNN, x: torch.Tensor, ablate: torch.Tensor) -> torch.Tensor:
    """Logits with sets of fc1 units zeroed: ablate (A, hidden) bool -> (A, N, 10).

    fc2 is the last (linear) layer, so zeroing units only removes their terms:
    logits_a = fc2(h ⊙ (1 - ablate_a)) — exact, no re-run of the network.
    """
    _, h = fc1_activations(model, x)
    keep = (~ablate.bool()).to(h.dtype)  # (A, hidden)
    return torch.einsum("nh,ah,ch->anc", h, keep, model.fc2.weight) + model.fc2.bias


def per_class_accuracy_matrix(pred: torch.Tensor, y: torch.Tensor, n_classes: int = N_DIGITS) -> torch.Tensor:
    """pred (A, N) predictions under A edits -> (A, n_classes): accuracy on each true class under each edit."""
    onehot = F.one_hot(y, n_classes).to(torch.float64)  # (N, C)
    correct = (pred == y).to(torch.float64)  # (A, N)
    return (correct @ onehot) / onehot.sum(0)


@torch.no_grad()
def fc1_ablation_importance(model: PrimaryCNN, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Importance of every fc1 unit for every digit: (10, hidden).

    I[d, j] = mean over images of digit d of  log p_d(x) − log p_d(x with unit j zeroed).
    Exact and batched: zeroing unit j shifts the logits by −W2[:, j]·h_j.
    """
    logits, h = fc1_activations(model, x)
    w2 = model.fc2.weight  # (10, hidden)
    shifted = logits[:, None, :] - h[:, :, None] * w2.T[None]  # (N, hidden, 10)
    drop = logits.log_softmax(-1)[:, None, :] - shifted.log_softmax(-1)  # (N, hidden, 10)
    correct = drop.gather(2, y[:, None, None].expand(-1, h.shape[1], 1))[..., 0]  # (N, hidden)
    return class_means(correct, y)


@torch.no_grad()
def conv2_ablation_importance(model: PrimaryCNN, x: torch.Tensor, y: torch.Tensor, chunk: int = 250) -> torch.Tensor:
    """Importance of every conv2 channel for every digit: (10, c2), as for fc1 (zero the channel's pooled map)."""
    model.eval()
    parts = []
    for i in range(0, len(x), chunk):
        logits, hidden = model(x[i : i + chunk], return_hidden=True)
        a2 = hidden["conv2"]  # (n, C, 4, 4)
        n_ch = a2.shape[1]
        keep = 1.0 - torch.eye(n_ch, device=a2.device)  # (C, C): row c zeroes channel c
        masked = a2[None] * keep[:, None, :, None, None]  # (C, n, C, 4, 4)
        out = model.fc2(F.relu(model.fc1(masked.flatten(2))))  # (C, n, 10)
        drop = logits.log_softmax(-1)[None] - out.log_softmax(-1)  # (C, n, 10)
        yi = y[i : i + chunk]
        parts.append(drop.gather(2, yi[None, :, None].expand(n_ch, -1, 1))[..., 0].T)  # (n, C)
    return class_means(torch.cat(parts), y)


# --- edits, per neuron ----------------------------------------------------------------------------------------


def neuron_edit_norms(edit: dict[str, torch.Tensor], layer: str) -> torch.Tensor:
    """Per-neuron size of an edit of one layer: (B, out).

    Weight diffs (keys ``<layer>.weight`` (B, out, ...) and ``<layer>.bias`` (B, out)): the norm of the neuron's
    incoming-weight diff and bias diff together, ‖(ΔW_j, Δb_j)‖. Activation offsets (key ``<layer>`` (B, out, ...)):
    the norm of the neuron's offset over its positions.
    """
    if layer in edit:
        off = edit[layer]
        return off.abs() if off.ndim == 2 else off.flatten(2).norm(dim=2)
    w, b = f"{layer}.weight", f"{layer}.bias"
    if w not in edit:
        raise ValueError(f"the edit has no entry for layer {layer!r}: keys are {sorted(edit)}")
    sq = edit[w].flatten(2).pow(2).sum(2)
    if b in edit:
        sq = sq + edit[b].pow(2)
    return sq.sqrt()


def edit_cosine(edit: dict[str, torch.Tensor], layer: str) -> torch.Tensor:
    """Cosine similarity between the edits of one layer for B interventions: (B, B).

    Each edit is flattened to one vector: weight and bias diffs (``<layer>.weight``, ``<layer>.bias``) or the
    offsets (``<layer>``). 1 = the same edit up to scale, whatever the digit.
    """
    if layer in edit:
        flat = edit[layer].flatten(1)
    elif f"{layer}.weight" in edit:
        parts = [edit[f"{layer}.weight"].flatten(1)] + ([edit[f"{layer}.bias"]] if f"{layer}.bias" in edit else [])
        flat = torch.cat(parts, 1)
    else:
        raise ValueError(f"the edit has no entry for layer {layer!r}: keys are {sorted(edit)}")
    unit = F.normalize(flat.double(), dim=1)
    return unit @ unit.T


# --- scores ----------------------------------------------------------------------------------------------------


def average_ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n along the last axis, ties sharing their average rank (as scipy's ``rankdata``): an element with
    ``less`` smaller ones and ``equal`` equal ones (itself included) ranks ``less + (equal + 1) / 2``, both counts
    read off the sorted row by binary search (n log n, not the n² of comparing every pair)."""
    if x.isnan().any():
        raise ValueError("cannot rank NaN scores: drop or fill them first")
    row = x.contiguous()
    ordered = row.sort(-1).values
    less = torch.searchsorted(ordered, row, side="left")  # (..., n): how many are smaller
    equal = torch.searchsorted(ordered, row, side="right") - less  # including itself
    return less.to(torch.float64) + (equal.to(torch.float64) + 1) / 2


def spearman(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman rank correlation along the last axis (broadcasting); NaN where one side is constant."""
    ra, rb = average_ranks(a), average_ranks(b)
    ra, rb = torch.broadcast_tensors(ra, rb)
    ra, rb = ra - ra.mean(-1, keepdim=True), rb - rb.mean(-1, keepdim=True)
    return (ra * rb).sum(-1) / (ra.norm(dim=-1) * rb.norm(dim=-1))


def auroc(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Area under the ROC curve along the last axis: P(score of a positive > score of a negative), ties count ½."""
    labels = labels.bool()
    n_pos, n_neg = labels.sum(-1).double(), (~labels).sum(-1).double()
    if (n_pos == 0).any() or (n_neg == 0).any():
        raise ValueError("every row needs at least one positive and one negative label for an AUROC")
    rank_sum = (average_ranks(scores) * labels).sum(-1)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def precision_at_k(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Fraction of the top-k scores that are positive, with k = number of positives of the row (= recall at k)."""
    labels = labels.bool()
    k = labels.sum(-1)
    order = scores.argsort(-1, descending=True)
    ranked = labels.gather(-1, order)  # labels sorted by score
    within = torch.arange(labels.shape[-1], device=labels.device) < k[..., None]
    return (ranked & within).sum(-1).double() / k.double()


def random_spearman(importance: torch.Tensor, n_draws: int = 1000, seed: int = 0) -> torch.Tensor:
    """Chance level of ``spearman(edit, importance)``: correlations with random rankings, (n_draws, R).

    importance (R, n): each draw ranks every row's n neurons at random (ties in ``importance`` kept as they are).
    Average over the last axis for the chance level of a mean over rows.
    """
    gen = torch.Generator().manual_seed(seed)
    noise = torch.rand(n_draws, *importance.shape, generator=gen).to(importance.device)
    return spearman(noise, importance[None])


def random_auroc(labels: torch.Tensor, n_draws: int = 1000, seed: int = 0) -> torch.Tensor:
    """Chance level of ``auroc(scores, labels)``: AUROCs of random scores, (n_draws, R) for labels (R, n)."""
    gen = torch.Generator().manual_seed(seed)
    noise = torch.rand(n_draws, *labels.shape, generator=gen).to(labels.device)
    return auroc(noise, labels.expand_as(noise))
