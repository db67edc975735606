import numpy as np
import pytest
import torch

from symbiote_lite import data
from symbiote_lite.data import MEAN, STD, MnistMissingError, load_mnist, train_val_split


@pytest.fixture(autouse=True)
def _fresh_cache():
    data._cpu_split.cache_clear()
    yield
    data._cpu_split.cache_clear()


def test_synthetic_idx_shapes_and_normalisation(fake_mnist):
    root, arrays = fake_mnist
    x, y = load_mnist("train", root=root)
    images, labels = arrays["train"]
    assert x.shape == (12, 1, 28, 28) and x.dtype == torch.float32
    assert y.tolist() == labels.tolist() and y.dtype == torch.int64
    expected = (images.astype(np.float32) / 255 - MEAN) / STD
    np.testing.assert_allclose(x[:, 0].numpy(), expected, rtol=1e-6, atol=1e-6)
    xt, yt = load_mnist("test", root=root)
    assert xt.shape == (5, 1, 28, 28) and yt.shape == (5,)


def test_unpacked_files_are_written_next_to_the_gz(fake_mnist):
    root, _ = fake_mnist
    load_mnist("test", root=root)
    raw = root / "MNIST" / "raw"
    assert all((raw / name).exists() for name in data.RAW_FILES)
    assert not list(raw.glob("*.tmp"))


def test_missing_data_error_names_files_folder_and_variable(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(data.MNIST, "download", no_network)
    with pytest.raises(MnistMissingError) as err:
        load_mnist("train", root=tmp_path)
    message = str(err.value)
    for name in data.RAW_FILES:
        assert f"{name}.gz" in message
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "SYMBIOTE_LITE_DATA" in message


def test_data_root_follows_the_environment_variable(fake_mnist, monkeypatch):
    root, arrays = fake_mnist
    monkeypatch.setenv("SYMBIOTE_LITE_DATA", str(root))
    x, y = load_mnist("test")
    assert len(y) == len(arrays["t10k"][1])


def test_bad_split_is_rejected():
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")


def test_train_val_split_is_a_seeded_partition():
    x = torch.arange(100).float().reshape(100, 1)
    y = torch.arange(100)
    (xa, ya), (xb, yb) = train_val_split(x, y, 20, seed=3)
    assert len(yb) == 20 and len(ya) == 80
    assert sorted(torch.cat([ya, yb]).tolist()) == list(range(100))
    (_, ya2), _ = train_val_split(x, y, 20, seed=3)
    assert torch.equal(ya, ya2)
    with pytest.raises(ValueError):
        train_val_split(x, y, 100, seed=0)
