"""Where tensors live, how randomness is pinned, when progress bars show, and how the benchmarks time a call."""

import os
import random
import statistics
import time
from contextlib import contextmanager

import torch
from tqdm.auto import tqdm


def default_device() -> torch.device:
    """CUDA when present (Colab), else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python and torch; return a CPU generator for explicit sampling."""
    random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def progress_bars_off() -> bool:
    """True when the environment sets ``TQDM_DISABLE`` (as ``make execute`` does, so that the executed notebooks
    the book is built from carry no progress widgets). tqdm itself lets an explicit ``disable=`` win over it."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no")


def progress_bar(iterable=None, *, enabled: bool = True, **kwargs):
    """A ``tqdm.auto`` bar, shown only when ``enabled`` and not switched off by ``TQDM_DISABLE``."""
    return tqdm(iterable, disable=not enabled or progress_bars_off(), **kwargs)


def median_seconds(fn, repeats: int, warmup: int = 3) -> float:
    """Median wall time of ``repeats`` calls of ``fn()``, after ``warmup`` untimed calls (the benchmarks' timer)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextmanager
def forward_hooks(hooks):
    """While active, each ``(module, hook)`` of ``hooks`` is a forward hook of its module (removed on exit, also on
    an error)."""
    handles = [module.register_forward_hook(hook) for module, hook in hooks]
    try:
        yield
    finally:
        for h in handles:
            h.remove()
