import gzip
import struct

import numpy as np
import pytest
import torch

from symbiote_lite.data import MEAN, STD


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    """Write ``array`` (uint8) in MNIST's IDX format: magic (0, 0, 0x08, ndim), big-endian sizes, raw bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    blob = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(f"{path}.gz", "wb") as f:
            f.write(blob)
    else:
        path.write_bytes(blob)


@pytest.fixture
def fake_mnist(tmp_path):
    """A tiny MNIST-shaped data root (gzip originals, as distributed) with known pixel values."""
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    splits = {"train": 12, "t10k": 5}
    arrays = {}
    for prefix, n in splits.items():
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images, compress=True)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, compress=True)
        arrays[prefix] = (images, labels)
    return tmp_path, arrays


def _separable_digits(n: int = 256, seed: int = 0):
    """Separable 28x28 'digits': class k lights up a k-dependent block of pixels, plus noise."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 10
    x = 0.3 * torch.randn(n, 1, 28, 28, generator=g)
    for k in range(10):
        r, c = divmod(k, 4)
        x[y == k, 0, 6 * r : 6 * r + 6, 6 * c : 6 * c + 6] += 2.0
    return x, y


def _write_mnist(root, splits: dict) -> None:
    """Write {"train": (x, y), "test": (x, y)} of normalised images as MNIST's four raw IDX files under
    ``root/MNIST/raw``, so ``data.load_mnist`` reads them as it reads MNIST (pixels rounded to bytes)."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        x, y = splits[split]
        pixels = (x[:, 0] * STD + MEAN).clamp(0, 1).mul(255).round().to(torch.uint8)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", pixels.numpy())
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", y.to(torch.uint8).numpy())


@pytest.fixture
def write_mnist():
    """A function (root, {"train": (x, y), "test": (x, y)}) that writes the splits as MNIST's raw files."""
    return _write_mnist


@pytest.fixture
def toy_digits():
    """A function (n=256, seed=0) -> (x (n, 1, 28, 28), y (n,)) of easily separable synthetic digits."""
    return _separable_digits


@pytest.fixture
def build_seeds():
    """``(notebook, make_variable) -> (seeds the notebook's defaults use, seeds the Makefile variable lists)``: the
    notebook's ``N_SEEDS`` and ``FIRST_SEED`` give range(FIRST_SEED, FIRST_SEED + N_SEEDS)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent

    def read(notebook: str, variable: str):
        source = (root / "notebooks" / f"{notebook}.py").read_text()
        n = int(re.search(r"^N_SEEDS = (\d+)", source, re.M).group(1))
        first = int(re.search(r"^FIRST_SEED = (\d+)", source, re.M).group(1))
        listed = re.search(rf"^{variable} := (.*)$", (root / "Makefile").read_text(), re.M).group(1).split()
        return list(range(first, first + n)), [int(s) for s in listed]

    return read
