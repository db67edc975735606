"""BIMT where its authors report it: the 784-100-100-10 MNIST MLP with neurons on a plane.

Liu, Gan & Tegmark (2023) show their modules on an MLP, not a CNN. This module reproduces that setting so that
chapter 3 can check BIMT's headline (visible modules emerge) before asking the same of the CNN primary.

Geometry (as in BIMT's MNIST notebook): every layer of neurons lies in the unit square of its own plane. The
784 inputs and the two hidden layers of 100 sit on square grids (28x28 and 10x10, cell centres), the 10 outputs
on a ring of radius 1/4 around the centre. The length of the wire from neuron i of one layer to neuron o of the
next is the L1 distance of their (x, y) positions (the gap between the planes is charged by the flat fee l0), and

    connection cost = sum_layers mean_{o,i} |W[o, i]| * (A * dist(o, i) + l0)  +  sum_layers mean_o |b[o]| * l0.

Training (SiLU, mean squared error against one-hot targets, Adam) adds lambda * cost to the loss, lambda rising
tenfold at 1/4 and 1/2 of training; as in BIMT, the loss leaves the last layer's wire length out (its flat fee
stays), while swaps count every layer. Every ``swap_every`` steps the ``swap_top_k`` most connected neurons of
each hidden layer and of the output ring, one after the other, move to the slot of their layer that lowers the
connection cost most (exchanging places with its occupant). A swap moves the neuron's incoming and outgoing
weights, its bias and its Adam moments; an output neuron carries its class label with it, so the network
computes exactly the same function. The inputs never move (they are the image).

What the chapter measures with it (``bimt.kept_strengths`` and ``bimt.modularity_with_null``): the weight graph
keeping only weights with |w| at least a fraction of their layer's largest |w| (what BIMT's drawings show), its
Newman modularity under a Louvain partition, and the same for degree-preserving rewired and for shuffled null
graphs, with an interval over the null graphs.
"""

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from symbiote_lite import bimt
from symbiote_lite.data import MEAN, STD
from symbiote_lite.params import check_range
from symbiote_lite.primary import load_or_train_on_mnist
from symbiote_lite.runtime import default_device, progress_bar, seed_everything


@dataclass(frozen=True)
class MLPConfig:
    """Defaults: BIMT's MNIST notebook, shortened from 40 000 to 10 000 steps (schedule scaled with it)."""

    widths: tuple = (784, 100, 100, 10)
    steps: int = 10_000  # BIMT: 40 000
    batch_size: int = 100
    lr: float = 1e-3  # AdamW without weight decay, constant
    lam: float = 0.01  # lambda of the connection cost, x lam_growth at each milestone
    lam_growth: float = 10.0
    lam_milestones: tuple = (0.25, 0.5)  # fractions of training
    A: float = 2.0  # weight of wire length in the cost ("weight_factor" in BIMT)
    l0: float = 0.5  # flat fee per unit |w| (and per unit |b|)
    swap_every: int = 200  # steps between swap rounds (BIMT: 500 in 40 000 steps)
    swap_top_k: int = 30  # neurons per layer that try a move in each round
    stages: tuple = (0.0, 0.25, 0.5, 1.0)  # fractions of training at which the weights are stored for drawing
    n_checkpoints: int = 9
    seed: int = 0

    def __post_init__(self):
        check_range("steps", self.steps, 1, 10**7, integer=True)
        check_range("lam", self.lam, 0.0, 1e3)
        check_range("swap_every", self.swap_every, 1, 10**9, integer=True)
        check_range("swap_top_k", self.swap_top_k, 0, 10**6, integer=True)
        check_range("n_checkpoints", self.n_checkpoints, 2, 10_000, integer=True)
        if len(self.widths) < 3 or math.isqrt(self.widths[0]) ** 2 != self.widths[0]:
            raise ValueError(f"widths={self.widths}: need >= 3 layers and a square input")
        for f in self.stages:
            check_range("stage", f, 0.0, 1.0)


# --- geometry ----------------------------------------------------------------------------------------------------


def grid_positions(n: int) -> torch.Tensor:
    """n neurons on a k x k grid of cell centres in the unit square (k = sqrt(n)), row-major: neuron r*k + c at
    ((c + 1/2)/k, (r + 1/2)/k). For the input layer, pixel (row, col) of the image is neuron row*28 + col."""
    k = math.isqrt(n)
    if k * k != n:
        raise ValueError(f"n={n} is not a square")
    centres = (torch.arange(k) + 0.5) / k
    rows, cols = torch.meshgrid(centres, centres, indexing="ij")
    return torch.stack([cols.flatten(), rows.flatten()], 1)


def ring_positions(n: int, radius: float = 0.25) -> torch.Tensor:
    """n neurons on a circle of ``radius`` around (1/2, 1/2), neuron i at angle 2 pi (i + 1/2)/n."""
    theta = 2 * math.pi * (torch.arange(n) + 0.5) / n
    return 0.5 + radius * torch.stack([torch.cos(theta), torch.sin(theta)], 1)


def layer_positions(widths) -> list[torch.Tensor]:
    """(x, y) of every neuron slot: grids for the input and hidden layers, a ring for the outputs."""
    return [grid_positions(n) for n in widths[:-1]] + [ring_positions(widths[-1])]


def l1_lengths(positions: list[torch.Tensor]) -> list[torch.Tensor]:
    """dist[k][o, i] = |x_o - x_i| + |y_o - y_i| between slot o of layer k+1 and slot i of layer k."""
    return [torch.cdist(after, before, p=1) for before, after in zip(positions[:-1], positions[1:], strict=True)]


def wire_prices(lengths: list[torch.Tensor], A: float, l0: float, distance_in_last: bool = True):
    """Cost per unit |w| of every weight: (A * dist + l0) / (number of weights in its layer), so that
    sum(|W| * price) is BIMT's mean. ``distance_in_last=False`` drops the last layer's length term."""
    prices = []
    for k, d in enumerate(lengths):
        a = A if (distance_in_last or k < len(lengths) - 1) else 0.0
        prices.append((a * d + l0) / d.numel())
    return prices


# --- the network -------------------------------------------------------------------------------------------------


class GridMLP(nn.Module):
    """SiLU MLP on normalised MNIST images; inputs are turned back into pixels in [0, 1], as BIMT feeds them.

    ``out_labels[s]`` is the class whose logit output slot s computes (swaps move classes around the ring).
    """

    def __init__(self, widths=(784, 100, 100, 10)):
        super().__init__()
        self.widths = tuple(widths)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.register_buffer("out_labels", torch.arange(widths[-1]))

    def forward(self, x, return_hidden: bool = False):
        h = x.flatten(1) * STD + MEAN
        hidden = []
        for layer in self.layers[:-1]:
            h = F.silu(layer(h))
            hidden.append(h)
        logits = self.layers[-1](h)[:, torch.argsort(self.out_labels)]  # column c = the slot holding class c
        return (logits, hidden) if return_hidden else logits


def connection_cost(model: GridMLP, prices, l0: float) -> torch.Tensor:
    """sum_k sum(|W_k| * price_k) + l0 * sum_k mean|b_k|: BIMT's cost with ``prices`` from ``wire_prices``."""
    total = 0.0
    for layer, p in zip(model.layers, prices, strict=True):
        total = total + (layer.weight.abs() * p).sum() + l0 * layer.bias.abs().mean()
    return total


def weights(model: GridMLP) -> list[torch.Tensor]:
    """The weight matrices (n_out, n_in) of every layer, detached, on the CPU."""
    return [layer.weight.detach().cpu().clone() for layer in model.layers]


# --- swaps -------------------------------------------------------------------------------------------------------


@torch.no_grad()
def permute_layer(model: GridMLP, layer: int, perm: torch.Tensor, optimizer=None) -> None:
    """Relabel the neurons of neuron layer ``layer`` (1 = first hidden ... last = outputs): new slot s holds old
    neuron perm[s]. Incoming weights and bias move by rows, outgoing weights by columns, Adam moments with them,
    output class labels too; the function is unchanged."""
    n_layers = len(model.layers)
    if not 1 <= layer <= n_layers:
        raise ValueError(f"layer={layer}: inputs (0) never move; choose 1..{n_layers}")
    n = model.widths[layer]
    if sorted(perm.tolist()) != list(range(n)):
        raise ValueError(f"perm must be a permutation of range({n})")
    perm = perm.to(model.out_labels.device)
    moves = [(model.layers[layer - 1].weight, 0), (model.layers[layer - 1].bias, 0)]
    if layer < n_layers:
        moves.append((model.layers[layer].weight, 1))
    for tensor, dim in moves:
        state = optimizer.state.get(tensor, {}) if optimizer is not None else {}
        for t in [tensor, *(v for v in state.values() if torch.is_tensor(v) and v.shape == tensor.shape)]:
            t.copy_(t.index_select(dim, perm))
    if layer == n_layers:
        model.out_labels.copy_(model.out_labels[perm])


@torch.no_grad()
def swap_round(model: GridMLP, prices, top_k: int, optimizer=None) -> int:
    """One BIMT swap round over the hidden layers and the outputs; returns the number of swaps made.

    In each layer the ``top_k`` neurons with the largest summed |w| in and out, one after the other (each followed
    to wherever earlier swaps put it), move to the slot that lowers the connection cost most, if any does. The
    change of cost of every candidate exchange comes in closed form from ``bimt.swap_deltas``.
    """
    done = 0
    n_layers = len(model.layers)
    for layer in range(1, n_layers + 1):
        w_in = model.layers[layer - 1].weight.abs()
        n = w_in.shape[0]
        if layer < n_layers:
            w_out, p_out = model.layers[layer].weight.abs(), prices[layer]
        else:
            w_out, p_out = w_in.new_zeros(1, n), w_in.new_zeros(1, n)
        order = (w_in.sum(1) + w_out.sum(0)).argsort(descending=True, stable=True)[:top_k].tolist()
        slot_of = list(range(n))  # current slot of each neuron that was in slot i when the round began
        for neuron in order:
            i = slot_of[neuron]
            w_in = model.layers[layer - 1].weight.abs()
            if layer < n_layers:
                w_out = model.layers[layer].weight.abs()
            delta = bimt.swap_deltas(w_in, w_out, prices[layer - 1], p_out, 1.0, 0.0)[i]
            j = int(delta.argmin())
            if delta[j] < -1e-9 * float(delta.abs().max()):
                perm = torch.arange(n)
                perm[[i, j]] = perm[[j, i]]
                permute_layer(model, layer, perm, optimizer)
                k = slot_of.index(j)
                slot_of[neuron], slot_of[k] = j, i
                done += 1
    return done


# --- training ----------------------------------------------------------------------------------------------------


def train(config: MLPConfig, x, y, x_eval=None, y_eval=None, progress: bool = True):
    """BIMT on in-memory tensors. Returns ``(model, history)``.

    history: per checkpoint ``step``, ``lam``, ``cost`` (connection cost, as the swaps count it), ``loss`` (mean
    squared error since the previous checkpoint), ``swaps`` (cumulative), ``eval_acc`` (on x_eval when given);
    ``stages``: {step: {"weights": [W_k], "out_labels": ...}} at ``config.stages``; ``seconds`` (training only)
    and ``steps``.
    """
    threads = torch.get_num_threads()
    if x.device.type == "cpu":
        torch.set_num_threads(1)  # matrices this small train faster on one CPU thread than on several
    try:
        return _train(config, x, y, x_eval, y_eval, progress)
    finally:
        torch.set_num_threads(threads)


def _train(config: MLPConfig, x, y, x_eval, y_eval, progress: bool):
    gen = seed_everything(config.seed)
    device = x.device
    model = GridMLP(config.widths).to(device)
    lengths = l1_lengths(layer_positions(config.widths))
    loss_prices = [p.to(device) for p in wire_prices(lengths, config.A, config.l0, distance_in_last=False)]
    swap_prices = [p.to(device) for p in wire_prices(lengths, config.A, config.l0)]
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)
    steps, batch = config.steps, config.batch_size
    n_perms = math.ceil(steps * batch / len(y))
    order = torch.cat([torch.randperm(len(y), generator=gen) for _ in range(n_perms)]).to(device)
    eye = torch.eye(config.widths[-1], device=device)
    checkpoints = sorted({round(s) for s in torch.linspace(0, steps, config.n_checkpoints).tolist()})
    stage_steps = sorted({round(f * steps) for f in config.stages})
    history = {k: [] for k in ("step", "lam", "cost", "loss", "swaps", "eval_acc")}
    history |= {"stages": {}, "seconds": 0.0, "steps": steps}
    running, since, swaps = torch.zeros((), device=device), 0, 0
    start = time.perf_counter()
    for step in progress_bar(range(steps + 1), desc="BIMT MLP steps", enabled=progress):
        lam = bimt.lam_at(step, steps, config.lam, config.lam_growth, config.lam_milestones)
        if step > 0 and step % config.swap_every == 0:
            swaps += swap_round(model, swap_prices, config.swap_top_k, opt)
        if step in stage_steps:
            history["stages"][step] = {"weights": weights(model), "out_labels": model.out_labels.cpu().clone()}
        if step in checkpoints:
            history["seconds"] += time.perf_counter() - start
            with torch.no_grad():
                cost = connection_cost(model, swap_prices, config.l0).item()
            bimt.log_checkpoint(history, model, x_eval, y_eval, cost=cost, step=step, lam=lam,
                                loss=running.item() / since if since else float("nan"), swaps=swaps)
            running, since = torch.zeros((), device=device), 0
            start = time.perf_counter()
        if step == steps:
            break
        idx = order[step * batch : (step + 1) * batch]
        mse = F.mse_loss(model(x[idx]), eye[y[idx]])
        loss = mse + lam * connection_cost(model, loss_prices, config.l0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running += mse.detach()
        since += 1
    history["seconds"] += time.perf_counter() - start
    return model.eval(), history


def load_or_train(config: MLPConfig = MLPConfig(), device=None, progress: bool = True):
    """The BIMT MLP for ``config`` from the artifact cache, training it first if absent: ``(model, history)``
    (``eval_acc`` along training is measured on the MNIST test set, for the chapter's curve only)."""
    device = device or default_device()
    payload = load_or_train_on_mnist("bimt_mlp", config, train, device, progress)
    model = GridMLP(config.widths)
    model.load_state_dict(payload["state"])
    return model.to(device).eval(), payload["history"]
