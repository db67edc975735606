"""Universality (chapter 9): do independently trained primaries, and the symbiotes that edit them, share units?

**Matching.** Two primaries A and B of one architecture have the same layers but no reason to number their units
alike. A unit's *activations* on a set of images identify it: ``unit_activations`` takes, per layer, one column per
unit (a conv channel contributes one sample per image and position), ``correlation`` correlates every unit of A
with every unit of B, and ``match`` finds the one-to-one assignment with the largest total correlation
(``scipy.optimize.linear_sum_assignment``). A matching is a permutation ``p`` per layer: unit ``i`` of A is unit
``p[i]`` of B.

**Reordering.** ``reorder_primary`` renumbers a network's units (``order[i]`` = the old index of new unit ``i``) so
that it computes exactly the same function; ``reorder_diffs`` renumbers weight diffs the same way, so a symbiote's
edit carried through a matching lands on the matched units. The layers a parameter's axes index are listed in
``PARAM_AXES``: renumbering conv1's channels moves conv2's inputs, renumbering conv2's channels moves blocks of
fc1's inputs (one per channel, its 4×4 positions).

**Agreement of edit maps.** ``matched_spearman`` correlates, digit by digit, A's per-unit edit sizes with B's on the
matched units, and ``permutation_null`` gives its chance level under random matchings. Both are taken over the matched
pairs of *live* units only (``live_units``, ``live_matched``): a dead unit (constant activation on the matching
images) computes nothing there, so its edit size or ablation importance is no evidence of a shared computation, and
a block of dead units with tied values in both maps would inflate a rank correlation. ``agreement`` gives a pair's ρ,
its ρ with the other digits' maps and its null draws, all over the same live units.

**Intervals over pairs.** A number measured on every pair of N seeds is a mean over pairs that share networks, so the
pairs are not independent. ``pair_interval`` uses the jackknife over *seeds* (leave one seed out, i.e. every pair it
is in), with Student t quantiles on N − 1 degrees of freedom: for pair values ``(x_i + x_j)/2`` it is exactly
``stats.t_interval(x)``. It carries its standard error (``se``, ``df``), so ``stats`` tests it on the t it inverts.

**The verdict** (``TESTS``, ``decide_universality``). Per edited layer two ``stats.MarginTest``, both with the margin
``replication.RHO_MARGIN`` (0.1, Cohen's "small" correlation): the symbiotes' ρ above chance, whose passing side is a
permutation test against the null of the mean over pairs pooled from every pair's random matchings
(``stats.pooled_null``) and whose failing side is the jackknife interval; and ρ minus the other-digit ρ above 0 on
the jackknife interval. The chapter's four tests are one family: ``stats.evaluate`` corrects their eight one-sided
hypotheses with Holm's method at ``stats.ALPHA``, and ``replication.decide_levels`` gives the verdict, inconclusive
when an undecided test could change it.
"""

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy.optimize import linear_sum_assignment

from symbiote_lite import circuits as C
from symbiote_lite import editors as E
from symbiote_lite.artifacts import config_hash, load_or_build
from symbiote_lite.baselines import BaselineConfig
from symbiote_lite.data import load_mnist
from symbiote_lite.metrics import N_DIGITS, scores_under
from symbiote_lite.networks import load_primaries
from symbiote_lite.primary import PrimaryCNN, PrimaryConfig, activations, build_model, predict
from symbiote_lite.replication import INCONCLUSIVE, RHO_MARGIN, decide_levels, seeds_text
from symbiote_lite.stats import (
    ALPHA,
    MarginTest,
    evaluate,
    outcome_levels,
    pooled_null,
    rate_from_se,
    seeds_needed,
    student_t_quantile,
    t_interval,
    turning_row,
)
from symbiote_lite.stats import rule_text as stats_rule_text
from symbiote_lite.symbiote import SymbioteConfig, SymbioteRun, edited_predict, load_or_train_symbiote

# the cache file's name; it changes with the layout of the stored result, so a result of another layout is never read
ARTIFACT = "universality-4"
UNIT_LAYERS = ("conv1", "conv2", "fc1")  # every layer with units to match (conv1 only moves conv2's inputs)
EDIT_LAYERS = ("conv2", "fc1")  # the layers the symbiote edits
PARAM_AXES = {  # parameter -> {axis: layer whose units that axis indexes}
    "conv1.weight": {0: "conv1"}, "conv1.bias": {0: "conv1"},
    "conv2.weight": {0: "conv2", 1: "conv1"}, "conv2.bias": {0: "conv2"},
    "fc1.weight": {0: "fc1", 1: "conv2"}, "fc1.bias": {0: "fc1"},
    "fc2.weight": {1: "fc1"}, "fc2.bias": {},
}
RANDOM_NETWORK_SEED = 1_000_000  # untrained reference networks use seed RANDOM_NETWORK_SEED + chain seed
MIN_LIVE = 3  # fewest live matched units a rank correlation over them needs

# --- matching ----------------------------------------------------------------------------------------------------


@torch.no_grad()
def unit_activations(model: PrimaryCNN, x: torch.Tensor, batch_size: int = 2000) -> dict[str, torch.Tensor]:
    """Per layer of ``UNIT_LAYERS``: (samples, units) activations after the ReLU; a conv channel's samples are its
    values at every image and position (N·H·W rows), an fc1 unit's its value on every image (N rows)."""
    hidden = activations(model, x, UNIT_LAYERS, batch_size)[1]
    return {layer: a.movedim(1, -1).reshape(-1, a.shape[1]) if a.ndim == 4 else a for layer, a in hidden.items()}


def correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of every column of a (S, m) with every column of b (S, n): (m, n), in float64.

    A constant column (a dead unit) correlates 0 with everything: it carries no information to match on."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"need two (samples, units) tensors with the same samples, got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    a, b = a.double(), b.double()
    a, b = a - a.mean(0), b - b.mean(0)
    na, nb = a.norm(dim=0), b.norm(dim=0)
    corr = (a.T @ b) / (na[:, None] * nb[None, :])
    return torch.nan_to_num(corr, nan=0.0, posinf=0.0, neginf=0.0)


def match(corr: torch.Tensor) -> torch.Tensor:
    """The one-to-one matching with the largest total correlation: p (m,) with unit i of A matched to unit p[i]
    of B, for a square (m, m) correlation matrix."""
    if corr.ndim != 2 or corr.shape[0] != corr.shape[1]:
        raise ValueError(f"a one-to-one matching needs a square correlation matrix, got {tuple(corr.shape)}")
    rows, cols = linear_sum_assignment(corr.cpu().numpy(), maximize=True)
    p = torch.empty(corr.shape[0], dtype=torch.long)
    p[torch.as_tensor(rows)] = torch.as_tensor(cols)
    return p


def match_activations(acts_a: dict, acts_b: dict) -> dict[str, dict]:
    """Per layer: ``perm`` (A unit i -> B unit perm[i]) and ``corr`` (units,) the matched units' correlations."""
    out = {}
    for layer in acts_a:
        corr = correlation(acts_a[layer], acts_b[layer])
        p = match(corr)
        out[layer] = {"perm": p, "corr": corr[torch.arange(len(p)), p.to(corr.device)].cpu()}
    return out


def inverse(p: torch.Tensor) -> torch.Tensor:
    """The inverse permutation: inverse(p)[p[i]] = i."""
    return torch.argsort(p)


# --- reordering units ------------------------------------------------------------------------------------------


def _axis_index(order: torch.Tensor, size: int) -> torch.Tensor:
    """Indices along an axis of ``size`` entries that hold ``len(order)`` units in contiguous blocks (1 per unit for
    a conv channel axis, 16 per channel for fc1's flattened 32×4×4 input)."""
    block, rest = divmod(size, len(order))
    if rest:
        raise ValueError(f"an axis of {size} entries cannot hold {len(order)} units in equal blocks")
    order = order.to(torch.long).cpu()
    return (order[:, None] * block + torch.arange(block)).flatten()


def reorder_tensor(name: str, t: torch.Tensor, orders: dict[str, torch.Tensor], batch_dims: int = 0,
                   inputs: bool = True) -> torch.Tensor:
    """Parameter (or diff, after ``batch_dims`` leading axes) ``name`` with its unit axes renumbered by ``orders``
    (layer -> order, new unit i = old unit order[i]); ``inputs=False`` renumbers only the output axis (axis 0)."""
    if name not in PARAM_AXES:
        raise ValueError(f"unknown parameter {name!r}; expected one of {sorted(PARAM_AXES)}")
    for axis, layer in PARAM_AXES[name].items():
        if layer not in orders or (axis > 0 and not inputs):
            continue
        dim = batch_dims + axis
        t = t.index_select(dim, _axis_index(orders[layer], t.shape[dim]).to(t.device))
    return t


def reorder_primary(model: PrimaryCNN, orders: dict[str, torch.Tensor]) -> PrimaryCNN:
    """A copy of ``model`` whose units are renumbered by ``orders`` (new unit i = old unit order[i]): it computes
    the same logits, and its hidden unit i is the old unit order[i]."""
    copy = build_model_like(model)
    copy.load_state_dict({k: reorder_tensor(k, v, orders) for k, v in model.state_dict().items()})
    return copy.eval()


def build_model_like(model: PrimaryCNN) -> PrimaryCNN:
    config = PrimaryConfig(channels1=model.conv1.out_channels, channels2=model.conv2.out_channels,
                           hidden=model.fc1.out_features)
    return build_model(config).to(model.fc2.weight.device)


def reorder_diffs(diffs: dict[str, torch.Tensor], orders: dict[str, torch.Tensor], inputs: bool = True) -> dict:
    """Weight diffs {name: (B, *shape)} renumbered like ``reorder_primary`` renumbers the network they edit."""
    return {k: reorder_tensor(k, v, orders, batch_dims=1, inputs=inputs) for k, v in diffs.items()}


def carry(diffs: dict, perms: dict[str, torch.Tensor], inputs: bool = True) -> dict:
    """A's diffs carried to B through the matching ``perms`` (A unit i -> B unit perms[i]): the diff of A's unit i
    lands on B's unit perms[i] (``inputs=False``: only each diff's output unit moves, its input axes stay)."""
    return reorder_diffs(diffs, {layer: inverse(p) for layer, p in perms.items()}, inputs=inputs)


def random_primary(seed: int, like: PrimaryCNN) -> PrimaryCNN:
    """An untrained network of ``like``'s architecture, initialised from ``RANDOM_NETWORK_SEED + seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_NETWORK_SEED + seed)
        return build_model_like(like).eval()


# --- agreement of per-unit maps ----------------------------------------------------------------------------------


def matched_spearman(map_a: torch.Tensor, map_b: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Digit by digit, Spearman ρ between A's per-unit values and B's values on the matched units: (digits,).
    map_a, map_b (digits, units), perm (units,) with A unit i -> B unit perm[i]."""
    return C.spearman(map_a, map_b[:, perm.to(map_b.device)])


def other_digit_spearman(map_a: torch.Tensor, map_b: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Mean ρ between A's map for digit d and B's matched maps of the *other* digits: (digits,). The part of the
    agreement that does not depend on which digit is edited (e.g. big units get big edits for every digit)."""
    rho = C.spearman(map_a[:, None, :], map_b[None, :, perm.to(map_b.device)])  # (d_a, d_b)
    n = rho.shape[0]
    return (rho.sum(1) - rho.diagonal()) / (n - 1)


def permutation_null(map_a: torch.Tensor, map_b: torch.Tensor, n_draws: int = 1000, seed: int = 0) -> torch.Tensor:
    """Chance level of ``matched_spearman(...).mean()``: the digit-mean ρ under ``n_draws`` random matchings
    (n_draws,)."""
    gen = torch.Generator().manual_seed(seed)
    units = map_b.shape[1]
    perms = torch.stack([torch.randperm(units, generator=gen) for _ in range(n_draws)]).to(map_b.device)
    shuffled = map_b[:, perms].movedim(1, 0)  # (n_draws, digits, units)
    return C.spearman(map_a[None], shuffled).mean(-1)


def live_units(acts: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per layer: a bool mask (units,) of the *live* units, those whose activation is not constant over the samples
    of ``unit_activations`` (a dead unit, constant 0 after its ReLU, has no activation to match or edit on)."""
    return {layer: (a.amax(0) > a.amin(0)).cpu() for layer, a in acts.items()}


def live_matched(live_a: torch.Tensor, live_b: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """A's units i that are live and matched to a live unit perm[i] of B, as indices (ascending)."""
    perm = perm.cpu()
    return torch.nonzero(live_a.cpu() & live_b.cpu()[perm]).flatten()


def agreement(map_a: torch.Tensor, map_b: torch.Tensor, perm: torch.Tensor, units: torch.Tensor,
              n_null: int = 1000, seed: int = 0) -> dict[str, torch.Tensor]:
    """The agreement of two (digits, units) maps over the matched units ``units`` of A (``live_matched``), each with
    its match perm[i] in B: ``rho`` (digits,) the same-digit ρ, ``rho_other`` (digits,) the ρ with B's other digits'
    maps, ``null`` (n_null,) the digit-mean ρ under random matchings among the same units."""
    if len(units) < MIN_LIVE:
        raise ValueError(f"only {len(units)} live matched units: a rank correlation needs at least {MIN_LIVE}; "
                         "match on more images or check the networks for dead layers")
    a = map_a[:, units.to(map_a.device)]
    b = map_b[:, perm.cpu()[units].to(map_b.device)]  # column j: the match of A's unit units[j]
    same = torch.arange(len(units))
    return {"rho": matched_spearman(a, b, same), "rho_other": other_digit_spearman(a, b, same),
            "null": permutation_null(a, b, n_null, seed)}


def pair_agreements(maps_a: dict, maps_b: dict, perms: dict[str, torch.Tensor], live_a: dict, live_b: dict,
                    n_null: int = 1000, seed: int = 0) -> dict:
    """One pair's agreement of every method's maps (``edit_maps``) over its live matched units, as plain numbers:
    ``live`` {layer: number of live matched units}, ``rho`` and ``rho_other`` {method/layer: per-digit ρ} and
    ``rho_null`` {method/layer: {"draws": the null's ``n_null`` digit-mean ρ, "q975", "median"}}. Every method of a
    layer is compared under the same random matchings."""
    out = {"live": {}, "rho": {}, "rho_other": {}, "rho_null": {}}
    for method, by_layer in maps_a.items():
        for layer, map_a in by_layer.items():
            units = live_matched(live_a[layer], live_b[layer], perms[layer])
            out["live"][layer] = len(units)
            got = agreement(map_a, maps_b[method][layer], perms[layer], units, n_null, seed)
            name = f"{method}/{layer}"
            out["rho"][name] = got["rho"].tolist()
            out["rho_other"][name] = got["rho_other"].tolist()
            out["rho_null"][name] = {"draws": got["null"].tolist(), "q975": got["null"].quantile(0.975).item(),
                                     "median": got["null"].median().item()}
    return out


# --- intervals over pairs of seeds ---------------------------------------------------------------------------------


def pair_interval(values: dict[tuple, float], level: float = 0.95) -> dict:
    """Mean over pairs of seeds and its interval from the jackknife over seeds (see the module docstring).

    ``values`` {(seed_a, seed_b): number}, ordered or unordered pairs. Returns ``{"n", "mean", "low", "high", "se",
    "df", "sd", "values", "method"}`` with ``n`` the number of seeds, ``se`` the jackknife standard error of the mean
    (also under its old name ``sd``) on ``df`` = n − 1 degrees of freedom; needs at least 3 seeds (leaving one out
    must leave a pair)."""
    if not values:
        raise ValueError("pair_interval needs at least one pair")
    vals = {k: float(v) for k, v in values.items()}
    if any(math.isnan(v) for v in vals.values()):
        raise ValueError(f"pair_interval got NaN among {vals}")
    seeds = sorted({s for pair in vals for s in pair})
    n = len(seeds)
    if n < 3:
        raise ValueError(f"pair_interval needs pairs over at least 3 seeds, got seeds {seeds}")
    mean = sum(vals.values()) / len(vals)
    loo = []
    for s in seeds:
        rest = [v for pair, v in vals.items() if s not in pair]
        if not rest:
            raise ValueError(f"leaving out seed {s} leaves no pair: give pairs among all the seeds")
        loo.append(sum(rest) / len(rest))
    loo_mean = sum(loo) / n
    se = math.sqrt((n - 1) / n * sum((v - loo_mean) ** 2 for v in loo))
    half = student_t_quantile((1 + level) / 2, n - 1) * se
    return {"n": n, "mean": mean, "se": se, "df": n - 1, "sd": se, "low": mean - half, "high": mean + half,
            "values": list(vals.values()), "method": "jackknife t"}


# --- the experiment ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UniversalityConfig:
    """Which chains to compare and how: the networks of chapter 8's chains with these ``seeds``; the first
    ``n_match`` test images match units and rank ablation importance, the rest score the transfers."""

    seeds: tuple = (0, 1, 2, 3, 4)
    n_match: int = 5000
    n_null: int = 1000  # random matchings for the chance level of an agreement
    null_seed: int = 0


@dataclass(frozen=True)
class UniversalityRun:
    """Keys the cached measurements: the config and the artifact hashes of every symbiote (and so primary) used."""

    config: UniversalityConfig
    symbiotes: tuple


def chain_networks(seed: int, device, progress: bool = False) -> dict:
    """One chain's dense primary, its symbiote's and the direct-optimisation reference's single-digit diffs, from the
    artifact cache (trained if absent, exactly as ``replication.run_chain`` trains them)."""
    model, _, key = load_primaries(device, progress=progress, seed=seed)["dense"]
    recipe = SymbioteConfig(seed=seed)
    sym, _ = load_or_train_symbiote(model, None, recipe, "dense", key, progress=progress)
    direct, _ = E.load_or_optimise_direct(E.DirectRun(recipe, BaselineConfig().direct_steps, key), model,
                                          progress=progress)
    eye = torch.eye(N_DIGITS, device=device)
    with torch.no_grad():
        edit = sym(eye)
    return {"model": model, "symbiote": edit, "direct": direct,
            "run_key": config_hash(SymbioteRun(recipe, "dense", key))}


def edit_maps(net: dict, x: torch.Tensor, y: torch.Tensor) -> dict[str, dict[str, torch.Tensor]]:
    """Per method (symbiote, direct, ablation) and edited layer: the (10, units) map of per-unit edit size (or
    ablation importance) for each digit."""
    model = net["model"]
    return {
        "symbiote": {layer: C.neuron_edit_norms(net["symbiote"], layer) for layer in EDIT_LAYERS},
        "direct": {layer: C.neuron_edit_norms(net["direct"], layer) for layer in EDIT_LAYERS},
        "ablation": {"fc1": C.fc1_ablation_importance(model, x, y), "conv2": C.conv2_ablation_importance(model, x, y)},
    }


@torch.no_grad()
def transfer_scores(model_b, diffs: dict, x, y) -> dict[str, list]:
    """Forget and retain drop (fractions, per digit) of ten single-digit diffs applied to ``model_b``."""
    eye = torch.eye(N_DIGITS, device=x.device)
    s = scores_under(edited_predict(model_b, diffs, x), y, eye, base=predict(model_b, x))
    return {"forget": s["forget"].tolist(), "retain_drop": s["retain_drop"].tolist()}


def run_universality(config: UniversalityConfig, device, progress: bool = False, nets: dict | None = None) -> dict:
    """Every measurement of chapter 9 as plain numbers (see the chapter for what each one means): per pair the
    matching, its correlations and the maps' agreement over the live matched units (``pair_agreements``, its null
    draws included), per seed the live units of every layer (``live_units``) and its match to an untrained network,
    per ordered pair the transfers. ``nets`` {seed: ``chain_networks(seed)``} when the caller has already loaded
    them."""
    if len(set(config.seeds)) != len(config.seeds) or len(config.seeds) < 3:
        raise ValueError(f"seeds={config.seeds}: universality needs at least 3 distinct seeds (pairs and intervals)")
    x, y = load_mnist("test", device)
    if not 0 < config.n_match < len(y):
        raise ValueError(f"n_match={config.n_match} must leave test images on both sides (1..{len(y) - 1})")
    xm, ym, xe, ye = x[: config.n_match], y[: config.n_match], x[config.n_match :], y[config.n_match :]
    nets = nets or {s: chain_networks(s, device, progress) for s in config.seeds}
    acts = {s: unit_activations(n["model"], xm) for s, n in nets.items()}
    live = {s: live_units(a) for s, a in acts.items()}
    maps = {s: edit_maps(n, xm, ym) for s, n in nets.items()}
    gen = torch.Generator().manual_seed(config.null_seed)
    out = {"seeds": list(config.seeds), "n_eval": len(ye), "pairs": {}, "random": {}, "transfer": {},
           "live_units": {str(s): {layer: int(m.sum()) for layer, m in live[s].items()} for s in config.seeds}}
    perms = {}  # (a, b) -> {layer: A unit i -> B unit perm[i]}, both orders

    for s, net in nets.items():  # null 1: a trained network against an untrained one
        rand = unit_activations(random_primary(s, net["model"]), xm)
        out["random"][s] = {layer: m["corr"].tolist() for layer, m in match_activations(acts[s], rand).items()}

    for index, (a, b) in enumerate(itertools.combinations(config.seeds, 2)):
        matched = match_activations(acts[a], acts[b])
        perms[(a, b)] = {layer: m["perm"] for layer, m in matched.items()}
        perms[(b, a)] = {layer: inverse(m["perm"]) for layer, m in matched.items()}
        shuffle = torch.randperm(config.n_match, generator=gen).to(device)  # null 2: the same images, shuffled
        shuffled = match_activations(acts[a], unit_activations(nets[b]["model"], xm[shuffle]))
        pair = {"perm": {layer: m["perm"].tolist() for layer, m in matched.items()},
                "corr": {layer: m["corr"].tolist() for layer, m in matched.items()},
                "corr_shuffled": {layer: m["corr"].tolist() for layer, m in shuffled.items()}}
        # every pair its own random matchings: the pooled null draws the pairs' nulls independently
        pair |= pair_agreements(maps[a], maps[b], perms[(a, b)], live[a], live[b], config.n_null,
                                seed=config.null_seed + index)
        out["pairs"][(a, b)] = pair

    for s in config.seeds:  # each primary with its own symbiote, on the same evaluation images
        out["transfer"][(s, s)] = {"own": transfer_scores(nets[s]["model"], nets[s]["symbiote"], xe, ye)}
    for a, b in itertools.permutations(config.seeds, 2):
        edit, model_b = nets[a]["symbiote"], nets[b]["model"]
        out["transfer"][(a, b)] = {
            "as_is": transfer_scores(model_b, edit, xe, ye),
            "outputs": transfer_scores(model_b, carry(edit, perms[(a, b)], inputs=False), xe, ye),
            "full": transfer_scores(model_b, carry(edit, perms[(a, b)], inputs=True), xe, ye),
        }
    out["pairs"] = {f"{a}-{b}": v for (a, b), v in out["pairs"].items()}  # plain keys for the artifact
    out["transfer"] = {f"{a}-{b}": v for (a, b), v in out["transfer"].items()}
    out["random"] = {str(s): v for s, v in out["random"].items()}
    return out


def load_or_run_universality(config: UniversalityConfig, device, progress: bool = False) -> dict:
    """``run_universality`` from the artifact cache, keyed by the config and every symbiote it reads."""
    nets = {s: chain_networks(s, device, progress) for s in config.seeds}
    keys = tuple(net["run_key"] for net in nets.values())
    return load_or_build(ARTIFACT, UniversalityRun(config, keys),
                         lambda: run_universality(config, device, progress, nets))


# --- summaries -----------------------------------------------------------------------------------------------------


# the transfer variants of section 3: B's own symbiote, and A's symbiote on B as is, with outputs matched, fully matched
TRANSFER_VARIANTS = {"own": "B's own symbiote", "as_is": "A's symbiote, as is", "outputs": "A's, outputs matched",
                     "full": "A's, fully matched"}


def transfer_panels(result: dict) -> dict:
    """Per-pair transfer scores for ``plots_replication.seed_spread``: {"forget (%)" / "retain drop (points)":
    {variant: [mean over digits, in % or points, per ordered pair A-B with A != B]}}, B's own symbiote first."""
    transfer = {pair_key(k): v for k, v in result["transfer"].items()}
    crossed = [k for k in transfer if k[0] != k[1]]
    mean_pct = lambda values: 100 * sum(values) / len(values)
    panels = {}
    for score, title in (("forget", "forget (%)"), ("retain_drop", "retain drop (points)")):
        panels[title] = {"own symbiote": [mean_pct(transfer[(b, b)]["own"][score]) for _, b in crossed]}
        for v in ("as_is", "outputs", "full"):
            panels[title][TRANSFER_VARIANTS[v].replace("A's symbiote, ", "").replace("A's, ", "")] = [
                mean_pct(transfer[k][v][score]) for k in crossed]
    return panels


def pair_key(key: str) -> tuple[int, int]:
    a, b = key.split("-")
    return int(a), int(b)


def summarise(result: dict, level: float = 0.95) -> dict[str, dict]:
    """Intervals over pairs (``pair_interval``) of every number the chapter reports, keyed by name:

    * ``corr/<layer>``, ``corr_shuffled/<layer>``: mean matched correlation of the trained pairs, and with B's images
      shuffled; ``corr_random/<layer>``: a trained network against an untrained one (a t interval over seeds);
    * ``live/<layer>``: the number of live matched units the agreements are taken over (mean over pairs);
    * ``rho/<method>/<layer>``: digit-mean ρ of the matched maps over live units, with ``null`` the null of the mean
      over pairs pooled from every pair's random matchings (``stats.pooled_null``) for the permutation test;
      ``rho_null/<method>/<layer>``: that pooled null as a displayed reference, its mean and central
      ``level`` range (``low``, ``high``: its quantiles, not an interval of an estimate); ``rho_specific/...``:
      ρ minus the mean ρ with the other digits' maps;
    * ``transfer/<variant>/forget`` and ``.../drop``: mean over digits, in % and points (``own``: B's own symbiote).
    """
    pairs = {pair_key(k): v for k, v in result["pairs"].items()}
    mean = lambda v: sum(v) / len(v)
    out = {}
    first = next(iter(pairs.values()))
    for layer in first["corr"]:
        out[f"corr/{layer}"] = pair_interval({k: mean(v["corr"][layer]) for k, v in pairs.items()}, level)
        out[f"corr_shuffled/{layer}"] = pair_interval({k: mean(v["corr_shuffled"][layer]) for k, v in pairs.items()},
                                                      level)
        out[f"corr_random/{layer}"] = t_interval([mean(r[layer]) for r in result["random"].values()], level)
    for layer in first["live"]:
        out[f"live/{layer}"] = pair_interval({k: v["live"][layer] for k, v in pairs.items()}, level)
    null_seed = min(result["seeds"])
    for name in first["rho"]:
        rho = {k: mean(v["rho"][name]) for k, v in pairs.items()}
        null = pooled_null([v["rho_null"][name]["draws"] for v in pairs.values()], seed=null_seed)
        out[f"rho/{name}"] = pair_interval(rho, level) | {"null": null}
        tail = (1 - level) / 2
        out[f"rho_null/{name}"] = {"n": out[f"rho/{name}"]["n"], "mean": float(null.mean()),
                                   "low": float(np.quantile(null, tail)), "high": float(np.quantile(null, 1 - tail)),
                                   "method": "pooled permutation null"}
        out[f"rho_specific/{name}"] = pair_interval({k: rho[k] - mean(v["rho_other"][name])
                                                     for k, v in pairs.items()}, level)
    transfer = {pair_key(k): v for k, v in result["transfer"].items()}
    own = {a: v["own"] for (a, b), v in transfer.items() if a == b}
    crossed = {k: v for k, v in transfer.items() if k[0] != k[1]}
    images = result["n_eval"] * len(crossed)  # every ordered pair scores the same evaluation images
    for metric, score in (("forget", "forget"), ("drop", "retain_drop")):
        # a forget accuracy is a rate: Wilson on the jackknife's effective images, so it stays inside 0-100 %
        interval = (lambda v: rate_from_se(pair_interval(v, level), images, level)) if metric == "forget" else (
            lambda v: pair_interval(v, level))
        out[f"transfer/own/{metric}"] = interval({k: 100 * mean(own[k[1]][score]) for k in crossed})
        for variant in ("as_is", "outputs", "full"):
            out[f"transfer/{variant}/{metric}"] = interval({k: 100 * mean(v[variant][score])
                                                            for k, v in crossed.items()})
    return out


# --- the verdict ---------------------------------------------------------------------------------------------------
# Fixed before any number was seen. Per edited layer: the symbiotes' matched edit maps agree beyond chance (pass side:
# permutation test pooled over pairs; fail side: the jackknife interval), and beyond the other digits' maps (the
# jackknife interval), each by at least Cohen's "small" correlation.

TESTS = [test for layer in EDIT_LAYERS for test in (
    MarginTest(f"above_null/{layer}", f"rho/symbiote/{layer}", 1, 0.0, RHO_MARGIN, null="permutation"),
    MarginTest(f"specific/{layer}", f"rho_specific/symbiote/{layer}", 1, 0.0, RHO_MARGIN))]


def verdict_rule(lv: dict[str, int]) -> str:
    """*Supported*: both tests pass in both edited layers; *partly*: the agreement is above chance in at least one
    layer; *not supported*: in neither (``lv``: test name -> 1 pass, 0 fail)."""
    both = sum(lv[f"above_null/{layer}"] and lv[f"specific/{layer}"] for layer in EDIT_LAYERS)
    beyond = sum(lv[f"above_null/{layer}"] for layer in EDIT_LAYERS)
    return "supported" if both == len(EDIT_LAYERS) else "partly" if beyond else "not supported"


def verdict_tests() -> tuple[list[MarginTest], Callable[[dict[str, int]], str]]:
    """The universality rule: its tests (``TESTS``) and the map from their outcomes to a verdict (``verdict_rule``)."""
    return TESTS, verdict_rule


def number_label(number: str) -> str:
    """A tested number as the tables print it: ``rho/symbiote/fc1`` -> "ρ fc1, symbiote"."""
    kind, method, layer = number.split("/")
    what = {"rho": "ρ", "rho_specific": "ρ same − other digits"}[kind]
    return f"{what} {layer}, {method}"


def rule_text(test: MarginTest) -> str:
    """A test of ``TESTS`` as a line of the rule (``stats.rule_text`` with the number's label)."""
    return stats_rule_text(test, number_label(test.number))


def number_text(number: str, est: dict) -> str:
    """``label mean [low, high]``, as the claims page shows a deciding number."""
    return f"{number_label(number)} {est['mean']:.3f} [{est['low']:.3f}, {est['high']:.3f}]"


@dataclass
class UniversalityDecision:
    """Chapter 9's rule decided on its intervals over pairs: every test's row (``stats.evaluate``: p-values, Holm
    over the chapter's family, outcome, seeds to decide) and the verdict."""

    estimates: dict
    rows: list[dict]
    verdict: str
    alpha: float

    def tests_table(self) -> pd.DataFrame:
        """One row per test: rule, mean [interval], Holm-adjusted p-values, outcome, seeds to decide."""
        tests = {t.name: t for t in TESTS}
        return pd.DataFrame([{"test": rule_text(tests[r["test"]]),
                              "mean [95 % interval]": f"{r['mean']:.3f} [{r['low']:.3f}, {r['high']:.3f}]",
                              "p pass (Holm)": r["p_pass_holm"], "p fail (Holm)": r["p_fail_holm"],
                              "outcome": r["outcome"], "seeds to decide": r["seeds_to_decide"]}
                             for r in self.rows])

    def decider(self) -> dict:
        """The test the verdict turns on (``stats.turning_row``)."""
        return turning_row(self.rows, decided=not self.verdict.startswith(INCONCLUSIVE))

    def decider_text(self) -> str:
        """The deciding number with its interval and outcome, e.g. "ρ fc1, symbiote 0.012 [-0.030, 0.050]
        (undecided)"."""
        r = self.decider()
        return f"{number_text(r['number'], self.estimates[r['number']])} ({r['outcome']})"

    def seeds_to_decide(self) -> float | None:
        """For an inconclusive verdict, the most seeds any undecided test needs (None if decided)."""
        if not self.verdict.startswith(INCONCLUSIVE):
            return None
        return seeds_needed(self.rows)

    def glue_values(self) -> dict:
        """The verdict's glued values: ``uni_verdict``, ``uni_decider``, ``uni_to_decide``, the family's size and
        level."""
        return {"uni_verdict": self.verdict, "uni_decider": self.decider_text(),
                "uni_to_decide": seeds_text(self.seeds_to_decide()), "uni_n_tests": len(self.rows),
                "uni_n_hypotheses": 2 * len(self.rows), "uni_alpha_pct": 100 * self.alpha}


def decide_universality(stats: dict[str, dict], alpha: float = ALPHA) -> UniversalityDecision:
    """The tests of ``TESTS`` on the estimates over pairs (``summarise``), Holm-corrected as one family at ``alpha``,
    and the verdict by ``replication.decide_levels`` (an undecided test may take either level)."""
    missing = [t.number for t in TESTS if t.number not in stats]
    if missing:
        raise ValueError(f"the estimates lack {missing}: pass universality.summarise(result)")
    rows = evaluate(TESTS, stats, alpha)
    n = min(stats[t.number]["n"] for t in TESTS)
    return UniversalityDecision(stats, rows, decide_levels(outcome_levels(rows), verdict_rule, n), alpha)


def verdict(stats: dict[str, dict], alpha: float = ALPHA) -> str:
    """The universality verdict on the estimates over pairs (``decide_universality``)."""
    return decide_universality(stats, alpha).verdict
