"""Switching one feature off in a toy model of superposition, and the exact edit that does it.

The toy model of chapter 1 is ``x' = ReLU(WᵀW x + b)`` with ``W`` (m, n): column ``W_i`` is feature i's direction
in hidden space, and ``b`` is the output bias. Here a *diff* ``ΔW`` (and optionally ``Δb``) edits one model; the
goal of "switch feature i off" is ``x'_i = 0`` on every input while every other feature is reconstructed as before.

**The exact reference.** Feature i enters the model only through its column ``W_i``: as an input (encoder, ``W x``)
and as an output (decoder, row i of ``Wᵀ``). Removing the column, ``ΔW* = −W_i e_iᵀ``, makes
``x'_i = ReLU(0ᵀ h + b_i) = ReLU(b_i)``, so together with ``Δb*_i = −max(b_i, 0)`` the output is exactly 0 for every
input. For another feature j the pre-activation changes by exactly ``−(W_jᵀW_i) x_i``: the interference that
feature i wrote onto j is gone and nothing else changes. Without superposition (``W_jᵀW_i = 0`` for all j ≠ i)
every other output is therefore unchanged for every input; in superposition the other features lose i's
interference, which is the part of the edit a minimal one cannot avoid touching: those terms *are* ``W_i``.
``Δb*`` is zero whenever ``b_i ≤ 0`` (every represented feature of a model in superposition, whose biases are
negative), so the reference is then an edit of ``W`` alone.

Shapes: ``W`` (m, n), ``b`` (n,), diffs ``dW`` (..., m, n), inputs ``x`` (batch, n).
"""

import math
from dataclasses import dataclass

import torch
from torch import nn

from symbiote_lite import toy
from symbiote_lite.artifacts import load_or_build
from symbiote_lite.params import check_range
from symbiote_lite.runtime import progress_bar


def check_feature(W: torch.Tensor, i: int) -> int:
    """``i`` if it names a feature (column) of ``W``, else a ValueError that names the allowed range."""
    n = W.shape[-1]
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
        raise ValueError(f"feature index {i!r} is out of range: this model has features 0..{n - 1}")
    return i


def edited_output(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor, dW: torch.Tensor | None = None,
                  db: torch.Tensor | None = None) -> torch.Tensor:
    """Outputs ``ReLU((W+ΔW)ᵀ(W+ΔW) x + b + Δb)`` of the model under each diff: (..., batch, n).

    ``dW`` (..., m, n) and ``db`` (..., n) broadcast together; ``None`` means no edit of that parameter.
    """
    if W.ndim != 2 or b.shape != W.shape[-1:] or x.ndim != 2 or x.shape[-1] != W.shape[-1]:
        raise ValueError(f"expected W (m, n), b (n,), x (batch, n); got W {tuple(W.shape)}, b {tuple(b.shape)}, "
                         f"x {tuple(x.shape)}")
    if dW is not None and dW.shape[-2:] != W.shape:
        raise ValueError(f"dW has shape {tuple(dW.shape)}; expected (..., {W.shape[0]}, {W.shape[1]})")
    Wp = W if dW is None else W + dW  # (..., m, n)
    bp = b if db is None else b + db  # (..., n)
    h = torch.einsum("...mn,bn->...bm", Wp, x)  # hidden code W' x
    return torch.relu(torch.einsum("...mn,...bm->...bn", Wp, h) + bp[..., None, :])


def exact_reference(W: torch.Tensor, b: torch.Tensor, i: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference edit for feature i (see the module docstring): ``ΔW* = −W_i e_iᵀ`` (m, n) and
    ``Δb* = −max(b_i, 0) e_i`` (n,)."""
    check_feature(W, i)
    dW = torch.zeros_like(W)
    dW[:, i] = -W[:, i]
    db = torch.zeros_like(b)
    db[i] = -b[i].clamp(min=0)
    return dW, db


def column_share(dW: torch.Tensor, i: int, eps: float = 1e-12) -> torch.Tensor:
    """(...) share ``‖ΔW[:, i]‖² / ‖ΔW‖²_F`` of a diff's squared norm on feature i's column (0 for a zero diff)."""
    check_feature(dW, i)
    total = dW.pow(2).sum((-2, -1))
    return dW[..., :, i].pow(2).sum(-1) / total.clamp(min=eps)


def reference_cosine(dW: torch.Tensor, W: torch.Tensor, i: int, eps: float = 1e-12) -> torch.Tensor:
    """(...) cosine (Frobenius) between each diff of W and the reference ``−W_i e_iᵀ`` (0 for a zero diff)."""
    ref = exact_reference(W, torch.zeros_like(W[0]), i)[0]
    dot = (dW * ref).sum((-2, -1))
    return dot / (dW.pow(2).sum((-2, -1)).sqrt() * ref.norm()).clamp(min=eps)


def switch_off_scores(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor, i: int, importance: torch.Tensor,
                      dW: torch.Tensor | None = None, db: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """How well an edit switches feature i off, on inputs ``x`` (batch, n), importance (n,):

    * ``residual``: ``E[x'_i²]`` under the edit over ``E[x'_i²]`` of the unedited model (0 = fully off);
    * ``collateral``: the other features' importance-weighted reconstruction loss under the edit, minus the
      unedited one, over the unedited one (0 = unchanged; negative = the others got better).
    """
    check_feature(W, i)
    before, after = edited_output(W, b, x), edited_output(W, b, x, dW, db)
    others = torch.ones(W.shape[-1], dtype=torch.bool, device=W.device)
    others[i] = False
    power = before[:, i].pow(2).mean()
    if power <= 0:
        raise ValueError(f"feature {i} has no output on these inputs (its x'_i is always 0): nothing to switch off")

    def retain_loss(out):
        return (importance[others] * (x[:, others] - out[..., others]) ** 2).sum(-1).mean(-1)

    return {"residual": after[..., i].pow(2).mean(-1) / power,
            "collateral": retain_loss(after) / retain_loss(before) - 1}


# ---------------------------------------------------------------------------------------------------------
# Editors that learn the edit: a symbiote, direct optimisation of a free diff, and the bias-only edit.
# Every (model, feature) pair to switch off is one *command*; commands are batched, each reading its own model.
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditConfig:
    """Training of the learnt editors (the symbiote and direct optimisation share it).

    The loss of a command "switch feature i off" is, as in the book's symbiote loss, a retain term plus a
    weighted forget term plus a small size penalty, each relative to the unedited model:
    ``retain(edit)/retain(0) + forget_weight · E[x'_i²](edit)/E[x'_i²](0) + diff_penalty · ‖Δ‖²/‖θ‖²``
    (θ = (W, b), Δ = (ΔW, Δb)). The retain term is the other features' reconstruction *loss*, so an edit may also
    lower it (a freed dimension can serve another feature).
    """

    steps: int = 200  # Adam steps
    batch_size: int = 512  # inputs per step, drawn from each model's own data distribution
    eval_size: int = 20_000  # fixed inputs for the normalisers and the scores
    lr: float = 0.02  # Adam's peak learning rate, decayed to 0 on a cosine
    forget_weight: float = 1.0
    diff_penalty: float = 0.001  # as the book's symbiote
    seed: int = 0

    def __post_init__(self):
        check_range("steps", self.steps, 1, 1_000_000, integer=True)
        check_range("batch_size", self.batch_size, 16, 1_000_000, integer=True)
        check_range("eval_size", self.eval_size, 100, 10_000_000, integer=True)
        check_range("lr", self.lr, 1e-6, 10.0)
        check_range("forget_weight", self.forget_weight, 1e-6, 1e6)
        check_range("diff_penalty", self.diff_penalty, 0.0, 1e6)
        check_range("seed", self.seed, 0, 2**63 - 1, integer=True)


@dataclass(frozen=True)
class Commands:
    """The (model, feature) pairs to switch off: ``model[k]`` indexes the batch of models, ``feature[k]`` the
    feature; features are the represented ones (‖W_i‖ > threshold), the others have nothing to switch off."""

    model: torch.Tensor
    feature: torch.Tensor

    @classmethod
    def represented(cls, W: torch.Tensor, threshold: float = 0.5) -> "Commands":
        if W.ndim != 3:
            raise ValueError(f"expected a batch of models W (models, m, n), got shape {tuple(W.shape)}")
        model, feature = torch.nonzero(W.norm(dim=-2) > threshold, as_tuple=True)
        if len(model) == 0:
            raise ValueError(f"no feature of these models is represented (‖W_i‖ > {threshold}): nothing to switch off")
        return cls(model, feature)

    def __len__(self) -> int:
        return len(self.model)

    def pairs(self) -> list[tuple[int, int]]:
        """[(model, feature), ...] as ints."""
        return list(zip(self.model.tolist(), self.feature.tolist(), strict=True))


def _outputs(W, b, x, dW=None, db=None):
    """Batched model outputs: W (k, m, n), b (k, n), x (k, B, n), dW (k, m, n), db (k, n) or None -> (k, B, n)."""
    Wp = W if dW is None else W + dW
    bp = b if db is None else b + db
    h = torch.einsum("kmn,kbn->kbm", Wp, x)
    return torch.relu(torch.einsum("kmn,kbm->kbn", Wp, h) + bp[:, None, :])


def command_terms(W, b, x, importance, commands: Commands, dW=None, db=None) -> dict[str, torch.Tensor]:
    """Per command (k,): the forget power E[x'_i²] and the retain loss (importance-weighted squared error of
    the other features) under ``dW`` (k, m, n), ``db`` (k, n) (None: unedited). ``x`` is (models, B, n)."""
    Wk, bk, xk, imp = W[commands.model], b[commands.model], x[commands.model], importance[commands.model]
    out = _outputs(Wk, bk, xk, dW, db)
    i = commands.feature
    forget = out[torch.arange(len(i)), :, i].pow(2).mean(-1)
    err = imp[:, None, :] * (xk - out) ** 2
    retain = err.sum(-1).mean(-1) - err[torch.arange(len(i)), :, i].mean(-1)
    return {"forget": forget, "retain": retain}


class ToySymbiote(nn.Module):
    """One symbiote per toy model: command "switch feature i off" -> ``ΔW = W diag(g)``, ``Δb = g ⊙ b``: output
    neuron j (its input weights, column W_j, and its bias) scaled by ``1 + g_j``, with

        g_j = −ReLU(W_jᵀ Q W_i − τ)       (Q: m × m, τ: scalar; m² + 1 parameters per model).

    It reads the command through the primary's own encoder (the hidden code W_i of the input e_i) and scores
    every feature j by the learnt bilinear form ``W_jᵀ Q W_i``; features scoring above τ have their column
    scaled down. This is the toy counterpart of the book's per-neuron gain ``g ⊙ W`` (feature j's column is
    output neuron j's input weights). It is the only kind of generator that fits half the model's size: a
    generator that stored a separate edit per feature would need n·m·n numbers, the model itself has m·n + n.
    Starts from ``Q = 0.1 I``, τ = 0 (reading the command with the primary's own metric at a tenth of full
    strength); the exact reference (g = −e_i) is inside its family whenever the features' scores separate.
    """

    def __init__(self, n_models: int, n_hidden: int, device=None):
        super().__init__()
        self.Q = nn.Parameter(0.1 * torch.eye(n_hidden, device=device).repeat(n_models, 1, 1))
        self.tau = nn.Parameter(torch.zeros(n_models, device=device))

    @staticmethod
    def parameter_count(n_hidden: int) -> int:
        return n_hidden**2 + 1

    def gains(self, W: torch.Tensor, commands: Commands) -> torch.Tensor:
        """(k, n) gains g of each command's diff."""
        Wk, Qk = W[commands.model], self.Q[commands.model]
        code = Wk[torch.arange(len(commands)), :, commands.feature]  # (k, m): W_i
        scores = torch.einsum("kmn,kml,kl->kn", Wk, Qk, code)  # W_jᵀ Q W_i
        return -torch.relu(scores - self.tau[commands.model, None])

    def diffs(self, W: torch.Tensor, b: torch.Tensor, commands: Commands) -> tuple[torch.Tensor, torch.Tensor]:
        """ΔW (k, m, n) and Δb (k, n) of each command."""
        g = self.gains(W, commands)
        return W[commands.model] * g[:, None, :], b[commands.model] * g


def _sample(density: torch.Tensor, batch: int, n: int, source) -> torch.Tensor:
    return toy.sample_batch(density, batch, n, source).contiguous()


def _train_edits(diff_fn, params, W, b, importance, density, commands: Commands, config: EditConfig,
                 progress: bool = False) -> dict:
    """Adam on the mean edit loss over the commands; returns the final diffs and the loss curve."""
    source = toy.UniformSource(config.seed, W.device)
    n = W.shape[-1]
    x_eval = _sample(density, config.eval_size, n, source)
    base = command_terms(W, b, x_eval, importance, commands)
    if (base["forget"] <= 0).any():
        k = int(torch.nonzero(base["forget"] <= 0)[0])
        raise ValueError(f"command {k} (model {int(commands.model[k])}, feature {int(commands.feature[k])}) "
                         "has no output on the evaluation inputs: nothing to switch off; drop it from the commands")
    size = W[commands.model].pow(2).sum((-2, -1)) + b[commands.model].pow(2).sum(-1)
    opt = torch.optim.Adam(params, lr=config.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / config.steps)))
    curve = []
    for _ in progress_bar(range(config.steps), enabled=progress, desc="edit steps"):
        x = _sample(density, config.batch_size, n, source)
        dW, db = diff_fn()
        terms = command_terms(W, b, x, importance, commands, dW, db)
        penalty = (dW.pow(2).sum((-2, -1)) + db.pow(2).sum(-1)) / size
        loss = (terms["retain"] / base["retain"] + config.forget_weight * terms["forget"] / base["forget"]
                + config.diff_penalty * penalty).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        curve.append(loss.item())
    with torch.no_grad():
        dW, db = diff_fn()
    return {"dW": dW.detach(), "db": db.detach(), "curve": curve}


def train_symbiote(W, b, importance, density, commands: Commands, config: EditConfig = EditConfig(),
                   progress: bool = False) -> dict:
    """Train one ``ToySymbiote`` per model on all its commands at once. W (models, m, n), b and importance
    (models, n), density (models,). Returns the diffs (k, m, n), the gains (k, n), the state and the curve."""
    W, b = W.detach(), b.detach()
    torch.manual_seed(config.seed)
    sym = ToySymbiote(W.shape[0], W.shape[1], W.device)
    run = _train_edits(lambda: sym.diffs(W, b, commands), list(sym.parameters()), W, b, importance, density,
                       commands, config, progress)
    with torch.no_grad():
        run["gains"] = sym.gains(W, commands)
    run["state"] = {k: v.detach().cpu() for k, v in sym.state_dict().items()}
    return run


def optimise_directly(W, b, importance, density, commands: Commands, config: EditConfig = EditConfig(),
                      progress: bool = False) -> dict:
    """A free diff (ΔW m × n, Δb n) per command, optimised under the same loss from zero: no compression, no
    structure (per model it is n·(m·n + n) numbers, a lookup table of edits)."""
    W, b = W.detach(), b.detach()
    free_W = torch.zeros(len(commands), *W.shape[1:], device=W.device, requires_grad=True)
    free_b = torch.zeros(len(commands), W.shape[-1], device=W.device, requires_grad=True)
    return _train_edits(lambda: (free_W, free_b), [free_W, free_b], W, b, importance, density, commands, config,
                        progress)


def bias_edit(W: torch.Tensor, b: torch.Tensor, i: int) -> torch.Tensor:
    """The last-layer edit: ``Δb = −max(b_i + Σ_j ReLU((WᵀW)_ij), 0) e_i`` (n,), the largest pre-activation
    feature i can reach on inputs in [0, 1]^n, so x'_i = 0 on every such input and no other output moves.
    It switches the feature off without touching W at all."""
    check_feature(W, i)
    db = torch.zeros_like(b)
    db[i] = -(b[i] + torch.relu(W[:, i] @ W).sum()).clamp(min=0)
    return db


def column_left(dW: torch.Tensor, W: torch.Tensor, i: int) -> torch.Tensor:
    """(...) ``‖W_i + ΔW_i‖ / ‖W_i‖``: how much of feature i's column the edit leaves (0 = removed)."""
    check_feature(W, i)
    return (W[:, i] + dW[..., :, i]).norm(dim=-1) / W[:, i].norm().clamp(min=1e-12)


# ---------------------------------------------------------------------------------------------------------
# The chapter's experiment: every editor on chapter 1's toy models, per regime, over seeds.
# ---------------------------------------------------------------------------------------------------------

EDITORS = ("symbiote", "direct optimisation", "exact reference", "bias edit")
MEASURES = ("residual", "collateral", "excess", "share", "cosine", "left", "column_residual")
# Rule, fixed before any number is seen: an editor finds feature i in a regime when, over seeds (95 % bootstrap
# intervals of the seed means), it switches the feature off (residual's upper end <= RESIDUAL_MAX), costs the other
# features at most COLLATERAL_MAX more than the exact reference does (upper end of the excess collateral; the
# reference itself changes them wherever features share dimensions), and puts its diff of W on feature i's column
# (share's and cosine's lower ends >= FIND_MIN). It misses the feature when the share's or the cosine's upper end
# lies below FIND_MIN; anything else is undecided.
RESIDUAL_MAX = 0.05
COLLATERAL_MAX = 0.05
FIND_MIN = 0.9


@dataclass(frozen=True)
class ToyEditExperiment:
    """Which toy models (chapter 1's two settings, a subset of their sparsities, ``seeds``) and how to edit them."""

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    sparsity_index: tuple[int, ...] = (0, 2, 4, 7)  # into chapter 1's eight sparsities of each setting
    edit: EditConfig = EditConfig()
    eval_seed: int = 10_000  # the scores' inputs: a stream separate from the editors' training batches
    version: int = 1  # part of the cache key: bump it when a change to the editors changes their results

    def __post_init__(self):
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds={self.seeds!r} must be a non-empty tuple of distinct seeds")
        for s in self.seeds:
            check_range("seed", s, 0, 2**31 - 1, integer=True)
        if not self.sparsity_index or any(not isinstance(k, int) or not 0 <= k < 8 for k in self.sparsity_index):
            raise ValueError(f"sparsity_index={self.sparsity_index!r} must index chapter 1's eight sparsities (0..7)")


def settings() -> dict:
    """Chapter 1's two settings: name -> (cache name, config function)."""
    return {"n = 5, m = 2": ("toy-pentagon", toy.pentagon_config), "n = 20, m = 5": ("toy-norms", toy.norms_config)}


def regime(dims_per_feature: float) -> str:
    """A regime's name from m/‖W‖²_F (chapter 1's dimensions per feature)."""
    if dims_per_feature >= 0.9:
        return "no superposition"
    return "up to two features per dimension" if dims_per_feature >= 0.45 else "more than two per dimension"


def editor_diffs(W, b, importance, density, config: "ToyEditExperiment") -> tuple[Commands, dict]:
    """Every editor's diffs for every represented feature of a batch of models W (models, m, n):
    the commands and ``{editor: (ΔW (k, m, n), Δb (k, n))}``."""
    commands = Commands.represented(W)
    diffs = {}
    for name, train in (("symbiote", train_symbiote), ("direct optimisation", optimise_directly)):
        run = train(W, b, importance, density, commands, config.edit)
        diffs[name] = (run["dW"], run["db"])
    pairs = [exact_reference(W[m], b[m], i) for m, i in commands.pairs()]
    diffs["exact reference"] = (torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs]))
    diffs["bias edit"] = (torch.zeros(len(commands), *W.shape[1:], device=W.device),
                          torch.stack([bias_edit(W[m], b[m], i)
                                       for m, i in commands.pairs()]))
    return commands, diffs


def edit_models(W, b, importance, density, config: "ToyEditExperiment", device=None) -> list[dict]:
    """Every editor on every represented feature of a batch of models; one row (dict) per (model, feature, editor)
    with the measures of ``MEASURES``."""
    commands, diffs = editor_diffs(W, b, importance, density, config)
    x_eval = toy.sample_batch(density, config.edit.eval_size, W.shape[-1], toy.UniformSource(config.eval_seed, device))
    rows = []
    for k in range(len(commands)):
        model, i = int(commands.model[k]), int(commands.feature[k])
        Wm, bm = W[model], b[model]
        for editor in EDITORS:
            dW, db = diffs[editor][0][k], diffs[editor][1][k]
            scores = switch_off_scores(Wm, bm, x_eval[model].contiguous(), i, importance[model], dW, db)
            rows.append({"model": model, "feature": i, "editor": editor,
                         "residual": scores["residual"].item(), "collateral": scores["collateral"].item(),
                         "share": column_share(dW, i).item(), "cosine": reference_cosine(dW, Wm, i).item(),
                         "left": column_left(dW, Wm, i).item(),
                         "column_residual": switch_off_scores(Wm, bm, x_eval[model].contiguous(), i, importance[model],
                                                              *on_feature(dW, db, i))["residual"].item()})
        reference = next(r["collateral"] for r in rows[-len(EDITORS):] if r["editor"] == "exact reference")
        for r in rows[-len(EDITORS):]:
            r["excess"] = r["collateral"] - reference
    return rows


def load_models(setting: str, seed: int, config: ToyEditExperiment, device=None) -> dict:
    """Chapter 1's toy models of ``setting`` for ``seed`` (trained and cached on first use; seed 0 is chapter 1's
    own run), restricted to ``config.sparsity_index``: W, b, importance, density and the sparsities."""
    if setting not in settings():
        raise ValueError(f"unknown setting {setting!r}; choose one of {sorted(settings())}")
    name, config_fn = settings()[setting]
    toy_config = config_fn(seed=seed)
    trained = toy.load_or_train(name, toy_config, device, progress=False)
    idx = list(config.sparsity_index)
    return {"W": trained["W"][idx].to(device), "b": trained["b"][idx].to(device),
            "importance": toy.feature_importance(toy_config, device)[idx],
            "density": toy.feature_density(toy_config, device)[idx],
            "sparsity": [toy_config.sparsity[k] for k in idx]}


def run_experiment(config: ToyEditExperiment = ToyEditExperiment(), device=None, progress: bool = False) -> dict:
    """Train (or load) chapter 1's toy models for every seed, edit them, and return ``{"rows": [...], "seconds"}``:
    one row per (setting, seed, sparsity, feature, editor), with the model's dims per feature."""
    import time

    start, rows = time.perf_counter(), []
    for setting in settings():
        for seed in progress_bar(config.seeds, enabled=progress, desc=setting):
            models = load_models(setting, seed, config, device)
            W, b, importance, density = (models[k] for k in ("W", "b", "importance", "density"))
            dims = toy.dims_per_feature(W)
            for row in edit_models(W, b, importance, density, config, device):
                k = row.pop("model")
                rows.append({"setting": setting, "seed": seed, "sparsity": models["sparsity"][k],
                             "dims_per_feature": dims[k].item(), **row})
    return {"rows": rows, "seconds": time.perf_counter() - start}


def load_or_run(config: ToyEditExperiment = ToyEditExperiment(), device=None, progress: bool = False) -> dict:
    """The cached result of ``run_experiment(config)`` (keyed by the config)."""
    return load_or_build("toy-edit", config, lambda: run_experiment(config, device, progress))


def bootstrap_interval(values, level: float = 0.95, resamples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean of ``values`` (one per seed). It stays inside the values' range
    (a share in [0, 1] gets an interval in [0, 1]); with few seeds it is narrow, so it is read beside N."""
    v = torch.tensor(list(values), dtype=torch.float64).flatten()
    if v.numel() == 0:
        raise ValueError("bootstrap_interval needs at least one value")
    gen = torch.Generator().manual_seed(seed)
    means = v[torch.randint(len(v), (resamples, len(v)), generator=gen)].mean(1)
    alpha = (1 - level) / 2
    return means.quantile(alpha).item(), means.quantile(1 - alpha).item()


def summarise(rows: list[dict]):
    """Per (setting, sparsity, editor): seed means of every measure (each seed's mean over its features) with 95 %
    bootstrap intervals over seeds, the regime, and the rule's verdict. A pandas DataFrame."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    per_seed = frame.groupby(["setting", "sparsity", "editor", "seed"], sort=False)[
        [*MEASURES, "dims_per_feature"]].mean()
    out = []
    for (setting, sparsity, editor), group in per_seed.groupby(level=[0, 1, 2], sort=False):
        row = {"setting": setting, "sparsity": sparsity, "editor": editor, "seeds": len(group),
               "dims_per_feature": group["dims_per_feature"].mean(),
               "regime": regime(group["dims_per_feature"].mean())}
        for m in MEASURES:
            low, high = bootstrap_interval(group[m].to_numpy())
            row |= {m: group[m].mean(), f"{m}_low": low, f"{m}_high": high}
        row["verdict"] = verdict(row)
        out.append(row)
    return pd.DataFrame(out)


def verdict(row: dict) -> str:
    """The rule above on one summary row: "finds the feature", "misses the feature" or "undecided"."""
    if min(row["share_high"], row["cosine_high"]) < FIND_MIN:
        return "misses the feature"
    if (row["residual_high"] <= RESIDUAL_MAX and row["excess_high"] <= COLLATERAL_MAX
            and min(row["share_low"], row["cosine_low"]) >= FIND_MIN):
        return "finds the feature"
    return "undecided"


def claim_verdict(summary, editor: str = "symbiote") -> dict:
    """The claims row: supported when ``editor`` finds the feature in every regime, not supported when it misses
    it in any (those regimes are named), else inconclusive."""
    rows = summary[summary["editor"] == editor]
    if rows.empty:
        raise ValueError(f"no rows for editor {editor!r}; editors are {sorted(summary['editor'].unique())}")
    missed = rows[rows["verdict"] == "misses the feature"]
    if len(missed):
        where = ", ".join(f"{r.setting} at S = {r.sparsity:g}" for r in missed.itertuples())
        return {"verdict": "not supported", "where": where}
    if (rows["verdict"] == "finds the feature").all():
        return {"verdict": "supported", "where": "every regime"}
    open_ = rows[rows["verdict"] != "finds the feature"]
    return {"verdict": "inconclusive",
            "where": ", ".join(f"{r.setting} at S = {r.sparsity:g}" for r in open_.itertuples())}


def on_feature(dW: torch.Tensor, db: torch.Tensor, i: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The part of a diff on feature i alone: column i of ΔW and entry i of Δb (everything else zero)."""
    check_feature(dW, i)
    keep_W, keep_b = torch.zeros_like(dW), torch.zeros_like(db)
    keep_W[..., :, i], keep_b[..., i] = dW[..., :, i], db[..., i]
    return keep_W, keep_b
