"""Other ways to edit a frozen primary on command, trained with the symbiote's own loss (chapter 6).

An *editor* maps interventions ``z`` (B, 10) to an *edit*; an *apply* function runs the primary under each edit:
``apply(primary, edit, x) -> logits (B, N, 10)``. Besides the symbiote of chapter 4 as trained there:

* ``SteeringSymbiote`` — the same kind of hypernetwork, but its output is an **activation offset**: a constant
  added to the pre-activation of every conv2 channel (at every position) and every fc1 unit. An input-independent
  offset added before a layer's nonlinearity is exactly a change of that layer's bias, so this is the weight
  symbiote restricted to biases: whatever the weight symbiote does beyond it needs the weights.
  (Offsets are added *before* the ReLU: after fc1's ReLU an offset passes linearly into the logits, which is the
  trivial last-layer edit the rules exclude.)
* ``DirectDiffs`` — chapter 5's direct-optimisation baseline (one ``symbiote.DirectDiff`` per digit, no
  hypernetwork), the ten digits optimised in one batched loop.
* ``symbiote.Symbiote`` itself, of any size, trained on a chosen subset of the two-digit interventions (so the
  others can be held out to test generalisation).

``train_editor`` is the symbiote's training loop (``symbiote.train_symbiote``: Adam, one-cycle schedule,
``symbiote.inhibition_loss`` plus a small penalty on the edit's size, the same ``SymbioteConfig`` recipe) with the
editor, the apply function and the intervention sampler as arguments. ``load_or_train_editor`` caches the result.
"""

import math
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch
from torch import nn

from symbiote_lite.artifacts import load_or_build
from symbiote_lite.data import load_mnist, train_val_split
from symbiote_lite.primary import HIDDEN_LAYERS, PrimaryCNN, count_parameters
from symbiote_lite.runtime import forward_hooks, progress_bar, seed_everything
from symbiote_lite.symbiote import (
    N_DIGITS,
    DirectDiff,
    Symbiote,
    SymbioteConfig,
    edited_logits,
    frozen_params,
    inhibition_loss,
    recipe_optimiser,
    recipe_step,
    relative_diff_size,
    state_of,
    training_interventions,
)

# --- activation steering ----------------------------------------------------------------------------------------


@contextmanager
def offset_hooks(primary: PrimaryCNN, offsets: dict[str, torch.Tensor], n_images: int):
    """Add ``offsets[layer]`` (B, channels) to the output (pre-activation) of each named layer, for every image.

    The first hooked layer sees N images and returns B·N (one copy per offset); later layers see B·N.
    """

    def hook_for(layer):
        def hook(module, inputs, out):
            d = offsets[layer]  # (B, C)
            b = d.shape[0]
            shape = (b, 1, d.shape[1]) + (1,) * (out.ndim - 2)  # broadcast over images and positions
            out = out.view(b, n_images, *out.shape[1:]) if out.shape[0] == b * n_images else out[None]
            return (out + d.view(shape)).flatten(0, 1)

        return hook

    with forward_hooks((getattr(primary, layer), hook_for(layer)) for layer in offsets):
        yield


def steered_logits(primary: PrimaryCNN, offsets: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Logits of the primary with each of B activation offsets: offsets {layer: (B, C)}, x (N, ...) -> (B, N, 10)."""
    b = next(iter(offsets.values())).shape[0]
    with offset_hooks(primary, offsets, len(x)):
        logits = primary(x)
    return logits.view(b, len(x), -1)


def layer_widths(primary: PrimaryCNN, layers=HIDDEN_LAYERS) -> dict[str, int]:
    """Output channels / units of each hidden layer (the size of its offset)."""
    return {layer: getattr(primary, layer).weight.shape[0] for layer in layers}


def steering_width(primary: PrimaryCNN, budget: int, layers=HIDDEN_LAYERS) -> int:
    """The largest trunk width w whose steering symbiote has at most ``budget`` parameters.

    Parameters: 10·w + w² (trunk) + w·Σ channels (heads), all bias-free.
    """
    n_out = sum(layer_widths(primary, layers).values())
    w = int((-(N_DIGITS + n_out) + math.sqrt((N_DIGITS + n_out) ** 2 + 4 * budget)) / 2)
    while w > 0 and w * w + w * (N_DIGITS + n_out) > budget:  # guard against rounding
        w -= 1
    if w < 1:
        least = 1 + N_DIGITS + n_out
        raise ValueError(f"budget={budget} parameters is too small for a steering symbiote; give at least {least}")
    return w


@torch.no_grad()
def preactivation_rms(primary: PrimaryCNN, x: torch.Tensor, layers=HIDDEN_LAYERS) -> dict[str, float]:
    """Root-mean-square pre-activation of each hidden layer on images ``x`` (the scale offsets are measured in)."""
    seen = {}

    def keep(layer):
        return lambda module, inputs, out: seen.__setitem__(layer, out.pow(2).mean().sqrt().item())

    handles = [getattr(primary, layer).register_forward_hook(keep(layer)) for layer in layers]
    try:
        primary.eval()(x)
    finally:
        for h in handles:
            h.remove()
    return seen


class SteeringSymbiote(nn.Module):
    """Intervention ``z`` (B, 10) -> pre-activation offsets ``{layer: (B, channels)}`` for the hidden layers.

    Same trunk as the weight symbiote (bias-free ReLU MLP, so ``z = 0`` gives no offset), zero-initialised heads.
    """

    def __init__(self, primary: PrimaryCNN, width: int, scales: dict[str, float] | None = None, layers=HIDDEN_LAYERS):
        super().__init__()
        device = primary.fc2.weight.device
        self.layers = tuple(layers)
        self.trunk = nn.Sequential(
            nn.Linear(N_DIGITS, width, bias=False), nn.ReLU(), nn.Linear(width, width, bias=False), nn.ReLU()
        ).to(device)
        self.heads = nn.ModuleDict(
            {layer: nn.Linear(width, c, bias=False) for layer, c in layer_widths(primary, layers).items()}
        ).to(device)
        for head in self.heads.values():
            nn.init.zeros_(head.weight)
        scales = scales or {layer: 1.0 for layer in self.layers}
        self.register_buffer("scales", torch.tensor([scales[layer] for layer in self.layers], device=device))

    def forward(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        if z.ndim != 2 or z.shape[1] != N_DIGITS:
            raise ValueError(f"interventions must have shape (B, {N_DIGITS}), got {tuple(z.shape)}")
        h = self.trunk(z)
        return {layer: self.heads[layer](h) for layer in self.layers}

    def penalty(self, offsets: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean over interventions and layers of mean(δ²) / rms², the offset's size relative to the layer's scale."""
        terms = [offsets[layer].pow(2).mean(1) / s**2 for layer, s in zip(self.layers, self.scales, strict=True)]
        return torch.stack(terms).mean()


# --- interventions -------------------------------------------------------------------------------------------------


def all_pairs() -> torch.Tensor:
    """The 45 unordered pairs of digits, (45, 2), in lexicographic order."""
    return torch.combinations(torch.arange(N_DIGITS), 2)


def split_pairs(n_held_out: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded split of the 45 pairs into (seen, held-out), with every digit in at least one seen pair."""
    pairs = all_pairs()
    if not 0 < n_held_out <= len(pairs) - N_DIGITS // 2:
        raise ValueError(f"n_held_out={n_held_out} must lie in [1, {len(pairs) - N_DIGITS // 2}]")
    gen = torch.Generator().manual_seed(seed)
    while True:
        perm = torch.randperm(len(pairs), generator=gen)
        seen, held = pairs[perm[n_held_out:]], pairs[perm[:n_held_out]]
        if seen.unique().numel() == N_DIGITS:
            return seen, held


def interventions_of(digit_sets: torch.Tensor) -> torch.Tensor:
    """(B, k) digit indices -> (B, 10) multi-hot interventions."""
    return torch.zeros(len(digit_sets), N_DIGITS).scatter_(1, digit_sets.long(), 1.0)


def pair_sampler(pairs: torch.Tensor, n_pairs: int, device) -> Callable[[torch.Generator], torch.Tensor]:
    """A step's interventions as in ``symbiote.training_interventions`` — the ten single digits and ``n_pairs``
    pairs — but the pairs drawn from ``pairs`` only (so other pairs can be held out)."""
    eye = torch.eye(N_DIGITS)

    def sample(gen: torch.Generator) -> torch.Tensor:
        drawn = pairs[torch.randint(len(pairs), (n_pairs,), generator=gen)]
        return torch.cat([eye, interventions_of(drawn)]).to(device)

    return sample




# --- training ------------------------------------------------------------------------------------------------------


def weight_penalty(primary: PrimaryCNN) -> Callable[[dict], torch.Tensor]:
    """The symbiote's penalty for weight diffs: mean relative squared size ‖ΔW‖²/‖W‖²."""
    base = frozen_params(primary)
    return lambda diffs: relative_diff_size(diffs, base)


def train_editor(
    build: Callable[[], nn.Module],
    apply: Callable,
    penalty: Callable[[nn.Module, dict], torch.Tensor],
    primary: PrimaryCNN,
    x: torch.Tensor,
    y: torch.Tensor,
    sampler: Callable[[torch.Generator], torch.Tensor],
    config: SymbioteConfig,
    progress: bool = True,
):
    """Seed, build an editor and train it with the symbiote's recipe ``config``. Returns ``(editor, history)``.

    Each step: ``config.batch_size`` random training images shared by the interventions ``sampler(gen)``;
    loss = ``inhibition_loss`` + ``config.diff_penalty · penalty(editor, edit)``.
    history: ``loss`` (per step), ``seconds`` (optimisation wall time), ``n_params``.
    """
    seed_everything(config.seed)
    primary = primary.eval().requires_grad_(False)
    editor = build()
    opt, sched = recipe_optimiser(editor.parameters(), config, config.steps)
    gen = torch.Generator().manual_seed(config.seed)
    history = {"loss": [], "seconds": 0.0}
    for _ in progress_bar(range(config.steps), desc="editor steps", enabled=progress):
        start = time.perf_counter()
        idx = torch.randint(len(y), (config.batch_size,), generator=gen).to(x.device)
        z = sampler(gen)
        edit = editor(z)
        loss = recipe_step(opt, sched, apply(primary, edit, x[idx]), y[idx], z, penalty(editor, edit), config)
        history["loss"].append(loss.item())
        history["seconds"] += time.perf_counter() - start
    history["n_params"] = count_parameters(editor)
    return editor.eval(), history


@dataclass(frozen=True)
class EditorRun:
    """Everything that keys a trained editor in the artifact cache.

    kind: ``"weights"`` (a ``symbiote.Symbiote`` with ``config``'s architecture) or ``"steering"`` (a
    ``SteeringSymbiote`` with at most as many parameters as that symbiote). ``config`` is also the training recipe.
    held_out: two-digit interventions withheld from training (``split_pairs(held_out, config.seed)``); 0 = none.
    """

    kind: str
    config: SymbioteConfig
    primary_key: str
    held_out: int = 0


KINDS = ("weights", "steering")


def build_editor(run: EditorRun, primary: PrimaryCNN, scales: dict[str, float] | None = None) -> nn.Module:
    """A fresh (untrained) editor for ``run``."""
    if run.kind not in KINDS:
        raise ValueError(f"EditorRun.kind={run.kind!r}: choose one of {KINDS}")
    symbiote = Symbiote(primary, None, run.config)
    if run.kind == "weights":
        return symbiote
    return SteeringSymbiote(primary, steering_width(primary, count_parameters(symbiote)), scales)


def apply_fn(kind: str) -> Callable:
    """How an editor's output is applied: weight diffs (``symbiote.edited_logits``) or offsets (``steered_logits``)."""
    return edited_logits if kind == "weights" else steered_logits


def load_or_train_editor(run: EditorRun, primary: PrimaryCNN, progress: bool = True):
    """The editor for ``run`` from the artifact cache, training it first if absent. Returns ``(editor, history)``.

    Trains on the training set minus ``run.config.val_size`` images (the split of ``symbiote.load_or_train_symbiote``).
    """
    device = primary.fc2.weight.device

    def build():
        x, y = load_mnist("train", device)
        (xt, yt), _ = train_val_split(x, y, run.config.val_size, run.config.seed)
        if run.held_out:
            sampler = pair_sampler(split_pairs(run.held_out, run.config.seed)[0], run.config.n_pairs, device)
        else:
            extra = {"max_digits": run.config.max_digits} if hasattr(run.config, "max_digits") else {}
            sampler = lambda gen: training_interventions(run.config.n_pairs, gen, device, **extra)
        scales = preactivation_rms(primary, xt[:1000]) if run.kind == "steering" else None
        if run.kind == "weights":
            weights = weight_penalty(primary)
            penalty = lambda editor, diffs: weights(diffs)
        else:
            penalty = lambda editor, offsets: editor.penalty(offsets)
        editor, history = train_editor(lambda: build_editor(run, primary, scales), apply_fn(run.kind), penalty,
                                       primary, xt, yt, sampler, run.config, progress)
        return {"state": state_of(editor), "history": history}

    payload = load_or_build(f"editor-{run.kind}", run, build)
    editor = build_editor(run, primary)
    editor.load_state_dict(payload["state"])
    return editor.eval(), payload["history"]


def with_steps(config: SymbioteConfig, steps: int, **changes) -> SymbioteConfig:
    """``config`` with another step count (validation points at the end only) and any other field changed."""
    return replace(config, steps=steps, val_every=steps, **changes)


class DirectDiffs(nn.Module):
    """Chapter 5's direct-optimisation baseline for all ten digits at once: one ``symbiote.DirectDiff`` per digit
    (the symbiote's diff form, every factor free, no hypernetwork). z (B, 10) -> Σ_d z_d · diff_d, so a single
    digit gets exactly its own diff; the ten are optimised in one batched loop instead of ten."""

    def __init__(self, primary: PrimaryCNN, rank: int):
        super().__init__()
        self.digits = nn.ModuleList([DirectDiff(primary, None, rank) for _ in range(N_DIGITS)])

    def forward(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        per = [d() for d in self.digits]  # ten {name: (1, *shape)}
        return {k: torch.einsum("bd,d...->b...", z, torch.cat([p[k] for p in per])) for k in per[0]}


@dataclass(frozen=True)
class DirectRun:
    """Keys the direct-optimisation baseline: ``DirectDiffs`` trained ``steps`` steps with ``config``'s recipe."""

    config: SymbioteConfig
    steps: int
    primary_key: str


def load_or_optimise_direct(run: DirectRun, primary: PrimaryCNN, progress: bool = True):
    """The ten single-digit diffs of the direct-optimisation baseline (cached): ``({name: (10, *shape)}, seconds)``."""
    device = primary.fc2.weight.device

    def build():
        x, y = load_mnist("train", device)
        (xt, yt), _ = train_val_split(x, y, run.config.val_size, run.config.seed)
        eye = torch.eye(N_DIGITS, device=device)
        penalty = weight_penalty(primary)
        direct, history = train_editor(lambda: DirectDiffs(primary, run.config.rank), edited_logits,
                                       lambda editor, diffs: penalty(diffs), primary, xt, yt, lambda gen: eye,
                                       replace(run.config, steps=run.steps), progress)
        with torch.no_grad():
            diffs = direct(eye)
        return {"diffs": {k: v.cpu() for k, v in diffs.items()}, "seconds": history["seconds"]}

    payload = load_or_build("direct-diffs", run, build)
    return {k: v.to(device) for k, v in payload["diffs"].items()}, payload["seconds"]


# --- evaluation ------------------------------------------------------------------------------------------------------


@torch.no_grad()
def predict_under(apply: Callable, primary: PrimaryCNN, edit: dict, x: torch.Tensor, chunk: int = 2000) -> torch.Tensor:
    """Predicted class of every image under every edit: (B, N)."""
    primary.eval()
    return torch.cat([apply(primary, edit, x[i : i + chunk]).argmax(-1) for i in range(0, len(x), chunk)], 1)


@torch.no_grad()
def validation_loss(apply: Callable, primary: PrimaryCNN, edit: dict, x, y, z, inhibit_weight: float,
                    chunk: int = 1000) -> float:
    """The training loss without the penalty (``symbiote.inhibition_loss``) of edits for interventions z on (x, y)."""
    primary.eval()
    parts = [inhibition_loss(apply(primary, edit, x[i : i + chunk]), y[i : i + chunk], z, inhibit_weight)[0].item()
             for i in range(0, len(x), chunk)]
    return sum(parts) / len(parts)
