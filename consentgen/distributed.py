"""A build on a Dask cluster: ``consentgen build PRACTICE --scheduler tcp://HOST:8786`` (or ``local:N``).

The cluster only renders. Each task travels as bytes: its packets (the
profile is already parsed data, so it travels pickled) and the files they
read while rendering, which a remote worker does not have: the practice's
logo and the ``--templates`` folders (their ``*.md`` files, what the template
loader reads). A worker writes those into a cache folder named by their
SHA-256, points the packet and the settings at the copies, renders, and
returns each packet's files as bytes. This process stages them and the build
swaps them into OUT as with a local pool (``runners.py``), so OUT's lock,
journal, manifest and state work unchanged, and a worker that dies has
written nothing: the scheduler runs its tasks again elsewhere
(``distributed.scheduler.allowed-failures``, 3 by default), and a task that
still cannot finish fails its packets in one line each.

The scheduler is reached, and must have a worker running this version of
consentgen, when the runner is made: before the build creates or locks OUT.
Nothing of dask is imported until then (it is the optional extra ``dask``).
"""
from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import ConsentgenError, display_path
from .options import Settings
from .packet import Packet
from .profiles import LoadedProfile
from .runners import IN_FLIGHT, Failed, Rendered, Result, Task, failure, render_each, stage_rendered

CONNECT_SECONDS = 10.0       # to reach the scheduler, and for a worker to be there
MISSING = "--scheduler needs the dask extra: pip install 'consentgen[dask]'"
KILL_ENV = "CONSENTGEN_TEST_KILL_WORKER"   # test hook: a file path; the first task to create that file kills its worker
_LOGGERS = ("distributed", "tornado", "asyncio", "bokeh")   # quiet while we run: our errors are one line each


@dataclass(frozen=True)
class Folder:
    """Files a render reads, as bytes: written on a worker into a cache folder named by their SHA-256."""

    label: str                                # the folder as this machine names it, for error messages
    files: tuple[tuple[str, bytes], ...]      # path under the folder (posix) -> bytes, sorted

    @functools.cached_property
    def digest(self) -> str:
        h = hashlib.sha256()
        for name, data in self.files:
            raw = name.encode("utf-8")
            h.update(len(raw).to_bytes(8, "big") + raw + len(data).to_bytes(8, "big") + data)
        return h.hexdigest()


@dataclass(frozen=True)
class Shipped:
    """A task as it travels: its packets, each one's logo, and the build's template folders."""

    task: Task
    logos: tuple[Folder | None, ...]          # per packet: the logo's folder (one file), or None
    templates: tuple[Folder, ...]             # settings.template_dirs, in order


# -- the client -------------------------------------------------------------------

class DaskRunner:
    """Tasks rendered on a Dask cluster; the bytes come back and are staged here."""

    def __init__(self, scheduler: str, settings: Settings, out: Path):
        self.scheduler, self.settings, self.out = scheduler, settings, out
        self.client = self.cluster = None
        self._templates: tuple[Folder, ...] | None = None
        self._logos: dict[Path, Folder] = {}
        self._levels: dict[str, int] = {}
        workers = _local_workers(scheduler)
        try:
            import distributed
        except ImportError:
            raise ConsentgenError(MISSING) from None
        self._quiet()
        try:
            if workers is not None:
                self.client = self._start_local(distributed, workers)
            else:
                self.client = _connect(distributed, scheduler)
                _check_workers(self.client, scheduler)
        except BaseException:
            self.close()
            raise

    def _start_local(self, distributed, workers: int):
        try:
            self.cluster = distributed.LocalCluster(      # no dashboard; the scheduler's own HTTP server (health
                n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=None,   # checks) would
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},   # take port 8787, or warn that it is taken
                silence_logs=logging.CRITICAL)
            return distributed.Client(self.cluster, timeout=CONNECT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - no processes, no port on this machine: one line
            raise ConsentgenError(f"{self.scheduler}: cannot start a local Dask cluster ({_first_line(exc)})") from None

    def results(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, list[Result]]]:
        source = iter(tasks)
        pending: dict = {}
        try:
            while True:
                room = self._room()
                while len(pending) < room and (task := next(source, None)) is not None:
                    try:
                        shipped = self._ship(task)
                    except Exception as exc:  # noqa: BLE001 - a logo gone since planning: its packets fail
                        yield task, [failure(p, exc, self.out) for p in task.packets]
                        continue
                    try:
                        future = self.client.submit(render_shipped, shipped, self.settings, self.out, pure=False)
                    except Exception as exc:  # noqa: BLE001 - the client lost its scheduler: nothing more can go
                        yield task, [self._lost(p, exc, stop=True) for p in task.packets]
                        return
                    pending[future] = task
                if not pending:
                    return
                for future in sorted(self._finished(pending), key=lambda f: pending[f].packets[0].key):
                    task = pending.pop(future)
                    yield task, self._staged(task, future)
        finally:
            if pending and self.client is not None:
                with suppress(Exception):
                    self.client.cancel(list(pending))
            self.close()

    def close(self) -> None:
        """Disconnect, and stop the local cluster if we started one; safe to call twice."""
        client, cluster, self.client, self.cluster = self.client, self.cluster, None, None
        with suppress(Exception):
            if client is not None:
                client.close(timeout=CONNECT_SECONDS)
        with suppress(Exception):
            if cluster is not None:
                cluster.close(timeout=CONNECT_SECONDS)
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
        self._levels = {}

    def _quiet(self) -> None:
        """Dask's own log lines (a worker restarting, a lost connection) would break our one-line messages."""
        names = [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in _LOGGERS]
        for name in {*_LOGGERS, *names}:         # Dask's config gives some (distributed.client) levels of their own
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(logging.CRITICAL + 1)

    def _room(self) -> int:
        """Tasks to keep in flight: a few per worker thread (workers may join or leave during a build)."""
        try:
            threads = sum(self.client.nthreads().values())
        except Exception:  # noqa: BLE001 - asked again next time; submit says if the scheduler is gone
            threads = 1
        return IN_FLIGHT * max(1, threads)

    @staticmethod
    def _finished(pending: dict) -> list:
        """The tasks done (or cancelled) when the first of them is; all of them when Dask cannot say."""
        from distributed import wait

        try:
            wait(list(pending), return_when="FIRST_COMPLETED")
        except Exception:  # noqa: BLE001 - Dask raises when a task was cancelled (the scheduler is gone)
            pass
        return [f for f in pending if f.done()] or list(pending)

    def _staged(self, task: Task, future) -> list[Result]:
        if not future.done():             # Dask could not wait for it: the scheduler is gone
            return [self._lost(p, ConnectionError(), stop=True) for p in task.packets]
        try:
            rendered = future.result()
        except (Exception, asyncio.CancelledError) as exc:  # noqa: BLE001 - a worker or the scheduler gone
            return [self._lost(p, exc) for p in task.packets]
        return [stage_rendered(p, r, task.stage, self.out) for p, r in zip(task.packets, rendered)]

    def _lost(self, packet: Packet, exc: BaseException, stop: bool = False) -> Failed:
        """A task the cluster could not finish, as one line; a lost scheduler stops the build."""
        from concurrent.futures import CancelledError

        from distributed import KilledWorker

        where = f"{display_path(packet.loaded.source)}: packet {packet.key}"
        if isinstance(exc, KilledWorker):
            return Failed(f"{where}: the Dask workers rendering it died each time it was tried; "
                          "the packet is left as it was")
        if stop or isinstance(exc, (CancelledError, asyncio.CancelledError)) or self.client is None \
                or self.client.status != "running":    # Dask cancels every task when it loses the scheduler
            return Failed(f"{where}: {self.scheduler}: lost the Dask scheduler; the packet is left as it was; "
                          "the build stopped", stop=True)
        return Failed(f"{where}: the Dask cluster could not render it ({type(exc).__name__}); "
                      "the packet is left as it was")

    def _ship(self, task: Task) -> Shipped:
        if self._templates is None:
            self._templates = template_folders(self.settings.template_dirs)
        return ship(task, self._templates, self._logos)


def ship(task: Task, templates: tuple[Folder, ...], logos: dict[Path, Folder]) -> Shipped:
    """A task with the files its packets read: each one's logo (read once per build: ``logos``), the templates."""
    return Shipped(task, tuple(_logo(p.loaded, logos) for p in task.packets), templates)


def _logo(loaded: LoadedProfile, logos: dict[Path, Folder]) -> Folder | None:
    from .compose import logo_path

    path = logo_path(loaded)          # checked when the packet was planned; raises if it went since
    if path is None:
        return None
    if path not in logos:
        logos[path] = Folder(display_path(path.parent), ((path.name, path.read_bytes()),))
    return logos[path]


def template_folders(dirs: tuple[Path, ...]) -> tuple[Folder, ...]:
    """The --templates folders' ``*.md`` files (all the template loader reads, as ``templating`` lists them);
    a file that cannot be read is left out, and the document that needs it says it is missing."""
    found = []
    for folder in dirs:
        files = []
        for path in sorted(folder.rglob("*.md")):
            with suppress(OSError):
                if path.is_file():
                    files.append((path.relative_to(folder).as_posix(), path.read_bytes()))
        found.append(Folder(display_path(folder), tuple(files)))
    return tuple(found)


def _local_workers(scheduler: str) -> int | None:
    """N for ``local:N`` (a cluster of N processes on this machine); None for a scheduler's address."""
    if not scheduler.startswith("local:"):
        return None
    count = scheduler.removeprefix("local:")
    if not count.isdigit() or not 1 <= int(count) <= 256:
        raise ConsentgenError(f"{scheduler}: give local:N with N from 1 to 256 worker processes")
    return int(count)


def _unreachable(scheduler: str, why: str) -> ConsentgenError:
    return ConsentgenError(f"{scheduler}: cannot reach the Dask scheduler ({why})")


def _connect(distributed, scheduler: str):
    """A client of the scheduler at ``scheduler``, within CONNECT_SECONDS; else one line."""
    from distributed.comm.addressing import parse_address, parse_host_port

    started = time.monotonic()
    try:
        scheme, where = parse_address(scheduler)
        if scheme in ("tcp", "tls"):
            host, port = parse_host_port(where, 8786)
    except (ValueError, TypeError):
        raise _unreachable(scheduler, "not an address like tcp://HOST:8786") from None
    try:
        if scheme in ("tcp", "tls"):      # a port nobody listens on is refused at once: Dask would retry until timeout
            socket.create_connection((host, port), timeout=CONNECT_SECONDS).close()
        # Dask bounds the connection, not the handshake after it: a listener that never answers would hold it forever.
        asyncio.run(asyncio.wait_for(_handshake(distributed, scheduler), _left(started)))
        return distributed.Client(scheduler, timeout=_left(started))
    except socket.gaierror:
        raise _unreachable(scheduler, "unknown host") from None
    except (socket.timeout, TimeoutError, asyncio.TimeoutError):
        raise _unreachable(scheduler, f"no answer within {CONNECT_SECONDS:g} s") from None
    except ConnectionRefusedError:
        raise _unreachable(scheduler, "connection refused") from None
    except ValueError as exc:         # an unknown scheme, a TLS setting missing
        raise _unreachable(scheduler, _first_line(exc)) from None
    except OSError as exc:            # Dask's "Timed out trying to connect", a reset, a closed connection
        why = exc.strerror.lower() if exc.strerror else f"no answer within {CONNECT_SECONDS:g} s"
        if isinstance(exc, distributed.comm.CommClosedError):
            why = "the connection was closed"
        raise _unreachable(scheduler, why) from None
    except Exception:  # noqa: BLE001 - something else listens there (Dask reads its answer as a huge frame)
        raise _unreachable(scheduler, "something answers there, but not a Dask scheduler") from None


async def _handshake(distributed, scheduler: str) -> None:
    args = distributed.Security().get_connection_args("client")     # tls:// takes its settings from Dask's config
    comm = await distributed.comm.connect(scheduler, timeout=CONNECT_SECONDS, **args)   # bounded by the caller too
    await comm.close()


def _left(started: float) -> float:
    return max(1.0, CONNECT_SECONDS - (time.monotonic() - started))


def _check_workers(client, scheduler: str) -> None:
    """At least one worker, and every worker with this version of consentgen (the same bytes as here)."""
    try:
        client.wait_for_workers(1, timeout=CONNECT_SECONDS)
    except (TimeoutError, asyncio.TimeoutError, OSError):
        raise ConsentgenError(f"{scheduler}: the Dask scheduler has no workers (none came within "
                              f"{CONNECT_SECONDS:g} s); start some with: dask worker {scheduler}") from None
    import importlib.metadata

    found = client.run(importlib.metadata.version, "consentgen", on_error="return")
    wrong = {worker: v if isinstance(v, str) else "not installed" for worker, v in found.items() if v != __version__}
    if wrong:
        worker, version = sorted(wrong.items())[0]
        raise ConsentgenError(f"{scheduler}: the Dask workers need consentgen {__version__} "
                              f"(worker {worker}: {version})")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


# -- the worker ---------------------------------------------------------------------

def render_shipped(shipped: Shipped, settings: Settings, out: Path) -> list[Rendered]:
    """Run on a Dask worker: each packet of the task in memory, in order; never raises."""
    task = shipped.task
    try:
        task, settings, labels = _materialize(shipped, settings)
    except Exception as exc:  # noqa: BLE001 - the worker's disk: every packet of the task fails in one line
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        return [Failed(f"{display_path(p.loaded.source)}: packet {p.key}: the Dask worker cannot write its copy "
                       f"of the logo and templates ({reason}); the packet is left as it was") for p in task.packets]
    results: list[Rendered] = []
    for one in render_each(task, settings, out):
        if isinstance(one, Failed):
            one = Failed(_relabel(one.message, labels), one.stop)
        results.append(one)
        _test_kill()
    return results


def _test_kill() -> None:
    """Test hook (``CONSENTGEN_TEST_KILL_WORKER``): the first task anywhere to create the named file kills its
    worker process, its work done but not returned, as a machine lost mid-build would."""
    marker = os.environ.get(KILL_ENV)
    if not marker:
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    os._exit(70)


def _materialize(shipped: Shipped, settings: Settings) -> tuple[Task, Settings, dict[str, str]]:
    """The task and settings pointed at this worker's copies of the shipped files; cache folder -> label."""
    root = _cache_root()
    labels: dict[str, str] = {}

    def copy(folder: Folder) -> Path:
        path = _written(folder, root)
        labels[display_path(path)] = folder.label
        return path

    dirs = tuple(copy(f) for f in shipped.templates)
    settings = dataclasses.replace(settings, template_dirs=dirs)
    moved: dict[int, LoadedProfile] = {}       # packets that shared a profile still share one
    packets = []
    for packet, logo in zip(shipped.task.packets, shipped.logos):
        if logo is not None:
            if id(packet.loaded) not in moved:
                moved[id(packet.loaded)] = _with_logo(packet.loaded, copy(logo) / logo.files[0][0])
            packet = dataclasses.replace(packet, loaded=moved[id(packet.loaded)])
        packets.append(packet)
    return dataclasses.replace(shipped.task, packets=tuple(packets)), settings, labels


def _with_logo(loaded: LoadedProfile, path: Path) -> LoadedProfile:
    """The profile with its logo at ``path`` (absolute, so it no longer depends on the profile file's folder)."""
    practice = loaded.profile.practice
    branding = practice.branding.model_copy(update={"logo": str(path)})
    profile = loaded.profile.model_copy(update={"practice": practice.model_copy(update={"branding": branding})})
    return dataclasses.replace(loaded, profile=profile)


def _cache_root() -> Path:
    """The worker's own scratch folder (removed when it stops), else a private temporary one."""
    try:
        from distributed import get_worker

        root = Path(get_worker().local_directory) / "consentgen-inputs"
    except (ImportError, ValueError):
        root = Path(tempfile.gettempdir()) / f"consentgen-inputs-{os.getuid() if hasattr(os, 'getuid') else 0}"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def _written(folder: Folder, root: Path) -> Path:
    """``root/<sha256>`` holding the folder's files, written once and renamed into place whole."""
    final = root / folder.digest
    if final.is_dir():
        return final
    incoming = Path(tempfile.mkdtemp(prefix=".incoming-", dir=root))
    try:
        for name, data in folder.files:
            path = incoming.joinpath(*name.split("/"))
            if not path.resolve().is_relative_to(incoming.resolve()):
                raise ValueError("a shipped file outside its folder")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        os.rename(incoming, final)
    except OSError:
        if not final.is_dir():            # else another thread of this worker wrote the same folder first
            raise
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    return final


def _relabel(message: str, labels: dict[str, str]) -> str:
    """A worker's message with its cache folders named as this build's client names them."""
    for cached, label in labels.items():
        message = message.replace(cached, label)
    return message


__all__ = ["CONNECT_SECONDS", "DaskRunner", "Folder", "KILL_ENV", "MISSING", "Shipped", "render_shipped", "ship",
           "template_folders"]
