"""Batches on a real Dask cluster: a ``dask scheduler`` and a ``dask worker --nworkers 2
--nthreads 1`` started as separate processes on 127.0.0.1 (free ports, no dashboard), shared by
the module and torn down with no process left.

The worker runs in its own folder: paths are shared between client and workers (one machine
here), as on a real cluster with a shared filesystem. One test starts a second, one-worker
cluster whose worker runs in its own mount namespace (``unshare --mount``) with a tmpfs over a
folder, for an input the client sees and the worker cannot.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from waiting import process_gone, wait_until

from backend import cli
from backend.cluster.executor import DaskExecutor
from backend.cluster.flights import Flight
from backend.core.optimizer import ImageOptimizer
from backend.core.paths import PARTIAL_SUFFIX
from backend.core.pool import ProcessPool
from backend.types import ImageSettings, OptimizationResult, ProgressEvent, QualitySettings, Task

REPO = Path(__file__).resolve().parent.parent
DASK = str(Path(sys.executable).with_name("dask"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    address = f"tcp://127.0.0.1:{_free_port()}"
    logs = tmp_path_factory.mktemp("dask")
    # No profiler: it samples every worker thread every 10 ms (see bench/cluster.py).
    env = {**os.environ, "PYTHONPATH": str(REPO),
           "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
    with (logs / "scheduler.log").open("w") as slog, (logs / "worker.log").open("w") as wlog:
        yield from _run_cluster(address, logs, env, slog, wlog)


@pytest.fixture(scope="module")
def blind_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A scheduler and one worker in its own mount namespace, where a tmpfs covers the folder
    yielded: the client sees the files put there, the worker an empty folder."""
    if subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode:
        pytest.skip("needs `unshare --mount` (root, or CAP_SYS_ADMIN) for a worker that "
                    "cannot see a folder")
    address = f"tcp://127.0.0.1:{_free_port()}"
    logs = tmp_path_factory.mktemp("dask-blind")
    hidden = tmp_path_factory.mktemp("hidden")
    env = {**os.environ, "PYTHONPATH": str(REPO),
           "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
    blind = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             'mount -t tmpfs tmpfs "$0" && exec "$@"', str(hidden)]
    with (logs / "scheduler.log").open("w") as slog, (logs / "worker.log").open("w") as wlog:
        for ready in _run_cluster(address, logs, env, slog, wlog, prefix=blind, workers=1):
            yield ready, hidden


def _run_cluster(address: str, logs: Path, env: dict[str, str], slog: IO[str],
                 wlog: IO[str], prefix: tuple[str, ...] | list[str] = (), workers: int = 2
                 ) -> Iterator[str]:
    procs = [subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
         "--dashboard-address", f"127.0.0.1:{_free_port()}"],
        stdout=subprocess.DEVNULL, stderr=slog, env=env,
        start_new_session=True)]
    procs.append(subprocess.Popen(
        [*prefix, DASK, "worker", address, "--nworkers", str(workers), "--nthreads", "1",
         "--no-dashboard",
         "--host", "127.0.0.1", "--local-directory", str(logs)],
        stdout=subprocess.DEVNULL, stderr=wlog, env=env,
        cwd=logs, start_new_session=True))
    try:
        executor = DaskExecutor(address, 30.0)
        executor.start()
        wait_until(lambda: executor.info().alive == workers, timeout=30)
        executor.shutdown()
        yield address
    finally:
        for proc in reversed(procs):  # workers first, so they do not reconnect in vain
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            wait_until(lambda p=proc: not _group_alive(p.pid), timeout=10)  # no process left


@pytest.fixture
def on_cluster(cluster: str) -> Iterator[ImageOptimizer]:
    optimizer = ImageOptimizer(DaskExecutor(cluster, 10.0))
    with optimizer:
        yield optimizer


def _corpus(make: Callable[..., Path], folder: str) -> list[Path]:
    return [
        make(f"{folder}/photo.jpg", source="chelsea", quality=95),
        make(f"{folder}/coffee.png", source="coffee", size=(200, 133)),
        make(f"{folder}/logo.png", source="logo", size=(160, 160)),
        make(f"{folder}/rocket.webp", source="rocket.jpg", size=(180, 120)),
        *[make(f"{folder}/small{i}.jpg", source="astronaut", size=(60 + i, 60)) for i in range(6)],
    ]


def _outputs(results: list[OptimizationResult]) -> list[bytes]:
    return [Path(r.optimized_path).read_bytes() for r in results]


def test_results_equal_the_local_pools_byte_for_byte_with_the_same_progress(
    on_cluster: ImageOptimizer, tmp_images: Callable[..., Path]
) -> None:
    local_inputs, cluster_inputs = _corpus(tmp_images, "local"), _corpus(tmp_images, "cluster")
    settings = ImageSettings(quality=QualitySettings(global_=70))
    with ImageOptimizer(ProcessPool(2)) as local:
        expected = local.optimize_images(
            [Task(input_path=str(p), settings=settings) for p in local_inputs])
    events: list[ProgressEvent] = []
    tasks = [Task(input_path=str(p), settings=settings) for p in cluster_inputs]

    results = on_cluster.optimize_images(tasks, benchmark=True, on_progress=events.append)

    assert [r.original_path for r in results] == [t.input_path for t in tasks]
    assert all(r.success for r in results), [r.error for r in results]
    assert _outputs(results) == _outputs(expected)
    assert [r.optimized_size for r in results] == [r.optimized_size for r in expected]
    done = [e.completedTasks for e in events]
    assert done == sorted(done) and done[-1] == len(tasks) and events[-1].status == "complete"
    report = on_cluster.last_benchmark()
    assert report is not None and report.startMethod == "dask"
    assert sum(w.tasks for w in report.workerStats) == len(tasks)
    assert len({pid for w in report.workerStats for pid in w.pids}) == 2  # both workers worked


def test_a_worker_killed_mid_batch_is_replaced_and_the_batch_completes(
    on_cluster: ImageOptimizer, tmp_images: Callable[..., Path]
) -> None:
    inputs = [tmp_images(f"k/p{i}.png", source="astronaut", size=(400 + i, 400))
              for i in range(8)]
    tasks = [Task(input_path=str(p), settings=ImageSettings(outputFormat="png")) for p in inputs]
    events: list[ProgressEvent] = []
    results: list[OptimizationResult] = []
    runner = threading.Thread(target=lambda: results.extend(
        on_cluster.optimize_images(tasks, on_progress=events.append)))
    pids_before = set(on_cluster.info().pids)
    runner.start()
    wait_until(lambda: on_cluster.active_tasks() and events and events[-1].completedTasks >= 1)
    victim = min(pids_before)
    assert victim > 0
    os.kill(victim, signal.SIGKILL)
    runner.join(60)

    assert not runner.is_alive() and process_gone(victim)
    assert all(r.success for r in results), [r.error for r in results]
    assert all(Path(r.optimized_path).exists() for r in results)
    assert not list(inputs[0].parent.rglob(f"*{PARTIAL_SUFFIX}"))
    wait_until(lambda: len(on_cluster.info().pids) == 2, timeout=30)  # the nanny restarted it
    assert set(on_cluster.info().pids) != pids_before


def _holder(optimizer: ImageOptimizer, path: Path, besides: set[int]) -> int | None:
    """The pid of the worker processing ``path`` now, if it is none of ``besides``."""
    return next((w.pid for w in optimizer.info().processes
                 if w.current == str(path) and w.pid not in besides), None)


def _slow_batch(make: Callable[..., Path], folder: str) -> list[Task]:
    slow = make(f"{folder}/slow.png", source="astronaut", size=(1400, 1400))  # AVIF: seconds
    small = [make(f"{folder}/s{i}.jpg", source="coffee", size=(90 + i, 60)) for i in range(4)]
    return [Task(input_path=str(slow), settings=ImageSettings(outputFormat="avif")),
            *[Task(input_path=str(p)) for p in small]]


def _kill_holders(optimizer: ImageOptimizer, tasks: list[Task], kills: int
                  ) -> tuple[list[OptimizationResult], list[int]]:
    """Run ``tasks``, SIGKILLing the worker that holds the first one ``kills`` times."""
    results: list[OptimizationResult] = []
    runner = threading.Thread(target=lambda: results.extend(optimizer.optimize_images(tasks)))
    runner.start()
    killed: list[int] = []
    for _ in range(kills):
        wait_until(lambda: _holder(optimizer, Path(tasks[0].input_path), set(killed)))
        victim = _holder(optimizer, Path(tasks[0].input_path), set(killed))
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
    runner.join(120)
    assert not runner.is_alive()
    return results, killed


def test_an_image_whose_worker_is_lost_is_retried_once_on_another_and_succeeds(
    on_cluster: ImageOptimizer, tmp_images: Callable[..., Path]
) -> None:
    tasks = _slow_batch(tmp_images, "retry")

    results, killed = _kill_holders(on_cluster, tasks, kills=1)

    assert process_gone(killed[0])  # so the image's success came from the other worker
    assert all(r.success for r in results), [r.error for r in results]
    assert Path(results[0].optimized_path).read_bytes()[4:12] == b"ftypavif"
    assert on_cluster.info().restarts >= 1  # also finished tasks lost unfetched
    assert not list(Path(tasks[0].input_path).parent.rglob(f"*{PARTIAL_SUFFIX}"))
    wait_until(lambda: len(on_cluster.info().pids) == 2, timeout=30)


def test_an_image_that_loses_its_worker_twice_fails_alone_after_one_retry(
    on_cluster: ImageOptimizer, tmp_images: Callable[..., Path]
) -> None:
    tasks = _slow_batch(tmp_images, "lost")

    results, killed = _kill_holders(on_cluster, tasks, kills=2)

    assert len(set(killed)) == 2  # the retry ran on the other worker
    failed = results[0]
    assert (failed.success, failed.errorKind) == (False, "processing")
    assert f"the Dask worker processing {tasks[0].input_path} was lost, also on the retry" in (
        failed.error or "")
    assert all(r.success for r in results[1:]), [r.error for r in results[1:]]
    # Dask reruns it on a replacement worker (the retry guard turns it away) and every task
    # of the batch is accounted for, also those lost with the workers after they finished.
    wait_until(lambda: len(on_cluster.info().pids) == 2 and on_cluster.info().busy == 0,
               timeout=60)
    assert not Path(failed.optimized_path).exists()
    assert not list(Path(tasks[0].input_path).parent.rglob(f"*{PARTIAL_SUFFIX}"))


def test_cancel_settles_every_image_and_leaves_no_output_of_a_cancelled_one(
    on_cluster: ImageOptimizer, tmp_images: Callable[..., Path]
) -> None:
    inputs = [tmp_images(f"c/p{i}.jpg", source="astronaut", size=(600 + i, 600), quality=95)
              for i in range(10)]
    tasks = [Task(input_path=str(p), settings=ImageSettings(outputFormat="avif")) for p in inputs]
    events: list[ProgressEvent] = []
    results: list[OptimizationResult] = []
    runner = threading.Thread(target=lambda: results.extend(
        on_cluster.optimize_images(tasks, on_progress=events.append)))
    runner.start()
    wait_until(lambda: len(on_cluster.active_tasks()) == len(tasks))
    cancelled = on_cluster.cancel()
    runner.join(60)

    assert cancelled >= len(tasks) - 2
    statuses = [r.status for r in results]
    assert statuses.count("cancelled") == cancelled
    # A task running at the cancel ends after its image; that image's file is then removed.
    wait_until(lambda: all(Path(r.optimized_path).exists() == (r.status != "cancelled")
                           for r in results), timeout=60)
    assert not list(inputs[0].parent.rglob(f"*{PARTIAL_SUFFIX}"))
    assert events[-1].completedTasks == len(tasks)
    assert on_cluster.active_tasks() == []


def test_an_input_the_worker_cannot_see_is_refused_naming_it_and_the_worker(
    blind_cluster: tuple[str, Path], tmp_images: Callable[..., Path]
) -> None:
    address, hidden = blind_cluster
    good = tmp_images("v/ok.jpg", source="coffee", size=(120, 80))
    unseen = hidden / "photos" / "gone.jpg"
    unseen.parent.mkdir()
    shutil.move(tmp_images("gone.jpg", source="coffee", size=(100, 70)), unseen)
    with ImageOptimizer(DaskExecutor(address, 10.0)) as optimizer:
        results = optimizer.optimize_images([Task(input_path=str(good)),
                                             Task(input_path=str(unseen))])

    assert results[0].success and Path(results[0].optimized_path).exists()
    refused = results[1]
    assert (refused.success, refused.errorKind) == (False, "io")
    assert re.search(rf"^{re.escape(str(unseen))} is not visible on the Dask worker "
                     r"tcp://127\.0\.0\.1:\d+ \(host ", refused.error or ""), refused.error
    assert "every worker mounts at the same path" in (refused.error or "")
    assert sorted(p.name for p in unseen.parent.iterdir()) == ["gone.jpg"]  # nothing written


def test_cli_runs_a_batch_on_the_cluster_and_benchmarks_each_worker(
    cluster: str, tmp_images: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    images = [tmp_images(f"cli/photo{i}.jpg", source="chelsea", size=(200 + i, 130), quality=95)
              for i in range(6)]
    with ImageOptimizer(DaskExecutor(cluster, 10.0)) as probe:
        pids = set(probe.info().pids)
    code = cli.main(["optimize", str(images[0].parent), "--cluster", cluster, "--benchmark"])
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK, out
    assert "6 of 6 images optimized" in out and "on 2 workers (dask)" in out
    assert all((image.parent / "optimized" / image.name).exists() for image in images)
    # One row per Dask worker: slot, tasks, busy s, idle s, utilization, pid.
    rows = re.findall(r"^  (\d+) +(\d+) +([\d.]+) +([\d.]+) +([\d.]+)%  (\d+)$", out, re.M)
    assert len(rows) == 2, out
    assert sum(int(row[1]) for row in rows) == 6
    assert all(float(row[2]) > 0 for row in rows)  # both worked
    assert {int(row[5]) for row in rows} == pids


def test_cli_exits_2_naming_an_unreachable_scheduler(
    tmp_images: Callable[..., Path], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = tmp_images("nope/photo.jpg", source="coffee", size=(80, 60))
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    monkeypatch.setenv("IMAGE_OPTIMIZER_CLUSTER", address)
    monkeypatch.setenv("IMAGE_OPTIMIZER_CLUSTER_TIMEOUT", "1")
    code = cli.main(["optimize", str(image)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert f"cannot reach the Dask scheduler at {address}" in err
    assert not (image.parent / "optimized").exists()


@pytest.mark.parametrize("argv", [["--cluster", "http://x:1"], ["--cluster", "h:99999"],
                                  ["--cluster", "tcp://h:1", "--workers", "2"]])
def test_cli_refuses_a_bad_cluster_option(
    argv: list[str], real_photo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["optimize", str(real_photo), *argv]) == cli.EXIT_USAGE
    assert "cluster" in capsys.readouterr().err


def test_a_task_started_a_third_time_is_given_up() -> None:
    flight = Flight("k", None, [], "t", "tcp://w:1")
    assert [flight.started() for _ in range(3)] == [False, False, True]


def test_a_plain_run_never_imports_dask() -> None:
    probe = ("import sys, backend.cli, backend.commands, backend.cluster_option\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                         text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
