"""SymbioteNet: a small hypernetwork that maps an intervention to weight diffs for a frozen primary.

An intervention is a multi-hot vector ``z ∈ {0,1}^10`` (which digits the primary must stop recognising).
The symbiote turns it into a diff for each *hidden* layer of the primary (``primary.HIDDEN_LAYERS``; never the
first or the last layer). Per hidden layer with weight ``W`` (out × fan_in after flattening) and mask ``M``
(1 = surviving weight; all ones for a dense primary) the diff is

    ΔW(z) = M ⊙ ( g(z) ⊙_rows W  +  U diag(c(z)) Vᵀ ),        Δb(z) = β(z)

* ``g`` — one gain per output neuron (a neuron's whole input row is scaled; pruned zeros stay zero);
* ``U ∈ R^{out×K}``, ``V ∈ R^{fan_in×K}`` — K rank-one directions *shared by all interventions*; the
  intervention only chooses their coefficients ``c ∈ R^K``;
* ``β`` — a shift of each neuron's bias.

``g, c, β`` come from a bias-free ReLU trunk, so the empty intervention gives exactly zero diff. The primary is
never modified: diffs are added to a detached copy of its parameters, and many interventions run in one batched
forward pass (``PrimaryCNN.forward_many``).
"""

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from symbiote_lite.artifacts import load_or_build
from symbiote_lite.data import load_mnist, train_val_split
from symbiote_lite.metrics import N_DIGITS
from symbiote_lite.primary import HIDDEN_LAYERS, PrimaryCNN, count_parameters
from symbiote_lite.runtime import progress_bar, seed_everything


@dataclass(frozen=True)
class SymbioteConfig:
    hidden: int = 32  # width of the trunk that reads the intervention
    rank: int = 12  # K shared rank-one directions per hidden layer
    max_fraction: float = 0.5  # parameter budget: at most this fraction of the primary's parameter count
    steps: int = 250  # optimisation steps
    batch_size: int = 128  # images per step, shared by every intervention of the step
    n_pairs: int = 2  # random several-digit interventions per step, beside the ten single digits ...
    max_digits: int = 2  # ... each inhibiting 2 to max_digits digits (2: pairs only)
    lr: float = 1e-2  # peak learning rate (one-cycle schedule)
    inhibit_weight: float = 0.1  # weight of the inhibition term against the retain cross-entropy
    diff_penalty: float = 1e-3  # weight of the relative squared size of the diffs
    val_size: int = 2000  # training images held out for validation
    val_curve: int = 1000  # how many of them the validation curve uses ...
    val_every: int = 25  # ... every this many steps
    seed: int = 0


def param_names(layers=HIDDEN_LAYERS) -> list[str]:
    """The primary parameters the symbiote may edit: weight and bias of each hidden layer."""
    return [f"{layer}.{kind}" for layer in layers for kind in ("weight", "bias")]


def multi_hot(digits, n: int = N_DIGITS, device=None) -> torch.Tensor:
    """One intervention as a float multi-hot vector, e.g. ``multi_hot([3])`` or ``multi_hot([1, 7])``."""
    digits = [int(d) for d in digits]
    bad = [d for d in digits if not 0 <= d < n]
    if bad:
        raise ValueError(f"digits {bad} out of range: an intervention names digits in 0..{n - 1}")
    z = torch.zeros(n, device=device)
    z[digits] = 1.0
    return z


def check_masks(primary: nn.Module, masks: dict | None, layers=HIDDEN_LAYERS) -> dict[str, torch.Tensor]:
    """Masks for the hidden weights as bool tensors on the primary's device (all True for a dense primary)."""
    params = dict(primary.named_parameters())
    out = {}
    for layer in layers:
        key = f"{layer}.weight"
        w = params[key]
        if masks is None:
            out[key] = torch.ones_like(w, dtype=torch.bool)
            continue
        if key not in masks:
            raise ValueError(f"masks has no entry {key!r}; give one bool mask per hidden weight {list(out)} or None")
        m = masks[key].to(w.device).bool()
        if m.shape != w.shape:
            raise ValueError(f"mask {key!r} has shape {tuple(m.shape)}, but the weight has {tuple(w.shape)}")
        out[key] = m
    return out


def layer_diffs(primary: nn.Module, masks: dict[str, torch.Tensor], rank: int) -> nn.ModuleDict:
    """One ``LayerDiff`` per hidden layer of ``primary`` (masks already checked)."""
    params = dict(primary.named_parameters())
    return nn.ModuleDict(
        {lay: LayerDiff(params[f"{lay}.weight"], masks[f"{lay}.weight"], rank) for lay in HIDDEN_LAYERS}
    )


class LayerDiff(nn.Module):
    """The diff of one hidden layer from its coefficients: ``ΔW = M ⊙ (g ⊙_rows W + U diag(c) Vᵀ)``, ``Δb = β``."""

    def __init__(self, weight: torch.Tensor, mask: torch.Tensor, rank: int):
        super().__init__()
        out, fan_in = weight.shape[0], weight[0].numel()
        self.rank, self.out = rank, out
        self.register_buffer("weight", weight.detach().clone(), persistent=False)
        self.register_buffer("mask", mask.to(weight.dtype), persistent=False)
        # entries of U and V ~ sqrt(rms(W)): a unit coefficient c_k moves each weight by about rms(W).
        scale = weight.detach().pow(2).mean().sqrt().item()
        self.U = nn.Parameter(torch.randn(out, rank, device=weight.device) * math.sqrt(scale))
        self.V = nn.Parameter(torch.randn(fan_in, rank, device=weight.device) * math.sqrt(scale))

    @property
    def n_coefficients(self) -> int:
        return self.rank + 2 * self.out  # c, g, β

    def forward(self, coef: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """coef (B, K + 2·out) -> ΔW (B, *W.shape), Δb (B, out)."""
        c, g, beta = coef.split([self.rank, self.out, self.out], dim=-1)
        w = self.weight.flatten(1)  # (out, fan_in)
        low = torch.einsum("ok,bk,ik->boi", self.U, c, self.V)  # (B, out, fan_in)
        dw = (g[:, :, None] * w + low) * self.mask.flatten(1)
        return dw.view(-1, *self.weight.shape), beta


class Symbiote(nn.Module):
    """Intervention ``z`` (B, 10) -> diffs ``{name: (B, *shape)}`` for the hidden layers of one primary."""

    def __init__(self, primary: PrimaryCNN, masks: dict | None = None, config: SymbioteConfig = SymbioteConfig()):
        super().__init__()
        masks = check_masks(primary, masks)
        device = next(primary.parameters()).device
        self.layers = HIDDEN_LAYERS
        self.trunk = nn.Sequential(
            nn.Linear(N_DIGITS, config.hidden, bias=False),
            nn.ReLU(),
            nn.Linear(config.hidden, config.hidden, bias=False),
            nn.ReLU(),
        ).to(device)
        self.diffs = layer_diffs(primary, masks, config.rank)
        self.heads = nn.ModuleDict(
            {layer: nn.Linear(config.hidden, d.n_coefficients, bias=False) for layer, d in self.diffs.items()}
        ).to(device)
        for head in self.heads.values():
            nn.init.zeros_(head.weight)  # start from the unedited primary
        n_own, n_primary = count_parameters(self), count_parameters(primary)
        limit = config.max_fraction * n_primary
        if n_own > limit:
            raise ValueError(
                f"the symbiote has {n_own} parameters, more than max_fraction={config.max_fraction} of the primary's "
                f"{n_primary} (= {limit:.0f}); lower SymbioteConfig.rank={config.rank} or hidden={config.hidden}"
            )

    def forward(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        if z.ndim != 2 or z.shape[1] != N_DIGITS:
            raise ValueError(f"interventions must have shape (B, {N_DIGITS}), got {tuple(z.shape)}")
        h = self.trunk(z)  # (B, hidden)
        out = {}
        for layer in self.layers:
            out[f"{layer}.weight"], out[f"{layer}.bias"] = self.diffs[layer](self.heads[layer](h))
        return out


# --- applying diffs to the frozen primary ------------------------------------------------------------------


def frozen_params(primary: nn.Module) -> dict[str, torch.Tensor]:
    """The primary's parameters, detached: the base every diff is added to."""
    return {k: v.detach() for k, v in primary.named_parameters()}


def edited_logits(primary: PrimaryCNN, diffs: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits of the primary with each of B diffs added: diffs {name: (B, *shape)}, x (N, ...) -> (B, N, 10).

    All B edited networks run at once (``PrimaryCNN.forward_many``); layers without a diff are shared.
    """
    base = frozen_params(primary)
    unknown = sorted(set(diffs) - set(base))
    if unknown:
        raise ValueError(f"diffs name {unknown}, which are not parameters of the primary ({sorted(base)})")
    bad = [f"{k} {tuple(d.shape)}" for k, d in diffs.items()
           if d.dim() != base[k].dim() + 1 or d.shape[1:] != base[k].shape]
    if bad:
        raise ValueError(f"diffs of the wrong shape: {', '.join(bad)}; each diff is a batch (B, *parameter shape)")
    return primary.forward_many({k: base[k] + diffs[k] if k in diffs else base[k] for k in base}, x)


def edited_logits_loop(primary: nn.Module, diffs: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Reference for ``edited_logits``: the primary's own ``forward``, looped over the diffs with
    ``torch.func.functional_call`` (tests only)."""
    base = frozen_params(primary)
    n = next(iter(diffs.values())).shape[0]
    return torch.stack(
        [functional_call(primary, {**base, **{k: base[k] + d[b] for k, d in diffs.items()}}, (x,)) for b in range(n)]
    )


@torch.no_grad()
def edited_predict(primary: nn.Module, diffs: dict[str, torch.Tensor], x: torch.Tensor, chunk: int = 2000):
    """Predicted class of every image under every diff: (B, N)."""
    primary.eval()
    return torch.cat([edited_logits(primary, diffs, x[i : i + chunk]).argmax(-1) for i in range(0, len(x), chunk)], 1)


@torch.no_grad()
def diff_sizes(diffs: dict[str, torch.Tensor], primary: nn.Module) -> torch.Tensor:
    """Relative size ``‖ΔW‖ / ‖W‖`` of each hidden weight's diff: (n_layers, B), rows in ``HIDDEN_LAYERS`` order."""
    base = frozen_params(primary)
    keys = [f"{layer}.weight" for layer in HIDDEN_LAYERS]
    return torch.stack([diffs[k].flatten(1).norm(dim=1) / base[k].norm() for k in keys])


# --- the loss ------------------------------------------------------------------------------------------------


def inhibition_loss(logits: torch.Tensor, y: torch.Tensor, z: torch.Tensor, inhibit_weight: float = 1.0):
    """Loss for B interventions on a shared batch: logits (B, N, 10), labels y (N,), interventions z (B, 10).

    * images whose digit is **not** inhibited: cross-entropy toward the true digit (keep them correct);
    * images whose digit **is** inhibited: ``-log(1 - p(S))`` with p(S) the probability the primary gives to the
      inhibited set S. It is ≥ 0 and reaches 0 as the inhibited digits lose all probability, so it cannot
      diverge the way gradient ascent on cross-entropy does; and it leaves the choice of the replacement digit
      to the network instead of forcing one.

    Returns (total, retain term, inhibit term), the terms averaged over their (intervention, image) pairs.
    """
    inhibited = z[:, y].bool()  # (B, N): z[b, y[n]]
    ce = F.cross_entropy(logits.flatten(0, 1), y.repeat(len(z)), reduction="none").view(inhibited.shape)
    # log(1 - p(S)) = logsumexp_{j ∉ S} logits_j - logsumexp_j logits_j  (stable, no 1 - p cancellation)
    kept = logits.masked_fill(z[:, None, :].bool(), float("-inf")).logsumexp(-1) - logits.logsumexp(-1)
    retain = ce[~inhibited].mean()
    inhibit = (-kept[inhibited]).mean() if inhibited.any() else logits.new_zeros(())
    return retain + inhibit_weight * inhibit, retain, inhibit


def relative_diff_size(diffs: dict[str, torch.Tensor], base: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean over interventions and weight tensors of ``‖ΔW‖² / ‖W‖²`` (biases excluded)."""
    terms = [d.flatten(1).pow(2).sum(1) / base[k].pow(2).sum() for k, d in diffs.items() if k.endswith("weight")]
    return torch.stack(terms).mean()


# --- training ------------------------------------------------------------------------------------------------


def recipe_optimiser(params, config: SymbioteConfig, steps: int):
    """(Adam at ``config.lr``, one-cycle schedule over ``steps`` with 15 % warm-up): the symbiote's recipe, which
    the direct-diff baseline and the editors of chapter 6 reuse."""
    opt = torch.optim.Adam(params, lr=config.lr)
    return opt, torch.optim.lr_scheduler.OneCycleLR(opt, config.lr, total_steps=steps, pct_start=0.15)


def recipe_step(opt, sched, logits: torch.Tensor, y: torch.Tensor, z: torch.Tensor, penalty: torch.Tensor,
                config: SymbioteConfig) -> torch.Tensor:
    """One optimisation step of the recipe on an edit's ``logits`` (B, N, 10): loss = ``inhibition_loss`` +
    ``config.diff_penalty · penalty``, then backward, Adam step and schedule step. Returns the loss."""
    loss, _, _ = inhibition_loss(logits, y, z, config.inhibit_weight)
    loss = loss + config.diff_penalty * penalty
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sched.step()
    return loss


def training_interventions(n_pairs: int, gen: torch.Generator, device, max_digits: int = 2) -> torch.Tensor:
    """The interventions of one step, (10 + n_pairs, 10): the ten single digits, then ``n_pairs`` random sets of
    2 to ``max_digits`` distinct digits (pairs when ``max_digits=2``).

    (The empty intervention is left out: its diff is exactly zero by construction, so it has no gradient.)
    """
    ranks = torch.rand(n_pairs, N_DIGITS, generator=gen).argsort(1).argsort(1)  # a random permutation per row
    sizes = torch.randint(2, max_digits + 1, (n_pairs, 1), generator=gen)
    return torch.cat([torch.eye(N_DIGITS), (ranks < sizes).float()]).to(device)  # first `size` digits of each row


def train_symbiote(
    primary: PrimaryCNN,
    masks: dict | None,
    config: SymbioteConfig,
    x: torch.Tensor,
    y: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    progress: bool = True,
):
    """Train a symbiote for a frozen primary. Returns ``(symbiote, history)``.

    history: ``step`` (validation steps), ``train_loss`` (mean training loss since the previous point),
    ``val_loss``/``val_retain``/``val_inhibit`` (the ten single-digit interventions on the first ``config.val_curve``
    validation images), ``seconds`` (wall time of the optimisation, validation excluded), ``wall_seconds`` (with
    validation), ``n_params``.
    """
    seed_everything(config.seed)
    device = x.device
    primary = primary.eval().requires_grad_(False)
    sym = Symbiote(primary, masks, config)
    base = frozen_params(primary)
    opt, sched = recipe_optimiser(sym.parameters(), config, config.steps)
    gen = torch.Generator().manual_seed(config.seed)
    z_val = torch.eye(N_DIGITS, device=device)
    history = {"step": [], "train_loss": [], "val_loss": [], "val_retain": [], "val_inhibit": [], "seconds": 0.0}
    running, n_running = 0.0, 0
    wall_start = time.perf_counter()
    for step in progress_bar(range(1, config.steps + 1), desc="symbiote steps", enabled=progress):
        start = time.perf_counter()
        idx = torch.randint(len(y), (config.batch_size,), generator=gen).to(device)
        z = training_interventions(config.n_pairs, gen, device, config.max_digits)
        diffs = sym(z)
        loss = recipe_step(opt, sched, edited_logits(primary, diffs, x[idx]), y[idx], z,
                           relative_diff_size(diffs, base), config)
        running, n_running = running + loss.item(), n_running + 1
        history["seconds"] += time.perf_counter() - start
        if step % config.val_every == 0 or step == config.steps:
            xc, yc = x_val[: config.val_curve], y_val[: config.val_curve]
            with torch.no_grad():
                v = [t.item() for t in inhibition_loss(edited_logits(primary, sym(z_val), xc), yc, z_val,
                                                       config.inhibit_weight)]
            history["step"].append(step)
            history["train_loss"].append(running / n_running)
            history["val_loss"].append(v[0])
            history["val_retain"].append(v[1])
            history["val_inhibit"].append(v[2])
            running, n_running = 0.0, 0
    history["wall_seconds"] = time.perf_counter() - wall_start
    history["n_params"] = count_parameters(sym)
    return sym.eval(), history


@dataclass(frozen=True)
class SymbioteRun:
    """Everything that keys a trained symbiote in the artifact cache: its config and which primary it edits."""

    symbiote: SymbioteConfig
    primary: str  # a label for the primary (e.g. "dense" or "bimt") ...
    primary_key: str  # ... and the artifact hash of its config, so a retrained primary invalidates the cache


def state_of(sym: Symbiote) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in sym.state_dict().items()}


def load_or_train_symbiote(
    primary: PrimaryCNN,
    masks: dict | None,
    config: SymbioteConfig,
    primary_label: str,
    primary_key: str,
    progress: bool = True,
):
    """The symbiote for ``(config, primary)`` from the artifact cache, training it first if absent.

    Trains on the training set minus ``config.val_size`` held-out images (the validation curve); the test set
    is never touched here. Returns ``(symbiote, history)``.
    """
    device = next(primary.parameters()).device

    def build():
        x, y = load_mnist("train", device)
        (xt, yt), (xv, yv) = train_val_split(x, y, config.val_size, config.seed)
        sym, history = train_symbiote(primary, masks, config, xt, yt, xv, yv, progress=progress)
        return {"state": state_of(sym), "history": history}

    payload = load_or_build(f"symbiote-{primary_label}", SymbioteRun(config, primary_label, primary_key), build)
    sym = Symbiote(primary, masks, config)
    sym.load_state_dict(payload["state"])
    return sym.eval(), payload["history"]


# --- baseline 1: one diff of the same form, optimised directly --------------------------------------------------


class DirectDiff(nn.Module):
    """One diff of the symbiote's form for one fixed intervention, with every factor free (no hypernetwork)."""

    def __init__(self, primary: PrimaryCNN, masks: dict | None = None, rank: int = SymbioteConfig.rank):
        super().__init__()
        masks = check_masks(primary, masks)
        self.layers = HIDDEN_LAYERS
        self.diffs = layer_diffs(primary, masks, rank)
        self.coef = nn.ParameterDict(
            {lay: nn.Parameter(torch.zeros(1, d.n_coefficients, device=d.U.device)) for lay, d in self.diffs.items()}
        )

    def forward(self) -> dict[str, torch.Tensor]:
        """The diff as a batch of one: ``{name: (1, *shape)}``."""
        out = {}
        for layer in self.layers:
            out[f"{layer}.weight"], out[f"{layer}.bias"] = self.diffs[layer](self.coef[layer])
        return out


def optimise_diff(
    primary: PrimaryCNN, masks: dict | None, z: torch.Tensor, config: SymbioteConfig, x, y, steps: int | None = None
):
    """Fit one ``DirectDiff`` to each intervention of ``z`` ((10,) or (B, 10)) with the symbiote's loss, batches
    and schedule, all B in one loop on shared image batches.

    Every diff has its own factors and coefficients (initialised as if it were fitted alone), so optimising B of them
    together is nearly B separate runs for the price of one batched loop: averaging the loss over B interventions
    scales each diff's gradient by about 1/B, which Adam's normalised steps absorb, and its retain and inhibition
    terms are averaged over the whole batch's counts rather than its own (the same ratio on average).
    Returns ``(diffs {name: (B, *shape)}, seconds)``. ``steps`` defaults to ``config.steps``.
    """
    steps = steps or config.steps
    seed_everything(config.seed)
    start = time.perf_counter()
    primary = primary.eval().requires_grad_(False)
    z = z.reshape(-1, N_DIGITS).to(x.device)
    direct = nn.ModuleList()
    for _ in range(len(z)):
        seed_everything(config.seed)
        direct.append(DirectDiff(primary, masks, config.rank))
    base = frozen_params(primary)
    opt, sched = recipe_optimiser(direct.parameters(), config, steps)
    gen = torch.Generator().manual_seed(config.seed)
    def all_diffs():
        each = [d() for d in direct]
        return {k: torch.cat([e[k] for e in each]) for k in each[0]}

    for _ in range(steps):
        idx = torch.randint(len(y), (config.batch_size,), generator=gen).to(x.device)
        diffs = all_diffs()
        recipe_step(opt, sched, edited_logits(primary, diffs, x[idx]), y[idx], z, relative_diff_size(diffs, base),
                    config)
    with torch.no_grad():
        diffs = {k: v.detach() for k, v in all_diffs().items()}
    return diffs, time.perf_counter() - start
