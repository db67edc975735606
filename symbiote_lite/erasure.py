"""Erased or suppressed? Linear probes, LEACE and relearning attacks on every edit (the erasure chapter).

An edit that stops the primary from *outputting* a digit may still leave the digit readable inside the network
(suppression) or remove it (erasure). Two measurements tell them apart, each against two references:

* the **retrained** model: a fresh primary of the same seed and recipe trained without the digit (what erasure
  should look like), and
* **last-layer suppression**: the primary with the digit's output row zeroed and its bias set just below the other
  logits (every hidden layer untouched: pure suppression).

``probe_scores`` trains linear probes (logistic regression on standardised features, fixed L2 penalty) on each
hidden layer of an edited network and reads the forgotten digit from held-out images; ``relearn`` fine-tunes the
edited network (the edit folded into its weights, every weight trainable) on k images of the digit mixed with k
others and records how fast the digit's accuracy comes back on held-out images. ``leace_scores`` applies LEACE
(``concept-erasure``) at fc1 as the reference for "linearly erased" and reports what it costs the other digits.

Every method's edits are *folded*: one ``PrimaryCNN`` per digit whose weights already contain the edit
(``fold_diffs``, ``fold_offsets``, ``suppressed``), so probes and attacks see ordinary networks. ``run_seed`` does
it all for one seed of the replication's chains (their networks from the cache) and ``load_or_run_seed`` caches
the record; ``references`` trains the retrained and fine-tuned models of a seed (``python -m
symbiote_lite.erasure SEEDS`` builds them ahead of the chapter).
"""

import argparse
import copy
import warnings
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from symbiote_lite import editors as E
from symbiote_lite import stats
from symbiote_lite.artifacts import config_hash, load_or_build
from symbiote_lite.baselines import BaselineConfig, finetune_unlearn, retrain_without
from symbiote_lite.circuits import auroc
from symbiote_lite.data import load_mnist, train_val_split
from symbiote_lite.metrics import N_DIGITS
from symbiote_lite.networks import load_primaries, primary_configs
from symbiote_lite.primary import LAST_LAYER, PrimaryCNN, activations, channels_last, load_or_train
from symbiote_lite.replication import decide_levels
from symbiote_lite.runtime import default_device, progress_bar
from symbiote_lite.stages import CircuitsConfig, tuned_steering
from symbiote_lite.symbiote import SymbioteConfig, load_or_train_symbiote

ARTIFACT = "erasure-1"  # one seed's record; changes with its layout
REFERENCES = "erasure-references-1"  # one seed's retrained and fine-tuned networks
PROBE_LAYERS = ("conv1", "conv2", "fc1", "fc2")  # fc2: the logits
# the edit methods, then the references; "suppression" is the reference of the dense primary's edits,
# "suppression (pruned)" that of the pruned primary's symbiote
METHODS = ("symbiote (dense)", "symbiote (pruned)", "direct optimisation", "fine-tune unlearning",
           "activation steering")
REFERENCE_METHODS = ("unedited", "retrained", "suppression", "suppression (pruned)")
SUPPRESSION_OF = {m: "suppression (pruned)" if m == "symbiote (pruned)" else "suppression" for m in METHODS}


@dataclass(frozen=True)
class ErasureConfig:
    """The chapter's measurement (its defaults are the book's)."""

    n_probe: int = 2000  # test images (a fixed shuffle) the probes see: the first probe_split train them, ...
    probe_split: int = 1000  # ... the rest score them
    probe_l2: float = 1e-3  # probes: mean cross-entropy + probe_l2 · ‖w‖² on standardised features ...
    probe_iters: int = 50  # ... fitted by L-BFGS (full batch, at most this many iterations)
    shots: tuple = (10, 100)  # relearning attack: k images of the digit + k of the others (training set) ...
    attack_batch: int = 10  # ... Adam on batches of this many of each (all of them when k is smaller) ...
    attack_steps: int = 30  # ... for this many steps, every weight trainable ...
    attack_lr: float = 1e-3
    eval_steps: tuple = (0, 2, 5, 10, 20, 30)  # ... accuracy on held-out images of the digit after these steps
    n_eval: int = 100  # held-out test images of each digit the attack is scored on (none of the probes' images)
    seed: int = 0

    def __post_init__(self):
        if not 0 < self.probe_split < self.n_probe <= 10_000 - N_DIGITS * self.n_eval:
            raise ValueError(f"need 0 < probe_split < n_probe and room for n_eval held-out images per digit; got "
                             f"probe_split={self.probe_split}, n_probe={self.n_probe}, n_eval={self.n_eval}")
        if self.eval_steps[-1] != self.attack_steps or sorted(set(self.eval_steps)) != list(self.eval_steps):
            raise ValueError(f"eval_steps must increase and end at attack_steps={self.attack_steps}, "
                             f"got {self.eval_steps}")


# --- folding edits into networks ------------------------------------------------------------------------------


def fold_diffs(primary: PrimaryCNN, diffs: dict[str, torch.Tensor]) -> list[PrimaryCNN]:
    """One copy of ``primary`` per diff of the batch {name: (B, *shape)}, the diff added to its weights."""
    n = {d.shape[0] for d in diffs.values()}
    if len(n) != 1:
        raise ValueError(f"diffs must share one batch size, got {sorted(n)}")
    own = dict(primary.named_parameters())
    unknown = sorted(set(diffs) - set(own))
    if unknown:
        raise ValueError(f"diffs name {unknown}, which are not parameters of the primary")
    out = []
    for b in range(n.pop()):
        model = copy.deepcopy(primary).eval().requires_grad_(False)
        params = dict(model.named_parameters())
        for k, d in diffs.items():
            params[k].add_(d[b].to(params[k].dtype))
        out.append(model)
    return out


def fold_offsets(primary: PrimaryCNN, offsets: dict[str, torch.Tensor]) -> list[PrimaryCNN]:
    """Activation offsets {layer: (B, channels)} added before a layer's nonlinearity are a change of its bias."""
    return fold_diffs(primary, {f"{layer}.bias": d for layer, d in offsets.items()})


@torch.no_grad()
def suppressed(primary: PrimaryCNN, digit: int, x: torch.Tensor) -> PrimaryCNN:
    """Last-layer suppression of ``digit``: its output row zeroed and its bias set 1 below the smallest largest-
    other-logit on images ``x``, so it never wins on them while every hidden layer stays the primary's. (A finite
    bias: the −10⁴ of chapter 5's baseline would also stop any gradient-based relearning, which is not suppression.)
    """
    logits = primary.eval()(x)
    others = torch.cat([logits[:, :digit], logits[:, digit + 1:]], 1)
    model = copy.deepcopy(primary).eval().requires_grad_(False)
    last = getattr(model, LAST_LAYER)
    last.weight[digit] = 0
    last.bias[digit] = others.max(1).values.min() - 1
    return model


# --- probes ---------------------------------------------------------------------------------------------------------


@torch.no_grad()
def probe_features(model: PrimaryCNN, x: torch.Tensor, first: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Each probed layer's activations: conv1 and conv2 after ReLU and pooling, averaged per channel; fc1 after its
    ReLU; fc2 the logits. ``first``: conv1's activations on ``x`` (``PrimaryCNN.first``) when the caller already has
    them from a network with the same conv1 (an edit of the hidden layers only), which saves most of the cost."""
    if first is None:
        logits, hidden = activations(model, x)
    else:
        if len(first) != len(x):
            raise ValueError(f"first holds conv1 activations of {len(first)} images, x has {len(x)}")
        logits, hidden = model.eval().after_first(first, return_hidden=True)
    return {"conv1": hidden["conv1"].mean((2, 3)), "conv2": hidden["conv2"].mean((2, 3)), "fc1": hidden["fc1"],
            "fc2": logits}


def same_first_layer(a: PrimaryCNN, b: PrimaryCNN) -> bool:
    """Whether two networks share conv1 exactly (so ``first`` activations of one serve the other)."""
    return all(torch.equal(p, q) for p, q in zip(a.conv1.parameters(), b.conv1.parameters(), strict=True))


def fit_probes(x: torch.Tensor, y: torch.Tensor, n_classes: int, l2: float, iters: int):
    """B independent softmax regressions at once: features ``x`` (B, N, D), labels ``y`` (B, N) in [0, n_classes).
    Features are standardised on these images; returns a function of new features (B, M, D) -> logits (B, M, C).
    The loss, Σ_b [mean cross-entropy_b + l2 · ‖W_b‖²], is separable, so one L-BFGS on the sum fits each probe."""
    if x.ndim != 3 or y.shape != x.shape[:2]:
        raise ValueError(f"features must be (B, N, D) and labels (B, N); got {tuple(x.shape)} and {tuple(y.shape)}")
    x = x.float()
    mean, sd = x.mean(1, keepdim=True), x.std(1, keepdim=True).clamp_min(1e-6)
    z = (x - mean) / sd
    w = torch.zeros(x.shape[0], x.shape[2], n_classes, device=x.device, requires_grad=True)
    b = torch.zeros(x.shape[0], 1, n_classes, device=x.device, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=iters, line_search_fn="strong_wolfe", tolerance_grad=1e-7)

    def closure():
        opt.zero_grad()
        logits = z @ w + b
        ce = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(y.shape).mean(1)
        loss = (ce + l2 * w.pow(2).sum((1, 2))).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    w, b = w.detach(), b.detach()
    return lambda new: ((new.float() - mean) / sd) @ w + b


def probe_scores(feats: dict[str, torch.Tensor], y: torch.Tensor, digits: list[int],
                 config: ErasureConfig) -> dict[str, dict[str, torch.Tensor]]:
    """Per layer, for network b (which forgot ``digits[b]``; ``feats[layer]`` is (B, N, D) on the probe images, labels
    ``y`` (N,)): the one-vs-rest probe's AUROC for that digit on the held-out images (after the first
    ``config.probe_split``, which train it); at fc1 also the 10-way probe's recall of the digit."""
    k = config.probe_split
    target = torch.as_tensor(digits, device=y.device)[:, None]  # (B, 1)
    labels = y[k:][None] == target
    out = {}
    for layer in PROBE_LAYERS:
        f = feats[layer]
        ovr = fit_probes(f[:, :k], (y[:k][None] == target).long(), 2, config.probe_l2, config.probe_iters)
        s = ovr(f[:, k:])
        out[layer] = {"auroc": auroc(s[..., 1] - s[..., 0], labels).float().cpu()}
    ten = fit_probes(feats["fc1"][:, :k], y[:k][None].expand(len(digits), -1), N_DIGITS, config.probe_l2,
                     config.probe_iters)
    pred = ten(feats["fc1"][:, k:]).argmax(-1)
    out["fc1"]["recall"] = (((pred == target) & labels).sum(1).double() / labels.sum(1).double()).float().cpu()
    return out


def leace_scores(model: PrimaryCNN, x: torch.Tensor, y: torch.Tensor, config: ErasureConfig) -> dict:
    """LEACE at fc1 of the unedited ``model``, one eraser per digit fitted on the probes' training images (the first
    ``config.probe_split`` of ``x``): the forgotten digit's accuracy (%) and the other digits' accuracy drop (points)
    when the erased fc1 feeds fc2, and the AUROC of a fresh one-vs-rest probe on the erased features, all on the
    held-out rest."""
    with warnings.catch_warnings():  # the package's import calls torch.jit.script, which torch now warns about
        warnings.simplefilter("ignore", FutureWarning)
        from concept_erasure import LeaceEraser
    k = config.probe_split
    logits, hidden = activations(model, x)
    h, yt, yh = hidden["fc1"], y[:k], y[k:]
    base_right = logits[k:].argmax(1) == yh
    forget, drop, erased = [], [], []
    for d in range(N_DIGITS):
        eraser = LeaceEraser.fit(h[:k].double(), (yt == d).double()[:, None])
        erased.append(eraser(h.double()).float())
        with torch.no_grad():
            pred = getattr(model, LAST_LAYER)(erased[-1][k:]).argmax(1)
        is_d = yh == d
        forget.append(100 * (pred[is_d] == d).float().mean())
        drop.append(100 * (base_right[~is_d].float().mean() - (pred[~is_d] == yh[~is_d]).float().mean()))
    erased = torch.stack(erased)  # (10, N, units): digit d's eraser applied
    target = torch.arange(N_DIGITS, device=y.device)[:, None]
    probe = fit_probes(erased[:, :k], (yt[None] == target).long(), 2, config.probe_l2, config.probe_iters)
    s = probe(erased[:, k:])
    scores = auroc(s[..., 1] - s[..., 0], yh[None] == target)
    return {"forget": torch.stack(forget).cpu(), "retain_drop": torch.stack(drop).cpu(),
            "auroc": scores.float().cpu()}


# --- relearning attack ---------------------------------------------------------------------------------------------


def stacked_params(models: list[PrimaryCNN]) -> dict[str, torch.Tensor]:
    """The parameters of B networks of one architecture, stacked: {name: (B, *shape)} (copies)."""
    names = [n for n, _ in models[0].named_parameters()]
    return {n: torch.stack([dict(m.named_parameters())[n].detach() for m in models]).clone() for n in names}


def stacked_logits(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``PrimaryCNN.forward`` of B networks, each on its own images: params {name: (B, *shape)}, x (B, N, 1, 28, 28)
    -> logits (B, N, 10). The B networks' convolutions run as one grouped convolution and fc1/fc2 as batched matrix
    products, so gradients reach every network's parameters in one backward pass."""
    b, n = x.shape[:2]
    a = x.transpose(0, 1).reshape(n, b * x.shape[2], *x.shape[3:])  # (N, B·1, 28, 28): network b's images in group b
    for layer in ("conv1", "conv2"):
        a = F.conv2d(a, params[f"{layer}.weight"].flatten(0, 1), params[f"{layer}.bias"].flatten(), groups=b)
        a = F.relu(F.max_pool2d(channels_last(a), 2))  # pooling is several times faster in this memory order
    flat = a.reshape(n, b, -1).transpose(0, 1)  # (B, N, C·H·W), each network's own flatten order
    h = F.relu(torch.baddbmm(params["fc1.bias"][:, None], flat, params["fc1.weight"].transpose(1, 2)))
    return torch.baddbmm(params["fc2.bias"][:, None], h, params["fc2.weight"].transpose(1, 2))


def attack_sets(y: torch.Tensor, digits: list[int], k: int, seed: int) -> torch.Tensor:
    """Indices (B, 2k) into the attack pool: k images of each forgotten digit, then k of the other digits."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for d in digits:
        own, rest = (y == d).nonzero().squeeze(1).cpu(), (y != d).nonzero().squeeze(1).cpu()
        if len(own) < k:
            raise ValueError(f"the attack pool holds {len(own)} images of digit {d}; k={k} needs at least k")
        out.append(torch.cat([own[torch.randperm(len(own), generator=gen)[:k]],
                              rest[torch.randperm(len(rest), generator=gen)[:k]]]))
    return torch.stack(out).to(y.device)


def relearn(models: list[PrimaryCNN], x_attack: torch.Tensor, y_attack: torch.Tensor, x_eval: torch.Tensor,
            digits: list[int], config: ErasureConfig, seed: int = 0) -> torch.Tensor:
    """The relearning attack on B networks at once. Network b is fine-tuned (every weight, Adam) on its own attack
    set ``x_attack[b]`` (B, 2k, ...): k images of ``digits[b]`` then k others, ``config.attack_batch`` of each per
    step (all when k is smaller; drawn with ``seed``). After each of ``config.eval_steps`` it is scored on its
    held-out images ``x_eval[b]`` (B, M, ...) of ``digits[b]``. Returns the accuracy (%) on them,
    (B, len(eval_steps)). The networks given are not changed."""
    if not len(models) == len(x_attack) == len(y_attack) == len(x_eval) == len(digits):
        raise ValueError("models, attack images, labels, held-out images and digits must have one entry per network")
    k = x_attack.shape[1] // 2
    per = min(config.attack_batch, k)
    params = {n: v.requires_grad_(True) for n, v in stacked_params(models).items()}
    opt = torch.optim.Adam(list(params.values()), lr=config.attack_lr)
    target = torch.as_tensor(digits, device=x_eval.device)[:, None]
    gen = torch.Generator().manual_seed(seed)

    def score():  # one network at a time: at inference a plain convolution beats the grouped one (~1.5x on CPU)
        with torch.no_grad():
            pred = torch.cat([stacked_logits({n: v[b:b + 1].detach() for n, v in params.items()}, x_eval[b:b + 1])
                              for b in range(len(digits))]).argmax(-1)
        return 100 * (pred == target).float().mean(1)

    curve = {0: score()} if 0 in config.eval_steps else {}
    for step in range(1, config.attack_steps + 1):
        if per < k:
            pick = torch.cat([torch.randperm(k, generator=gen)[:per], k + torch.randperm(k, generator=gen)[:per]])
            xb, yb = x_attack[:, pick.to(x_attack.device)], y_attack[:, pick.to(y_attack.device)]
        else:
            xb, yb = x_attack, y_attack
        logits = stacked_logits(params, xb)
        loss = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none").view(yb.shape)
        opt.zero_grad(set_to_none=True)
        loss.mean(1).sum().backward()
        opt.step()
        if step in config.eval_steps:
            curve[step] = score()
    return torch.stack([curve[s] for s in config.eval_steps], 1).cpu()


# --- distance to the retrained model ------------------------------------------------------------------------------


@torch.no_grad()
def distances(logits: torch.Tensor, retrained: torch.Tensor, y: torch.Tensor, digits: list[int]) -> dict:
    """Per network b (which forgot ``digits[b]``), from logits (B, N, 10) of the edited and of the retrained networks
    on the same images (labels ``y``): on the other digits' images, the agreement (%) of their predicted classes and
    the mean KL(retrained ‖ edited) of their output distributions; on the digit's own images, the total variation
    distance between where the two send them (their predicted-class frequencies)."""
    agree, kl, tv = [], [], []
    for lg, ref, d in zip(logits, retrained, digits, strict=True):
        lp, lr = F.log_softmax(lg.double(), 1), F.log_softmax(ref.double(), 1)
        rest, own = y != d, y == d
        agree.append(100 * (lp[rest].argmax(1) == lr[rest].argmax(1)).double().mean())
        kl.append((lr[rest].exp() * (lr[rest] - lp[rest])).sum(1).mean())
        hp, hr = (torch.bincount(v[own].argmax(1), minlength=N_DIGITS).double() / own.sum() for v in (lp, lr))
        tv.append(0.5 * (hp - hr).abs().sum())
    return {k: torch.stack(v).float().cpu() for k, v in (("agree", agree), ("kl", kl), ("tv", tv))}


# --- one seed -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferencesRun:
    """Keys a seed's retrained and fine-tuned networks."""

    seed: int
    primary_key: str
    baselines: BaselineConfig
    val_size: int


def references(seed: int, device, progress: bool = False) -> dict[str, list[PrimaryCNN]]:
    """The seed's dense primary retrained without each digit (its own recipe and seed) and fine-tuned to forget
    each digit (chapter 5's fine-tuning baseline), cached: ``{"retrained": [10 models], "fine-tune unlearning": ...}``.
    """
    dense_config, _ = primary_configs(seed)
    dense, _ = load_or_train(dense_config, device, progress=progress)
    key = config_hash(dense_config)
    base = replace(BaselineConfig(), seed=seed)
    recipe = SymbioteConfig(seed=seed)
    run = ReferencesRun(seed, key, base, recipe.val_size)

    def build():
        x, y = load_mnist("train", device)
        (xt, yt), (xv, yv) = train_val_split(x, y, recipe.val_size, recipe.seed)
        out = {"retrained": [], "fine-tune unlearning": []}
        for d in progress_bar(range(N_DIGITS), desc=f"references of seed {seed}", enabled=progress):
            model, _ = retrain_without(dense_config, None, d, x, y, base.retrain_epochs)
            out["retrained"].append({k: v.cpu() for k, v in model.state_dict().items()})
            model, _, _ = finetune_unlearn(dense, None, d, base, xt, yt, xv, yv)
            out["fine-tune unlearning"].append({k: v.cpu() for k, v in model.state_dict().items()})
        return out

    payload = load_or_build(REFERENCES, run, build)

    def model_of(state):
        model = copy.deepcopy(dense)
        model.load_state_dict(state)
        return model.eval().requires_grad_(False)

    return {name: [model_of(s) for s in states] for name, states in payload.items()}


def steering_offsets(seed: int, dense: PrimaryCNN, key: str, progress: bool = False) -> dict[str, torch.Tensor]:
    """The chain's steering editor's single-digit offsets (the learning rate chapter 6 picks on the validation
    split, ``stages.tuned_steering``)."""
    config = CircuitsConfig(seed=seed)
    device = dense.fc2.weight.device
    x, y = load_mnist("train", device)
    _, (xv, yv) = train_val_split(x, y, config.recipe.val_size, config.recipe.seed)
    editor, _ = tuned_steering(config, dense, key, xv, yv, progress)
    with torch.no_grad():
        return editor(torch.eye(N_DIGITS, device=device))


def edited_networks(seed: int, device, x_probe: torch.Tensor, progress: bool = False) -> tuple[dict, dict]:
    """Every method's ten single-digit edits of the seed's primaries, folded (``METHODS`` and
    ``REFERENCE_METHODS``), from the chains' cache (trained if absent); and the primary each suppression reference
    was made from (its hidden layers)."""
    primaries = load_primaries(device, progress=progress, seed=seed)
    dense, _, dense_key = primaries["dense"]
    pruned, pruned_masks, pruned_key = primaries["pruned"]
    recipe = SymbioteConfig(seed=seed)
    eye = torch.eye(N_DIGITS, device=device)
    nets = {}
    for label, (model, masks, key) in primaries.items():
        sym, _ = load_or_train_symbiote(model, masks, recipe, label, key, progress=progress)
        with torch.no_grad():
            nets[f"symbiote ({label})"] = fold_diffs(model, sym(eye))
    direct, _ = E.load_or_optimise_direct(E.DirectRun(recipe, BaselineConfig().direct_steps, dense_key), dense,
                                          progress=progress)
    nets["direct optimisation"] = fold_diffs(dense, direct)
    nets["activation steering"] = fold_offsets(dense, steering_offsets(seed, dense, dense_key, progress))
    refs = references(seed, device, progress)
    nets["fine-tune unlearning"] = refs["fine-tune unlearning"]
    nets["unedited"] = [dense] * N_DIGITS
    nets["retrained"] = refs["retrained"]
    nets["suppression"] = [suppressed(dense, d, x_probe) for d in range(N_DIGITS)]
    nets["suppression (pruned)"] = [suppressed(pruned, d, x_probe) for d in range(N_DIGITS)]
    return nets, {"suppression": dense, "suppression (pruned)": pruned}


@dataclass(frozen=True)
class SeedRun:
    """Keys one seed's record: the measurement and every network it reads."""

    config: ErasureConfig
    seed: int
    networks: str  # hash of the seed's network configs (primaries, symbiote recipe, references)


def run_seed(seed: int, config: ErasureConfig, device, progress: bool = False) -> dict:
    """Probes, relearning attacks, distances and forget accuracy for every method on one seed, plus LEACE at the
    unedited primary's fc1 (CPU tensors, one entry per digit)."""
    x, y = load_mnist("test", device)
    x_pool, y_pool = load_mnist("train", device)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(config.seed)).to(device)
    xp, yp = x[order[: config.n_probe]], y[order[: config.n_probe]]
    rest = order[config.n_probe:]
    digits = list(range(N_DIGITS))
    held = [rest[y[rest] == d][: config.n_eval] for d in digits]
    if min(len(h) for h in held) < config.n_eval:
        raise ValueError(f"n_eval={config.n_eval} is more than the test images of some digit outside the probes'")
    x_eval = x[torch.stack(held)]  # (10, n_eval, 1, 28, 28)
    nets, bases = edited_networks(seed, device, xp[: config.probe_split], progress)
    with torch.no_grad():  # conv1's activations of each primary: every hidden-layer edit of it shares them
        firsts = {id(m): (m, m.eval().first(xp)) for m in bases.values()}
    cache = {}

    def features(model):
        if id(model) not in cache:
            shared = next((a for base, a in firsts.values() if same_first_layer(base, model)), None)
            cache[id(model)] = probe_features(model, xp, shared)
        return cache[id(model)]

    def stacked_features(method):
        if method in bases:  # suppression: the hidden layers are the primary's; only the logits differ
            base = features(bases[method])
            per = [{**base, "fc2": getattr(m, LAST_LAYER)(base["fc1"]).detach()} for m in nets[method]]
        else:
            per = [features(m) for m in nets[method]]
        return {layer: torch.stack([f[layer] for f in per]) for layer in PROBE_LAYERS}

    retrained = stacked_features("retrained")["fc2"]
    record = {"probe": {}, "relearn": {}, "distance": {}, "forget": {}, "eval_steps": list(config.eval_steps)}
    for method, models in progress_bar(nets.items(), desc=f"erasure of seed {seed}", enabled=progress):
        feats = stacked_features(method)
        record["probe"][method] = probe_scores(feats, yp, digits, config)
        record["forget"][method] = torch.stack([100 * (feats["fc2"][d][yp == d].argmax(1) == d).float().mean()
                                                for d in digits]).cpu()
        record["distance"][method] = distances(feats["fc2"], retrained, yp, digits)
        if method == "unedited":
            continue  # nothing was forgotten: no attack
        record["relearn"][method] = {}
        for k in config.shots:
            draw = seed * 1000 + k  # the same attack images and batches for every method of a seed
            idx = attack_sets(y_pool, digits, k, draw)
            record["relearn"][method][k] = relearn(models, x_pool[idx], y_pool[idx], x_eval, digits, config, draw)
    record["leace"] = leace_scores(nets["unedited"][0], xp, yp, config)
    return record


def networks_key(seed: int) -> str:
    """A hash of every config the seed's networks come from (primaries, references, chapter 6, the symbiote)."""
    dense_config, pruned_config = primary_configs(seed)
    return config_hash(ReferencesRun(seed, config_hash(dense_config), replace(BaselineConfig(), seed=seed),
                                     SymbioteConfig(seed=seed).val_size)) + config_hash(pruned_config) + \
        config_hash(CircuitsConfig(seed=seed)) + config_hash(SymbioteConfig(seed=seed))


def load_or_run_seed(seed: int, config: ErasureConfig = ErasureConfig(), device=None, progress: bool = False) -> dict:
    """``run_seed``, cached per seed and config."""
    device = device or default_device()
    return load_or_build(ARTIFACT, SeedRun(config, seed, networks_key(seed)),
                         lambda: run_seed(seed, config, device, progress))


# --- over seeds: summaries and verdicts ---------------------------------------------------------------------------


def digit_means(values: list[torch.Tensor]) -> list[float]:
    """Per-digit tensors (one per seed) averaged over the digits: one value per seed."""
    return [float(v.double().mean()) for v in values]


def probe_table(records: list[dict], trials: int, kind: str = "auroc") -> dict[str, dict[str, dict]]:
    """{method: {layer: interval over seeds of the digit-mean probe score}} (AUROC, or the 10-way recall at fc1),
    each a Wilson interval on ``trials`` held-out images per seed (``stats.rate_interval``: it stays inside [0, 1]
    next to a bound, where these scores sit)."""
    return {m: {layer: stats.rate_interval(digit_means([r["probe"][m][layer][kind] for r in records]), trials)
                for layer in PROBE_LAYERS if kind in records[0]["probe"][m][layer]}
            for m in records[0]["probe"]}


def relearn_curves(records: list[dict], k: int, trials: int) -> dict[str, dict[int, dict]]:
    """{method: {step: interval over seeds of the digit-mean relearned accuracy (%)}} for the k-shot attack, Wilson
    on ``trials`` held-out images per seed."""
    steps = records[0]["eval_steps"]
    if any(r["eval_steps"] != steps for r in records):
        raise ValueError("the records were measured at different attack steps; measure every seed with one config")
    out = {}
    for m in records[0]["relearn"]:
        out[m] = {s: stats.rate_interval([v / 100 for v in digit_means([r["relearn"][m][k][:, i] for r in records])],
                                         trials, scale=100)
                  for i, s in enumerate(steps)}
    return out


def relearn_area(curve: torch.Tensor, steps) -> torch.Tensor:
    """The area under relearning curves (B, len(steps)) per attack step (trapezoids over ``steps``): the mean
    held-out accuracy (%) over the attack, 0 if the digit never came back, 100 if it was there from the start."""
    x = torch.as_tensor(list(steps), dtype=torch.float64)
    if len(x) < 2 or x[0] != 0:
        raise ValueError(f"the steps must start at 0 and hold at least two points, got {list(steps)}")
    return (torch.trapezoid(curve.double(), x, dim=-1) / x[-1]).float()


# The two measures a verdict reads, per seed (digit means): fc1 probe AUROC, and the area under the 10-shot
# relearning curve (the mean accuracy over the attack's steps; the last step alone saturates near 100 % for every
# network, the retrained one included, so it cannot tell them apart).
MEASURES = {"probe": ("fc1 probe AUROC", lambda r, m: r["probe"][m]["fc1"]["auroc"]),
            "relearn": ("10-shot relearning area (%)",
                        lambda r, m: relearn_area(r["relearn"][m][10], r["eval_steps"]))}
NEAR = 0.25  # "within the margin" of a reference: no more than a quarter of the way to the other reference


def contrasts(records: list[dict], method: str) -> dict[str, list[float]]:
    """Per seed, for each measure q with v = the method's value, r = the retrained model's, s = its suppression
    reference's: ``erase_q = (v − r) − ¼ (s − r)`` (< 0: within a quarter of the way from retrained to suppression)
    and ``suppress_q = (v − r) − ¾ (s − r)`` (> 0: within a quarter of suppression)."""
    sup = SUPPRESSION_OF[method]
    out = {}
    for q, (_, get) in MEASURES.items():
        v, r, s = (digit_means([get(rec, m) for rec in records]) for m in (method, "retrained", sup))
        out[f"erase_{q}"] = [(a - b) - NEAR * (c - b) for a, b, c in zip(v, r, s, strict=True)]
        out[f"suppress_{q}"] = [(a - b) - (1 - NEAR) * (c - b) for a, b, c in zip(v, r, s, strict=True)]
    return out


def gaps(records: list[dict]) -> dict[str, list[float]]:
    """Per seed and measure, suppression − retrained on the dense primary: the references must differ for the
    measure to tell erasure from suppression."""
    out = {}
    for q, (_, get) in MEASURES.items():
        s, r = (digit_means([get(rec, m) for rec in records]) for m in ("suppression", "retrained"))
        out[f"gap_{q}"] = [a - b for a, b in zip(s, r, strict=True)]
    return out


def slug(method: str) -> str:
    return method.replace(" ", "_").replace("(", "").replace(")", "").replace("-", "_")


def verdict_tests() -> list[stats.MarginTest]:
    """The erasure family: both references separated on both measures, and per method both contrasts."""
    tests = [stats.MarginTest(f"gap_{q}", f"gap_{q}", 1, 0.0) for q in MEASURES]
    for m in METHODS:
        for q in MEASURES:
            tests.append(stats.MarginTest(f"{slug(m)}_erase_{q}", f"{slug(m)}_erase_{q}", -1, 0.0))
            tests.append(stats.MarginTest(f"{slug(m)}_suppress_{q}", f"{slug(m)}_suppress_{q}", 1, 0.0))
    return tests


def method_rule(method: str):
    """*erases* when both measures lie within the margin of the retrained model, *suppresses* when both lie within
    it of suppression, otherwise *partly*; neither when the references do not differ on both measures."""
    s = slug(method)

    def rule(lv: dict[str, int]) -> str:
        if not all(lv[f"gap_{q}"] for q in MEASURES):
            return "references indistinguishable"
        if all(lv[f"{s}_erase_{q}"] for q in MEASURES):
            return "erases"
        if all(lv[f"{s}_suppress_{q}"] for q in MEASURES):
            return "suppresses"
        return "partly"

    return rule


def claim_verdict(by_method: dict[str, str]) -> str:
    """The claims row "the edit removes the digit's information, not only its output", from the symbiote's verdicts
    on both primaries: supported when both erase, not supported when neither does, partly otherwise."""
    n = sum(by_method[m] == "erases" for m in ("symbiote (dense)", "symbiote (pruned)"))
    return ("not supported", "partly", "supported")[n]


def decide(records: list[dict]) -> dict:
    """Every test of the erasure family on intervals over the seeds (Holm over the family), each method's verdict
    (``inconclusive at N seeds`` when an undecided test could change it) and the claim's (decided over the same
    combinations: it can be decided while a method's verdict is not, when no combination lets that method erase)."""
    numbers = gaps(records)
    for m in METHODS:
        numbers |= {f"{slug(m)}_{k}": v for k, v in contrasts(records, m).items()}
    estimates = {k: stats.t_interval(v) for k, v in numbers.items()}
    rows = stats.evaluate(verdict_tests(), estimates)
    levels = stats.outcome_levels(rows)
    n = len(records)
    by_method = {m: decide_levels(levels, method_rule(m), n) for m in METHODS}
    symbiotes = ("symbiote (dense)", "symbiote (pruned)")
    claim = decide_levels(levels, lambda lv: claim_verdict({m: method_rule(m)(lv) for m in symbiotes}), n)
    return {"rows": rows, "verdicts": by_method, "claim": claim}


def main(argv=None) -> None:
    """``python -m symbiote_lite.erasure [--measure] SEED [SEED ...]``: build each seed's retrained and fine-tuned
    references into the artifact cache and, with ``--measure``, its record for the chapter (``load_or_run_seed``
    with the chapter's defaults; the seed's other networks are read from the cache, trained if absent)."""
    parser = argparse.ArgumentParser(prog="python -m symbiote_lite.erasure",
                                     description="Build the erasure chapter's references (and records) per seed.")
    parser.add_argument("seeds", type=int, nargs="+", help="the chains' seeds")
    parser.add_argument("--measure", action="store_true",
                        help="also run the probes and attacks of the seed (the chapter's default measurement)")
    args = parser.parse_args(argv)
    if any(s < 0 for s in args.seeds) or len(set(args.seeds)) != len(args.seeds):
        raise SystemExit(f"seeds must be distinct non-negative integers, got {args.seeds}")
    device = default_device()
    for seed in args.seeds:
        references(seed, device, progress=False)
        print(f"references of seed {seed} ready", flush=True)
        if args.measure:
            load_or_run_seed(seed, device=device)
            print(f"erasure record of seed {seed} ready", flush=True)


if __name__ == "__main__":
    main()
