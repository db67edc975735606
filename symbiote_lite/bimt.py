"""BIMT training with progressive magnitude pruning: the compressed, polysemantic primary of chapter 3.

Brain-Inspired Modular Training (Liu, Gan & Tegmark 2023) places every neuron on a plane and charges each
weight for the length of the wire it stands for. Here the neurons are arranged in five rows:

    row 0: the input channel    row 1: conv1 channels    row 2: conv2 channels    row 3: fc1 units    row 4: logits

A row's neurons sit at x = (i + 1/2)/n, rows at y = r/4, so the network fills the unit square. The strength
a[o, i] of the connection from neuron i of one row to neuron o of the next is the summed |w| over everything
that joins them (the 5x5 kernel for a conv layer, the 16 spatial positions of a conv2 channel for fc1), and

    connection cost = sum_layers sum_{o,i} a[o, i] * (A * dist(o, i) + l0).

Training adds lambda * cost to the cross-entropy, with lambda rising in steps; every few steps neurons of the
hidden rows swap places when that shortens the wiring (a swap relabels neurons and changes nothing else). On top
of BIMT, the hidden layers (conv2, fc1; never conv1 or fc2) are magnitude-pruned with a cubic schedule
(Zhu & Gupta 2017) from 0 to the target sparsity (one |w| threshold across both layers by default), after
which the masks stay fixed. Pruning uses
``torch.nn.utils.prune``: weight = weight_orig * weight_mask, so pruned weights and their gradients are exactly 0.

The module also measures what the chapter reports: polysemanticity of hidden neurons (classes each responds to,
class selectivity) and Newman modularity of the weight graph against null models (degree-preserving rewiring,
shuffling within each layer).
"""

import copy
import math
import random
import time
from dataclasses import dataclass, field, replace

import networkx as nx
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

from symbiote_lite.artifacts import load_or_build
from symbiote_lite.data import load_mnist
from symbiote_lite.metrics import class_means
from symbiote_lite.params import check_choice, check_range
from symbiote_lite.primary import (
    HIDDEN_LAYERS,
    PrimaryCNN,
    PrimaryConfig,
    accuracy,
    activations,
    build_model,
    load_or_train,
)
from symbiote_lite.runtime import default_device, progress_bar, seed_everything

WEIGHT_LAYERS = ("conv1", "conv2", "fc1", "fc2")  # layer k joins neuron row k to row k + 1
NEURON_ROWS = ("input", "conv1", "conv2", "fc1", "fc2")  # a row is named after the layer that outputs it
SWAP_ROWS = ("conv1", "conv2", "fc1")  # hidden neuron rows; input pixels and logits keep their places
NEXT_LAYER = {"conv1": "conv2", "conv2": "fc1", "fc1": "fc2"}
PRUNED_LAYERS = HIDDEN_LAYERS  # ("conv2", "fc1")


@dataclass(frozen=True)
class BIMTConfig:
    """Defaults = the pruned primary the later chapters use."""

    primary: PrimaryConfig = field(default_factory=PrimaryConfig)  # architecture (and the dense start point)
    from_dense: bool = True  # start from the trained dense primary (else from a fresh initialisation)
    epochs: float = 2.0  # passes over the 60 000 training images
    batch_size: int = 256
    lr: float = 3e-3  # AdamW, cosine-annealed to 0
    weight_decay: float = 1e-4
    target_sparsity: float = 0.9  # fraction of zero weights in the hidden layers at the end
    prune_scope: str = "global"  # one |w| threshold across conv2 and fc1 ("layer": the same sparsity in each)
    prune_until: float = 0.5  # fraction of training after which the masks are fixed
    prune_every: int = 25  # steps between pruning updates
    lam: float = 1e-5  # initial weight lambda of the connection cost
    lam_growth: float = 10.0  # lambda is multiplied by this at each milestone
    lam_milestones: tuple = (0.25, 0.5)  # fractions of training
    A: float = 1.0  # weight of wire length in the cost
    l0: float = 0.1  # cost per unit |w| independent of length (an L1 term)
    swap_every: int = 50  # steps between swap rounds
    swap_top_k: int = 6  # neurons per row (the most connected) that try a swap in each round
    n_checkpoints: int = 8  # evaluations along training for the accuracy-vs-sparsity curve
    seed: int = 0

    def __post_init__(self):
        check_range("target_sparsity", self.target_sparsity, 0.0, 0.999)
        check_range("prune_until", self.prune_until, 0.0, 1.0)
        check_range("epochs", self.epochs, 1e-3, 1e3)
        check_range("lam", self.lam, 0.0, 1e3)
        check_range("n_checkpoints", self.n_checkpoints, 2, 10_000, integer=True)
        check_range("prune_every", self.prune_every, 1, 10**9, integer=True)
        check_range("swap_every", self.swap_every, 1, 10**9, integer=True)
        check_choice("prune_scope", self.prune_scope, ("global", "layer"))


# --- geometry and connection cost -------------------------------------------------------------------------------


def row_sizes(model: PrimaryCNN) -> list[int]:
    """Number of neurons in each row: input channels, conv1, conv2, fc1, logits."""
    return [model.conv1.in_channels, model.conv1.out_channels, model.conv2.out_channels, model.fc1.out_features,
            model.fc2.out_features]


def neuron_positions(sizes: list[int]) -> list[torch.Tensor]:
    """(x, y) of every neuron: row r of n neurons at x = (i + 1/2)/n, y = r/(rows - 1). One (n, 2) tensor per row."""
    rows = len(sizes)
    return [
        torch.stack([(torch.arange(n) + 0.5) / n, torch.full((n,), r / (rows - 1))], 1) for r, n in enumerate(sizes)
    ]


def wire_lengths(positions: list[torch.Tensor]) -> list[torch.Tensor]:
    """Euclidean distance between consecutive rows: dist[k][o, i] = |pos[k+1][o] - pos[k][i]|, shape (n_out, n_in)."""
    return [torch.cdist(after, before) for before, after in zip(positions[:-1], positions[1:], strict=True)]


def connection_strengths(model: PrimaryCNN, signed: bool = False) -> list[torch.Tensor]:
    """Aggregate weights per pair of neurons, one (n_out, n_in) matrix per layer in WEIGHT_LAYERS.

    conv:  a[o, i] = sum_{kh, kw} |W[o, i, kh, kw]|
    fc1:   a[o, c] = sum_p |W[o, c * P + p]|  (P spatial positions per conv2 channel, flattened channel-major)
    fc2:   a[o, i] = |W[o, i]|
    With ``signed`` the raw weights are summed instead (the net sign of a connection, for drawing).
    """
    f = (lambda w: w) if signed else torch.abs
    fc1 = model.fc1.weight
    return [
        f(model.conv1.weight).sum((2, 3)),
        f(model.conv2.weight).sum((2, 3)),
        f(fc1).reshape(fc1.shape[0], model.conv2.out_channels, -1).sum(2),
        f(model.fc2.weight),
    ]


def connection_cost(strengths: list[torch.Tensor], lengths: list[torch.Tensor], A: float, l0: float) -> torch.Tensor:
    """sum_k sum_{o,i} a_k[o, i] * (A * dist_k[o, i] + l0), a scalar (differentiable in the strengths)."""
    return sum((a * (A * d + l0)).sum() for a, d in zip(strengths, lengths, strict=True))


def model_lengths(model: PrimaryCNN, device=None) -> list[torch.Tensor]:
    """Wire lengths of the model's layers, on ``device``."""
    return [d.to(device) for d in wire_lengths(neuron_positions(row_sizes(model)))]


# --- swaps -------------------------------------------------------------------------------------------------------


def swap_deltas(a_in, a_out, d_in, d_out, A: float, l0: float) -> torch.Tensor:
    """Change of the connection cost if neurons i and j of one row exchanged places: D (n, n), D[i, i] = 0.

    a_in (n, n_prev): strengths into the row, d_in (n, n_prev): length from slot s of the row to neuron k before;
    a_out (n_next, n): strengths out of the row, d_out (n_next, n): length from neuron m after to slot s.
    C[n, s] = cost of neuron n's wires if it sat at slot s
            = sum_k a_in[n, k] (A d_in[s, k] + l0) + sum_m a_out[m, n] (A d_out[m, s] + l0)
    D[i, j] = C[i, j] + C[j, i] - C[i, i] - C[j, j]   (no wire joins two neurons of the same row, so this is exact)
    """
    C = torch.einsum("nk,sk->ns", a_in, A * d_in + l0) + torch.einsum("mn,ms->ns", a_out, A * d_out + l0)
    diag = C.diagonal()
    return C + C.T - diag[:, None] - diag[None, :]


def _weight_tensors(module: nn.Module, name: str) -> list[torch.Tensor]:
    """The stored tensors behind ``module.<name>``: [orig, mask] when it is pruned, else [the parameter]."""
    if hasattr(module, f"{name}_orig"):
        return [getattr(module, f"{name}_orig"), getattr(module, f"{name}_mask")]
    return [getattr(module, name)]


@torch.no_grad()
def _reorder(module: nn.Module, name: str, dim: int, index: torch.Tensor, optimizer=None) -> None:
    """Reorder ``module.<name>`` along ``dim`` by ``index`` in place, with its mask and optimizer state."""
    tensors = _weight_tensors(module, name)
    for t in tensors:
        state = optimizer.state.get(t, {}) if optimizer is not None else {}
        moments = [v for v in state.values() if torch.is_tensor(v) and v.shape == t.shape]
        for s in [t, *moments]:
            s.copy_(s.index_select(dim, index))
    if len(tensors) == 2:  # refresh the masked weight the pruning hook would compute at the next forward
        setattr(module, name, tensors[0] * tensors[1])


def permute_neurons(model: PrimaryCNN, row: str, perm: torch.Tensor, optimizer=None) -> None:
    """Relabel the neurons of hidden ``row``: new neuron k is old neuron perm[k]. The function is unchanged.

    The row's layer has its output channels/units (weights dim 0, bias) reordered; the next layer its inputs
    (weights dim 1). conv2 -> fc1 is special: fc1 reads conv2's output flattened channel-major, so channel c owns
    the P = in_features / channels consecutive columns c*P ... c*P + P-1, which move as one block.
    Pruning masks and AdamW moments move with their weights.
    """
    if row not in SWAP_ROWS:
        raise ValueError(f"row={row!r}: only hidden rows {SWAP_ROWS} can be permuted")
    layer, after = getattr(model, row), getattr(model, NEXT_LAYER[row])
    n = perm.numel()
    if sorted(perm.tolist()) != list(range(n)) or n != row_sizes(model)[NEURON_ROWS.index(row)]:
        raise ValueError(f"perm must be a permutation of range({row_sizes(model)[NEURON_ROWS.index(row)]})")
    perm = perm.to(layer.bias.device)
    block = after.weight.shape[1] // n
    columns = (perm[:, None] * block + torch.arange(block, device=perm.device)).flatten()
    _reorder(layer, "weight", 0, perm, optimizer)
    _reorder(layer, "bias", 0, perm, optimizer)
    _reorder(after, "weight", 1, columns, optimizer)


@torch.no_grad()
def swap_round(model: PrimaryCNN, lengths, A: float, l0: float, top_k: int, optimizer=None) -> int:
    """One BIMT swap round; returns the number of swaps made.

    In each hidden row, the ``top_k`` most connected neurons (sum of in- and out-strengths), one after the other,
    move to the slot that lowers the connection cost most (exchanging places with its occupant), if any does.
    """
    done = 0
    for r, row in enumerate(SWAP_ROWS, start=1):
        for rank in range(min(top_k, row_sizes(model)[r])):
            a = connection_strengths(model)
            a_in, a_out = a[r - 1], a[r]
            importance = a_in.sum(1) + a_out.sum(0)
            i = int(importance.argsort(descending=True, stable=True)[rank])
            delta = swap_deltas(a_in, a_out, lengths[r - 1], lengths[r], A, l0)[i]
            j = int(delta.argmin())
            if delta[j] < -1e-9 * float(delta.abs().max()):
                perm = torch.arange(len(importance))
                perm[[i, j]] = perm[[j, i]]
                permute_neurons(model, row, perm, optimizer)
                done += 1
    return done


# --- pruning -----------------------------------------------------------------------------------------------------


def cubic_sparsity(step: int, end_step: int, target: float) -> float:
    """Zhu & Gupta's schedule: s(t) = target * (1 - (1 - t/end)^3) for t <= end, then target."""
    t = min(step / max(end_step, 1), 1.0)
    return target * (1 - (1 - t) ** 3)


def lam_at(step: int, total: int, lam: float, growth: float, milestones) -> float:
    """lambda * growth^(number of milestones, as fractions of ``total``, already reached at ``step``)."""
    return lam * growth ** sum(step >= m * total for m in milestones)


def attach_masks(model: nn.Module, layers=PRUNED_LAYERS) -> None:
    """Reparametrise ``weight`` of ``layers`` as weight_orig * weight_mask (all ones at first)."""
    for name in layers:
        prune.identity(getattr(model, name), "weight")


def prune_to(model: nn.Module, sparsity: float, layers=PRUNED_LAYERS, scope: str = "global") -> None:
    """Zero the smallest-|w| surviving weights until a fraction ``sparsity`` is zero, per layer (``scope="layer"``)
    or over all ``layers`` together (``"global"``: one |w| threshold, so each layer ends where its weights rank).

    Pruned weights never come back: new zeros are chosen among the survivors only.
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity={sparsity} must lie in [0, 1)")
    if scope not in ("layer", "global"):
        raise ValueError(f"scope={scope!r}: choose 'layer' or 'global'")
    modules = [getattr(model, name) for name in layers]
    for name, module in zip(layers, modules, strict=True):
        if not hasattr(module, "weight_mask"):
            raise ValueError(f"layer {name} has no pruning mask: call attach_masks(model) first")
    if scope == "layer":
        for module in modules:
            total = module.weight_mask.numel()
            extra = math.ceil(sparsity * total - 1e-9) - (total - int(module.weight_mask.sum()))
            if extra > 0:
                prune.l1_unstructured(module, "weight", amount=extra)
        return
    # global: torch's global_unstructured flattens with .view(-1), which channels-last conv weights refuse,
    # so the one threshold is found here and applied with prune.custom_from_mask
    with torch.no_grad():
        scores = torch.cat(
            [m.weight_orig.abs().flatten().masked_fill(m.weight_mask.flatten() == 0, -1) for m in modules]
        )
    n_zero = math.ceil(sparsity * len(scores) - 1e-9)  # at least the asked fraction
    if n_zero <= int((scores < 0).sum()):
        return
    keep = torch.ones_like(scores, dtype=torch.bool)
    keep[scores.topk(n_zero, largest=False).indices] = False  # the already pruned (score -1) come first
    for module, mask in zip(modules, keep.split([m.weight_mask.numel() for m in modules]), strict=True):
        prune.custom_from_mask(module, "weight", mask.reshape(module.weight_mask.shape))


def current_masks(model: nn.Module, layers=PRUNED_LAYERS) -> dict[str, torch.Tensor]:
    """{"<layer>.weight": bool mask}, True = surviving weight."""
    return {f"{name}.weight": getattr(model, name).weight_mask.bool().clone() for name in layers}


def detach_masks(model: nn.Module, layers=PRUNED_LAYERS) -> None:
    """Make the pruning permanent: ``weight`` becomes a plain parameter (zeros where pruned), hooks removed."""
    for name in layers:
        prune.remove(getattr(model, name), "weight")


def sparsity_report(masks: dict[str, torch.Tensor]) -> dict[str, float]:
    """Fraction of zero (pruned) entries per mask and over all of them ("hidden")."""
    out = {name.removesuffix(".weight"): 1.0 - m.float().mean().item() for name, m in masks.items()}
    kept = sum(int(m.sum()) for m in masks.values())
    out["hidden"] = 1.0 - kept / sum(m.numel() for m in masks.values())
    return out


def magnitude_pruned(model: nn.Module, sparsity: float, layers=PRUNED_LAYERS, scope: str = "global") -> nn.Module:
    """A copy of ``model`` with the smallest-|w| fraction ``sparsity`` of ``layers`` set to 0 (see ``prune_to``)."""
    pruned = copy.deepcopy(model)
    attach_masks(pruned, layers)
    prune_to(pruned, sparsity, layers, scope)
    detach_masks(pruned, layers)
    return pruned.eval()


# --- training ----------------------------------------------------------------------------------------------------


def log_checkpoint(history: dict, model, x_eval, y_eval, **values) -> None:
    """Append one checkpoint's ``values`` to the training ``history`` lists, and the accuracy on (x_eval, y_eval)
    as ``eval_acc`` when given; leaves the model in training mode."""
    for key, value in values.items():
        history[key].append(value)
    if x_eval is not None:
        history["eval_acc"].append(accuracy(model, x_eval, y_eval))
    model.train()


def train_pruned(config: BIMTConfig, x, y, x_eval=None, y_eval=None, init_state=None, progress: bool = True):
    """BIMT + progressive pruning on in-memory tensors. Returns ``(model, masks, history)``.

    ``model`` is a plain PrimaryCNN in eval mode (pruning made permanent), ``masks`` its hidden-layer masks.
    history (lists are per checkpoint, ``n_checkpoints`` of them evenly spaced from step 0 to the end):
    ``step``, ``sparsity`` (hidden layers), ``lam``, ``cost`` (connection cost), ``loss`` (mean cross-entropy since
    the previous checkpoint), ``swaps`` (cumulative), ``eval_acc`` (on x_eval, when given);
    ``wiring``: {"start"|"middle"|"end": {"strength": ..., "signed": ...}} (see ``connection_strengths``);
    ``seconds``: training wall time without evaluation; ``steps``: number of optimizer steps; ``prune_steps`` and
    ``prune_sparsity``: each pruning update and the hidden-layer sparsity after it; ``lam_by_step``: lambda per step.
    """
    gen = seed_everything(config.seed)
    device = x.device
    model = build_model(config.primary)
    if init_state is not None:
        model.load_state_dict(init_state)
    model = model.to(device, memory_format=torch.channels_last)
    attach_masks(model)
    lengths = model_lengths(model, device)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = max(1, round(config.epochs * (len(y) // config.batch_size)))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    prune_end = round(config.prune_until * steps)
    n_perms = math.ceil(steps * config.batch_size / len(y))
    order = torch.cat([torch.randperm(len(y), generator=gen) for _ in range(n_perms)]).to(device)
    checkpoints = sorted({round(s) for s in torch.linspace(0, steps, config.n_checkpoints).tolist()})
    keys = ("step", "sparsity", "lam", "cost", "loss", "swaps", "eval_acc")
    history = {k: [] for k in keys} | {"wiring": {}, "seconds": 0.0, "steps": steps, "prune_steps": [],
                                       "prune_sparsity": [], "lam_by_step": []}
    running, since, swaps = torch.zeros((), device=device), 0, 0

    def snapshot():
        with torch.no_grad():
            return {kind: [a.cpu().clone() for a in connection_strengths(model, signed=kind == "signed")]
                    for kind in ("strength", "signed")}

    def record(step, lam):
        model.eval()
        with torch.no_grad():
            cost = connection_cost(connection_strengths(model), lengths, config.A, config.l0).item()
        log_checkpoint(history, model, x_eval, y_eval, step=step,
                       sparsity=sparsity_report(current_masks(model))["hidden"], lam=lam, cost=cost,
                       loss=running.item() / since if since else float("nan"), swaps=swaps)

    model.train()
    start = time.perf_counter()
    for step in progress_bar(range(steps + 1), desc="BIMT + pruning steps", enabled=progress):
        lam = lam_at(step, steps, config.lam, config.lam_growth, config.lam_milestones)
        if step <= prune_end and (step % config.prune_every == 0 or step == prune_end):
            prune_to(model, cubic_sparsity(step, prune_end, config.target_sparsity), scope=config.prune_scope)
            history["prune_steps"].append(step)
            history["prune_sparsity"].append(sparsity_report(current_masks(model))["hidden"])
        if step > 0 and step % config.swap_every == 0:
            swaps += swap_round(model, lengths, config.A, config.l0, config.swap_top_k, opt)
        if step in (0, steps // 2, steps):
            history["wiring"][{0: "start", steps // 2: "middle", steps: "end"}[step]] = snapshot()
        if step in checkpoints:
            history["seconds"] += time.perf_counter() - start
            record(step, lam)
            running, since = torch.zeros((), device=device), 0
            start = time.perf_counter()
        if step == steps:
            break
        history["lam_by_step"].append(lam)
        idx = order[step * config.batch_size : (step + 1) * config.batch_size]
        xb = x[idx].contiguous(memory_format=torch.channels_last)
        ce = F.cross_entropy(model(xb), y[idx])
        loss = ce + lam * connection_cost(connection_strengths(model), lengths, config.A, config.l0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        running += ce.detach()
        since += 1
    history["seconds"] += time.perf_counter() - start
    masks = current_masks(model)
    detach_masks(model)
    model = model.to(memory_format=torch.contiguous_format).eval()
    return model, masks, history


def load_or_train_pruned(config: BIMTConfig = BIMTConfig(), device=None, progress: bool = True):
    """The pruned primary for ``config`` from the artifact cache, training it first if absent.

    Returns ``(model, masks, history)``: a plain PrimaryCNN in eval mode whose pruned weights are exactly 0,
    {"conv2.weight": bool, "fc1.weight": bool} masks (True = kept) on ``device``, and the training history
    (see ``train_pruned``; ``eval_acc`` is measured on the MNIST test set, for the chapter's curve only).
    """
    device = device or default_device()

    def build():
        init = None
        if config.from_dense:
            dense, _ = load_or_train(config.primary, device, progress=progress)
            init = dense.state_dict()
        x, y = load_mnist("train", device)
        xt, yt = load_mnist("test", device)
        model, masks, history = train_pruned(config, x, y, xt, yt, init_state=init, progress=progress)
        return {
            "state": {k: v.cpu() for k, v in model.state_dict().items()},
            "masks": {k: v.cpu() for k, v in masks.items()},
            "history": history,
        }

    payload = load_or_build("bimt", config, build)
    model = build_model(config.primary)
    model.load_state_dict(payload["state"])
    masks = {k: v.to(device) for k, v in payload["masks"].items()}
    return model.to(device).eval(), masks, payload["history"]


def ablation_configs(config: BIMTConfig) -> dict[str, BIMTConfig]:
    """The 2x2 design around ``config``, which separates what pruning and the wire cost each do to the network:
    the same fine-tuning with neither, with the wire cost only, with pruning only, and with both (``config``).
    The three controls record only their first and last checkpoint."""
    return {
        "fine-tuned": replace(config, target_sparsity=0.0, lam=0.0, n_checkpoints=2),
        "wire cost only": replace(config, target_sparsity=0.0, n_checkpoints=2),
        "pruning only": replace(config, lam=0.0, n_checkpoints=2),
        "BIMT + pruning": config,
    }


# --- polysemanticity ---------------------------------------------------------------------------------------------


def hidden_activations(model: PrimaryCNN, x: torch.Tensor, batch_size: int = 2000) -> dict[str, torch.Tensor]:
    """Activation of every hidden neuron on every image: conv2 channel = mean of its pooled ReLU map (N, c2),
    fc1 unit = its ReLU output (N, h)."""
    hidden = activations(model, x, ("conv2", "fc1"), batch_size)[1]
    return {"conv2": hidden["conv2"].mean((2, 3)), "fc1": hidden["fc1"]}


def classes_responded(means: torch.Tensor, fraction: float = 0.5) -> torch.Tensor:
    """Per neuron, how many classes drive its mean activation to at least ``fraction`` of its largest class mean;
    ``means`` (classes, neurons) as ``metrics.class_means`` gives them.

    1 = monosemantic at the class level, K = responds to every class; 0 for a dead neuron (all means 0).
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction={fraction} must lie in (0, 1]")
    top = means.max(0, keepdim=True).values
    return ((means >= fraction * top) & (top > 0)).sum(0)


def selectivity_index(means: torch.Tensor) -> torch.Tensor:
    """Class selectivity (Morcos et al. 2018): (mu_max - mu_rest) / (mu_max + mu_rest), mu_rest = mean of the other
    classes' means. 0 = equal response to all classes, 1 = responds to one class only; NaN for a dead neuron."""
    top = means.max(0).values
    rest = (means.sum(0) - top) / (means.shape[0] - 1)
    return torch.where(top > 0, (top - rest) / (top + rest), torch.full_like(top, float("nan")))


def polysemanticity(model: PrimaryCNN, x, y, fraction: float = 0.5) -> dict[str, dict[str, torch.Tensor]]:
    """For each hidden layer: class ``means`` (10, D), ``n_classes`` and ``selectivity`` (D,), ``alive`` (D,) bool."""
    out = {}
    for layer, acts in hidden_activations(model, x).items():
        means = class_means(acts, y).cpu()
        out[layer] = {
            "means": means,
            "n_classes": classes_responded(means, fraction),
            "selectivity": selectivity_index(means),
            "alive": means.max(0).values > 0,
        }
    return out


def permutation_test(a: torch.Tensor, b: torch.Tensor, n_resamples: int = 10_000, seed: int = 0) -> float:
    """Two-sided p-value for mean(a) != mean(b): share of random relabellings of a and b whose |difference of means|
    is at least the observed one (with the +1 correction, so never exactly 0)."""
    a, b = a.double().flatten(), b.double().flatten()
    pooled = torch.cat([a, b])
    gen = torch.Generator().manual_seed(seed)
    perms = torch.argsort(torch.rand(n_resamples, len(pooled), generator=gen), dim=1)  # (R, N)
    shuffled = pooled[perms]
    diffs = shuffled[:, : len(a)].mean(1) - shuffled[:, len(a) :].mean(1)
    observed = (a.mean() - b.mean()).abs()
    return (1 + int((diffs.abs() >= observed - 1e-12).sum())) / (1 + n_resamples)


def compare_polysemanticity(dense: dict, pruned: dict, alpha: float = 0.05, n_resamples: int = 10_000,
                            seed: int = 0) -> dict[str, dict]:
    """Dense vs pruned, per layer of ``polysemanticity`` output and pooled over layers ("all"), live neurons only.

    Returns per entry: ``live`` (dense, pruned), mean ``classes`` and mean ``selectivity`` (dense, pruned) with
    permutation-test p-values ``p_classes``/``p_selectivity``, and a ``verdict``: "more polysemantic" when the
    pruned neurons respond to more classes AND are less selective (both p < alpha), "less polysemantic" for the
    opposite, "no significant change" when neither difference is significant, else "mixed".
    """
    def pooled(stats):
        return {k: torch.cat([stats[layer][k][stats[layer]["alive"]].float() for layer in stats])
                for k in ("n_classes", "selectivity")}

    def live(stats):
        return {k: stats[k][stats["alive"]].float() for k in ("n_classes", "selectivity")}

    groups = {layer: (live(dense[layer]), live(pruned[layer])) for layer in dense}
    groups["all"] = (pooled(dense), pooled(pruned))
    out = {}
    for name, (d, p) in groups.items():
        row = {"live": (len(d["n_classes"]), len(p["n_classes"]))}
        row["classes"] = (d["n_classes"].mean().item(), p["n_classes"].mean().item())
        row["selectivity"] = (d["selectivity"].mean().item(), p["selectivity"].mean().item())
        row["p_classes"] = permutation_test(d["n_classes"], p["n_classes"], n_resamples, seed)
        row["p_selectivity"] = permutation_test(d["selectivity"], p["selectivity"], n_resamples, seed)
        more = row["classes"][1] > row["classes"][0], row["selectivity"][1] < row["selectivity"][0]
        significant = row["p_classes"] < alpha, row["p_selectivity"] < alpha
        if all(significant) and all(more):
            row["verdict"] = "more polysemantic"
        elif all(significant) and not any(more):
            row["verdict"] = "less polysemantic"
        elif not any(significant):
            row["verdict"] = "no significant change"
        else:
            row["verdict"] = "mixed"
        out[name] = row
    return out


# --- modularity --------------------------------------------------------------------------------------------------


def weight_graph(strengths: list[torch.Tensor]) -> nx.Graph:
    """Undirected weighted graph: a node (row, i) per neuron, an edge per nonzero connection strength."""
    graph = nx.Graph()
    for row, a in enumerate(strengths):
        graph.add_nodes_from((row, i) for i in range(a.shape[1]))
        graph.add_nodes_from((row + 1, o) for o in range(a.shape[0]))
        nz = torch.nonzero(a)
        graph.add_weighted_edges_from(
            ((row + 1, o), (row, i), w) for (o, i), w in zip(nz.tolist(), a[a != 0].tolist(), strict=True)
        )
    return graph


def modularity(strengths: list[torch.Tensor], seed: int = 0) -> tuple[float, list[set]]:
    """Newman modularity Q of the |w| graph under the Louvain partition (seeded), and the partition."""
    graph = weight_graph([a.detach().abs().cpu() for a in strengths])
    communities = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    return nx.community.modularity(graph, communities, weight="weight"), communities


def shuffled_strengths(strengths: list[torch.Tensor], seed: int = 0) -> list[torch.Tensor]:
    """Null model: each layer's connection strengths (zeros included) randomly reassigned to its neuron pairs."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for a in strengths:
        flat = a.detach().cpu().flatten()
        out.append(flat[torch.randperm(len(flat), generator=gen)].reshape(a.shape))
    return out


def kept_strengths(strengths: list[torch.Tensor], threshold: float) -> list[torch.Tensor]:
    """|a| where |a| >= ``threshold`` x the largest |a| of its layer, else 0: the connections a wiring diagram
    with that threshold draws (``threshold=0`` keeps every nonzero one)."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold={threshold} must lie in [0, 1]")
    out = []
    for a in strengths:
        a = a.detach().abs().cpu()
        out.append(torch.where(a >= threshold * a.max(), a, torch.zeros_like(a)))
    return out


def rewired_strengths(strengths: list[torch.Tensor], seed: int = 0, swaps_per_edge: int = 10) -> list[torch.Tensor]:
    """Degree-preserving null model (Maslov & Sneppen 2002), layer by layer: repeatedly pick two connections
    o1 -> i1 and o2 -> i2 of a layer and rewire them to o1 -> i2 and o2 -> i1 (each keeping its strength with its
    ``o`` end) unless that would duplicate a connection. Every neuron keeps its number of connections in each
    layer, and every neuron of the later row its total strength; which neurons are linked is random."""
    rng = random.Random(seed)
    out = []
    for a in strengths:
        a = a.detach().abs().cpu()
        rows, cols = (t.tolist() for t in torch.nonzero(a, as_tuple=True))
        values = a[a != 0]
        present = set(zip(rows, cols, strict=True))
        n = len(rows)
        for _ in range(swaps_per_edge * n if n > 1 else 0):
            e, f = rng.randrange(n), rng.randrange(n)
            new_e, new_f = (rows[e], cols[f]), (rows[f], cols[e])
            if rows[e] == rows[f] or cols[e] == cols[f] or new_e in present or new_f in present:
                continue
            present -= {(rows[e], cols[e]), (rows[f], cols[f])}
            present |= {new_e, new_f}
            cols[e], cols[f] = cols[f], cols[e]
        b = torch.zeros_like(a)
        b[rows, cols] = values
        out.append(b)
    return out


NULL_MODELS = {"rewired": rewired_strengths, "shuffled": shuffled_strengths}


def modularity_with_null(strengths: list[torch.Tensor], n_null: int = 20, seed: int = 0, null: str = "rewired",
                         level: float = 0.95) -> dict:
    """Newman modularity Q (Louvain, seeded) of the graph of ``strengths`` against ``n_null`` null graphs
    (``null``: "rewired" = ``rewired_strengths``, degree-preserving; "shuffled" = ``shuffled_strengths``).

    Returns ``q``, ``null`` (the null values), ``null_mean``, ``null_low``/``null_high`` (central ``level``
    interval of the null values), ``margin`` = q - null_high (> 0: above the whole interval), ``z`` =
    (q - null_mean) / sd of the null, ``edges`` (nonzero connections) and ``communities`` (Louvain partition).
    """
    check_choice("null", null, tuple(NULL_MODELS))
    if n_null < 2:
        raise ValueError(f"n_null={n_null}: need at least 2 null graphs for an interval")
    q, communities = modularity(strengths, seed)
    values = torch.tensor([modularity(NULL_MODELS[null](strengths, seed + 1 + k), seed)[0] for k in range(n_null)],
                          dtype=torch.float64)
    tail = (1 - level) / 2
    low, high = torch.quantile(values, torch.tensor([tail, 1 - tail], dtype=torch.float64)).tolist()
    mean, sd = values.mean().item(), values.std().item()
    return {"q": q, "null": values.tolist(), "null_mean": mean, "null_low": low, "null_high": high,
            "margin": q - high, "z": (q - mean) / sd if sd > 0 else float("inf"),
            "edges": sum(int((a != 0).sum()) for a in strengths), "communities": communities}


def within_share(strengths: list[torch.Tensor], communities: list[set]) -> float:
    """Fraction of the total |strength| of the graph that joins two neurons of the same community."""
    graph = weight_graph([a.detach().abs().cpu() for a in strengths])
    label = {node: k for k, community in enumerate(communities) for node in community}
    total = graph.size(weight="weight")
    inside = sum(w for u, v, w in graph.edges(data="weight") if label[u] == label[v])
    return inside / total if total > 0 else float("nan")
