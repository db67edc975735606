"""Benchmark: training steps per second of the toy-model trainer against the plain dense einsum formulation.

Both sides run the chapter's dimensionality configuration (every instance in one tensor, same batch size,
same AdamW update) for the same number of steps after a warm-up, and report the best of a few repeats
(the CPU may be shared, so best-of is the least noisy number) and the process CPU time per step. The
baseline is the textbook loop: draw a uniform mask and uniform values for every entry, einsum forward,
autograd backward. Each is timed with one torch thread and with torch's default. Prints a markdown table.
"""

import argparse
import time

import torch

from symbiote_lite import default_device
from symbiote_lite.toy import (
    ToyConfig,
    UniformSource,
    dimensionality_config,
    feature_density,
    feature_importance,
    init_params,
    loss_and_grads,
    make_optimizer,
    reference_loss,
    sample_batch,
    torch_threads,
)


def _setup(config: ToyConfig, device):
    W, b = init_params(config, torch.Generator().manual_seed(config.seed), device)
    W.requires_grad_(True)
    b.requires_grad_(True)
    return W, b, feature_density(config, device), feature_importance(config, device), make_optimizer([W, b], config)


def dense_baseline(config: ToyConfig, device):
    """(step, sample, gradient) functions of the plain formulation: two uniforms per entry, einsum, autograd."""
    W, b, p, imp, opt = _setup(config, device)
    shape = (config.n_instances, config.batch_size, config.n_features)

    def sample():
        feat = torch.rand(shape, device=device)
        return torch.where(torch.rand(shape, device=device) < p[:, None, None], feat, 0.0)

    def gradient(x):
        opt.zero_grad(set_to_none=True)
        reference_loss(W, b, x, imp).sum().backward()

    def step():
        gradient(sample())
        opt.step()

    return step, sample, gradient


def fast_trainer(config: ToyConfig, device):
    """(step, sample, gradient) functions of symbiote_lite.toy.train: only the needed random numbers,
    hand-derived gradients."""
    W, b, p, imp, opt = _setup(config, device)
    source = UniformSource(config.seed, device)

    def sample():
        return sample_batch(p, config.batch_size, config.n_features, source)

    def gradient(x):
        with torch.no_grad():
            _, W.grad, b.grad = loss_and_grads(W, b, x, imp)

    def step():
        gradient(sample())
        opt.step()

    return step, sample, gradient


def cpu_ms(fn, repeats: int = 50) -> float:
    """Mean process CPU milliseconds of ``fn()`` (after one warm-up call)."""
    fn()
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return 1000 * (time.process_time() - start) / repeats


def measure(step, steps: int, repeats: int, device) -> tuple[float, float]:
    """(best wall-clock steps/s over ``repeats``, mean process CPU milliseconds per step)."""
    for _ in range(3):
        step()
    best, cpu = 0.0, 0.0
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = max(best, steps / (time.perf_counter() - start))
        cpu += (time.process_time() - start_cpu) / (steps * repeats)
    return best, 1000 * cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = default_device()
    config = dimensionality_config()
    default_threads = torch.get_num_threads()
    print(
        f"Toy-model training step on {device.type}: {config.n_instances} instances × batch {config.batch_size} × "
        f"{config.n_features} features → {config.n_hidden} hidden (the chapter's dimensionality experiment).\n"
    )
    print("| trainer | torch threads | steps/s (best of repeats) | CPU ms per step |")
    print("|---|---|---|---|")
    for threads in sorted({1, default_threads}):
        with torch_threads(threads):
            dense = measure(dense_baseline(config, device)[0], args.steps, args.repeats, device)
            fast = measure(fast_trainer(config, device)[0], args.steps, args.repeats, device)
        for name, (rate, cpu) in (
            ("dense einsum baseline (2 uniforms per entry, autograd)", dense),
            ("symbiote_lite.toy (gap sampling, hand-derived gradients)", fast),
        ):
            print(f"| {name} | {threads} | {rate:.1f} | {cpu:.2f} |")
        print(f"| **speed-up** | {threads} | **{fast[0] / dense[0]:.2f}×** | {dense[1] / fast[1]:.2f}× |")
    print("\nWhere a step's time goes (one thread, CPU ms per step; the rest of a step is the AdamW update):\n")
    print("| part | dense baseline | symbiote_lite.toy | ratio |")
    print("|---|---|---|---|")
    with torch_threads(1):
        parts = {}
        for name, make in (("dense", dense_baseline), ("fast", fast_trainer)):
            _, sample, gradient = make(config, device)
            x = sample()
            parts[name] = (cpu_ms(sample), cpu_ms(lambda gradient=gradient, x=x: gradient(x)))
    for k, part in enumerate(("sampling a batch", "loss gradient (forward + backward)")):
        d, f = parts["dense"][k], parts["fast"][k]
        print(f"| {part} | {d:.2f} | {f:.2f} | {d / f:.2f}× |")


if __name__ == "__main__":
    main()
