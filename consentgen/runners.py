"""Where a build's packets render: in this process, in a local process pool, or on a Dask cluster.

The build plans lazily and hands its work over one ``Task`` at a time. A
runner takes tasks as planning makes them, so workers start while the plan
is still going on, keeps only a few in flight (memory stays flat however long
the roster), and yields each task with its results as it completes. The
build settles every result (swaps the packet into OUT, writes its records)
before it asks for the next one, and closing the iterator cancels what is
still pending.

A task is one packet, or the clients of one roster group (same clinician,
documents and date) rendered once and stamped (``stamp.py``). A local worker
writes each packet's files into its staging folder itself; a remote worker
(``distributed.py``) returns the bytes and this process writes them.
"""
from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Union

from .errors import WriteError, display_path
from .journal import stops_build
from .manifest import Record
from .options import Settings
from .packet import Files, Packet, write_stage

IN_FLIGHT = 2            # tasks queued per worker: enough to keep it busy, few enough to keep memory flat


@dataclass(frozen=True)
class Failed:
    """A packet that did not render: one line, and whether the build must stop."""

    message: str
    stop: bool = False


@dataclass(frozen=True)
class Task:
    """One packet, or a roster group's packets: rendered together, each settled on its own."""

    packets: tuple[Packet, ...]
    inputs: dict[str, dict[str, str]]        # document -> input label -> SHA-256 (the same for the group)
    stage: Path                              # the packets' staging folder ("new" under OUT's tmp)


Result = Union[list[Record], Failed]          # a packet's records (its files are staged), or why it failed
Rendered = Union[tuple[Files, list[Record]], Failed]   # a packet's files in memory and their records


class Runner(Protocol):
    def results(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, list[Result]]]: ...


def render_each(task: Task, settings: Settings, out: Path) -> Iterator[Rendered]:
    """Each packet of a task, in memory, in order (a roster group is rendered once and stamped); never
    raises: a bug fails its own packet, and the rest of the group goes on."""
    from .stamp import render_group

    done = 0
    while done < len(task.packets):
        try:
            for one in render_group(task.packets[done:], settings, task.inputs):
                done += 1
                yield one
        except Exception as exc:  # noqa: BLE001 - one packet's bug must not stop the others
            if done == len(task.packets):
                raise                     # not a packet's: every one of them was given already
            yield failure(task.packets[done], exc, out)
            done += 1


def failure(packet: Packet, exc: BaseException, where: Path) -> Failed:
    """A packet's failure as one line; a staging write that no packet could do stops the build."""
    if isinstance(exc, WriteError):
        stop = stops_build(exc.errno)
        return Failed(f"{display_path(where)}: {exc}; packet {packet.key} is left as it was"
                      + ("; the build stopped" if stop else ""), stop)
    from .build import describe

    return Failed(describe(packet, exc))


def stage_rendered(packet: Packet, rendered: Rendered, stage: Path, out: Path) -> Result:
    """Write one rendered packet into its staging folder: its records, or why it failed."""
    if isinstance(rendered, Failed):
        return rendered
    files, records = rendered
    try:
        write_stage(stage, files)
    except Exception as exc:  # noqa: BLE001 - a write error fails (or stops) the build, never a traceback
        return failure(packet, exc, out)
    return records


def work(task: Task, settings: Settings, out: Path) -> list[Result]:
    """Run in a local worker: render the task and stage every packet; never raises."""
    return [stage_rendered(packet, one, task.stage, out)
            for packet, one in zip(task.packets, render_each(task, settings, out))]


class Serial:
    """Every task in this process, one after the other."""

    def __init__(self, settings: Settings, out: Path):
        self.settings, self.out = settings, out

    def results(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, list[Result]]]:
        for task in tasks:
            yield task, work(task, self.settings, self.out)


class Pool:
    """A local process pool, started when the second task arrives (a build of one packet never waits for it)."""

    def __init__(self, settings: Settings, out: Path, jobs: int):
        self.settings, self.out, self.jobs = settings, out, jobs

    def results(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, list[Result]]]:
        tasks = iter(tasks)
        first = next(tasks, None)
        if first is None:
            return
        second = next(tasks, None)
        if second is None:                       # one task: the pool would only cost its start-up
            yield first, work(first, self.settings, self.out)
            return
        _preload()
        pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=_context())
        source = itertools.chain((first, second), tasks)
        pending: dict[Future, Task] = {}

        def fill() -> None:       # planning goes on here, between results, while the workers render
            while len(pending) < self.jobs * IN_FLIGHT and (task := next(source, None)) is not None:
                pending[pool.submit(work, task, self.settings, self.out)] = task

        try:
            fill()
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: pending[f].packets[0].key):
                    task = pending.pop(future)
                    try:
                        results = future.result()
                    except Exception as exc:  # noqa: BLE001 - a worker that died (out of memory, say)
                        results = [failure(p, exc, self.out) for p in task.packets]
                    yield task, results
                fill()
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


def _preload() -> None:
    """Import the renderers before forking, so every worker starts warm."""
    from .backends import get_backend

    for fmt in ("pdf", "docx"):
        get_backend(fmt)


def _context():
    import multiprocessing

    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def make_runner(settings: Settings, out: Path, jobs: int, scheduler: str | None = None) -> Runner:
    """The runner a build's options ask for."""
    if scheduler:
        from .distributed import DaskRunner

        return DaskRunner(scheduler, settings, out)
    return Pool(settings, out, jobs) if jobs > 1 else Serial(settings, out)


__all__ = ["Failed", "Files", "Pool", "Rendered", "Result", "Runner", "Serial", "Task", "make_runner",
           "render_each", "stage_rendered", "work"]
