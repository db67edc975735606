"""Benchmark of chapters 4-5: what one edit costs with the symbiote and with the baselines that make the same edit.

Measured in one run on one primary (default: the dense one; ``--primary pruned`` for the other):

* the symbiote's one-off training (default ``SymbioteConfig``, timed here, not read from the cache);
* edit latency = time to produce the edit for "forget digit 3" + time to classify the 10 000 test images with
  the edited primary, for the symbiote (one forward pass -> diffs -> the edited primary's forward pass), baseline 1
  (direct optimisation of one diff), baseline 2 (fine-tuning unlearning) and baseline 3 (retraining without the digit);
* every time as a ratio to the symbiote's edit latency.

Prints a markdown table. The CPU of the machine that wrote the book may be shared, so absolute times are noisy; the
ratios, measured back to back, are the robust numbers. Usage: ``python bench/symbiote.py [--primary dense|pruned]``.
"""

import argparse
import os
import statistics
import time

import torch

from symbiote_lite import default_device
from symbiote_lite.baselines import (
    BaselineConfig,
    diff_confusions,
    finetune_unlearn,
    model_confusion,
    retrain_without,
)
from symbiote_lite.data import load_mnist, train_val_split
from symbiote_lite.metrics import forget_retain
from symbiote_lite.networks import load_primaries
from symbiote_lite.primary import PrimaryConfig
from symbiote_lite.symbiote import SymbioteConfig, multi_hot, optimise_diff, train_symbiote

DIGIT = 3


def timed(fn, repeats: int = 1):
    """(result of the last call, median wall time over ``repeats`` calls)."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--primary", choices=("dense", "pruned"), default="dense")
    args = parser.parse_args()
    device = default_device()
    primary, masks, _ = load_primaries(device, progress=False)[args.primary]
    sym_config, base_config = SymbioteConfig(), BaselineConfig()
    x, y = load_mnist("train", device)
    (xt, yt), (xv, yv) = train_val_split(x, y, sym_config.val_size, sym_config.seed)
    xs, ys = load_mnist("test", device)
    z = multi_hot([DIGIT], device=device)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"device: {device.type}, torch threads: {torch.get_num_threads()}, load average at start: {load:.1f}, "
          f"primary: {args.primary}, edit: forget {DIGIT}\n")

    (sym, history), _ = timed(lambda: train_symbiote(primary, masks, sym_config, xt, yt, xv, yv, progress=False))
    rows = []  # (method, seconds to produce the edit, seconds to evaluate it, forget, retain)

    def evaluate_diffs(diffs):
        return diff_confusions(primary, diffs, xs, ys)[0]

    with torch.no_grad():
        diffs, t_make = timed(lambda: sym(z[None]), repeats=20)
        cm, t_eval = timed(lambda: evaluate_diffs(diffs), repeats=3)
    rows.append(("SymbioteNet (one forward pass)", t_make, t_eval, cm))

    (diffs, _), t_make = timed(lambda: optimise_diff(primary, masks, z, sym_config, xt, yt, base_config.direct_steps))
    cm, t_eval = timed(lambda: evaluate_diffs(diffs))
    rows.append((f"1. direct diff ({base_config.direct_steps} steps)", t_make, t_eval, cm))

    (model, _, steps), t_make = timed(lambda: finetune_unlearn(primary, masks, DIGIT, base_config, xt, yt, xv, yv))
    cm, t_eval = timed(lambda: model_confusion(model, xs, ys))
    rows.append((f"2. fine-tuning ({steps} steps)", t_make, t_eval, cm))

    epochs = base_config.retrain_epochs
    (model, _), t_make = timed(lambda: retrain_without(PrimaryConfig(), masks, DIGIT, xt, yt, epochs))
    cm, t_eval = timed(lambda: model_confusion(model, xs, ys))
    rows.append((f"3. retraining without {DIGIT} ({epochs} ep.)", t_make, t_eval, cm))

    reference = rows[0][1] + rows[0][2]
    print("| method | edit (s) | ×&nbsp;sym. | evaluate (s) | latency (s) | ×&nbsp;sym. | forget (%) | retain (%) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, t_make, t_eval, cm in rows:
        forget, retain = forget_retain(cm, [DIGIT])
        total = t_make + t_eval
        print(f"| {name} | {t_make:.4f} | {t_make / rows[0][1]:.0f} | {t_eval:.3f} | {total:.3f} "
              f"| {total / reference:.1f} | {100 * forget:.2f} | {100 * retain:.2f} |")
    train = history["seconds"]
    print(f"| symbiote training, all commands ({sym_config.steps} steps) | {train:.1f} "
          f"| {train / rows[0][1]:.0f} | | | {train / reference:.0f} | | |")
    print(f"\nSymbiote training = {train / rows[1][1]:.1f} direct-diff edits = {train / rows[2][1]:.1f} fine-tuning "
          f"edits = {train / rows[3][1]:.2f} retrainings. Load average at the end: "
          f"{os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan'):.1f}.")


if __name__ == "__main__":
    main()
