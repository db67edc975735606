from dataclasses import dataclass

import pytest
import torch

from symbiote_lite import artifacts
from symbiote_lite.artifacts import StaleArtifactError, artifact_path, config_hash, load_artifact, load_or_build


@dataclass(frozen=True)
class Cfg:
    width: int = 3
    lr: float = 0.1


@dataclass(frozen=True)
class OtherCfg:
    width: int = 3
    lr: float = 0.1


def test_hash_is_keyed_by_values_and_kind():
    assert config_hash(Cfg()) == config_hash(Cfg())
    assert config_hash(Cfg(width=4)) != config_hash(Cfg())
    assert config_hash(OtherCfg()) != config_hash(Cfg())
    with pytest.raises(TypeError):
        config_hash({"width": 3})


def test_build_once_then_load(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return {"w": torch.arange(3.0), "history": [0.5, 0.25]}

    first = load_or_build("thing", Cfg(), build, root=tmp_path)
    second = load_or_build("thing", Cfg(), build, root=tmp_path)
    assert len(calls) == 1
    assert torch.equal(first["w"], second["w"]) and second["history"] == [0.5, 0.25]
    assert artifact_path("thing", Cfg(), tmp_path).exists()


def test_changed_config_never_reuses_the_file(tmp_path):
    load_or_build("thing", Cfg(), lambda: {"w": torch.zeros(1)}, root=tmp_path)
    fresh = load_or_build("thing", Cfg(width=5), lambda: {"w": torch.ones(1)}, root=tmp_path)
    assert fresh["w"].item() == 1.0


def test_file_from_another_config_is_rejected_and_rebuilt(tmp_path):
    path = artifact_path("thing", Cfg(), tmp_path)
    artifacts.save_artifact(path, Cfg(width=99), {"w": torch.zeros(1)})  # a stale file under the right name
    with pytest.raises(StaleArtifactError):
        load_artifact(path, Cfg())
    with pytest.warns(UserWarning, match="another config"):
        payload = load_or_build("thing", Cfg(), lambda: {"w": torch.ones(1)}, root=tmp_path)
    assert payload["w"].item() == 1.0
    assert load_artifact(path, Cfg())["w"].item() == 1.0


def test_truncated_file_is_rejected_and_rebuilt(tmp_path):
    path = artifact_path("thing", Cfg(), tmp_path)
    artifacts.save_artifact(path, Cfg(), {"w": torch.zeros(1000)})
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning, match="cannot read"):
        payload = load_or_build("thing", Cfg(), lambda: {"w": torch.ones(1)}, root=tmp_path)
    assert payload["w"].item() == 1.0


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    path = artifact_path("thing", Cfg(), tmp_path)

    def exploding_save(obj, f):
        with open(f, "wb") as fh:
            fh.write(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(artifacts.torch, "save", exploding_save)
    with pytest.raises(RuntimeError, match="disk full"):
        artifacts.save_artifact(path, Cfg(), {"w": torch.zeros(1)})
    assert list(tmp_path.iterdir()) == []


def test_payload_is_read_with_weights_only(tmp_path):
    path = artifact_path("thing", Cfg(), tmp_path)
    torch.save({"config": artifacts.config_dict(Cfg()), "payload": {"obj": Cfg()}}, path)  # a pickled object
    with pytest.raises(StaleArtifactError, match="cannot read"):
        load_artifact(path, Cfg())
