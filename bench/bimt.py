"""Benchmark: what BIMT and progressive pruning add to a training step of the primary.

Prints a markdown table of median wall times: one AdamW step on a batch (plain cross-entropy, then with the
connection cost added, then with the pruning reparametrisation as well), one swap round, one global pruning
update, and the projected training time of the default pruned primary (steps x the full step time); then the
same for the BIMT MLP of chapter 3 (one training step with the connection cost, one swap round, projected run).
"""

import torch
import torch.nn.functional as F

from symbiote_lite import bimt, bimt_mlp, default_device
from symbiote_lite.primary import build_model
from symbiote_lite.runtime import median_seconds


def main():
    device = default_device()
    config = bimt.BIMTConfig()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(config.batch_size, 1, 28, 28, generator=gen).to(device, memory_format=torch.channels_last)
    y = torch.randint(0, 10, (config.batch_size,), generator=gen).to(device)

    def make(pruned: bool):
        torch.manual_seed(0)
        model = build_model(config.primary).to(device, memory_format=torch.channels_last)
        if pruned:
            bimt.attach_masks(model)
            bimt.prune_to(model, config.target_sparsity)
        return model, torch.optim.AdamW(model.parameters(), lr=1e-3), bimt.model_lengths(model, device)

    def stepper(model, opt, lengths, lam):
        def step():
            loss = F.cross_entropy(model(x), y)
            if lam:
                loss = loss + lam * bimt.connection_cost(bimt.connection_strengths(model), lengths, config.A, config.l0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        return step

    plain = median_seconds(stepper(*make(False), 0.0), 30)
    with_cost = median_seconds(stepper(*make(False), 1e-3), 30)
    model, opt, lengths = make(True)
    full = median_seconds(stepper(model, opt, lengths, 1e-3), 30)
    swap = median_seconds(lambda: bimt.swap_round(model, lengths, config.A, config.l0, config.swap_top_k, opt), 5)

    def prune_update():
        fresh, _, _ = make(False)
        bimt.attach_masks(fresh)
        bimt.prune_to(fresh, config.target_sparsity)

    prune = median_seconds(prune_update, 5)
    steps = round(config.epochs * (60_000 // config.batch_size))
    projected = steps * full + (steps // config.swap_every) * swap
    print(f"| BIMT + pruning on {device.type}, {torch.get_num_threads()} threads, batch {config.batch_size} | value |")
    print("|---|---|")
    print(f"| training step, cross-entropy only | {1e3 * plain:.1f} ms |")
    print(f"| training step, + connection cost | {1e3 * with_cost:.1f} ms ({with_cost / plain:.2f}×) |")
    print(f"| training step, + connection cost + pruning masks | {1e3 * full:.1f} ms ({full / plain:.2f}×) |")
    print(f"| one swap round ({config.swap_top_k} neurons × 3 rows) | {1e3 * swap:.1f} ms |")
    print(f"| one global pruning update (incl. attaching masks) | {1e3 * prune:.1f} ms |")
    print(f"| projected training of the default pruned primary ({steps} steps) | {projected:.0f} s |")
    mlp_row(device)


def mlp_row(device):
    """The BIMT MLP on one CPU thread, as ``bimt_mlp.train`` runs it."""
    config = bimt_mlp.MLPConfig()
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    torch.manual_seed(0)
    model = bimt_mlp.GridMLP(config.widths).to(device)
    lengths = bimt_mlp.l1_lengths(bimt_mlp.layer_positions(config.widths))
    loss_prices = [p.to(device) for p in bimt_mlp.wire_prices(lengths, config.A, config.l0, distance_in_last=False)]
    swap_prices = [p.to(device) for p in bimt_mlp.wire_prices(lengths, config.A, config.l0)]
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(config.batch_size, 1, 28, 28, generator=gen).to(device)
    target = torch.eye(10)[torch.randint(0, 10, (config.batch_size,), generator=gen)].to(device)

    def step():
        loss = F.mse_loss(model(x), target) + config.lam * bimt_mlp.connection_cost(model, loss_prices, config.l0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    train_step = median_seconds(step, 100)
    swap = median_seconds(lambda: bimt_mlp.swap_round(model, swap_prices, config.swap_top_k, opt), 5)
    torch.set_num_threads(threads)
    projected = config.steps * train_step + (config.steps // config.swap_every) * swap
    print(f"| BIMT MLP training step (batch {config.batch_size}, one thread) | {1e3 * train_step:.2f} ms |")
    print(f"| BIMT MLP swap round ({config.swap_top_k} neurons × 3 layers) | {1e3 * swap:.1f} ms |")
    print(f"| projected training of the BIMT MLP ({config.steps} steps) | {projected:.0f} s |")


if __name__ == "__main__":
    main()
