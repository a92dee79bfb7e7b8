"""Choosing the pool size where it enters: flag > $IMAGE_OPTIMIZER_WORKERS > saved > CPUs.

(These were the pool-size tests of test_pool_batches.py when ImageOptimizer chose the size; the
engine now takes a plain int and the shells call ``resolve``.)"""

from __future__ import annotations

import pytest

from backend.core.sizing import cpu_count, max_workers
from backend.errors import PoolError, ValidationError
from backend.worker_count import WORKERS_ENV, check, resolve


@pytest.mark.parametrize("workers", [0, -1, 10_000])
def test_out_of_range_pool_sizes_are_refused(workers: int) -> None:
    with pytest.raises(PoolError, match=rf"workers must be between 1 and {max_workers()}.*"
                                        rf"got {workers}"):
        resolve(workers)


@pytest.mark.parametrize("workers", ["2", 2.5, True])
def test_pool_sizes_that_are_not_whole_numbers_are_refused(workers: object) -> None:
    with pytest.raises(ValidationError, match="workers must be a whole number"):
        resolve(workers)


def test_pool_size_comes_from_the_environment_then_the_cpu_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(WORKERS_ENV, "3")
    assert resolve() == 3
    monkeypatch.setenv(WORKERS_ENV, "0")
    with pytest.raises(PoolError, match=f"{WORKERS_ENV} must be between 1 and"):
        resolve()
    monkeypatch.setenv(WORKERS_ENV, "lots")
    with pytest.raises(ValidationError, match=f"{WORKERS_ENV}='lots' is not a whole number"):
        resolve()
    monkeypatch.delenv(WORKERS_ENV)
    assert resolve() == min(cpu_count(), max_workers())
    assert resolve(5) == 5


def test_a_saved_worker_count_comes_after_the_argument_and_the_environment(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    assert resolve(saved=3) == 3
    assert resolve(1, saved=3) == 1
    monkeypatch.setenv(WORKERS_ENV, "4")
    assert resolve(saved=3) == 4
    monkeypatch.delenv(WORKERS_ENV)
    # A settings file from a bigger machine must not stop the app: the default is used.
    assert resolve(saved=max_workers() + 1) == min(cpu_count(), max_workers())
    assert "saved worker count out of range" in caplog.text


def test_the_flag_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKERS_ENV, "lots")  # not even read when the flag is given
    assert resolve(2, saved=3) == 2


def test_check_names_where_the_value_came_from() -> None:
    assert check(1) == 1
    with pytest.raises(PoolError, match="--workers must be between 1 and"):
        check(0, "--workers")
