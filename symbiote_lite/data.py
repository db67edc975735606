"""MNIST as whole, normalised tensors on the device (no DataLoader: 60k images fit easily in memory)."""

import gzip
import os
import shutil
from functools import lru_cache
from pathlib import Path

import torch
from torchvision.datasets import MNIST

from symbiote_lite.artifacts import DATA_ENV, data_root

MEAN, STD = 0.1307, 0.3081  # training-set pixel statistics of MNIST
RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class MnistMissingError(FileNotFoundError):
    pass


def _missing_message(raw: Path, err: Exception) -> str:
    files = ", ".join(f"{f}.gz" for f in RAW_FILES)
    return (
        f"MNIST is not in {raw} and could not be downloaded ({type(err).__name__}: {err}). "
        f"Put the four original files ({files}) into {raw}, "
        f"or point the environment variable {DATA_ENV} at a folder whose MNIST/raw/ holds them."
    )


def _gunzip_present(raw: Path) -> None:
    """Unpack any ``.gz`` original whose unpacked copy is missing (atomically, so no half file remains)."""
    for name in RAW_FILES:
        target, packed = raw / name, raw / f"{name}.gz"
        if not target.exists() and packed.exists():
            tmp = target.with_suffix(".tmp")
            with gzip.open(packed, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(tmp, target)


def _dataset(root: Path, train: bool) -> MNIST:
    raw = root / "MNIST" / "raw"
    if raw.exists():
        _gunzip_present(raw)
    if all((raw / f).exists() for f in RAW_FILES):
        return MNIST(root, train=train, download=False)
    try:
        return MNIST(root, train=train, download=True)
    except Exception as err:
        raise MnistMissingError(_missing_message(raw, err)) from err


@lru_cache(maxsize=4)
def _cpu_split(root: str, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    ds = _dataset(Path(root), train)
    x = (ds.data.float().div_(255).sub_(MEAN).div_(STD)).unsqueeze(1).contiguous()
    return x, ds.targets.long().clone()


def load_mnist(split: str, device: torch.device | str = "cpu", root: Path | None = None):
    """Images ``(N, 1, 28, 28)`` float32 normalised with MNIST's mean/std, labels ``(N,)`` int64."""
    if split not in ("train", "test"):
        raise ValueError(f"split={split!r}: choose 'train' or 'test'")
    root = Path(root) if root is not None else data_root()
    x, y = _cpu_split(str(root.resolve()), split == "train")
    return x.to(device), y.to(device)


def train_val_split(x, y, val_size: int, seed: int):
    """A seeded split of the training set into (train, validation) for model selection."""
    if not 0 < val_size < len(y):
        raise ValueError(f"val_size={val_size} must lie in (0, {len(y)})")
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed)).to(y.device)
    val, tr = perm[:val_size], perm[val_size:]
    return (x[tr], y[tr]), (x[val], y[val])
