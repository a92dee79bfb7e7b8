"""The dispatch policy on its own: order, chunking, fairness between batches, feeding ahead."""

from __future__ import annotations

from backend.core.protocol import Done
from backend.core.scheduler import (
    CHUNK_BYTES,
    MAX_CHUNK,
    SMALL_IMAGE_BYTES,
    Batch,
    Job,
    TaskQueue,
    wants_work,
)
from backend.types import ImageSettings, OptimizationResult

KB = 1024


class Queue:
    """A batch observer that only notes the queue lengths it is told."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def settled(self, job: Job, result: OptimizationResult, done: Done | None,
                slot: int | None, pid: int | None) -> None:
        raise AssertionError("nothing settles here")

    def queue_changed(self, queued: int, now: float) -> None:
        self.lengths.append(queued)


def batch(batch_id: int, sizes: list[int]) -> tuple[Batch, Queue]:
    jobs = [Job(i, f"/in/{batch_id}-{i}.jpg", f"/out/{batch_id}-{i}.jpg", ImageSettings(), size)
            for i, size in enumerate(sizes)]
    observer = Queue()
    made = Batch(batch_id, jobs, observer)
    for job in jobs:
        job.batch = made
    return made, observer


def test_big_images_go_out_alone_largest_first_and_equal_sizes_keep_task_order() -> None:
    queue = TaskQueue()
    big, observer = batch(1, [300 * KB, 900 * KB, 300 * KB, 2000 * KB])
    queue.add(big)
    order = [[job.index for job in queue.next_chunk(workers=2)] for _ in range(4)]
    assert order == [[3], [1], [0], [2]]
    assert queue.queued == 0 and observer.lengths == [4, 3, 2, 1, 0]


def test_small_images_are_chunked_but_the_tail_is_shared_between_workers() -> None:
    queue = TaskQueue()
    small, _ = batch(1, [4 * KB] * 200)
    queue.add(small)
    chunks = []
    while queue.queued:
        chunks.append(len(queue.next_chunk(workers=2)))
    assert chunks[0] == MAX_CHUNK
    assert sum(chunks) == 200
    # Never more than a quarter (1 / 2 workers) of what was queued: the last ones go singly.
    queued = 200
    for size in chunks:
        assert size <= max(1, queued // 4)
        queued -= size
    assert chunks[-3:] == [1, 1, 1]


def test_a_chunk_stops_at_its_byte_budget() -> None:
    queue = TaskQueue()
    size = SMALL_IMAGE_BYTES - 1
    small, _ = batch(1, [size] * 40)
    queue.add(small)
    chunk = queue.next_chunk(workers=1)
    assert len(chunk) == CHUNK_BYTES // size
    assert sum(job.size for job in chunk) <= CHUNK_BYTES


def test_two_batches_take_turns_and_requeued_jobs_go_first() -> None:
    queue = TaskQueue()
    first, _ = batch(1, [500 * KB] * 3)
    second, _ = batch(2, [500 * KB] * 2)
    queue.add(first)
    queue.add(second)
    taken = [queue.next_chunk(workers=2)[0] for _ in range(3)]
    assert [(job.batch.id, job.index) for job in taken if job.batch] == [(1, 0), (2, 0), (1, 1)]
    queue.requeue_front([taken[2]])
    assert queue.inputs() == ["/in/2-1.jpg", "/in/1-1.jpg", "/in/1-2.jpg"]
    assert [job.index for job in queue.take_all(first)] == [1, 2]
    assert queue.queued == 1 and queue.inputs() == ["/in/2-1.jpg"]


def test_workers_are_fed_ahead_only_while_enough_work_is_queued() -> None:
    assert wants_work(open_assignments=0, prefetch=False, queued=1, workers=2)
    assert not wants_work(open_assignments=1, prefetch=False, queued=100, workers=2)
    assert wants_work(open_assignments=1, prefetch=True, queued=4, workers=2)
    assert not wants_work(open_assignments=1, prefetch=True, queued=3, workers=2)
    assert not wants_work(open_assignments=2, prefetch=True, queued=100, workers=2)
    # A big image is never held ahead: it would be locked to a worker that is still busy.
    assert not wants_work(open_assignments=1, prefetch=True, queued=100, workers=2,
                          next_small=False)
