"""Where tensors live and how randomness is pinned."""

import random

import torch


def default_device() -> torch.device:
    """CUDA when present (Colab), else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python and torch; return a CPU generator for explicit sampling."""
    random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
