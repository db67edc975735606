"""The chains' fan-out over Dask (``symbiote_lite.cluster``) with cheap fake chains on a two-worker local cluster."""

import os
import sys
import time
from pathlib import Path

import cloudpickle
import pytest
import torch

from symbiote_lite import cluster
from symbiote_lite.artifacts import DATA_ENV

# The workers are separate processes that cannot import this test module: send its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def fake_chain(seed: int) -> dict:
    """A cheap deterministic stand-in for a chain: a few numbers drawn from the seed."""
    time.sleep(0.05 * (seed % 3))  # finish out of order
    return {"seed": seed, "values": torch.rand(3, generator=torch.Generator().manual_seed(seed)).tolist()}


def environment_chain(seed: int) -> dict:
    """What a chain sees on its worker: the data root and torch's thread count."""
    return {"seed": seed, "root": os.environ.get(DATA_ENV), "threads": torch.get_num_threads()}


def failing_chain(seed: int) -> dict:
    """Seed 3 fails at once; seeds other than 0 run until the file ``stop`` appears in the data root (or 30 s)."""
    if seed == 3:
        raise ValueError("the symbiote diverged")
    stop = Path(os.environ[DATA_ENV]) / "stop"
    for _ in range(600 if seed != 0 else 0):
        if stop.exists():
            break
        time.sleep(0.05)
    return fake_chain(seed)


@pytest.fixture(scope="module")
def scheduler():
    """The address of a two-worker local cluster (processes, one thread each), shared by the tests of this file."""
    with cluster.local_cluster(2) as c:
        yield c.scheduler_address


def test_results_equal_a_sequential_run_in_seed_order(scheduler, tmp_path):
    seeds = [5, 2, 0, 7, 4]
    lines = []
    got = cluster.run_chains(seeds, scheduler=scheduler, chain_fn=fake_chain, progress=lines.append, root=tmp_path)
    assert got == [fake_chain(s) for s in seeds]  # the same records, in the order of the seeds
    assert sorted(int(line.split()[3]) for line in lines) == sorted(seeds)
    assert all(line.startswith("chain of seed ") for line in lines)


def test_local_cluster_by_default(tmp_path):
    """``scheduler=None`` starts (and closes) its own local cluster: one torch thread per worker, the data root
    passed to every task."""
    got = cluster.run_chains([1, 0], workers=2, chain_fn=environment_chain, root=tmp_path)
    assert [r["seed"] for r in got] == [1, 0]
    assert {r["root"] for r in got} == {str(tmp_path.resolve())}
    assert {r["threads"] for r in got} == {1}


def test_a_failing_chain_names_its_seed_and_stops_the_run(scheduler, tmp_path):
    start = time.perf_counter()
    try:
        with pytest.raises(RuntimeError, match="chain of seed 3 failed: ValueError: the symbiote diverged") as info:
            cluster.run_chains([0, 3, 1, 2], scheduler=scheduler, chain_fn=failing_chain, root=tmp_path)
        assert time.perf_counter() - start < 20  # the running chains were not waited for
    finally:
        (tmp_path / "stop").touch()  # let the cancelled chains still running on the workers end
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize(
    "seeds, message",
    [([1, 2, 1, 3, 3], r"seeds \[1, 3\] are repeated"), ([0, -2], r"seeds \[-2\] are negative"), ([], "no seeds"),
     ([1, 2.5], "not integers"), ([True], "not integers"), ("12", "list of non-negative integers")],
)
def test_bad_seeds_are_refused_before_a_cluster_starts(seeds, message, monkeypatch):
    import distributed

    def no_cluster(*args, **kwargs):
        raise AssertionError("a cluster was started")

    monkeypatch.setattr(distributed, "LocalCluster", no_cluster)
    monkeypatch.setattr(distributed, "Client", no_cluster)
    with pytest.raises(ValueError, match=message):
        cluster.run_chains(seeds, chain_fn=fake_chain)


def test_check_seeds_returns_ints():
    assert cluster.check_seeds((3, 1, 2)) == [3, 1, 2]


@pytest.mark.parametrize("kwargs", [{"workers": 0}, {"workers": 2, "scheduler": "tcp://127.0.0.1:1"}])
def test_bad_workers_are_refused(kwargs):
    with pytest.raises(ValueError, match="workers"):
        cluster.run_chains([0], chain_fn=fake_chain, **kwargs)


def test_command_line_refuses_bad_seeds(capsys):
    for argv in (["1", "1"], ["--", "-1"], ["x"], []):
        with pytest.raises(SystemExit):
            cluster.main(argv, prog="python -m symbiote_lite.replication")
    err = capsys.readouterr().err
    assert "seeds [1] are repeated" in err and "seeds [-1] are negative" in err
    assert err.count("usage: python -m symbiote_lite.replication") == 4


def test_default_chain_uses_one_torch_thread(monkeypatch):
    from symbiote_lite import replication

    seen = {}

    def fake_load_or_run_chain(config, device):
        seen.update(seed=config.seed, device=device, threads=torch.get_num_threads())
        return {"seed": config.seed}

    before = torch.get_num_threads()
    monkeypatch.setattr(replication, "load_or_run_chain", fake_load_or_run_chain)
    try:
        torch.set_num_threads(2)
        assert cluster.default_chain(4) == {"seed": 4}
    finally:
        torch.set_num_threads(before)
    assert seen["seed"] == 4 and seen["threads"] == 1
    assert isinstance(seen["device"], torch.device)
