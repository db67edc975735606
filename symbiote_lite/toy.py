"""Toy models of superposition (Elhage et al. 2022): ``x' = ReLU(WᵀW x + b)``, many instances at once.

Each *instance* is its own little model with ``n`` features squeezed into ``m < n`` hidden dimensions, its own
sparsity ``S`` (a feature is 0 with probability S, else uniform on [0, 1]) and its own importance vector
``I`` (``I_i = decay**i``). All instances train together as one tensor with a leading instance axis:

    W: (instances, m, n)    b: (instances, n)    x: (instances, batch, n)

Shapes in comments use i = instance, b = batch sample, m = hidden, n = feature.

The trainer computes the gradient of the importance-weighted squared error by hand (no autograd graph) and
draws only what a sparse batch needs (one uniform per entry for dense instances, the non-zeros alone for
sparse ones); ``reference_loss`` is the plain autograd formulation that the tests and the benchmark compare
it with. The module also holds the measurements the chapter reports
(feature norms, interference, dimensionality) and the closed-form analysis of the n=2, m=1 phase diagram.
"""

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from symbiote_lite.artifacts import load_or_build
from symbiote_lite.params import check_range
from symbiote_lite.runtime import default_device, progress_bar, seed_everything


@dataclass(frozen=True)
class ToyConfig:
    """One batch of toy models: instance k has sparsity ``sparsity[k]`` and importance ``decay[k]**i``.

    ``importance_decay`` may have length 1 (shared by every instance). ``lr`` is AdamW's peak learning rate,
    decayed to 0 on a cosine over ``steps``.
    """

    n_features: int = 5
    n_hidden: int = 2
    sparsity: tuple[float, ...] = (0.0,)
    importance_decay: tuple[float, ...] = (0.9,)
    steps: int = 3000
    batch_size: int = 1024
    lr: float = 1e-2
    weight_decay: float = 0.0
    seed: int = 0

    def __post_init__(self):
        check_range("n_features", self.n_features, 2, 100_000, integer=True)
        check_range("n_hidden", self.n_hidden, 1, self.n_features - 1, integer=True)
        check_range("steps", self.steps, 1, 10_000_000, integer=True)
        check_range("batch_size", self.batch_size, 1, 1_000_000, integer=True)
        check_range("lr", self.lr, 1e-8, 10.0)
        check_range("weight_decay", self.weight_decay, 0.0, 10.0)
        check_range("seed", self.seed, 0, 2**63 - 1, integer=True)
        for name in ("sparsity", "importance_decay"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not value:
                raise ValueError(f"{name}={value!r} must be a non-empty tuple of numbers (one per instance)")
        for s in self.sparsity:
            if not isinstance(s, (int, float)) or isinstance(s, bool) or not 0.0 <= s < 1.0:
                raise ValueError(f"sparsity value {s!r} is out of range: allowed [0, 1) (S=1 means no data)")
        for d in self.importance_decay:
            if not isinstance(d, (int, float)) or isinstance(d, bool) or not 0.0 < d <= 100.0:
                raise ValueError(f"importance_decay value {d!r} is out of range: allowed (0, 100]")
        if len(self.importance_decay) not in (1, len(self.sparsity)):
            raise ValueError(
                f"importance_decay has {len(self.importance_decay)} values but sparsity has {len(self.sparsity)}: "
                "give one decay per instance, or a single shared one"
            )

    @property
    def n_instances(self) -> int:
        return len(self.sparsity)


def feature_density(config: ToyConfig, device=None) -> torch.Tensor:
    """(instances,) probability ``1 - S`` that a feature is non-zero."""
    return 1.0 - torch.tensor(config.sparsity, dtype=torch.float32, device=device)


def feature_importance(config: ToyConfig, device=None) -> torch.Tensor:
    """(instances, n) importance ``I_i = decay**i`` (feature 0 has importance 1)."""
    decay = torch.tensor(config.importance_decay, dtype=torch.float64).expand(config.n_instances)
    powers = torch.arange(config.n_features, dtype=torch.float64)
    return (decay[:, None] ** powers).float().to(device)


def init_params(config: ToyConfig, generator: torch.Generator, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """W (i, m, n) with Xavier-normal entries (std sqrt(2/(m+n))), b (i, n) zeros."""
    std = math.sqrt(2.0 / (config.n_hidden + config.n_features))
    shape = (config.n_instances, config.n_hidden, config.n_features)
    w = torch.randn(shape, generator=generator) * std
    return w.to(device), torch.zeros(config.n_instances, config.n_features, device=device)


class UniformSource:
    """Uniform [0, 1) float32 numbers: numpy's PCG64 on the CPU (faster than torch's generator), torch on CUDA."""

    def __init__(self, seed: int, device):
        self.device = torch.device(device)
        if self.device.type == "cpu":
            self.rng = np.random.default_rng(seed)
        else:
            self.gen = torch.Generator(device=self.device).manual_seed(seed)

    def draw(self, shape) -> torch.Tensor:
        if self.device.type == "cpu":
            return torch.from_numpy(self.rng.random(shape, dtype=np.float32))
        return torch.rand(shape, generator=self.gen, device=self.device)

    def kept_uniform(self, density: torch.Tensor, shape) -> torch.Tensor:
        """(k, ...) entries that are 0 with probability 1 − density[k], else uniform on [0, 1), from ONE
        uniform u per entry: the entry is kept when u < p, and then u / p is itself uniform on [0, 1)."""
        scale = density.reshape(-1, *[1] * (len(shape) - 1))
        if self.device.type == "cpu":  # numpy's multiply-by-mask is several times faster than torch's on a CPU
            u = self.rng.random(shape, dtype=np.float32)
            u /= scale.cpu().numpy()
            return torch.from_numpy(np.multiply(u, u < 1.0, out=u))
        u = self.draw(shape).div_(scale)
        return torch.where(u < 1.0, u, 0.0)


DENSE_ABOVE = 0.25  # instances at least this dense are sampled entry by entry, sparser ones gap by gap


def _sample_gaps(density: torch.Tensor, inst: torch.Tensor, n_cells: int, source: UniformSource):
    """Sorted flat indices (into an (instances·n_cells) grid) of the successes of Bernoulli(density[k]) trials
    on the n_cells cells of instance ``inst[k]``, drawn gap by gap: the gap between successive successes is
    geometric, ``1 + floor(log(u) / log(1 − p))`` for u uniform on (0, 1]."""
    device = density.device
    p = density.double().cpu()
    mean = n_cells * p
    # Draw a few standard deviations more gaps than expected; redraw in the (~1e-9) case of too few.
    length = (mean + 6 * torch.sqrt(mean * (1 - p)) + 32).ceil().long()
    inv_log_q = (1.0 / torch.log1p(-p)).float().to(device)
    for _ in range(8):
        length_d = length.to(device)
        u = 1.0 - source.draw((int(length.sum()),)).to(device)  # (0, 1]
        gaps = torch.log(u).mul_(torch.repeat_interleave(inv_log_q, length_d)).floor_().add_(1).long()
        ends = gaps.cumsum(0)  # running position (1-based) of each success, all instances end to end
        seg_last = length_d.cumsum(0) - 1
        seg_base = torch.cat([ends.new_zeros(1), ends[seg_last[:-1]]])  # running position before each instance
        if bool((ends[seg_last] - seg_base >= n_cells).all()):  # every instance's cells fully covered
            break
        length = 2 * length
    else:  # pragma: no cover - astronomically unlikely
        raise RuntimeError("sampling the sparse inputs failed to cover the batch; this is a bug")
    local = ends - torch.repeat_interleave(seg_base + 1, length_d)  # 0-based cell within its instance
    flat = local + torch.repeat_interleave(inst * n_cells, length_d)
    return flat[local < n_cells]


def sample_batch(density: torch.Tensor, batch_size: int, n_features: int, source: UniformSource):
    """A batch (i, b, n): each entry is 0 with probability ``1 − density[i]``, else uniform on [0, 1).

    Two exact samplers, chosen per instance by its density p:
    * p ≥ ``DENSE_ABOVE``: one uniform per entry (``UniformSource.kept_uniform``; the textbook way draws two);
    * sparser: only the non-zeros are drawn, their positions gap by gap (``_sample_gaps``) and then their
      values, about 2·p numbers per entry instead of 2.
    Returns x.
    """
    n_inst, n_cells = len(density), batch_size * n_features
    dense = (density >= DENSE_ABOVE).nonzero().squeeze(1)
    sparse = (density < DENSE_ABOVE).nonzero().squeeze(1)
    x = torch.zeros(n_inst, batch_size, n_features, device=density.device)
    if len(dense):
        x.index_copy_(0, dense, source.kept_uniform(density[dense], (len(dense), batch_size, n_features)).to(x.device))
    if len(sparse):
        flat = _sample_gaps(density[sparse], sparse, n_cells, source)
        x.view(-1).put_(flat, source.draw((flat.numel(),)).to(density.device))
    return x


def reference_loss(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor, importance: torch.Tensor) -> torch.Tensor:
    """(i,) batch-mean importance-weighted squared error, written plainly with einsum (autograd-friendly)."""
    h = torch.einsum("imn,ibn->ibm", W, x)  # hidden code h = W x
    out = torch.relu(torch.einsum("imn,ibm->ibn", W, h) + b[:, None, :])  # x' = ReLU(Wᵀ h + b)
    return (importance[:, None, :] * (x - out) ** 2).sum(-1).mean(-1)


def loss_and_grads(W, b, x, importance, with_loss: bool = False):
    """Hand-derived gradient of ``reference_loss(...).sum()`` w.r.t. W and b (plus the loss if asked).

    Per instance, with h = W x, pre = Wᵀh + b, a = ReLU(pre) and c_n = 2 I_n / B, the error signal is
    r = c ⊙ e with e = (a − x) ⊙ [pre > 0], and (W appears twice, as encoder and as decoder)
        ∂L/∂W = hᵀ r  +  (r Wᵀ)ᵀ x        ∂L/∂b = Σ_b r.
    The importance c is folded into the small matrices (columns of W and of hᵀe) instead of the big batch
    tensor, so the only passes over the (i, b, n) tensor are five matrix products and four cheap
    elementwise ops (no autograd graph is kept).
    Returns (loss (i,) or None, dW (i, m, n), db (i, n)).
    """
    batch = x.shape[1]
    h = torch.bmm(x, W.transpose(1, 2))  # (i,b,m)  h = W x
    pre = torch.bmm(h, W).add_(b[:, None, :])  # (i,b,n)  Wᵀ h + b
    loss = None
    if with_loss:
        loss = (importance[:, None, :] * (pre.clamp(min=0) - x) ** 2).sum(-1).mean(-1)
    a = pre.clamp_(min=0)  # a = ReLU(pre)   (in place: pre is not needed again)
    err = a.addcmul_(x, torch.sign(a), value=-1.0)  # e = a − x·[pre > 0] = (a − x) where pre > 0, else 0
    c = (2.0 / batch) * importance  # (i,n)   r = c ⊙ e
    dh = torch.bmm(err, (W * c[:, None, :]).transpose(1, 2))  # (i,b,m)  dh = r Wᵀ
    dW = torch.bmm(h.transpose(1, 2), err).mul_(c[:, None, :])  # (i,m,n)  hᵀ r
    dW.add_(torch.bmm(dh.transpose(1, 2), x))  # + dhᵀ x
    db = err.sum(1).mul_(c)  # (i,n)  Σ_b r
    return loss, dW, db


def _cosine(step: int, steps: int) -> float:
    return 0.5 * (1.0 + math.cos(math.pi * step / steps))


def make_optimizer(params, config: ToyConfig) -> torch.optim.Optimizer:
    """AdamW with the config's learning rate and weight decay (the fused kernel where torch has one)."""
    try:
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch, or a device without the fused kernel
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)


@contextmanager
def torch_threads(n: int | None):
    """Run a block with ``n`` torch threads (None: leave as is), restoring the previous number after."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train(config: ToyConfig, device=None, progress: bool = True, log_every: int = 100, threads: int | None = 1) -> dict:
    """Train every instance of ``config`` at once with AdamW; return a plain-dict payload.

    ``threads``: torch threads while training. The default, one, makes the numbers independent of the core
    count, and these tensors are small enough that a second thread gains little on an idle CPU while on a
    shared one the threads' synchronisation makes a step several times slower.

    Payload: ``W`` (i, m, n), ``b`` (i, n) on the CPU, ``loss`` (logged steps × i) batch losses,
    ``logged_steps``, ``seconds``.
    """
    with torch_threads(threads if torch.device(device or default_device()).type == "cpu" else None):
        return _train(config, device, progress, log_every)


def _train(config: ToyConfig, device, progress: bool, log_every: int) -> dict:
    device = torch.device(device) if device is not None else default_device()
    gen = seed_everything(config.seed)
    W, b = init_params(config, gen, device)
    W.requires_grad_(True)
    b.requires_grad_(True)
    source = UniformSource(config.seed, device)
    density, importance = feature_density(config, device), feature_importance(config, device)
    opt = make_optimizer([W, b], config)
    history, logged = [], []
    start = time.perf_counter()
    for step in progress_bar(range(config.steps), desc="toy models", enabled=progress, mininterval=1.0):
        for group in opt.param_groups:
            group["lr"] = config.lr * _cosine(step, config.steps)
        x = sample_batch(density, config.batch_size, config.n_features, source)
        log = step % log_every == 0 or step == config.steps - 1
        with torch.no_grad():
            loss, W.grad, b.grad = loss_and_grads(W, b, x, importance, with_loss=log)
        if log:
            history.append(loss.tolist())
            logged.append(step)
        opt.step()
    return {
        "W": W.detach().cpu(),
        "b": b.detach().cpu(),
        "loss": history,
        "logged_steps": logged,
        "seconds": time.perf_counter() - start,
    }


def load_or_train(name: str, config: ToyConfig, device=None, progress: bool = True) -> dict:
    """The cached payload of ``train(config)`` (trained and stored on first use)."""
    return load_or_build(name, config, lambda: train(config, device, progress))


# ---------------------------------------------------------------------------------------------------------
# Measurements on trained weights. W is (..., m, n): column W_i is feature i's direction in hidden space.
# ---------------------------------------------------------------------------------------------------------


def feature_norms(W: torch.Tensor) -> torch.Tensor:
    """(..., n) length ‖W_i‖ of each feature's embedding."""
    return W.norm(dim=-2)


def _unit_columns(W: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return W / feature_norms(W).clamp(min=eps)[..., None, :]


def interference(W: torch.Tensor) -> torch.Tensor:
    """(..., n) Σ_{j≠i} (Ŵ_i·W_j)²: how much other features leak onto feature i's direction."""
    overlap = torch.einsum("...mi,...mj->...ij", _unit_columns(W), W) ** 2  # (Ŵ_i·W_j)²
    return overlap.sum(-1) - overlap.diagonal(dim1=-2, dim2=-1)


def dims_per_feature(W: torch.Tensor) -> torch.Tensor:
    """(...) m / ‖W‖_F²: hidden dimensions per (unit-norm-equivalent) embedded feature."""
    return W.shape[-2] / (W**2).sum(dim=(-2, -1))


def feature_dimensionality(W: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(..., n) D_i = ‖W_i‖² / Σ_j (Ŵ_i·W_j)²: the fraction of a dimension feature i owns (0 if unembedded)."""
    overlap = torch.einsum("...mi,...mj->...ij", _unit_columns(W, eps), W) ** 2
    return feature_norms(W) ** 2 / overlap.sum(-1).clamp(min=eps)


def represented(W: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """(..., n) bool: feature i is represented when ‖W_i‖ > threshold."""
    return feature_norms(W) > threshold


def longest_run_near(values, target: float, tol: float) -> int:
    """Length of the longest run of consecutive entries with ``|value - target| <= tol``."""
    best = run = 0
    for v in torch.as_tensor(values).tolist():
        run = run + 1 if abs(v - target) <= tol else 0
        best = max(best, run)
    return best


def line_cluster(values, line: float, inner: float = 0.01, band: float = 0.03) -> dict:
    """Counts of values within ``inner`` of ``line`` and in the bands ``inner``–``band`` below and above.

    The line holds a cluster when at least 10 values lie within ``inner`` of it and at least twice as many
    as in either neighbouring band.
    """
    d = torch.as_tensor(values).flatten() - line
    near = int((d.abs() <= inner).sum())
    below = int(((d < -inner) & (d >= -band)).sum())
    above = int(((d > inner) & (d <= band)).sum())
    return {"line": line, "near": near, "below": below, "above": above,
            "cluster": near >= 10 and near >= 2 * below and near >= 2 * above}


# ---------------------------------------------------------------------------------------------------------
# The n=2, m=1 phase diagram: which of W = [1, 0], [0, 1], [1, −1] (with the best bias) has the least loss?
# Feature 1 has importance 1, feature 2 importance r; each feature is 0 w.p. 1 − p, else U[0, 1].
# ---------------------------------------------------------------------------------------------------------

NOT_REPRESENTED, DEDICATED, SUPERPOSITION, OTHER = 0, 1, 2, 3
PHASE_NAMES = ("feature 2 not represented", "feature 2 gets the dimension", "superposition", "other")


def single_feature_loss(p) -> torch.Tensor:
    """Expected loss of a dropped feature with its optimal bias: Var(x) = p/3 − p²/4 (x' = E[x] = p/2)."""
    p = torch.as_tensor(p, dtype=torch.float64)
    return p / 3 - p**2 / 4


def antipodal_loss(bias, p) -> torch.Tensor:
    """E[(x₁ − ReLU(x₁ − x₂ + β))²] for W = [1, −1], for a bias β in [0, 1] (closed form, see the notebook).

    Cases: both zero → β²; only x₁ = u → β²; only x₂ = v → E[(β − v)₊²] = β³/3;
    both → K(β) = β³/3 + (1 − β)³/3 − (1 − β)⁴/6. Weighted by (1−p)², p(1−p), p(1−p), p².
    """
    beta = torch.as_tensor(bias, dtype=torch.float64)
    p = torch.as_tensor(p, dtype=torch.float64)
    both = beta**3 / 3 + (1 - beta) ** 3 / 3 - (1 - beta) ** 4 / 6
    return (1 - p) * beta**2 + p * (1 - p) * beta**3 / 3 + p**2 * both


def antipodal_optimal(p, grid: int = 20001) -> tuple[torch.Tensor, torch.Tensor]:
    """(best bias, least loss) of ``antipodal_loss`` per p, by search over β in [0, 1] (negative β never helps:
    the interference −x₂ is already cut off by the ReLU, while a negative β only shrinks x₁'s reconstruction)."""
    p = torch.as_tensor(p, dtype=torch.float64)
    beta = torch.linspace(0, 1, grid, dtype=torch.float64)
    losses = antipodal_loss(beta, p.reshape(-1, 1))  # (P, grid)
    best, idx = losses.min(-1)
    return beta[idx].reshape(p.shape), best.reshape(p.shape)


def candidate_losses(p, r) -> torch.Tensor:
    """(..., 3) expected losses of W = [1, 0], [0, 1], [1, −1] with optimal biases, for density p and
    importance r of feature 2 (broadcast): [r·V(p), V(p), (1 + r)·A(p)] with V = p/3 − p²/4 and A the
    least antipodal loss per feature."""
    p = torch.as_tensor(p, dtype=torch.float64)
    r = torch.as_tensor(r, dtype=torch.float64)
    p, r = torch.broadcast_tensors(p, r)
    v = single_feature_loss(p)
    a = antipodal_optimal(p)[1]
    return torch.stack([r * v, v, (1 + r) * a], dim=-1)


def analytic_phase(p, r) -> torch.Tensor:
    """The phase (NOT_REPRESENTED / DEDICATED / SUPERPOSITION) whose candidate has the least expected loss."""
    return candidate_losses(p, r).argmin(-1)


def classify_phase(W: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """(...) phase of trained n=2, m=1 weights W (..., 1, 2) from which features have ‖W_i‖ > threshold."""
    w1, w2 = W[..., 0, 0], W[..., 0, 1]
    on1, on2 = w1.abs() > threshold, w2.abs() > threshold
    phase = torch.full(w1.shape, OTHER, dtype=torch.long)
    phase[~on2] = NOT_REPRESENTED
    phase[on2 & ~on1] = DEDICATED
    phase[on1 & on2 & (w1 * w2 < 0)] = SUPERPOSITION
    return phase


def expected_loss_n2(W: torch.Tensor, b: torch.Tensor, p, importance, grid: int = 200) -> torch.Tensor:
    """(i,) expected loss of n=2 models W (i, m, 2), b (i, 2) by exact case split and midpoint quadrature.

    E[L] = (1−p)² L(0,0) + p(1−p) [∫L(u,0)du + ∫L(0,v)dv] + p² ∫∫L(u,v) du dv; the integrals use a
    ``grid``-point midpoint rule (the integrand is piecewise quadratic, so the error is O(grid⁻²)).
    ``p`` (i,) density, ``importance`` (i, 2).
    """
    W, b = W.double(), b.double()
    p = torch.as_tensor(p, dtype=torch.float64).reshape(-1)
    imp = torch.as_tensor(importance, dtype=torch.float64)
    t = (torch.arange(grid, dtype=torch.float64) + 0.5) / grid
    zero = torch.zeros(1, dtype=torch.float64)

    def mean_loss(x1, x2):  # points (k,) -> (i,) mean over the points of Σ_n I_n (x_n − x'_n)²
        x = torch.stack([x1, x2], dim=-1)  # (k,2)
        pre = torch.einsum("imn,imj,kj->ikn", W, W, x) + b[:, None, :]
        return (imp[:, None, :] * (x[None] - pre.clamp(min=0)) ** 2).sum(-1).mean(-1)

    u, v = torch.meshgrid(t, t, indexing="ij")
    both = torch.stack([mean_loss(u_row, v_row) for u_row, v_row in zip(u, v, strict=True)]).mean(0)
    singles = mean_loss(t, zero.expand(grid)) + mean_loss(zero.expand(grid), t)
    return (1 - p) ** 2 * mean_loss(zero, zero) + p * (1 - p) * singles + p**2 * both



# ---------------------------------------------------------------------------------------------------------
# The chapter's experiments (the notebook and bench/toy.py build their configs here, so they stay in step).
# ---------------------------------------------------------------------------------------------------------


def _sparsities(inv_density_max: float, n: int) -> tuple[float, ...]:
    """n sparsities with 1/(1−S) log-spaced from 1 to ``inv_density_max``."""
    density = torch.logspace(0, -math.log10(inv_density_max), n, dtype=torch.float64)
    return tuple(round(1 - d, 6) for d in density.tolist())


def pentagon_config(**overrides) -> ToyConfig:
    """n=5 features in m=2 dimensions, importance 0.9^i, sparsity from 0 to 0.99."""
    base = dict(n_features=5, n_hidden=2, sparsity=(0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99),
                importance_decay=(0.9,), steps=3000, batch_size=1024, lr=1e-2)
    return ToyConfig(**{**base, **overrides})


def norms_config(**overrides) -> ToyConfig:
    """n=20 features in m=5 dimensions, importance 0.9^i, sparsity from 0 to 0.98."""
    base = dict(n_features=20, n_hidden=5, sparsity=(0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98),
                importance_decay=(0.9,), steps=2500, batch_size=1024, lr=1e-2)
    return ToyConfig(**{**base, **overrides})


def dimensionality_config(**overrides) -> ToyConfig:
    """n=100 features in m=10 dimensions, uniform importance, 20 sparsities with 1/(1−S) from 1 to 15.

    (The paper's 400 features in 30 dimensions cost about three times more per step here, which would take
    the chapter past its time budget; 100 in 10 keeps the ratio n/m = 10 and shows the same geometry.)"""
    base = dict(n_features=100, n_hidden=10, sparsity=_sparsities(15.0, 20), importance_decay=(1.0,),
                steps=4000, batch_size=256, lr=2e-2)
    return ToyConfig(**{**base, **overrides})


def phase_axes(grid: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """(importance of feature 2, log-spaced 0.1 … 10; density 1 − S, log-spaced 1 … 0.01)."""
    return torch.logspace(-1, 1, grid, dtype=torch.float64), torch.logspace(0, -2, grid, dtype=torch.float64)


def phase_config(grid: int = 10, seeds: int = 4, **overrides) -> ToyConfig:
    """n=2, m=1 on a grid × grid of (density, importance of feature 2), ``seeds`` instances per cell.
    Instance order: density (slowest), importance, seed (fastest)."""
    importance, density = phase_axes(grid)
    p = density.repeat_interleave(grid * seeds)
    r = importance.repeat_interleave(seeds).repeat(grid)
    base = dict(n_features=2, n_hidden=1, sparsity=tuple(round(1 - v, 9) for v in p.tolist()),
                importance_decay=tuple(round(v, 9) for v in r.tolist()), steps=2000, batch_size=512, lr=2e-2)
    return ToyConfig(**{**base, **overrides})


def best_of_seeds(losses: torch.Tensor, seeds: int) -> torch.Tensor:
    """Index (into the instance axis) of the lowest-loss seed of each cell; ``losses`` (cells·seeds,)."""
    cells = losses.numel() // seeds
    return torch.arange(cells) * seeds + losses.reshape(cells, seeds).argmin(1)
