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

    def forward(self, x, return_hidden: bool = False):
        a1 = F.relu(F.max_pool2d(self.conv1(x), 2))
        a2 = F.relu(F.max_pool2d(self.conv2(a1), 2))
        a3 = F.relu(self.fc1(a2.flatten(1)))
        logits = self.fc2(a3)
        if return_hidden:
            return logits, {"conv1": a1, "conv2": a2, "fc1": a3}
        return logits


def build_model(config: PrimaryConfig) -> PrimaryCNN:
    return PrimaryCNN(config.channels1, config.channels2, config.hidden)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """Predicted class for every row of ``x``."""
    model.eval()
    return torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return (predict(model, x) == y).float().mean().item()


def train(config: PrimaryConfig, x, y, x_test=None, y_test=None, progress: bool = True, evals_per_epoch: int = 4):
    """Train a fresh model on in-memory tensors. Returns ``(model, history)``.

    history: ``step`` and ``loss`` (mean training loss over logging intervals of up to 25 steps), and, when a
    test set is given, ``eval_step``, ``eval_seconds`` (training time so far) and ``test_acc`` at
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
    gen = torch.Generator(device="cpu").manual_seed(config.seed)
    history = {"step": [], "loss": [], "eval_step": [], "eval_seconds": [], "test_acc": [], "seconds": 0.0}
    running = torch.zeros((), device=device)
    step = 0
    bar = progress_bar(total=total_steps, desc="primary steps", enabled=progress)
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
                history["test_acc"].append(accuracy(model, x_test, y_test))
                model.train()
                start = time.perf_counter()
        history["seconds"] += time.perf_counter() - start
        bar.update(steps_per_epoch)
    bar.close()
    model.eval()
    history["steps_per_epoch"] = steps_per_epoch
    return model.to(memory_format=torch.contiguous_format), history


def load_or_train(config: PrimaryConfig = PrimaryConfig(), device=None, progress: bool = True):
    """The trained primary for ``config`` from the artifact cache, training it first if absent."""
    device = device or default_device()

    def build():
        x, y = load_mnist("train", device)
        xt, yt = load_mnist("test", device)
        model, history = train(config, x, y, xt, yt, progress=progress)
        return {"state": {k: v.cpu() for k, v in model.state_dict().items()}, "history": history}

    payload = load_or_build("primary", config, build)
    model = build_model(config)
    model.load_state_dict(payload["state"])
    return model.to(device).eval(), payload["history"]
