"""Chapter 8's independent chains, one per seed, fanned out over a Dask cluster (``dask.distributed``).

A chain trains and measures the whole pipeline under one seed and shares nothing with the other chains but the
artifact cache, so the chains run side by side: one task per seed, on a local cluster by default (one worker
process per core, each with one torch thread: several one-thread chains get through more work than one chain
with every thread) or on a running cluster given by its scheduler's address.

Every chain writes its networks and its record into the artifact cache under the data root
(``$SYMBIOTE_LITE_DATA``, see ``artifacts.data_root``), and chapter 8 reads them from there. ``run_chains``
therefore resolves the data root once, as an absolute path, and hands it to every task, so a worker started in
another folder or on another machine writes to the same place. On a real cluster that path must be shared (the same
network file system mounted at the same path on every machine), and every worker needs this package installed.

The local cluster listens on the loopback interface only and runs no dashboard.
"""

from __future__ import annotations

import argparse
import numbers
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from symbiote_lite.artifacts import DATA_ENV, data_root

if TYPE_CHECKING:
    from distributed import LocalCluster

PROG = "python -m symbiote_lite.cluster"
# What every local worker process starts with beside the caller's environment: one OpenMP/MKL thread (torch reads
# these at import; ``default_chain`` also pins torch itself, which covers workers of a real cluster).
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def check_seeds(seeds: Iterable[int]) -> list[int]:
    """The seeds as a list of ints, refusing an empty list, a non-integer, a negative or a repeated seed.

    Two chains of one seed would train the same networks into the same cache files at once, and the book's seeds
    are non-negative integers (chapter 8's ``FIRST_SEED``, the configs' ``seed``); both mistakes are reported before
    any worker starts.
    """
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise ValueError(f"seeds={seeds!r}: give a list of non-negative integers, e.g. [0, 1, 2]")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("no seeds given: give at least one non-negative integer seed, e.g. 0 1 2")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, numbers.Integral)]
    if bad:
        raise ValueError(f"seeds {bad!r} are not integers: give non-negative integers, e.g. 0 1 2")
    seeds = [int(s) for s in seeds]
    negative = [s for s in seeds if s < 0]
    if negative:
        raise ValueError(f"seeds {negative} are negative: give non-negative integers, e.g. 0 1 2")
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ValueError(f"seeds {repeated} are repeated: give every seed once (each chain runs once per seed)")
    return seeds


def one_torch_thread() -> None:
    """Pin torch to one intra-op thread in this process (one worker = one core; see the module's docstring)."""
    torch.set_num_threads(1)


def default_chain(seed: int) -> dict:
    """Chapter 8's chain of ``seed`` (``replication.load_or_run_chain``) from the cache, or trained and measured on
    this worker with one torch thread, on the default device (CUDA when present)."""
    from symbiote_lite import replication, runtime  # lazily: replication's command line imports this module

    one_torch_thread()
    return replication.load_or_run_chain(replication.ChainConfig(seed=seed), runtime.default_device())


def _run_task(chain_fn: Callable[[int], dict], seed: int, root: str) -> tuple[dict, float]:
    """What a worker runs: ``chain_fn(seed)`` under the caller's data root; returns (record, wall seconds)."""
    os.environ[DATA_ENV] = root
    start = time.perf_counter()
    record = chain_fn(seed)
    return record, time.perf_counter() - start


def _progress_line(seed: int, record: dict, seconds: float, done: int, total: int) -> str:
    line = f"chain of seed {seed} ({done}/{total}): {seconds:.1f} s"
    if isinstance(record, dict) and isinstance(record.get("seconds"), numbers.Real):
        line += f" ({record['seconds']:.0f} s when it was run)"
    return line


def _gather(client, chain_fn: Callable[[int], dict], seeds: list[int], root: str,
            progress: Callable[[str], None] | None) -> list[dict]:
    """Submit one task per seed, collect the records as they finish and return them in the order of ``seeds``;
    the first failed chain cancels the others and raises."""
    from distributed import as_completed

    run = uuid.uuid4().hex[:8]  # a fresh key per call: the scheduler must not reuse another run's result
    futures = {client.submit(_run_task, chain_fn, s, root, key=f"chain-{s}-{run}", pure=False): s for s in seeds}
    records: dict[int, dict] = {}
    for future in as_completed(futures):
        seed = futures[future]
        try:
            record, seconds = future.result()
        except Exception as err:
            client.cancel(list(futures))
            raise RuntimeError(
                f"chain of seed {seed} failed: {type(err).__name__}: {err} (the other chains were cancelled; "
                f"rerun the seeds to resume from the cache)"
            ) from err
        records[seed] = record
        if progress is not None:
            progress(_progress_line(seed, record, seconds, len(records), len(seeds)))
    return [records[s] for s in seeds]


def local_cluster(n_workers: int, root: Path | str | None = None) -> LocalCluster:
    """A ``distributed.LocalCluster`` of ``n_workers`` processes with one thread each, started with one OpenMP thread
    (``WORKER_ENV``) and ``$SYMBIOTE_LITE_DATA = root`` when given; it listens on the loopback interface only and
    runs no dashboard. Use it as a context manager, which closes it."""
    from distributed import LocalCluster

    env = dict(WORKER_ENV) if root is None else {**WORKER_ENV, DATA_ENV: str(root)}
    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # The scheduler's HTTP routes (health, metrics) still listen without a dashboard: on the loopback, on a
        # free port rather than 8787 (which another cluster may hold).
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        # No memory limit: a chain's peak (MNIST on the device plus training) is no leak to restart a worker for.
        memory_limit=None,
        env=env,
    )


def run_chains(
    seeds: Iterable[int],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    chain_fn: Callable[[int], dict] | None = None,
    progress: Callable[[str], None] | None = None,
    root: Path | str | None = None,
) -> list[dict]:
    """Run ``chain_fn(seed)`` for every seed on a Dask cluster; return the records in the order of ``seeds``.

    ``scheduler=None`` starts a local cluster of ``workers`` processes (default: one per core, never more than there
    are seeds) with one thread each, on the loopback interface and without a dashboard, and closes it at the end. A
    scheduler address (``tcp://host:8786``) uses that running cluster instead (``workers`` must then be omitted).

    ``chain_fn`` must be importable on the workers (a module-level function of an installed module);
    ``default_chain`` by default. Every task runs under the data root ``root`` (default: this process's
    ``artifacts.data_root()``), made absolute here, so that all workers use one artifact cache: on a real cluster
    it must be a path every machine shares. ``progress``, e.g. ``print``, receives one line per finished chain.

    The first chain that fails cancels the others and raises ``RuntimeError("chain of seed S failed: ...")`` from
    its error (chains already finished stay in the cache). A chain running on a remote worker cannot be interrupted;
    its result is discarded.
    """
    seeds = check_seeds(seeds)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers={workers!r}: give a positive number of worker processes, or None (one per core)")
    if workers is not None and scheduler is not None:
        raise ValueError("give either workers (a local cluster) or scheduler (a running cluster), not both")
    chain_fn = default_chain if chain_fn is None else chain_fn
    root = str(Path(root if root is not None else data_root()).expanduser().resolve())

    from distributed import Client

    if scheduler is not None:
        try:
            client = Client(scheduler)
        except OSError as err:
            raise RuntimeError(
                f"cannot reach the Dask scheduler at {scheduler} ({err}): start one (`dask scheduler`) and its "
                f"workers (`dask worker {scheduler}`), or omit the scheduler to run on a local cluster"
            ) from err
        with client:
            return _gather(client, chain_fn, seeds, root, progress)

    with local_cluster(min(workers or os.cpu_count() or 1, len(seeds)), root) as cluster, Client(cluster) as client:
        return _gather(client, chain_fn, seeds, root, progress)


def main(argv: list[str] | None = None, prog: str = PROG) -> None:
    """Train and measure chapter 8's chains of these seeds into the artifact cache, in parallel on a Dask cluster
    (chapter 8 then loads them)."""
    parser = argparse.ArgumentParser(prog=prog, description=main.__doc__)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="worker processes of a local cluster, one torch thread each (default: one per core)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="address of a running Dask scheduler, e.g. tcp://host:8786 (the data root "
                            f"${DATA_ENV} must then be a path every worker shares)")
    parser.add_argument("seeds", nargs="+", type=int, metavar="SEED", help="chain seeds (non-negative integers)")
    args = parser.parse_args(argv)
    try:
        seeds = check_seeds(args.seeds)
    except ValueError as err:
        parser.error(str(err))
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers {args.workers}: give a positive number of worker processes")
    start = time.perf_counter()
    run_chains(seeds, workers=args.workers, scheduler=args.scheduler, progress=lambda line: print(line, flush=True))
    print(f"{len(seeds)} chains in {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    # Through the package's module, not this ``__main__`` copy, so the tasks name functions the workers can import.
    from symbiote_lite import cluster

    cluster.main(sys.argv[1:])
