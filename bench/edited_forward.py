"""Benchmark: running the primary under many weight diffs at once, the inner loop of every symbiote and editor.

One symbiote training step evaluates the default primary under 12 diffs (ten digits + two pairs) on 128 shared
images, forward and backward; evaluation runs it under 10 diffs on 2 000 test images, forward only. Three ways:

* a Python loop of ``torch.func.functional_call`` over the diffs (``symbiote.edited_logits_loop``, the reference);
* ``torch.func.vmap`` over the same ``functional_call``;
* ``PrimaryCNN.forward_many`` (``symbiote.edited_logits``): conv1 once, conv2 as one convolution with B·32 filters,
  fc1 as one batched matrix product, channels_last throughout.

Prints a markdown table of median wall times with one torch thread (as each job of the book's build runs) and the
largest logit difference from the reference. The weights are random: the cost does not depend on their values.
"""

import torch
from torch.func import functional_call, vmap

from symbiote_lite import default_device
from symbiote_lite.primary import PrimaryCNN
from symbiote_lite.runtime import median_seconds
from symbiote_lite.symbiote import Symbiote, SymbioteConfig, edited_logits, edited_logits_loop, frozen_params


def vmapped_logits(primary, diffs, x):
    base = frozen_params(primary)
    return vmap(lambda d: functional_call(primary, {**base, **{k: base[k] + v for k, v in d.items()}}, (x,)))(diffs)


METHODS = {"loop of functional_call (reference)": edited_logits_loop, "vmap of functional_call": vmapped_logits,
           "PrimaryCNN.forward_many": edited_logits}


def main():
    device = default_device()
    gen = torch.Generator().manual_seed(0)
    primary = PrimaryCNN().to(device).eval().requires_grad_(False)
    sym = Symbiote(primary, None, SymbioteConfig())
    with torch.no_grad():
        for head in sym.heads.values():
            head.weight.copy_(0.1 * torch.randn(head.weight.shape, generator=gen))
    z_step = torch.cat([torch.eye(10), torch.eye(10)[[1, 4]] + torch.eye(10)[[7, 9]]]).to(device)
    x_step = torch.randn(128, 1, 28, 28, generator=gen).to(device)
    x_eval = torch.randn(2000, 1, 28, 28, generator=gen).to(device)
    eye = torch.eye(10, device=device)

    def step(fn):
        def run():
            sym.zero_grad(set_to_none=True)
            fn(primary, sym(z_step), x_step).logsumexp(-1).mean().backward()
        return run

    def evaluate(fn):
        def run():
            with torch.no_grad():
                fn(primary, sym(eye), x_eval).argmax(-1)
        return run

    with torch.no_grad():
        reference = edited_logits_loop(primary, sym(z_step), x_step)
        diffs = sym(z_step)
        error = {name: (fn(primary, diffs, x_step) - reference).abs().max().item() for name, fn in METHODS.items()}
    default_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each job of the book's build runs
    times = {name: (median_seconds(step(fn), 5, warmup=1), median_seconds(evaluate(fn), 2, warmup=1))
             for name, fn in METHODS.items()}
    torch.set_num_threads(default_threads)
    ref_step, ref_eval = times["loop of functional_call (reference)"]
    print(f"| {device.type}, one torch thread: primary under B diffs | training step, B = 12 × 128 images (ms) "
          "| evaluation, B = 10 × 2 000 images (ms) | max abs logit difference from the reference |")
    print("|---|---:|---:|---:|")
    for name, (t_step, t_eval) in times.items():
        print(f"| {name} | {1e3 * t_step:.0f} ({ref_step / t_step:.1f}×) "
              f"| {1e3 * t_eval:.0f} ({ref_eval / t_eval:.1f}×) | {error[name]:.1e} |")


if __name__ == "__main__":
    main()
