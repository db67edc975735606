"""The networks of one seed: the configs and cached primaries (dense and BIMT-pruned) that chapters 4-9 edit."""

from dataclasses import replace

from symbiote_lite import bimt
from symbiote_lite.artifacts import config_hash
from symbiote_lite.primary import PrimaryConfig, load_or_train


def primary_configs(seed: int = 0) -> tuple[PrimaryConfig, "bimt.BIMTConfig"]:
    """The configs of the two primaries for one seed: the dense primary's and that of the BIMT-pruned primary
    fine-tuned from it (both seeded by ``seed``; ``seed=0`` gives the defaults the chapters use)."""
    dense_config = replace(PrimaryConfig(), seed=seed)
    return dense_config, replace(bimt.BIMTConfig(), primary=dense_config, seed=seed)


def load_primaries(device, progress: bool = True, seed: int = 0) -> dict[str, tuple]:
    """The two primaries the symbiote edits, from the artifact cache (trained if absent):
    ``{"dense": (model, None, key), "pruned": (model, masks, key)}``, key = hash of the primary's config.
    ``seed`` seeds both (``primary_configs``); the chapters use the default 0."""
    dense_config, pruned_config = primary_configs(seed)
    dense, _ = load_or_train(dense_config, device, progress=progress)
    pruned, masks, _ = bimt.load_or_train_pruned(pruned_config, device, progress=progress)
    return {"dense": (dense, None, config_hash(dense_config)), "pruned": (pruned, masks, config_hash(pruned_config))}
