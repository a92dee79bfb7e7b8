"""The pool's state rules on their own, without a process: feeding, retry, breakage, cancel."""

from __future__ import annotations

from backend.core.pool_state import MAX_ATTEMPTS, STARTUP_FAILURES_BEFORE_BROKEN, PoolState, Seat
from backend.core.protocol import Done
from backend.core.scheduler import SMALL_IMAGE_BYTES, Batch, Job
from backend.core.stage_times import StageTimes
from backend.errors import PoolError
from backend.types import ImageSettings, OptimizationResult

BIG = SMALL_IMAGE_BYTES * 2


class Observer:
    def __init__(self) -> None:
        self.seen: list[tuple[int, OptimizationResult, int | None]] = []

    def settled(self, job: Job, result: OptimizationResult, done: Done | None, slot: int | None,
                pid: int | None) -> None:
        self.seen.append((job.index, result, slot))

    def queue_changed(self, queued: int, now: float) -> None:
        pass


class Recorder:
    def __init__(self) -> None:
        self.partials: list[str] = []
        self.broken = 0


def make_state(size: int = 2) -> tuple[PoolState, Recorder]:
    rec = Recorder()

    def on_broken() -> None:
        rec.broken += 1

    return PoolState(size, remove_partials=rec.partials.append, on_broken=on_broken), rec


def jobs(sizes: list[int]) -> list[Job]:
    return [Job(i, f"/in/{i}.jpg", f"/out/{i}.jpg", ImageSettings(), size)
            for i, size in enumerate(sizes)]


def seat(slot: int, ready: bool = True) -> Seat:
    made = Seat(slot, 1000 + slot)
    made.ready = ready
    return made


def ok(job: Job) -> Done:
    result = OptimizationResult(original_path=job.input_path, optimized_path=job.output_path,
                                original_size=job.size, optimized_size=1, success=True)
    return Done(job.key, result, StageTimes(), 0.0, 0.0)


def submit(state: PoolState, sizes: list[int]) -> tuple[Batch, Observer]:
    observer = Observer()
    return state.submit(jobs(sizes), observer, now=1.0), observer


def test_a_batch_gets_keys_and_an_empty_one_is_done_at_once() -> None:
    state, _ = make_state()
    batch, _ = submit(state, [BIG, BIG])
    assert [job.key for job in batch.queue] == [1, 2]
    assert state.queue.queued == 2 and state.batches == {batch.id: batch}
    empty, _ = submit(state, [])
    assert empty.done.is_set() and empty.wait() == []


def test_idle_ready_seats_are_fed_and_starting_or_surplus_ones_are_not() -> None:
    state, _ = make_state(size=2)
    submit(state, [BIG] * 4)
    warm, cold, surplus = seat(0), seat(1, ready=False), seat(2)
    plan = state.dispatch([warm, cold, surplus])
    # Big images are never fed ahead: one each, and only to the warm seat in range.
    assert [(s.slot, [j.index for j in chunk]) for s, chunk in plan] == [(0, [0])]
    assert state.queue.queued == 3 and list(warm.assignments) == [1]


def test_small_images_are_fed_one_assignment_ahead_while_the_queue_is_long() -> None:
    state, _ = make_state(size=1)
    submit(state, [1024] * 40)
    busy = seat(0)
    plan = state.dispatch([busy])
    assert len(plan) == 2 and len(busy.assignments) == 2  # the one it works on + one waiting


def test_reports_settle_in_order_and_a_stranger_is_refused() -> None:
    state, _ = make_state()
    _, observer = submit(state, [BIG, BIG])
    s = seat(0)
    state.dispatch([s])
    head = s.jobs[0]
    assert not state.reported(s, Done(999, ok(head).result, StageTimes(), 0.0, 0.0))
    assert state.reported(s, ok(head))
    assert observer.seen[0][0] == head.index and observer.seen[0][2] == 0
    assert not s.jobs and not s.assignments


def test_a_crash_retries_the_image_once_then_fails_it_and_requeues_the_rest_first() -> None:
    state, rec = make_state(size=1)
    batch, observer = submit(state, [1024] * 3)
    s = seat(0)
    state.dispatch([s])
    held = list(s.jobs)
    assert len(held) == 2  # one in flight, one fed ahead
    state.worker_exited(s, "signal 9")
    assert state.restarts == 1 and rec.partials == [held[0].output_path]
    assert [job.key for job in batch.queue][:2] == [job.key for job in held]  # back in front
    assert not observer.seen  # retried, not failed
    for _ in range(MAX_ATTEMPTS - 1):
        s = seat(0)
        state.dispatch([s])
        assert s.jobs[0] is held[0]
        state.worker_exited(s, "signal 9")
    index, result, slot = observer.seen[0]
    assert index == held[0].index and slot is None
    assert (result.success, result.status, result.errorKind) == (False, "error", "processing")
    assert "worker crashed while processing /in/0.jpg (signal 9), also on the retry" in (
        result.error or "")
    assert result.original_size == 1024 and not batch.done.is_set()


def test_workers_that_keep_dying_while_starting_break_the_pool() -> None:
    state, rec = make_state()
    batch, observer = submit(state, [BIG, BIG])
    for _ in range(STARTUP_FAILURES_BEFORE_BROKEN - 1):
        state.worker_exited(seat(0, ready=False), "exit code 1")
    assert state.broken is None and rec.broken == 0
    state.worker_exited(seat(0, ready=False), "exit code 1")
    assert state.broken and "keep failing to start" in state.broken and rec.broken == 1
    assert batch.done.is_set()
    assert {r.errorKind for _, r, _ in observer.seen} == {"pool"}
    try:
        submit(state, [BIG])
    except PoolError as exc:
        assert "keep failing to start" in exc.message
    else:
        raise AssertionError("a broken pool took a batch")


def test_a_ready_worker_resets_the_startup_failure_count() -> None:
    state, _ = make_state()
    state.startup_failed("x")
    state.worker_ready(seat(0, ready=False))
    assert state.startup_failures == 0


def test_cancel_settles_the_queue_names_the_seats_to_kill_and_keeps_other_batches() -> None:
    state, rec = make_state(size=1)
    doomed, doomed_seen = submit(state, [BIG, BIG, BIG])
    other, other_seen = submit(state, [1024])
    s = seat(0)
    state.dispatch([s])
    # The other batch's small image was fed ahead (its turn, and the queue was long enough).
    assert [job.batch for job in s.jobs] == [doomed, other]
    count, victims = state.cancel(doomed, [s, seat(1)])
    assert count == 2 and victims == [s]
    assert state.killed(s) == 1
    assert rec.partials == [f"/out/{doomed_seen.seen[-1][0]}.jpg"]
    assert doomed.done.is_set() and {r.status for _, r, _ in doomed_seen.seen} == {"cancelled"}
    assert all(r.error == "cancelled" and r.errorKind == "cancelled"
               for _, r, _ in doomed_seen.seen)
    assert not other.done.is_set() and state.queue.queued == 1 and not other_seen.seen


def test_a_job_settles_once() -> None:
    state, _ = make_state()
    batch, observer = submit(state, [BIG, BIG])
    job = batch.queue[0]
    state.settle(job, ok(job).result)
    state.settle(job, ok(job).result)
    assert len(observer.seen) == 1 and batch.pending == 1


def test_shrinking_retires_idle_surplus_seats_and_busy_ones_once_they_are_done() -> None:
    state, _ = make_state(size=2)
    submit(state, [BIG, BIG])
    first, second = seat(0), seat(1)
    state.dispatch([first, second])
    idle = seat(2)
    assert state.resize(1, [first, second, idle])
    assert idle.retiring and not second.retiring  # it still holds an image
    state.reported(second, ok(second.jobs[0]))
    assert second.retiring
    assert not state.resize(1, [])


def test_a_shut_down_pool_refuses_batches_and_resizes() -> None:
    state, _ = make_state()
    state.closing = True
    for attempt in (lambda: submit(state, [BIG]), lambda: state.resize(3, [])):
        try:
            attempt()
        except PoolError as exc:
            assert exc.message == "the worker pool is shut down"
        else:
            raise AssertionError("a shut-down pool accepted work")
