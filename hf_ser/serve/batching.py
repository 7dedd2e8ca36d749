"""Micro-batching of concurrent requests: a bounded queue in front of one model worker.

Requests wait in an ``asyncio.Queue`` of at most ``max_queue`` jobs; a full queue refuses a new job at once
(``Overloaded``, answered 503) instead of letting latency grow without bound. One worker takes the first job,
then whatever else arrives within ``max_wait_ms`` up to ``max_batch`` jobs, and runs them as one call of
``run_batch`` in a single worker thread (the event loop stays free to accept and refuse requests; the model is
never run by two threads at once). ``max_batch=1`` turns micro-batching off.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any


class Overloaded(RuntimeError):
    """The queue is full: the request is refused, not delayed."""


@dataclass(frozen=True)
class BatchSettings:
    """``max_batch`` jobs per model call, ``max_wait_ms`` to fill a batch, ``max_queue`` jobs waiting at most."""

    max_batch: int = 8
    max_wait_ms: float = 10.0
    max_queue: int = 64

    def __post_init__(self) -> None:
        if self.max_batch < 1 or self.max_queue < 1 or self.max_wait_ms < 0:
            raise ValueError(f"batch settings need max_batch >= 1, max_queue >= 1, max_wait_ms >= 0: {self}")


class MicroBatcher:
    """``await batcher.submit(job)`` returns ``run_batch([..., job, ...])``'s entry for ``job``.

    ``run_batch`` gets a list of jobs and returns one result per job, in order; an exception it raises is
    given to every job of that batch.
    """

    def __init__(self, run_batch: Callable[[Sequence[Any]], Sequence[Any]], settings: BatchSettings) -> None:
        self.run_batch = run_batch
        self.settings = settings
        self.batches_run = 0
        self.largest_batch = 0
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hf-ser-model")

    async def start(self) -> None:
        self._queue = asyncio.Queue(maxsize=self.settings.max_queue)
        self._task = asyncio.create_task(self._work())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)

    @property
    def waiting(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    async def submit(self, job: Any) -> Any:
        """Queue ``job`` and wait for its result.

        Raises:
            Overloaded: ``max_queue`` jobs are already waiting.
        """
        future = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((job, future))
        except asyncio.QueueFull:
            raise Overloaded(f"{self.settings.max_queue} requests are already waiting (max_queue)") from None
        return await future

    async def _next_batch(self) -> list[tuple[Any, asyncio.Future]]:
        loop = asyncio.get_running_loop()
        batch = [await self._queue.get()]
        deadline = loop.time() + self.settings.max_wait_ms / 1000.0
        while len(batch) < self.settings.max_batch:
            try:  # take what is already queued without waiting, then wait out the rest of max_wait_ms
                batch.append(self._queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except asyncio.TimeoutError:
                break
        return batch

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch()
            jobs = [job for job, _ in batch]
            self.batches_run += 1
            self.largest_batch = max(self.largest_batch, len(jobs))
            try:
                results = await loop.run_in_executor(self._executor, self.run_batch, jobs)
            except Exception as e:  # every waiting request learns of it; the worker keeps serving
                for _, future in batch:
                    if not future.done():
                        future.set_exception(e)
                continue
            for (_, future), result in zip(batch, results):
                if not future.done():  # the client may have gone away
                    future.set_result(result)
