"""Seeds that mean what they say: every cached entry point the notebooks call with their ``SEED`` gives another
artifact (another hash) and other trained tensors for another seed, and bit-identical ones for the same seed.

MNIST is replaced by a few hundred synthetic digits, written as MNIST's raw files into a temporary data folder that
also holds the artifact cache (the one place the library reads data from), so each test runs in seconds."""

from dataclasses import replace

import pytest
import torch

from symbiote_lite import baselines, networks, primary
from symbiote_lite import circuits as C
from symbiote_lite import editors as E
from symbiote_lite import symbiote as S
from symbiote_lite.artifacts import DATA_ENV, config_hash
from symbiote_lite.data import load_mnist
from symbiote_lite.primary import PrimaryCNN

SYM = S.SymbioteConfig(hidden=4, rank=2, max_fraction=4.0, steps=4, batch_size=16, n_pairs=1, val_size=20,
                       val_curve=10, val_every=2)


@pytest.fixture
def world(tmp_path, monkeypatch, toy_digits, write_mnist):
    """Synthetic digits in place of MNIST (train 520, test 120) and an empty artifact cache under ``tmp_path``."""
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    write_mnist(tmp_path, {"train": toy_digits(520, seed=1), "test": toy_digits(120, seed=2)})
    torch.manual_seed(0)
    return PrimaryCNN(4, 8, 16).eval()


def tensors(obj) -> list[torch.Tensor]:
    """Every tensor inside a (nested) payload or module, in a fixed order."""
    if isinstance(obj, torch.nn.Module):
        return [v.detach().clone() for v in obj.state_dict().values()]
    if isinstance(obj, torch.Tensor):
        return [obj.detach().clone()]
    if isinstance(obj, dict):
        return [t for k in sorted(obj, key=str) for t in tensors(obj[k])]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in tensors(v)]
    return []


def same(a, b) -> bool:
    ta, tb = tensors(a), tensors(b)
    def equal(x, y):  # bit-identical, NaN where NaN
        if x.shape != y.shape or x.dtype != y.dtype:
            return False
        return torch.equal(x, y) if not x.is_floating_point() else torch.allclose(x, y, rtol=0, atol=0, equal_nan=True)

    return len(ta) == len(tb) > 0 and all(equal(x, y) for x, y in zip(ta, tb, strict=True))


def check_seeds(build, key, fresh=None):
    """``build(seed)`` returns trained tensors, ``key(seed)`` the artifact hash. Seeds 0 and 1 differ in both; seed 0
    built again (from scratch, after ``fresh()`` empties the cache) is bit-identical."""
    assert key(0) != key(1), "another seed must be another artifact"
    a, b = build(0), build(1)
    assert not same(a, b), "another seed must train other tensors"
    if fresh is not None:
        fresh()
    assert same(a, build(0)), "the same seed must give identical tensors"


def empty_cache(tmp_path):
    def fresh():
        for f in (tmp_path / "artifacts").glob("*.pt"):
            f.unlink()

    return fresh


def test_primaries_seed(world, tmp_path):
    """Chapters 2-3 and the replication chains: the dense and the pruned primary follow the seed."""
    dense = lambda s: networks.primary_configs(s)[0]
    pruned = lambda s: networks.primary_configs(s)[1]
    assert dense(0) == primary.PrimaryConfig() and config_hash(pruned(0)) == config_hash(networks.bimt.BIMTConfig())
    small = lambda s: replace(pruned(s), epochs=1.0, n_checkpoints=2)

    def build(s):
        model, _ = primary.load_or_train(dense(s), "cpu", progress=False)
        pruned_model, masks, _ = networks.bimt.load_or_train_pruned(small(s), "cpu", progress=False)
        return [model, pruned_model, masks]

    check_seeds(build, lambda s: (config_hash(dense(s)), config_hash(small(s))), empty_cache(tmp_path))


def test_symbiote_seed(world, tmp_path):
    """Chapter 4: ``SymbioteConfig.seed`` reaches initialisation, batches, pairs and the validation split."""
    run = lambda s: S.SymbioteRun(replace(SYM, seed=s), "dense", "k")
    build = lambda s: S.load_or_train_symbiote(world, None, replace(SYM, seed=s), "dense", "k", progress=False)[0]
    check_seeds(build, lambda s: config_hash(run(s)), empty_cache(tmp_path))


def test_baselines_seed(world, tmp_path):
    """Chapter 5: ``BaselineConfig.seed`` reaches every baseline, the direct diffs and the retraining included."""
    sym, _ = S.load_or_train_symbiote(world, None, SYM, "dense", "k", progress=False)
    config = lambda s: baselines.BaselineConfig(direct_steps=3, finetune_max_steps=3, retrain_epochs=1, seed=s)
    build = lambda s: baselines.load_or_run_baselines(world, None, "dense", "k", sym, SYM, config(s), progress=False)
    key = lambda s: config_hash(baselines.BaselinesRun(config(s), SYM, "dense", "k"))
    check_seeds(build, key, empty_cache(tmp_path))


def test_baseline_seed_reaches_direct_and_retrain(world):
    """The seed of the baselines, not the symbiote's or the primary's, seeds the direct diffs and the retraining."""
    calls = []
    real_opt, real_retrain = baselines.optimise_diff, baselines.retrain_without

    def spy_opt(primary_, masks, z, config, *args, **kwargs):
        calls.append(("direct", config.seed))
        return real_opt(primary_, masks, z, config, *args, **kwargs)

    def spy_retrain(config, *args, **kwargs):
        calls.append(("retrain", config.seed))
        return real_retrain(config, *args, **kwargs)

    baselines.optimise_diff, baselines.retrain_without = spy_opt, spy_retrain
    try:
        sym = S.Symbiote(world, None, SYM)
        data = load_mnist("train")
        baselines.run_baselines(world, None, primary.PrimaryConfig(), sym, SYM,
                               baselines.BaselineConfig(direct_steps=2, finetune_max_steps=1, retrain_epochs=1, seed=7),
                               data, data, load_mnist("test"), progress=False)
    finally:
        baselines.optimise_diff, baselines.retrain_without = real_opt, real_retrain
    assert calls == [("direct", 7), ("retrain", 7)]


def test_planted_seed(world, tmp_path):
    """Chapter 6, section 1: the planted primaries follow ``PlantedConfig.seed``."""
    config = lambda s: C.PlantedConfig(kind="poly", n_images=120, epochs=1, batch_size=32, seed=s)
    build = lambda s: C.load_or_plant(world, config(s), "k")
    check_seeds(build, lambda s: config_hash(C.PlantedRun(config(s), "k")), empty_cache(tmp_path))


@pytest.mark.parametrize("kind,held_out", [("weights", 15), ("steering", 0)])
def test_editor_seed(world, tmp_path, kind, held_out):
    """Chapter 6, sections 3-5: the steering editor and the size sweep (with its held-out pairs) follow the seed."""
    run = lambda s: E.EditorRun(kind, replace(SYM, seed=s), "k", held_out=held_out)
    build = lambda s: E.load_or_train_editor(run(s), world, progress=False)[0]
    check_seeds(build, lambda s: config_hash(run(s)), empty_cache(tmp_path))
    if held_out:
        assert not torch.equal(E.split_pairs(held_out, 0)[1], E.split_pairs(held_out, 1)[1]), "held-out pairs"


def test_direct_seed(world, tmp_path):
    """Chapter 6, section 2: the direct-optimisation reference follows the recipe's seed."""
    run = lambda s: E.DirectRun(replace(SYM, seed=s), 3, "k")
    build = lambda s: E.load_or_optimise_direct(run(s), world, progress=False)[0]
    check_seeds(build, lambda s: config_hash(run(s)), empty_cache(tmp_path))


def test_replication_chain_seed(world, tmp_path, monkeypatch):
    """Chapter 8: a chain's seed reaches every network of the chain (its measurements change with it) and the same
    seed rebuilt from scratch gives the same measurements. Tiny recipes stand in for the book's."""
    from symbiote_lite import replication as R
    from symbiote_lite import stages

    monkeypatch.setattr(stages, "SymbioteConfig", lambda: SYM)
    monkeypatch.setattr(stages, "BaselineConfig", lambda: baselines.BaselineConfig(direct_steps=3))
    small_bimt = networks.primary_configs

    def small(seed):
        dense, pruned = small_bimt(seed)
        return dense, replace(pruned, epochs=1.0, n_checkpoints=2)

    monkeypatch.setattr(networks, "primary_configs", small)
    monkeypatch.setattr(stages, "primary_configs", small)
    config = lambda s: R.ChainConfig(seed=s, steps=3, batch_size=16, sizes=((4, 2), (64, 48)), n_null=100)

    def build(s):
        chain = R.load_or_run_chain(config(s), "cpu")
        numbers = R.claim_numbers(chain)
        return [torch.tensor([numbers[k] for k in sorted(numbers) if k != "train_ratio"], dtype=torch.float64)]

    check_seeds(build, lambda s: config_hash(config(s)), empty_cache(tmp_path))
    a, b = build(0)[0], build(1)[0]
    keys = [k for k in sorted(R.claim_numbers(R.load_or_run_chain(config(0), "cpu"))) if k != "train_ratio"]
    moved = {k for k, x, y in zip(keys, a.tolist(), b.tolist(), strict=True) if x != y}
    for key in ("rho_fc1_symbiote", "rho_fc1_direct", "planted_mono_auroc", "steering_forget", "compression_gain_fc1"):
        assert key in moved, f"{key} did not change with the seed"
