"""The primary network: a small MNIST CNN with named layers, its training loop and its evaluation.

Layer roles matter to later chapters: the symbiote and BIMT pruning edit only the hidden layers,
never the first (pixels -> features) or the last (features -> logits).
"""

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from symbiote_lite.artifacts import load_or_build
from symbiote_lite.data import load_mnist
from symbiote_lite.runtime import default_device, progress_bar, seed_everything

FIRST_LAYER = "conv1"
HIDDEN_LAYERS = ("conv2", "fc1")
LAST_LAYER = "fc2"
# the cache file's name; it changes with the layout of the stored history (a primary of another layout is never read)
ARTIFACT = "primary-2"


@dataclass(frozen=True)
class PrimaryConfig:
    channels1: int = 8
    channels2: int = 32
    hidden: int = 64
    epochs: int = 2
    batch_size: int = 256
    lr: float = 1e-2  # peak of the one-cycle schedule
    weight_decay: float = 1e-4
    seed: int = 0


def channels_last(a: torch.Tensor) -> torch.Tensor:
    """``a`` in channels_last memory order (a no-op when it already is). On CPU, pooling is ~9x and the next
    convolution ~1.6x faster in this order; a conv on a one-channel input (conv1 on pixels) returns the default
    order unless its weight is channels_last, hence the explicit conversion. Inside ``torch.func.vmap``, which cannot
    query memory formats, ``a`` is returned as it is (same values, default order)."""
    try:
        return a.contiguous(memory_format=torch.channels_last)
    except RuntimeError:  # "NYI: querying is_contiguous inside of vmap ..."
        return a


class PrimaryCNN(nn.Module):
    """conv1 -> conv2 -> fc1 -> fc2, 2x2 max-pooling and ReLU after each conv.

    Pooling comes before the ReLU: the two commute (max and ReLU are both monotone), and this order applies
    the ReLU and its backward pass to a quarter as many values, which makes training noticeably faster on CPU.
    """

    def __init__(self, channels1: int = 8, channels2: int = 32, hidden: int = 64):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels1, 5)  # 28 -> 24 -> pool 12
        self.conv2 = nn.Conv2d(channels1, channels2, 5)  # 12 -> 8 -> pool 4
        self.fc1 = nn.Linear(channels2 * 16, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def first(self, x):
        """conv1's activations (after pooling and ReLU): the part of the forward pass the hidden-layer edits share."""
        return F.relu(F.max_pool2d(channels_last(self.conv1(x)), 2))

    def after_first(self, a1, return_hidden: bool = False):
        """The rest of the forward pass, from conv1's activations ``a1`` (``first``'s output)."""
        a2 = F.relu(F.max_pool2d(channels_last(self.conv2(a1)), 2))
        a3 = F.relu(self.fc1(a2.flatten(1)))
        logits = self.fc2(a3)
        if return_hidden:
            return logits, {"conv1": a1, "conv2": a2, "fc1": a3}
        return logits

    def forward(self, x, return_hidden: bool = False):
        return self.after_first(self.first(x), return_hidden)

    def forward_many(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """``forward`` under B parameter sets at once: x (N, 1, 28, 28) -> logits (B, N, 10).

        ``params`` maps every parameter name to its value, either one tensor shared by all B sets (the parameter's
        own shape) or a batch of B (a leading axis). Layers before the first batched parameter run once; a conv
        with a batched weight on a shared input is one convolution with B·out filters, and after that each set's
        channels stay side by side (N, B·C, H, W), so later convs are grouped convolutions and fc1 is one batched
        matrix product. Same result as looping ``forward`` over the B sets, several times faster on CPU.
        """
        names = [name for name, _ in self.named_parameters()]
        if set(params) != set(names):
            raise ValueError(f"params must name exactly {names}; missing {sorted(set(names) - set(params))}, "
                             f"unknown {sorted(set(params) - set(names))}")
        own = dict(self.named_parameters())
        batched = {k: v.dim() == own[k].dim() + 1 for k, v in params.items()}
        bad = [f"{k} {tuple(v.shape)}" for k, v in params.items() if tuple(v.shape[batched[k]:]) != own[k].shape]
        if bad:
            raise ValueError(f"parameters of the wrong shape: {', '.join(bad)}; give the parameter's own shape "
                             "(shared) or a batch of them (B, *shape)")
        sizes = {v.shape[0] for k, v in params.items() if batched[k]}
        if len(sizes) > 1:
            raise ValueError(f"batched parameters disagree on the batch size: {sorted(sizes)}")
        b = sizes.pop() if sizes else 1

        def weight_bias(layer):  # both batched, (B, out, ...) and (B, out), or both shared
            w, bias = params[f"{layer}.weight"], params[f"{layer}.bias"]
            if batched[f"{layer}.weight"] or batched[f"{layer}.bias"]:
                w = w if batched[f"{layer}.weight"] else w.expand(b, *w.shape)
                bias = bias if batched[f"{layer}.bias"] else bias.expand(b, *bias.shape)
                return w, bias, True
            return w, bias, False

        a, many = x, False
        for layer in ("conv1", "conv2"):
            w, bias, edited = weight_bias(layer)
            if many:  # (N, B·C, H, W): one group per parameter set
                w, bias = (w, bias) if edited else (w.expand(b, *w.shape), bias.expand(b, *bias.shape))
                a = F.conv2d(a, w.flatten(0, 1), bias.flatten(), groups=b)
            elif edited:  # shared input, B·out filters
                a, many = F.conv2d(a, w.flatten(0, 1), bias.flatten()), True
            else:
                a = F.conv2d(a, w, bias)
            a = F.relu(F.max_pool2d(channels_last(a), 2))
        n = len(x)
        a = a.reshape(n, b, -1).transpose(0, 1) if many else a.flatten(1)  # (B, N, C·H·W) or (N, C·H·W)
        for layer in ("fc1", "fc2"):
            w, bias, edited = weight_bias(layer)
            if edited:
                a = a if many else a.expand(b, *a.shape)
                a, many = torch.baddbmm(bias[:, None, :], a, w.transpose(1, 2)), True
            else:
                a = F.linear(a, w, bias)
            if layer == "fc1":
                a = F.relu(a)
        return a if many else a.expand(b, *a.shape)


def build_model(config: PrimaryConfig) -> PrimaryCNN:
    return PrimaryCNN(config.channels1, config.channels2, config.hidden)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """Predicted class for every row of ``x``."""
    model.eval()
    return torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


@torch.no_grad()
def activations(model: PrimaryCNN, x: torch.Tensor, layers=("conv1", "conv2", "fc1"), batch_size: int = 2000):
    """The one reader of hidden activations: (logits (N, 10), {layer: its activations after the ReLU (and pooling) for
    every image}) of the unedited model in evaluation mode, read in batches; ``layers`` picks which to keep."""
    unknown = set(layers) - {"conv1", "conv2", "fc1"}
    if unknown:
        raise ValueError(f"layers {sorted(unknown)} are not hidden layers of the primary: choose conv1, conv2, fc1")
    model.eval()
    logits, hidden = [], {layer: [] for layer in layers}
    for i in range(0, len(x), batch_size):
        out, h = model(x[i : i + batch_size], return_hidden=True)
        logits.append(out)
        for layer in layers:
            hidden[layer].append(h[layer])
    return torch.cat(logits), {layer: torch.cat(parts) for layer, parts in hidden.items()}


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return (predict(model, x) == y).float().mean().item()


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    """Zero the pruned weights in place: every parameter named in ``masks`` is multiplied by its 0/1 mask."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, mask in masks.items():
            params[name].mul_(mask)


def train(config: PrimaryConfig, x, y, x_test=None, y_test=None, progress: bool = True, evals_per_epoch: int = 4,
          masks: dict | None = None, desc: str = "primary steps"):
    """Train a fresh model on in-memory tensors. Returns ``(model, history)``. With ``masks`` ({parameter name: 0/1
    mask}), the model keeps that sparse wiring: the masks are re-applied after every step.

    history: ``step`` and ``loss`` (mean training loss over logging intervals of up to 25 steps), and, when a
    test set is given, ``eval_step``, ``eval_seconds`` (training time so far) and ``eval_acc`` (accuracy) at
    ``evals_per_epoch`` points per epoch; ``seconds`` is the training wall time, evaluation excluded.
    """
    seed_everything(config.seed)
    device = x.device
    model = build_model(config).to(device, memory_format=torch.channels_last)  # faster convs on CPU
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = len(y) // config.batch_size
    total_steps = config.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, config.lr, total_steps=total_steps)
    eval_every = max(1, steps_per_epoch // evals_per_epoch)
    log_every = max(1, min(25, steps_per_epoch // 4))
    allowed = {k: m.to(device, torch.float32) for k, m in (masks or {}).items()}
    gen = torch.Generator(device="cpu").manual_seed(config.seed)
    history = {"step": [], "loss": [], "eval_step": [], "eval_seconds": [], "eval_acc": [], "seconds": 0.0}
    running = torch.zeros((), device=device)
    step = 0
    bar = progress_bar(total=total_steps, desc=desc, enabled=progress)
    for _ in range(config.epochs):
        perm = torch.randperm(len(y), generator=gen).to(device)
        start = time.perf_counter()
        model.train()
        for i in range(steps_per_epoch):
            idx = perm[i * config.batch_size : (i + 1) * config.batch_size]
            xb = x[idx].contiguous(memory_format=torch.channels_last)
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            apply_masks(model, allowed)
            running += loss.detach()
            step += 1
            if step % log_every == 0:
                history["step"].append(step)
                history["loss"].append(running.item() / log_every)
                running.zero_()
            if x_test is not None and (step % eval_every == 0 or step == total_steps):
                history["seconds"] += time.perf_counter() - start
                history["eval_step"].append(step)
                history["eval_seconds"].append(history["seconds"])
                history["eval_acc"].append(accuracy(model, x_test, y_test))
                model.train()
                start = time.perf_counter()
        history["seconds"] += time.perf_counter() - start
        bar.update(steps_per_epoch)
    bar.close()
    model.eval()
    history["steps_per_epoch"] = steps_per_epoch
    return model.to(memory_format=torch.contiguous_format), history


def load_or_train_on_mnist(name: str, config, train_fn, device, progress: bool = True) -> dict:
    """``{"state", "history"}`` of ``train_fn(config, x_train, y_train, x_test, y_test, progress=...)`` on MNIST,
    from the artifact cache under ``name`` and ``config`` (trained and cached first if absent)."""

    def build():
        x, y = load_mnist("train", device)
        xt, yt = load_mnist("test", device)
        model, history = train_fn(config, x, y, xt, yt, progress=progress)
        return {"state": {k: v.cpu() for k, v in model.state_dict().items()}, "history": history}

    return load_or_build(name, config, build)


def load_or_train(config: PrimaryConfig = PrimaryConfig(), device=None, progress: bool = True):
    """The trained primary for ``config`` from the artifact cache, training it first if absent."""
    device = device or default_device()
    payload = load_or_train_on_mnist(ARTIFACT, config, train, device, progress)
    model = build_model(config)
    model.load_state_dict(payload["state"])
    return model.to(device).eval(), payload["history"]
