"""The baselines of chapter 5 that the symbiote is compared with; the scores live in ``metrics`` and the primaries
of a seed in ``networks``."""

import copy
import time
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from symbiote_lite.artifacts import load_or_build
from symbiote_lite.data import load_mnist, train_val_split
from symbiote_lite.metrics import FORGET_TARGET, N_DIGITS, batched_confusion, confusion_matrix
from symbiote_lite.primary import (
    HIDDEN_LAYERS,
    LAST_LAYER,
    PrimaryConfig,
    apply_masks,
    predict,
    train,
)
from symbiote_lite.runtime import progress_bar, seed_everything
from symbiote_lite.symbiote import SymbioteConfig, check_masks, edited_predict, optimise_diff

# --- Chapters 4-5: forgetting and retaining, and the baselines the symbiote is compared with ---------------------


def diff_confusions(primary, diffs: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Confusion matrices (B, 10, 10) of the primary edited by each of B diffs."""
    return batched_confusion(edited_predict(primary, diffs, x), y)


def model_confusion(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return confusion_matrix(predict(model, x), y)


# --- baselines ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineConfig:
    direct_steps: int = 100  # baseline 1: optimisation steps of one diff per digit ...
    direct_together: bool = True  # ... the ten diffs, independent, in one batched loop (False: one loop per digit)
    finetune_lr: float = 3e-4  # baseline 2: Adam on the hidden layers ...
    finetune_max_steps: int = 200  # ... until forget on the validation images <= forget_goal, or this many steps
    finetune_batch: int = 128
    ascent_weight: float = 1.0  # weight of the gradient-ascent term on the target digit
    check_every: int = 1  # steps between checks of the stopping rule
    forget_goal: float = FORGET_TARGET  # the forget-accuracy target of the book (0.5 %)
    retrain_digits: tuple = (3,)  # baseline 3 (retraining from scratch) is costly: only these digits ...
    retrain_epochs: int = PrimaryConfig.epochs  # ... and this many epochs (the primary's own recipe)
    seed: int = 0


def suppress_row(primary, digits) -> dict[str, torch.Tensor]:
    """Baseline 4 as diffs of the LAST layer: zero the target's row and give it a bias of -1e4 (B = len(digits))."""
    w, b = getattr(primary, LAST_LAYER).weight.detach(), getattr(primary, LAST_LAYER).bias.detach()
    onehot = F.one_hot(torch.as_tensor(list(digits), device=w.device), w.shape[0]).to(w.dtype)  # (B, 10)
    dw = -onehot[:, :, None] * w[None]  # (B, 10, hidden): row t becomes 0
    db = -onehot * (b[None] + 1e4)  # (B, 10): bias t becomes -1e4
    return {f"{LAST_LAYER}.weight": dw, f"{LAST_LAYER}.bias": db}


def random_like(diffs: dict[str, torch.Tensor], primary, masks: dict | None, seed: int = 0) -> dict[str, torch.Tensor]:
    """Baseline 5: Gaussian diffs on the same (surviving) entries, each with the norm of the given diff."""
    gen = torch.Generator().manual_seed(seed)
    allowed = check_masks(primary, masks)
    out = {}
    for k, d in diffs.items():
        r = torch.randn(d.shape, generator=gen).to(d.device)
        if k in allowed:
            r = r * allowed[k]
        scale = d.flatten(1).norm(dim=1) / r.flatten(1).norm(dim=1).clamp_min(1e-12)  # (B,)
        out[k] = r * scale.view(-1, *[1] * (d.ndim - 1))
    return out


def finetune_unlearn(primary, masks: dict | None, digit: int, config: BaselineConfig, x, y, x_val, y_val):
    """Baseline 2: fine-tune the hidden layers with cross-entropy on the other digits minus ``ascent_weight`` ×
    cross-entropy on the target (gradient ascent), stopping as soon as the target's forget accuracy on the
    validation images is <= ``forget_goal``. Pruned weights stay 0. Returns ``(model, seconds, steps)``."""
    seed_everything(config.seed)
    start = time.perf_counter()
    model = copy.deepcopy(primary).eval().requires_grad_(False)
    allowed = {k: m.to(torch.float32) for k, m in check_masks(model, masks).items()}
    params = dict(model.named_parameters())
    trainable = [params[f"{layer}.{kind}"] for layer in HIDDEN_LAYERS for kind in ("weight", "bias")]
    for p in trainable:
        p.requires_grad_(True)
    opt = torch.optim.Adam(trainable, lr=config.finetune_lr)
    gen = torch.Generator().manual_seed(config.seed)
    target_idx, rest_idx = (y == digit).nonzero().squeeze(1), (y != digit).nonzero().squeeze(1)
    x_val_t = x_val[y_val == digit]
    steps = 0
    for steps in range(1, config.finetune_max_steps + 1):
        it = target_idx[torch.randint(len(target_idx), (config.finetune_batch // 2,), generator=gen).to(y.device)]
        ir = rest_idx[torch.randint(len(rest_idx), (config.finetune_batch,), generator=gen).to(y.device)]
        loss = F.cross_entropy(model(x[ir]), y[ir]) - config.ascent_weight * F.cross_entropy(model(x[it]), y[it])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        apply_masks(model, allowed)
        if steps % config.check_every == 0 and (predict(model, x_val_t) == digit).float().mean() <= config.forget_goal:
            break
    return model.requires_grad_(False).eval(), time.perf_counter() - start, steps


def retrain_without(config: PrimaryConfig, masks: dict | None, digit: int, x, y, epochs: int, progress: bool = False):
    """Baseline 3: train a fresh primary (same architecture and recipe; with ``masks``, the same sparse wiring,
    re-applied after every step) on the training images of every digit but ``digit``. Returns ``(model, seconds)``.
    """
    keep = y != digit
    model, history = train(replace(config, epochs=epochs), x[keep], y[keep], progress=progress, masks=masks,
                           desc=f"retrain without {digit}")
    return model.requires_grad_(False), history["seconds"]


def symbiote_edits(symbiote, primary, x, y, digits=range(N_DIGITS), repeats: int = 20) -> dict:
    """The symbiote's single-digit edits on (x, y): confusion matrices, and the median wall time of one edit
    (one intervention -> diffs, a single forward pass of the symbiote)."""
    digits = [int(d) for d in digits]
    eye = torch.eye(N_DIGITS, device=x.device)
    with torch.no_grad():
        diffs = symbiote(eye[digits])
        times = []
        for i in range(repeats):
            start = time.perf_counter()
            symbiote(eye[digits[i % len(digits)]][None])
            times.append(time.perf_counter() - start)
    cms = diff_confusions(primary, diffs, x, y)
    return {"digits": digits, "cms": cms, "seconds": [float(torch.tensor(times).median())] * len(digits)}


def run_baselines(
    primary,
    masks: dict | None,
    primary_config: PrimaryConfig,
    symbiote,
    symbiote_config: SymbioteConfig,
    config: BaselineConfig,
    train: tuple,
    val: tuple,
    test: tuple,
    progress: bool = True,
) -> dict:
    """The five baselines on one primary. Per method: ``digits``, ``cms`` (test-set confusion matrices, one per
    edited digit), ``seconds`` (wall time to produce each edit). ``train``/``val``/``test`` are (x, y) pairs."""
    (x, y), (xv, yv), (xt, yt) = train, val, test
    digits = list(range(N_DIGITS))
    eye = torch.eye(N_DIGITS, device=x.device)
    out = {}
    # ``config.seed`` seeds every baseline: the direct diffs' initialisation and batches, fine-tuning, retraining
    # and the random diffs (with seed 0 these are exactly the recipes' own seeds).
    symbiote_config = replace(symbiote_config, seed=config.seed)
    primary_config = replace(primary_config, seed=config.seed)

    if config.direct_together:  # each diff has its own parameters; each edit is charged a tenth of the time
        diffs, s = optimise_diff(primary, masks, eye, symbiote_config, x, y, steps=config.direct_steps)
        secs = [s / N_DIGITS] * N_DIGITS
    else:
        runs = [optimise_diff(primary, masks, eye[d], symbiote_config, x, y, steps=config.direct_steps)
                for d in progress_bar(digits, desc="1 direct diffs", enabled=progress)]
        diffs = {k: torch.cat([r[0][k] for r in runs]) for k in runs[0][0]}
        secs = [r[1] for r in runs]
    out["direct"] = {"digits": digits, "cms": diff_confusions(primary, diffs, xt, yt), "seconds": secs}

    cms, secs, steps = [], [], []
    for d in progress_bar(digits, desc="2 fine-tuning", enabled=progress):
        model, s, n = finetune_unlearn(primary, masks, d, config, x, y, xv, yv)
        cms.append(model_confusion(model, xt, yt))
        secs.append(s)
        steps.append(n)
    out["finetune"] = {"digits": digits, "cms": torch.stack(cms), "seconds": secs, "steps": steps}

    cms, secs = [], []
    for d in progress_bar(list(config.retrain_digits), desc="3 retraining", enabled=progress):
        model, s = retrain_without(primary_config, masks, d, x, y, config.retrain_epochs)
        cms.append(model_confusion(model, xt, yt))
        secs.append(s)
    out["retrain"] = {"digits": list(config.retrain_digits), "cms": torch.stack(cms), "seconds": secs}

    start = time.perf_counter()
    rows = suppress_row(primary, digits)
    seconds = (time.perf_counter() - start) / len(digits)
    out["last_row"] = {"digits": digits, "cms": diff_confusions(primary, rows, xt, yt), "seconds": [seconds] * 10}

    with torch.no_grad():
        noise = random_like(symbiote(eye), primary, masks, seed=config.seed)
    out["random"] = {"digits": digits, "cms": diff_confusions(primary, noise, xt, yt), "seconds": [float("nan")] * 10}
    return out


@dataclass(frozen=True)
class BaselinesRun:
    """What keys the cached baseline results of one primary."""

    baselines: BaselineConfig
    symbiote: SymbioteConfig  # the diff form (rank) and loss of baseline 1, and the symbiote of baseline 5
    primary: str
    primary_key: str


def load_or_run_baselines(
    primary,
    masks,
    label: str,
    key: str,
    symbiote,
    symbiote_config: SymbioteConfig,
    config: BaselineConfig = BaselineConfig(),
    progress: bool = True,
) -> dict:
    """``run_baselines`` on the training split / validation split of the symbiote and the test set, cached."""
    device = next(primary.parameters()).device

    def build():
        x, y = load_mnist("train", device)
        train, val = train_val_split(x, y, symbiote_config.val_size, symbiote_config.seed)
        test = load_mnist("test", device)
        return run_baselines(
            primary, masks, PrimaryConfig(), symbiote, symbiote_config, config, train, val, test, progress=progress
        )

    return load_or_build(f"baselines-{label}", BaselinesRun(config, symbiote_config, label, key), build)
