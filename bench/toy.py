"""Benchmark: training steps per second of the toy-model trainer against the plain dense einsum formulation.

Both sides run the chapter's dimensionality configuration (every instance in one tensor, same batch size,
same AdamW update). The baseline is the textbook loop: draw a uniform mask and uniform values for every
entry of every instance, ``torch.where``, einsum forward, autograd backward. Each side is timed with one
torch thread and with torch's default; the timed chunks of the two sides alternate, so that a slow phase of
a shared CPU hits both, and each reports its best chunk (the least disturbed one) and its mean process CPU
time per step. The headline speed-up is the lower of the two same-thread ratios (``toy.train``, as the chapter
calls it, uses one thread). Prints a markdown table.
"""

import argparse
import time

import torch

from symbiote_lite import default_device
from symbiote_lite.toy import (
    ToyConfig,
    UniformSource,
    Workspace,
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
    """(step, sample, gradient) functions of symbiote_lite.toy.train: one uniform per cell shared by all instances,
    hand-derived gradients."""
    W, b, p, imp, opt = _setup(config, device)
    source = UniformSource(config.seed, device)
    work = Workspace.for_config(config, device)

    def sample():
        return sample_batch(p, config.batch_size, config.n_features, source, out=work.x)

    def gradient(x):
        with torch.no_grad():
            _, W.grad, b.grad = loss_and_grads(W, b, x, imp, work=work)

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


def measure(steps_by_name: dict, steps: int, repeats: int, device) -> dict:
    """{name: (best wall-clock steps/s, mean process CPU ms per step)}, timing ``steps`` calls of each step
    function per chunk, the functions' chunks interleaved, ``repeats`` chunks each (after a warm-up)."""
    for step in steps_by_name.values():
        for _ in range(3):
            step()
    best = dict.fromkeys(steps_by_name, 0.0)
    cpu = dict.fromkeys(steps_by_name, 0.0)
    for _ in range(repeats):
        for name, step in steps_by_name.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(steps):
                step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            best[name] = max(best[name], steps / (time.perf_counter() - start))
            cpu[name] += (time.process_time() - start_cpu) / (steps * repeats)
    return {name: (best[name], 1000 * cpu[name]) for name in steps_by_name}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="steps per timed chunk")
    parser.add_argument("--repeats", type=int, default=5, help="timed chunks per trainer")
    args = parser.parse_args()
    device = default_device()
    config = dimensionality_config()
    default_threads = torch.get_num_threads()
    print(
        f"Toy-model training step on {device.type}: {config.n_instances} instances × batch {config.batch_size} × "
        f"{config.n_features} features → {config.n_hidden} hidden (the chapter's dimensionality experiment).\n"
    )
    names = {
        "dense": "dense einsum baseline (2 uniforms per entry and instance, autograd)",
        "fast": "symbiote_lite.toy (one shared uniform per entry, hand-derived gradients)",
    }
    results = {}
    for threads in sorted({1, default_threads}):
        with torch_threads(threads):
            timed = measure({"dense": dense_baseline(config, device)[0], "fast": fast_trainer(config, device)[0]},
                            args.steps, args.repeats, device)
        results.update({(name, threads): value for name, value in timed.items()})
    print("| trainer | torch threads | steps/s (best chunk) | CPU ms per step |")
    print("|---|---|---|---|")
    for (name, threads), (rate, cpu) in sorted(results.items()):
        print(f"| {names[name]} | {threads} | {rate:.1f} | {cpu:.2f} |")
    ratios = {t: results["fast", t][0] / results["dense", t][0] for _, t in results}
    worst = min(ratios, key=ratios.get)
    print(f"\n**Speed-up: {ratios[worst]:.2f}×** (steps/s of the trainer over the baseline's with the same number of "
          f"threads, the lower of: " + ", ".join(f"{r:.2f}× at {t}" for t, r in sorted(ratios.items()))
          + f"; target ≥ 5×: {'met' if ratios[worst] >= 5 else 'NOT met'}). The chapter trains with one thread.")
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
