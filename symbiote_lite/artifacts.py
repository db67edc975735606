"""Config-keyed artifact cache: ``<data>/artifacts/<name>-<hash>.pt``, written atomically, loaded safely.

An artifact is a plain dict of tensors, numbers, strings and lists (so ``torch.load(weights_only=True)``
can read it) stored together with the config that produced it. A file is reused only when its stored
config equals the requested one; anything else (corrupt, truncated, stale) is reported and rebuilt.
"""

import dataclasses
import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

DATA_ENV = "SYMBIOTE_LITE_DATA"


def data_root() -> Path:
    """The data folder: ``$SYMBIOTE_LITE_DATA`` if set, else ``data/`` of the source checkout, else ``./data``."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").exists():
        return checkout / "data"
    return Path.cwd() / "data"


def config_dict(config) -> dict:
    """A frozen dataclass config as a plain dict, with its class name so two kinds never collide."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"expected a dataclass config instance, got {type(config).__name__}")
    return {"kind": type(config).__name__, **dataclasses.asdict(config)}


def config_hash(config) -> str:
    """A short stable hash of the config's values."""
    text = json.dumps(config_dict(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def artifact_path(name: str, config, root: Path | None = None) -> Path:
    root = Path(root) if root is not None else data_root() / "artifacts"
    return root / f"{name}-{config_hash(config)}.pt"


def save_artifact(path: Path, config, payload: dict) -> None:
    """Write ``{"config": ..., "payload": ...}`` to ``path`` atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save({"config": config_dict(config), "payload": payload}, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class StaleArtifactError(RuntimeError):
    """The file on disk was made by another config (or cannot be read)."""


def load_artifact(path: Path, config) -> dict:
    """Load a payload, refusing a file whose stored config differs from ``config``."""
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, corrupt or foreign file
        raise StaleArtifactError(f"cannot read artifact {path}: {err}") from err
    if not isinstance(blob, dict) or blob.get("config") != config_dict(config):
        raise StaleArtifactError(f"artifact {path} was made by another config; delete it or rebuild")
    return blob["payload"]


def load_or_build(name: str, config, build: Callable[[], dict], root: Path | None = None) -> dict:
    """Return the cached payload for ``config`` or build it, save it and return it."""
    path = artifact_path(name, config, root)
    if path.exists():
        try:
            return load_artifact(path, config)
        except StaleArtifactError as err:
            warnings.warn(f"{err}; rebuilding it", stacklevel=2)
    payload = build()
    save_artifact(path, config, payload)
    return payload
