"""Parse workers fed by the crawl's event loop: each worker a process beside the crawl, joined to it by
a socket pair that the loop reads and writes itself.

``concurrent.futures.ProcessPoolExecutor`` feeds its processes through two threads of the crawl's
process (a queue feeder and a result reader), which contend with the reactor's thread for the GIL at
every page: pickling a body, waking the loop, unpickling a record. Here the loop writes each page to
the socket as it comes and reads the records back when the socket is readable; no thread but the
reactor's runs Python.

A worker is ``python -m dwnscraper.workerpool JOB WARM_UP FD``: a new interpreter, started without
waiting for it (it loads its modules on its own core while the crawl fetches its first pages) in a
process group of its own, so that Ctrl-C in a terminal reaches the crawl only. It reads frames until
its socket closes, so it ends with the crawl however the crawl ends (a SIGKILL closes the crawl's end
too). It ignores SIGINT and SIGTERM: a service manager that signals every process of the service
(systemd's default) stops the crawl, which still has pages for its worker before it ends.

This module imports no Scrapy, nor does a worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import itertools
import logging
import os
import pickle
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

HEADER = struct.Struct("!Q")
"""A frame: its length, then a pickle."""
JOIN_TIMEOUT = 5.0
"""Seconds a closing crawl waits for a worker to end before it kills it."""


class WorkerLost(RuntimeError):
    """The worker parsing a page ended before it answered (killed, out of memory, crashed)."""


def serve(connection: socket.socket, job: Callable[..., Any], warm_up: Callable[[], None]) -> None:
    """A worker's life: answer each ``(number, arguments)`` frame with ``(number, ok, job(*arguments))``
    (``ok`` false: the exception raised) until the crawl's end of the socket closes or breaks (a crawl
    killed with answers unread resets it): either way the crawl is gone, and so is the worker.

    A thread of the worker takes the pages off the socket as they come, so that the crawl's loop hands
    a page over in one write and never waits with the rest for the worker to finish the page before.
    """
    pages: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    threading.Thread(target=_take_pages, args=(connection, pages), name="dwn-pages", daemon=True).start()
    warm_up()
    with connection:
        while (frame := pages.get()) is not None:
            number, arguments = pickle.loads(frame)
            try:
                answer = (number, True, job(*arguments))
            except Exception as error:  # the crawl raises it where it awaits the page
                answer = (number, False, error)
            try:
                payload = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
            except Exception as error:  # an exception that does not pickle still reaches the crawl, as words
                payload = pickle.dumps((number, False, RuntimeError(f"{type(error).__name__}: {error}")))
            try:
                connection.sendall(HEADER.pack(len(payload)) + payload)
            except OSError:
                return


def _take_pages(connection: socket.socket, pages: queue.SimpleQueue) -> None:
    try:
        with contextlib.suppress(OSError):
            while (frame := _receive(connection)) is not None:
                pages.put(frame)
    finally:
        pages.put(None)


def _receive(connection: socket.socket) -> bytes | None:
    """The next frame, ``None`` once the crawl has closed its end."""
    header = _exactly(connection, HEADER.size)
    return None if header is None else _exactly(connection, HEADER.unpack(header)[0])


def _exactly(connection: socket.socket, size: int) -> bytes | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    while view:
        received = connection.recv_into(view)
        if not received:
            return None
        view = view[received:]
    return bytes(buffer)


class _Worker(asyncio.Protocol):
    """One worker process and the loop's side of its socket.

    Each time the socket is readable the loop reads all it holds (up to 256 KB) and settles every answer
    complete in it: the loop comes round only every few milliseconds in a busy crawl, and a worker whose
    answers wait in the socket waits with them.
    """

    def __init__(self, process: subprocess.Popen, connection: socket.socket,
                 lost: Callable[[_Worker], None]) -> None:
        self.process = process
        self.connection = connection
        self.lost = lost
        self.transport: asyncio.Transport | None = None
        self.connected: asyncio.Task | None = None
        """Joins the socket to the loop, once: the first page sent to the worker starts it."""
        self.waiting: dict[int, asyncio.Future] = {}
        self.received = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += data
        start = 0
        while len(self.received) - start >= HEADER.size:
            end = start + HEADER.size + HEADER.unpack_from(self.received, start)[0]
            if len(self.received) < end:
                break
            self.settle(*pickle.loads(memoryview(self.received)[start + HEADER.size:end]))
            start = end
        del self.received[:start]

    def settle(self, number: int, ok: bool, value: Any) -> None:
        answer = self.waiting.pop(number)
        if answer.done():  # its crawl stopped waiting (cancelled)
            return
        if ok:
            answer.set_result(value)
        else:
            answer.set_exception(value)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost(self)

    def send(self, number: int, arguments: tuple) -> asyncio.Future:
        answer = asyncio.get_running_loop().create_future()
        self.waiting[number] = answer
        payload = pickle.dumps((number, arguments), pickle.HIGHEST_PROTOCOL)
        self.transport.write(HEADER.pack(len(payload)) + payload)
        return answer

    def fail_waiting(self) -> None:
        for answer in self.waiting.values():
            if not answer.done():
                answer.set_exception(WorkerLost("the parse worker ended before it answered"))
        self.waiting.clear()

    def close(self) -> None:
        """Close the socket at once, so that the worker reads its end now: the transport's ``close()``
        would only close it when the loop comes round, after the crawl has waited for the worker."""
        if self.connected is not None:
            self.connected.cancel()
        with contextlib.suppress(OSError):  # closed already: the worker died
            self.connection.shutdown(socket.SHUT_RDWR)
        if self.transport is not None:
            self.transport.close()
        else:
            self.connection.close()


class WorkerPool:
    """``workers`` processes running ``job`` (a module-level function) on the pages the loop sends them.

    ``await pool.run(*arguments)`` gives ``job(*arguments)``'s answer or raises what it raised;
    :class:`WorkerLost` when its worker died first (a new worker takes the next pages).
    """

    def __init__(self, workers: int, job: str, warm_up: str) -> None:
        """``job`` and ``warm_up`` are functions named ``module:function``; a worker calls ``warm_up()``
        before its first page."""
        self.job, self.warm_up = job, warm_up
        self.numbers = itertools.count()
        self.workers = [self._start() for _ in range(workers)]

    def _start(self) -> _Worker:
        """Start a worker now, while the crawl fetches robots.txt and its first pages: one started at the
        first page would keep every page waiting for its start (about a second). The worker finds the
        modules this process finds (its ``sys.path``), whether dwnscraper is installed or not."""
        ours, theirs = socket.socketpair()
        with theirs:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__, self.job, self.warm_up, str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, process_group=0,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(entry for entry in sys.path if entry)},
            )
        return _Worker(process, ours, self._lost)

    async def run(self, *arguments: Any) -> Any:
        worker = min(self.workers, key=lambda candidate: len(candidate.waiting))
        if worker.connected is None:
            worker.connected = asyncio.create_task(
                asyncio.get_running_loop().create_unix_connection(lambda: worker, sock=worker.connection))
        await worker.connected
        return await worker.send(next(self.numbers), arguments)

    def _lost(self, worker: _Worker) -> None:
        """A worker's socket closed: fail the pages it held and, unless the pool is closing, put a new
        worker in its place."""
        worker.fail_waiting()
        if worker not in self.workers:
            return
        logger.error("A parse worker ended (exit code %s); starting a new one", _ended(worker.process))
        self.workers[self.workers.index(worker)] = self._start()

    def close(self) -> None:
        """End every worker: each reads the end of its socket and exits; one that does not is killed."""
        workers, self.workers = self.workers, []
        for worker in workers:
            worker.fail_waiting()
            worker.close()
        for worker in workers:
            if _ended(worker.process) is None:
                worker.process.kill()
                worker.process.wait()


def _ended(process: subprocess.Popen) -> int | None:
    """The exit code of a worker whose socket closed (it is ending), ``None`` if it has not ended within
    :data:`JOIN_TIMEOUT`."""
    try:
        return process.wait(JOIN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None


def _function(name: str) -> Callable[..., Any]:
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


if __name__ == "__main__":
    if len(sys.argv) != 4 or not sys.argv[3].isdigit():
        sys.exit("A parse worker is started by the crawl: python -m dwnscraper.workerpool MODULE:JOB MODULE:WARM_UP FD")
    job, warm_up, descriptor = sys.argv[1:]
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    serve(socket.socket(fileno=int(descriptor)), _function(job), _function(warm_up))
    sys.stderr.flush()
    os._exit(0)  # nothing left to write or close: the interpreter's teardown would keep the closing crawl waiting
