"""Benchmark: how fast the primary trains here, against this machine's arithmetic limit.

Prints a markdown table: seconds per epoch, time to 99 % test accuracy, model FLOPs per epoch (forward +
backward, counted by torch's FlopCounterMode), a measured dense-matmul FLOP/s, and the ratio of the measured
epoch time to the arithmetic limit (FLOPs per epoch / matmul FLOP/s).
"""

import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from symbiote_lite import default_device
from symbiote_lite.data import load_mnist
from symbiote_lite.primary import PrimaryConfig, build_model, train

EVALS_PER_EPOCH = 10  # test-set evaluations per epoch (excluded from the timer): the resolution of time-to-99 %


def training_flops_per_epoch(config: PrimaryConfig, n_train: int) -> int:
    """FLOPs of one forward+backward pass over ``n_train`` images (counted on one batch, scaled)."""
    model = build_model(config)
    x = torch.randn(config.batch_size, 1, 28, 28)
    y = torch.randint(0, 10, (config.batch_size,))
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), y).backward()
    return counter.get_total_flops() * (n_train // config.batch_size)


def matmul_flops_per_second(device, n: int = 1024, repeats: int = 30) -> float:
    """Best-of-three dense float32 matmul throughput (the machine's practical arithmetic peak)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = max(best, 2 * n**3 * repeats / (time.perf_counter() - start))
    return best


def main():
    device = default_device()
    config = PrimaryConfig()
    x, y = load_mnist("train", device)
    xt, yt = load_mnist("test", device)
    _, history = train(config, x, y, xt, yt, progress=False, evals_per_epoch=EVALS_PER_EPOCH)
    per_epoch = history["seconds"] / config.epochs
    reached = [i for i, acc in enumerate(history["eval_acc"]) if acc >= 0.99]
    if reached:
        first = reached[0]
        epoch = history["eval_step"][first] / history["steps_per_epoch"]
        to_99 = f"{history['eval_seconds'][first]:.1f} s (epoch {epoch:.2f}; evaluated {EVALS_PER_EPOCH}× per epoch)"
    else:
        to_99 = "not reached"
    flops = training_flops_per_epoch(config, len(y))
    peak = matmul_flops_per_second(device)
    limit = flops / peak
    print(f"| primary training on {device.type}, {torch.get_num_threads()} threads | value |")
    print("|---|---|")
    print(f"| seconds per epoch | {per_epoch:.1f} s |")
    print(f"| time to 99 % test accuracy | {to_99} |")
    print(f"| final test accuracy | {100 * history['eval_acc'][-1]:.2f} % |")
    print(f"| training FLOPs per epoch (forward + backward) | {flops / 1e9:.0f} GFLOP |")
    print(f"| dense matmul throughput (1024², float32) | {peak / 1e9:.0f} GFLOP/s |")
    print(f"| arithmetic limit per epoch | {limit:.1f} s |")
    print(f"| measured / limit | {per_epoch / limit:.1f}× |")


if __name__ == "__main__":
    main()
