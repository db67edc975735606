"""The published SymbioteNet code, re-implemented: a batch-normed MNIST CNN and "PuppeteerNet", which adds
activation offsets to it (chapter 7).

The write-up's public repository trains, in one notebook, a primary CNN and then a symbiote that differs from the
write-up's description. This module rebuilds both from that description of the code (nothing is copied):

* ``PublishedCNN`` — conv 1→32 → conv 32→64 → max-pool → conv 64→128 → max-pool (3×3 kernels, padding 1, each
  followed by batch norm and ReLU), then fc 6272→128→64→10 with batch norm and ReLU after fc1 and fc2 and dropout
  0.5 before each fully connected layer. 905,354 parameters.
* ``PuppeteerNet`` — a one-hot digit → MLP 10→w→w (Linear, batch norm, ReLU, dropout 0.5, twice) → one linear head
  with tanh per edited layer, whose output is an **additive offset** for that layer's whole activation map, added
  *after* its ReLU (``OFFSET_SHAPES``). With w = 512 and all five layers it has 51,849,408 parameters.
* ``published_loss`` — cross-entropy on the true labels + α · mean(−log(1 − p(target) + 1e-6)).

Offsets are applied with forward hooks on the named ReLU modules (``offset_hooks``); the primary is frozen. The
offsets do not depend on the image: the symbiote sees only the one-hot digit.
"""

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from symbiote_lite.artifacts import load_or_build
from symbiote_lite.data import MEAN, STD, load_mnist
from symbiote_lite.metrics import N_DIGITS, batched_confusion, forget_retain
from symbiote_lite.primary import count_parameters
from symbiote_lite.runtime import default_device, forward_hooks, progress_bar, seed_everything

# Post-ReLU activation shape of each layer the published symbiote offsets (per image).
OFFSET_SHAPES = {"conv1": (32, 28, 28), "conv2": (64, 28, 28), "conv3": (128, 14, 14), "fc1": (128,), "fc2": (64,)}
PUBLISHED_LAYERS = tuple(OFFSET_SHAPES)  # what the published code edits: every layer but the last
# Under the write-up's rules: hidden layers only. Not conv1's output (the first layer), and not fc2's output
# either: fc2 feeds the last layer linearly, so a constant offset there is exactly a change of fc3's bias.
WRITEUP_LAYERS = ("conv2", "conv3", "fc1")
EPS = 1e-6  # inside the published inhibition term, log(1 - p + EPS)


# --- the primary --------------------------------------------------------------------------------------------------


class PublishedCNN(nn.Module):
    """The published primary. ``relu[name]`` is the ReLU after layer ``name``: the place an offset is added."""

    def __init__(self, dropout: float = 0.5):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32)
        self.conv2, self.bn2 = nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64)
        self.conv3, self.bn3 = nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128)
        self.fc1, self.bn_fc1 = nn.Linear(128 * 7 * 7, 128), nn.BatchNorm1d(128)
        self.fc2, self.bn_fc2 = nn.Linear(128, 64), nn.BatchNorm1d(64)
        self.fc3 = nn.Linear(64, N_DIGITS)
        self.drop = nn.Dropout(dropout)  # stateless, so one module serves the three dropout sites
        self.relu = nn.ModuleDict({name: nn.ReLU() for name in OFFSET_SHAPES})
        # channels_last weights make every conv output channels_last too: ~1.6x faster training and inference on CPU
        self.to(memory_format=torch.channels_last)

    def stage(self, name: str, h: torch.Tensor) -> torch.Tensor:
        """One step of the forward pass, ending with the ReLU of layer ``name`` (``OFFSET_SHAPES`` order)."""
        if name == "conv1":
            return self.relu["conv1"](self.bn1(self.conv1(h)))
        if name == "conv2":
            return self.relu["conv2"](self.bn2(self.conv2(h)))
        if name == "conv3":
            return self.relu["conv3"](self.bn3(self.conv3(F.max_pool2d(h, 2))))
        if name == "fc1":
            return self.relu["fc1"](self.bn_fc1(self.fc1(self.drop(F.max_pool2d(h, 2).flatten(1)))))
        return self.relu["fc2"](self.bn_fc2(self.fc2(self.drop(h))))

    def forward(self, x: torch.Tensor, start: str | None = None) -> torch.Tensor:
        """Logits of images ``x``; with ``start``, ``x`` is instead the output of layer ``start``'s ReLU and the pass
        continues from there."""
        order = list(OFFSET_SHAPES)
        h = x
        for name in order[order.index(start) + 1 if start else 0 :]:
            h = self.stage(name, h)
        return self.fc3(self.drop(h))


def unit_pixels(x: torch.Tensor) -> torch.Tensor:
    """The published code feeds pixels / 255 in [0, 1]; ``data.load_mnist`` gives mean/std-normalised ones."""
    return x * STD + MEAN


# --- offsets -----------------------------------------------------------------------------------------------------


def check_offsets(offsets: dict[str, torch.Tensor]) -> None:
    """Raise ValueError unless every key is an offset layer and every value is (B, *that layer's shape)."""
    for name, d in offsets.items():
        if name not in OFFSET_SHAPES:
            raise ValueError(f"no offset layer {name!r}: choose from {list(OFFSET_SHAPES)}")
        if d.ndim != len(OFFSET_SHAPES[name]) + 1 or tuple(d.shape[1:]) != OFFSET_SHAPES[name]:
            shape = ", ".join(map(str, OFFSET_SHAPES[name]))
            raise ValueError(f"offset {name!r} has shape {tuple(d.shape)}; expected (B, {shape}) with B = 1 or the "
                             "number of images")


@contextmanager
def offset_hooks(model: PublishedCNN, offsets: dict[str, torch.Tensor]):
    """While active, add ``offsets[name]`` to the output of ``model.relu[name]`` (after batch norm and ReLU).

    An offset of batch size 1 is shared by every image; one of batch size N gives each of N images its own (the
    published training: dropout in the symbiote makes every image's offset different).
    """
    check_offsets(offsets)

    def add(offset):
        return lambda module, inputs, out: out + offset

    with forward_hooks((model.relu[name], add(d)) for name, d in offsets.items()):
        yield


def offset_logits(model: PublishedCNN, offsets: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    with offset_hooks(model, offsets):
        return model(x)


@torch.no_grad()
def predict_with(model: PublishedCNN, offsets: dict[str, torch.Tensor], x: torch.Tensor, chunk: int = 250):
    """Predicted class of every image with a shared offset (batch size 1; ``{}`` = the unedited primary)."""
    model.eval()
    x = x.contiguous(memory_format=torch.channels_last)
    return torch.cat([offset_logits(model, offsets, x[i : i + chunk]).argmax(1) for i in range(0, len(x), chunk)])


@torch.no_grad()
def predict_many(model: PublishedCNN, offset_sets: list[dict[str, torch.Tensor]], x: torch.Tensor,
                 chunk: int = 250) -> torch.Tensor:
    """Predicted classes under each of K shared offsets (batch size 1 each): (K, N). Same result as
    ``predict_with`` per set, but the layers before the earliest edited one run once per chunk of images, not K times.
    """
    model.eval()
    order = list(OFFSET_SHAPES)
    for offsets in offset_sets:
        check_offsets(offsets)
    edited = [order.index(name) for offsets in offset_sets for name in offsets]
    first = order[min(edited)] if edited else order[-1]
    x = x.contiguous(memory_format=torch.channels_last)
    out = []
    for i in range(0, len(x), chunk):
        h = x[i : i + chunk]
        for name in order[: order.index(first) + 1]:  # the shared prefix, through `first`'s ReLU
            h = model.stage(name, h)
        preds = []
        for offsets in offset_sets:
            start = h + offsets[first] if first in offsets else h  # what the hook on `first` would add
            with offset_hooks(model, {k: v for k, v in offsets.items() if k != first}):
                preds.append(model(start, start=first).argmax(1))
        out.append(torch.stack(preds))
    return torch.cat(out, 1)


# --- the symbiote ------------------------------------------------------------------------------------------------


def head_size(name: str, per_channel: bool = False) -> int:
    """Outputs of the head for layer ``name``: its whole activation map (published), or one number per channel."""
    shape = OFFSET_SHAPES[name]
    return shape[0] if per_channel else math.prod(shape)


class PuppeteerNet(nn.Module):
    """One-hot digits (B, 10) -> offsets {layer: (B, *shape)} in (-1, 1) for ``layers``.

    ``per_channel=True`` gives each conv layer one offset per channel, the same at every position (a variant; the
    published heads emit the whole map)."""

    def __init__(self, width: int = 512, layers=PUBLISHED_LAYERS, dropout: float = 0.5, per_channel: bool = False):
        super().__init__()
        bad = [name for name in layers if name not in OFFSET_SHAPES]
        if bad or not layers:
            raise ValueError(f"layers={tuple(layers)}: choose one or more of {list(OFFSET_SHAPES)}")
        if width < 1:
            raise ValueError(f"width={width} must be at least 1")
        self.layers = tuple(layers)
        self.base = nn.Sequential(
            nn.Linear(N_DIGITS, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(dropout),
        )
        self.per_channel = per_channel
        self.heads = nn.ModuleDict({name: nn.Linear(width, head_size(name, per_channel)) for name in self.layers})

    def forward(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        if z.ndim != 2 or z.shape[1] != N_DIGITS:
            raise ValueError(f"one-hot digits must have shape (B, {N_DIGITS}), got {tuple(z.shape)}")
        h = self.base(z)
        out = {}
        for name in self.layers:
            shape = OFFSET_SHAPES[name]
            d = torch.tanh(self.heads[name](h))
            if self.per_channel and len(shape) == 3:
                out[name] = d[:, :, None, None].expand(-1, *shape)
            else:
                out[name] = d.view(-1, *shape)
        return out


def puppeteer_parameters(width: int, layers=PUBLISHED_LAYERS, per_channel: bool = False) -> int:
    """Parameter count of ``PuppeteerNet(width, layers, per_channel=...)`` from the architecture:
    trunk 10w + w + 2w + w² + w + 2w, heads (w + 1) · Σ head outputs."""
    outputs = sum(head_size(name, per_channel) for name in layers)
    return width * width + 16 * width + (width + 1) * outputs


def width_for_budget(budget: int, layers=WRITEUP_LAYERS, per_channel: bool = False) -> int:
    """The largest trunk width whose ``PuppeteerNet`` has at most ``budget`` parameters."""
    if puppeteer_parameters(1, layers, per_channel) > budget:
        smallest = puppeteer_parameters(1, layers, per_channel)
        raise ValueError(f"budget={budget} is below the smallest PuppeteerNet ({smallest})")
    w = 1
    while puppeteer_parameters(w + 1, layers, per_channel) <= budget:
        w += 1
    return w


def one_hot(digits: torch.Tensor) -> torch.Tensor:
    return F.one_hot(digits.long(), N_DIGITS).float()


@contextmanager
def _norm_statistics_kept(puppeteer: nn.Module):
    """Whatever runs inside, the batch norms' running statistics (and batch counts) are as before on exit."""
    norms = [m for m in puppeteer.modules() if isinstance(m, nn.BatchNorm1d)]
    saved = [{k: v.clone() for k, v in m.named_buffers()} for m in norms]
    try:
        yield
    finally:
        with torch.no_grad():
            for m, buffers in zip(norms, saved, strict=True):
                for k, v in buffers.items():
                    getattr(m, k).copy_(v)


@torch.no_grad()
def offsets_for(puppeteer: PuppeteerNet, digit: int, device=None) -> dict[str, torch.Tensor]:
    """The evaluation-mode offsets for one digit (batch size 1)."""
    puppeteer.eval()
    device = device or next(puppeteer.parameters()).device
    return puppeteer(one_hot(torch.tensor([digit], device=device)))


@torch.no_grad()
def training_offsets(puppeteer: PuppeteerNet, digit: int, n: int = 64, seed: int = 0) -> dict[str, torch.Tensor]:
    """The offsets the symbiote produces in *training* mode for a batch of ``n`` copies of one digit's one-hot vector
    (batch statistics, dropout on), averaged over the batch: (1, *shape) per layer. Its running statistics are left
    as they are."""
    return offsets_read(puppeteer, digit, "batch", True, n, seed)


# --- the loss ------------------------------------------------------------------------------------------------------


def published_loss(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor, alpha: float = 5.0):
    """Cross-entropy toward the true labels ``y`` on **every** image (the inhibited digit's too) plus
    ``alpha`` · mean over images of −log(1 − p(target) + 1e-6), p = softmax probability of the image's inhibited
    digit ``target`` (N,). Returns (total, cross-entropy, inhibition)."""
    ce = F.cross_entropy(logits, y)
    p = logits.softmax(1).gather(1, target.long()[:, None]).squeeze(1)
    inhibit = -torch.log(1 - p + EPS).mean()
    return ce + alpha * inhibit, ce, inhibit


# --- configs -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CNNRecipe:
    """Training of the primary. The published recipe is 10 epochs of 2,100 steps (21,000 steps) at batch 16 with
    Adam 3e-3 and StepLR(step 7 epochs, γ 0.1): the rate drops tenfold after 70 % of training. ``steps`` scales it."""

    steps: int = 1_200
    batch_size: int = 16
    lr: float = 3e-3
    drop_at: float = 0.7  # fraction of the steps after which the learning rate is multiplied by gamma
    gamma: float = 0.1
    train_fraction: float = 0.8  # the published 80/20 split (of Kaggle's file there, of MNIST's training set here)
    seed: int = 0


@dataclass(frozen=True)
class PuppeteerRecipe:
    """Training of a PuppeteerNet on a frozen primary. The published one: width 512, all five layers, digit 3 only,
    30 epochs of 2,100 steps (63,000 steps) at batch 16, Adam 5e-4, α = 5. ``digits``: the inhibited digit of each
    training image is drawn uniformly from these (one digit = the published run)."""

    width: int = 512
    layers: tuple = PUBLISHED_LAYERS
    digits: tuple = (3,)
    steps: int = 150
    batch_size: int = 16
    lr: float = 5e-4
    alpha: float = 5.0
    dropout: float = 0.5
    per_channel: bool = False  # one offset per conv channel instead of per position (not published)
    seed: int = 0


def check_recipe(recipe) -> None:
    """Raise ValueError naming the first field of a recipe outside its allowed range."""
    if recipe.steps < 1 or recipe.batch_size < 2:
        raise ValueError(f"steps={recipe.steps} must be ≥ 1 and batch_size={recipe.batch_size} ≥ 2 (batch norm)")
    if recipe.lr <= 0:
        raise ValueError(f"lr={recipe.lr} must be positive")
    if isinstance(recipe, CNNRecipe):
        if not 0 < recipe.drop_at <= 1 or not 0 < recipe.train_fraction < 1:
            raise ValueError(f"drop_at={recipe.drop_at} must lie in (0, 1], train_fraction={recipe.train_fraction}"
                             " in (0, 1)")
        return
    if not recipe.digits or any(not 0 <= d < N_DIGITS for d in recipe.digits) or len(set(recipe.digits)) < len(
        recipe.digits
    ):
        raise ValueError(f"digits={recipe.digits}: give distinct digits in 0..{N_DIGITS - 1}")
    if recipe.alpha < 0 or not 0 <= recipe.dropout < 1:
        raise ValueError(f"alpha={recipe.alpha} must be ≥ 0 and dropout={recipe.dropout} in [0, 1)")
    PuppeteerNet(1, recipe.layers)  # names the bad layer, if any


# --- training ----------------------------------------------------------------------------------------------------


def adam(params, lr: float) -> torch.optim.Adam:
    """Adam as published, in PyTorch's fused implementation (same update, one pass over the 51.8 M parameters)."""
    return torch.optim.Adam(params, lr=lr, fused=True)


def split(x: torch.Tensor, y: torch.Tensor, fraction: float, seed: int):
    """A seeded (train, validation) split of the training set, ``fraction`` for training (the published 80/20)."""
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed)).to(y.device)
    n = int(round(fraction * len(y)))
    return (x[perm[:n]], y[perm[:n]]), (x[perm[n:]], y[perm[n:]])


class BatchStream:
    """Index batches of a fresh shuffle each pass (the published DataLoader with shuffle=True, drop_last), drawn
    from ``gen``; ``state()`` / ``load_state()`` let a run stop and continue exactly where it was."""

    def __init__(self, n: int, batch_size: int, gen: torch.Generator):
        if batch_size > n:
            raise ValueError(f"batch_size={batch_size} exceeds the {n} training images")
        self.n, self.batch_size, self.gen = n, batch_size, gen
        self.perm, self.pos = None, 0

    def next(self) -> torch.Tensor:
        if self.perm is None or self.pos + self.batch_size > self.n:
            self.perm, self.pos = torch.randperm(self.n, generator=self.gen), 0
        self.pos += self.batch_size
        return self.perm[self.pos - self.batch_size : self.pos]

    def state(self) -> dict:
        return {"gen": self.gen.get_state(), "perm": self.perm, "pos": self.pos}

    def load_state(self, state: dict) -> None:
        self.gen.set_state(state["gen"])
        self.perm, self.pos = state["perm"], state["pos"]


def batches(n: int, batch_size: int, steps: int, gen: torch.Generator):
    """``steps`` index batches of a ``BatchStream``."""
    stream = BatchStream(n, batch_size, gen)
    for _ in range(steps):
        yield stream.next()


def train_cnn(recipe: CNNRecipe, x: torch.Tensor, y: torch.Tensor, progress: bool = True):
    """Train a ``PublishedCNN`` on unit pixels. Returns ``(model, history)``; history: ``loss`` (per step),
    ``seconds`` (wall) and ``cpu_seconds`` (CPU time of the process)."""
    check_recipe(recipe)
    gen = seed_everything(recipe.seed)
    model = PublishedCNN().to(x.device)
    opt = adam(model.parameters(), recipe.lr)
    drop = max(1, round(recipe.drop_at * recipe.steps))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=drop, gamma=recipe.gamma)
    history, start, cpu = {"loss": []}, time.perf_counter(), time.process_time()
    model.train()
    for idx in progress_bar(batches(len(y), recipe.batch_size, recipe.steps, gen), total=recipe.steps,
                            desc="primary steps", enabled=progress):
        idx = idx.to(x.device)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        history["loss"].append(loss.item())
    history["seconds"], history["cpu_seconds"] = time.perf_counter() - start, time.process_time() - cpu
    return model.eval(), history


@torch.no_grad()
def batch_norm_state(puppeteer: PuppeteerNet, digits) -> dict[str, float]:
    """What evaluation mode does with the symbiote's two batch norms: the largest running variance of the first and
    the median of the second, and for the one-hot vectors of ``digits`` the mean magnitude of each batch norm's
    input normalised by its running statistics (training normalises by the batch's own, which gives about 1 for any
    spread that is not zero)."""
    bn1, bn2 = puppeteer.base[1], puppeteer.base[5]
    was_training = puppeteer.training
    puppeteer.eval()
    device = bn1.running_mean.device
    a1 = puppeteer.base[0](one_hot(torch.as_tensor(list(digits), device=device)))
    a2 = puppeteer.base[:5](one_hot(torch.as_tensor(list(digits), device=device)))
    puppeteer.train(was_training)
    return {
        "bn1_var": bn1.running_var.max().item(),
        "bn2_var": bn2.running_var.median().item(),
        "bn1_z": ((a1 - bn1.running_mean) / (bn1.running_var + bn1.eps).sqrt()).abs().mean().item(),
        "bn2_z": ((a2 - bn2.running_mean) / (bn2.running_var + bn2.eps).sqrt()).abs().mean().item(),
    }


HISTORY_KEYS = ("loss", "ce", "inhibit", "bn1_var", "bn2_var", "bn1_z", "bn2_z")


def train_puppeteer(recipe: PuppeteerRecipe, primary: PublishedCNN, x: torch.Tensor, y: torch.Tensor,
                    progress: bool = True, resume: dict | None = None):
    """Train a ``PuppeteerNet`` on a frozen primary (kept in evaluation mode, as published).

    Each step: ``batch_size`` images, each with an inhibited digit drawn from ``recipe.digits``; the symbiote runs in
    training mode on the batch of one-hot digits, so batch norm normalises over the batch and dropout gives every
    image its own offset. Returns ``(puppeteer, history, checkpoint)``. history, one entry per step: the loss and its
    two terms (``loss``, ``ce``, ``inhibit``) and after the step the batch norms' state (``batch_norm_state``);
    ``seconds`` (wall) and ``cpu_seconds`` (CPU time of the process) of all its steps, resumed ones included, and
    ``n_params``.

    ``resume`` is the ``checkpoint`` of a run of the same recipe with fewer steps (weights, Adam's moments, the
    batch and dropout generators, the history so far); training continues from there. The recipe has no
    step-dependent schedule, so a run of N steps is exactly the first N steps of every longer one.
    """
    check_recipe(recipe)
    gen = seed_everything(recipe.seed)
    device = x.device
    primary = primary.eval().requires_grad_(False)
    puppeteer = PuppeteerNet(recipe.width, recipe.layers, recipe.dropout, recipe.per_channel).to(device)
    opt = adam(puppeteer.parameters(), recipe.lr)
    stream = BatchStream(len(y), recipe.batch_size, gen)
    history = {key: [] for key in HISTORY_KEYS}
    if resume is not None:
        done = len(resume["history"]["loss"])
        if done > recipe.steps:
            raise ValueError(f"cannot resume a run of {done} steps to {recipe.steps}: give a longer recipe")
        puppeteer.load_state_dict(resume["state"])
        opt.load_state_dict(resume["optimizer"])
        stream.load_state(resume["batches"])
        torch.set_rng_state(resume["rng"])
        if device.type == "cuda" and "cuda_rng" in resume:
            torch.cuda.set_rng_state(resume["cuda_rng"], device)
        history = {key: list(resume["history"][key]) for key in HISTORY_KEYS}
    digits = torch.tensor(recipe.digits)
    start, cpu = time.perf_counter(), time.process_time()
    puppeteer.train()
    for _ in progress_bar(range(len(history["loss"]), recipe.steps), desc="symbiote steps", enabled=progress):
        idx = stream.next().to(device)
        target = digits[torch.randint(len(digits), (len(idx),), generator=gen)].to(device)
        offsets = puppeteer(one_hot(target))
        logits = offset_logits(primary, offsets, x[idx])
        loss, ce, inhibit = published_loss(logits, y[idx], target, recipe.alpha)
        opt.zero_grad(set_to_none=False)  # reuse the 207 MB of gradient buffers instead of reallocating them
        loss.backward()
        opt.step()
        for key, value in zip(("loss", "ce", "inhibit"), (loss, ce, inhibit), strict=True):
            history[key].append(value.item())
        for key, value in batch_norm_state(puppeteer, recipe.digits).items():
            history[key].append(value)
    before = resume["history"] if resume is not None else {"seconds": 0.0, "cpu_seconds": 0.0}
    history["seconds"] = before["seconds"] + time.perf_counter() - start
    history["cpu_seconds"] = before["cpu_seconds"] + time.process_time() - cpu
    history["n_params"] = count_parameters(puppeteer)
    checkpoint = {"state": _state(puppeteer), "optimizer": opt.state_dict(), "batches": stream.state(),
                  "rng": torch.get_rng_state(), "history": dict(history)}
    if device.type == "cuda":
        checkpoint["cuda_rng"] = torch.cuda.get_rng_state(device)
    return puppeteer.eval(), history, checkpoint


# --- cached runs -------------------------------------------------------------------------------------------------


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def training_data(fraction: float, seed: int, device):
    """Unit-pixel MNIST training images split as published: ``((x_train, y_train), (x_val, y_val))``."""
    x, y = load_mnist("train", device)
    return split(unit_pixels(x), y, fraction, seed)


def load_or_train_cnn(recipe: CNNRecipe = CNNRecipe(), device=None, progress: bool = True):
    """The published primary trained with ``recipe`` (cached). Returns ``(model, history)``."""
    device = device or default_device()

    def build():
        (x, y), _ = training_data(recipe.train_fraction, recipe.seed, device)
        model, history = train_cnn(recipe, x, y, progress)
        return {"state": _state(model), "history": history}

    payload = load_or_build("published-cnn", recipe, build)
    model = PublishedCNN().to(device)
    model.load_state_dict(payload["state"])
    return model.eval().requires_grad_(False), payload["history"]


@dataclass(frozen=True)
class PuppeteerRun:
    """Keys a trained PuppeteerNet: its recipe and the primary's recipe (a retrained primary invalidates it)."""

    puppeteer: PuppeteerRecipe
    primary: CNNRecipe


def load_or_train_budgets(run: PuppeteerRun, primary: PublishedCNN, budgets, progress: bool = True):
    """The PuppeteerNet of ``run`` after each number of steps in ``budgets`` (``run.puppeteer.steps`` is replaced by
    each), every one cached under its own config together with its checkpoint (weights, Adam's moments and the
    generators: about three times the weights on disk). A budget that is not cached continues from the next shorter
    budget of the list, loaded or just trained (same recipe, same primary: the config key makes sure), so a sweep
    costs its longest run. Returns ``[(net, history), ...]`` in the order of ``budgets``."""
    device = next(primary.parameters()).device
    r = run.puppeteer
    if not budgets or any(int(b) != b or b < 1 for b in budgets):
        raise ValueError(f"budgets={tuple(budgets)}: give one or more positive step counts")
    data, done, out = None, None, {}
    for steps in sorted(set(int(b) for b in budgets)):
        key = replace(run, puppeteer=replace(r, steps=steps))

        def build(steps=steps, resume=done):
            nonlocal data
            if data is None:
                (x, y), _ = training_data(run.primary.train_fraction, run.primary.seed, device)
                data = (x, y)
            _, _, checkpoint = train_puppeteer(replace(r, steps=steps), primary, *data, progress, resume=resume)
            return checkpoint

        done = load_or_build("published-puppeteer-run", key, build)
        net = PuppeteerNet(r.width, r.layers, r.dropout, r.per_channel).to(device)
        net.load_state_dict(done["state"])
        out[steps] = (net.eval(), done["history"])
    return [out[int(b)] for b in budgets]


def load_or_train_puppeteer(run: PuppeteerRun, primary: PublishedCNN, progress: bool = True):
    """The PuppeteerNet of ``run`` (cached), trained on the primary's training split. Returns ``(net, history)``."""
    return load_or_train_budgets(run, primary, [run.puppeteer.steps], progress)[0]


def writeup_recipe(recipe: PuppeteerRecipe, primary_params: int, fraction: float = 0.5, per_channel: bool = False,
                   **changes):
    """``recipe`` under the write-up's rules: hidden layers only, all ten digits, and the widest trunk (at most the
    recipe's width) that keeps the symbiote within ``fraction`` of the primary's parameters."""
    width = min(recipe.width, width_for_budget(int(fraction * primary_params), WRITEUP_LAYERS, per_channel))
    return replace(recipe, width=width, layers=WRITEUP_LAYERS, digits=tuple(range(N_DIGITS)), per_channel=per_channel,
                   **changes)


# --- evaluation --------------------------------------------------------------------------------------------------


def scores(pred: torch.Tensor, y: torch.Tensor, digit: int) -> dict[str, float]:
    """Overall, other-digit (retain) and inhibited-digit (forget) accuracy in %, as the published notebook reports."""
    cm = batched_confusion(pred[None], y)[0]
    forget, retain = forget_retain(cm, [digit])
    return {"overall": 100 * (pred == y).double().mean().item(), "other": 100 * retain, "digit": 100 * forget}


def budget_scores(primary: PublishedCNN, nets: dict, splits: dict, digit: int = 3, seed: int = 0) -> list[dict]:
    """Forget/retain scores of each symbiote of a budget sweep. ``nets``: {steps: PuppeteerNet}; ``splits``:
    {name: (x, y)} of unit-pixel images. For every budget, split and reading (``"evaluation mode"``: the published
    protocol; ``"training mode"``: ``training_offsets``), a row ``{"steps", "split", "mode", "overall", "other",
    "digit"}`` in %, as ``scores``."""
    if not nets or not splits:
        raise ValueError("budget_scores needs at least one trained symbiote and one split of images")
    rows = []
    for steps, net in sorted(nets.items()):
        readings = {"evaluation mode": offsets_for(net, digit),
                    "training mode": training_offsets(net, digit, seed=seed)}
        for split_name, (x, y) in splits.items():
            preds = predict_many(primary, list(readings.values()), x)
            for mode, pred in zip(readings, preds, strict=True):
                rows.append({"steps": steps, "split": split_name, "mode": mode, **scores(pred, y, digit)})
    return rows


def first_layer_gradients(puppeteer: PuppeteerNet, primary: PublishedCNN, x: torch.Tensor, y: torch.Tensor,
                          recipe: PuppeteerRecipe, seed: int = 0) -> dict[str, float]:
    """The gradient of one training batch (the recipe's loss, training mode, batch of ``recipe.batch_size`` images),
    computed and not applied: the largest |∂L/∂w| over the first linear layer's weights and bias (``first``), over
    the first batch norm's scale and shift (``bn1``) and over the heads' weights (``heads``). With every row of a batch
    the same one-hot vector, batch norm makes ``first`` zero in exact arithmetic; what is left is rounding. The
    network's weights, running statistics and the global random state are left as they were."""
    device = next(puppeteer.parameters()).device
    was_training = puppeteer.training
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []), _norm_statistics_kept(puppeteer):
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        idx = torch.randperm(len(y), generator=gen)[: recipe.batch_size].to(device)
        digits = torch.tensor(recipe.digits)
        target = digits[torch.randint(len(digits), (len(idx),), generator=gen)].to(device)
        try:
            puppeteer.train().zero_grad(set_to_none=True)
            logits = offset_logits(primary.eval(), puppeteer(one_hot(target)), x[idx])
            published_loss(logits, y[idx], target, recipe.alpha)[0].backward()
        finally:
            puppeteer.train(was_training)
    first, bn1 = puppeteer.base[0], puppeteer.base[1]

    def largest(params):
        return max(p.grad.abs().max().item() for p in params)

    out = {"first": largest([first.weight, first.bias]), "bn1": largest([bn1.weight, bn1.bias]),
           "heads": largest([head.weight for head in puppeteer.heads.values()])}
    puppeteer.zero_grad(set_to_none=True)
    return out


@torch.no_grad()
def offsets_read(puppeteer: PuppeteerNet, digit: int, statistics: str = "running", dropout: bool = False,
                 n: int = 64, seed: int = 0) -> dict[str, torch.Tensor]:
    """The offsets for one digit with the two differences between evaluation and training mode chosen separately:
    batch norm with its ``"running"`` statistics (evaluation) or the ``"batch"``'s own (training, over ``n`` copies
    of the one-hot vector), and dropout off or on (then averaged over the ``n`` draws). ``("running", False)`` is
    ``offsets_for``, ``("batch", True)`` is ``training_offsets``. Running statistics and the global random state are
    left as they were. Returns (1, *shape) per layer."""
    if statistics not in ("running", "batch"):
        raise ValueError(f"statistics={statistics!r}: choose 'running' or 'batch'")
    device = next(puppeteer.parameters()).device
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []), _norm_statistics_kept(puppeteer):
        torch.manual_seed(seed)
        try:
            puppeteer.eval()
            for m in puppeteer.modules():
                if isinstance(m, nn.BatchNorm1d):
                    m.train(statistics == "batch")
                elif isinstance(m, nn.Dropout):
                    m.train(dropout)
            out = puppeteer(one_hot(torch.full((n,), digit, device=device)))
        finally:
            puppeteer.eval()
    return {name: v.mean(0, keepdim=True) for name, v in out.items()}


READINGS = {  # (statistics, dropout) of offsets_read: the 2 × 2 between evaluation and training mode
    "evaluation mode (running statistics, no dropout)": ("running", False),
    "running statistics, dropout averaged": ("running", True),
    "batch statistics, no dropout": ("batch", False),
    "training mode (batch statistics, dropout averaged)": ("batch", True),
}
