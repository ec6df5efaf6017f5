"""The client side of `bench_api`, run in its own process so that the server and the clients
do not share an interpreter (they still share the machine's cores).

Two modes, each writing its raw samples as JSON to ``--out`` and printing ``window-start``
and ``window-end`` on stdout when the measured window opens and closes (the parent samples
the server's CPU time at those moments):

* ``http``: an open-loop load generator. Request *i* is due at ``start + i / rate``,
  whatever happened to the earlier ones; its latency runs from that due time to the end of
  its response, so a server stall counts in full for every request that was due during it
  (no coordinated omission). Requests go over keep-alive HTTP/1.1 connections taken from a
  pool that grows when all are busy (up to ``MAX_CONNECTIONS``; beyond that a request
  waits, and the wait counts). The client is a minimal HTTP/1.1 reader on asyncio streams
  (and uvloop when installed), so that it takes as little as possible of the two cores it
  shares with the server (about 7% of one at 500 requests/s). A response is an error
  unless it is ``200`` with a JSON array body; so are a timeout (``REQUEST_TIMEOUT_S``)
  and a failed connection, except that a kept-alive connection the server closed as the
  request went out is retried (see `STALE`).
* ``ws``: ``--clients`` WebSocket clients of the live stream, each authenticated by its
  first message and subscribed to every event (with ``--batch``, in batches: the frames
  ready at once come in one message, a JSON array, as the dashboard asks for them); each
  message's wall-clock receive time is kept with its text, and the frames are decoded after
  the window (delay = receive time minus the frame's ``at``).

The credential comes in the ``BENCH_TOKEN`` environment variable (not on the command line).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MAX_CONNECTIONS = 512
"""Most connections the HTTP generator opens (a stall at 500/s fills 500 in a second)."""
PREOPENED = 8
"""Connections opened before the first request (their handshakes are not measured)."""
REQUEST_TIMEOUT_S = 10.0
"""A request not answered within this long (from when it was sent) is an error."""
STALE_RETRIES = 2
"""Times a request goes out again after finding its kept-alive connection closed."""
SUBSCRIBE_TIMEOUT_S = 30.0
"""How long a WebSocket client waits for its ``subscribed`` frame."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    http = modes.add_parser("http", help="open-loop GET load")
    http.add_argument("--url", required=True)
    http.add_argument("--rate", type=float, required=True, help="requests per second")
    http.add_argument("--seconds", type=float, required=True, help="measured window")
    http.add_argument("--warmup", type=float, default=2.0, help="seconds not measured")
    http.add_argument("--out", type=Path, required=True)
    ws = modes.add_parser("ws", help="WebSocket stream clients")
    ws.add_argument("--url", required=True)
    ws.add_argument("--clients", type=int, required=True)
    ws.add_argument("--seconds", type=float, required=True, help="measured window")
    ws.add_argument("--batch", action="store_true", help="ask for batched messages")
    ws.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args()
    token = os.environ.get("BENCH_TOKEN", "")
    if not token:
        raise SystemExit("error: BENCH_TOKEN is not set")
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    if arguments.mode == "http":
        result = asyncio.run(
            _http_load(arguments.url, token, arguments.rate, arguments.seconds, arguments.warmup)
        )
    else:
        result = asyncio.run(
            _ws_clients(
                arguments.url, token, arguments.clients, arguments.seconds, batch=arguments.batch
            )
        )
    arguments.out.write_text(json.dumps(result))


def _say(line: str) -> None:
    print(line, flush=True)


# -- HTTP ------------------------------------------------------------------------------------


class ResponseError(Exception):
    """A response that is not a 200 with a JSON array (the message is the error's kind)."""


class StaleConnectionError(ResponseError):
    """The connection closed before any response."""


STALE = (StaleConnectionError, ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError)
"""Failures of a kept-alive connection that the server closed as the request went out (its
idle timeout): on a reused connection the GET is sent again on another one, as HTTP
clients do with idempotent requests (counted in ``retried``; the latency still runs from
the due time); on a fresh connection they are errors."""


@dataclass(slots=True)
class _Pool:
    """Keep-alive connections to one server; grows on demand up to `MAX_CONNECTIONS`."""

    host: str
    port: int
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = field(default_factory=list)
    opened: int = 0
    alive: int = 0
    waiters: list[asyncio.Future[None]] = field(default_factory=list)

    async def take(self) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], bool]:
        """A connection, and whether it served a request before."""
        while True:
            while self.idle:
                connection = self.idle.pop()
                if not connection[0].at_eof():
                    return connection, True
                self.drop(connection)
            if self.alive < MAX_CONNECTIONS:
                self.alive += 1
                self.opened += 1
                try:
                    return await asyncio.open_connection(self.host, self.port), False
                except BaseException:
                    self.alive -= 1
                    raise
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            await waiter

    def give_back(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.idle.append(connection)
        self._wake()

    def drop(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.alive -= 1
        connection[1].close()
        self._wake()

    def _wake(self) -> None:
        while self.waiters:
            waiter = self.waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return


async def _exchange(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
) -> tuple[bool, int]:
    """Send `request`, read its response: (whether the connection may be reused, the
    length of the JSON array it answered)."""
    reader, writer = connection
    writer.write(request)
    status_line = await reader.readline()
    if not status_line:
        raise StaleConnectionError("connection closed before the response")
    parts = status_line.split(b" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    length = -1
    keep_alive = True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"connection" and value.strip().lower() == b"close":
            keep_alive = False
    if length < 0:
        raise ResponseError("response without content-length")
    body = await reader.readexactly(length)
    if status != 200:
        raise ResponseError(f"HTTP {status}")
    try:
        parsed = json.loads(body)
    except ValueError:
        raise ResponseError("body is not JSON") from None
    if not isinstance(parsed, list):
        raise ResponseError("body is not a JSON array")
    return keep_alive, len(parsed)


def _kind(error: BaseException) -> str:
    return str(error) if isinstance(error, ResponseError) else type(error).__name__


async def _http_load(
    url: str, token: str, rate: float, seconds: float, warmup: float
) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()
    pool = _Pool(host, port)
    for _ in range(PREOPENED):
        pool.give_back((await pool.take())[0])
    warm = round(warmup * rate)
    measured = round(seconds * rate)
    latencies: list[float] = []
    services: list[float] = []
    lateness: list[float] = []
    sizes: list[int] = []
    errors: Counter[str] = Counter()
    retried = 0

    async def one(due: float, record: bool) -> None:
        nonlocal retried
        sent = time.perf_counter()
        for attempt in range(STALE_RETRIES + 1):
            connection, reused = None, False
            try:
                connection, reused = await pool.take()
                sent = time.perf_counter()
                exchange = _exchange(connection, request)
                reusable, items = await asyncio.wait_for(exchange, REQUEST_TIMEOUT_S)
                break
            except (ResponseError, OSError, EOFError, TimeoutError, ValueError) as error:
                if connection is not None:
                    pool.drop(connection)
                if isinstance(error, STALE) and reused and attempt < STALE_RETRIES:
                    retried += record
                    continue
                if record:
                    errors[_kind(error)] += 1
                return
        assert connection is not None
        done = time.perf_counter()
        if reusable:
            pool.give_back(connection)
        else:
            pool.drop(connection)
        if record:
            latencies.append(done - due)
            services.append(done - sent)
            lateness.append(sent - due)
            sizes.append(items)

    start = time.perf_counter() + 0.05
    window_cpu = 0.0
    window_started = 0.0
    tasks: set[asyncio.Task[None]] = set()
    for index in range(warm + measured):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if index == warm:
            _say("window-start")
            window_cpu = time.process_time()
            window_started = time.perf_counter()
        task = asyncio.create_task(one(due, index >= warm))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(set(tasks))
    window_s = time.perf_counter() - window_started
    cpu_s = time.process_time() - window_cpu
    _say("window-end")
    for _, writer in pool.idle:
        writer.close()
    return {
        "scheduled": measured,
        "completed": len(latencies),
        "latencies_s": latencies,
        "service_s": services,
        "lateness_s": lateness,
        "items": sizes,
        "errors": dict(errors),
        "retried": retried,
        "window_s": window_s,
        "last_due_s": (measured - 1) / rate,
        "cpu_s": cpu_s,
        "connections_opened": pool.opened,
    }


# -- WebSocket -------------------------------------------------------------------------------


async def _ws_clients(
    url: str, token: str, clients: int, seconds: float, *, batch: bool
) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    received: list[list[tuple[float, str]]] = [[] for _ in range(clients)]
    subscribed = 0
    all_subscribed = asyncio.Event()

    async def client(index: int) -> None:
        nonlocal subscribed
        async with connect(url, max_queue=None) as socket:
            await socket.send(json.dumps({"token": token, "batch": batch}))
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), SUBSCRIBE_TIMEOUT_S))
                if frame["type"] == "subscribed":
                    break
                if frame["id"] is None:
                    raise RuntimeError(f"client {index}: {frame}")
            subscribed += 1
            if subscribed == clients:
                all_subscribed.set()
            frames = received[index]
            while True:  # until cancelled at the window's end
                text = await socket.recv()
                frames.append((time.time(), str(text)))

    tasks = [asyncio.create_task(client(index)) for index in range(clients)]
    waiting = asyncio.ensure_future(all_subscribed.wait())
    await asyncio.wait({waiting, *tasks}, return_when=asyncio.FIRST_COMPLETED)
    failed = [task for task in tasks if task.done()]
    if failed:
        raise RuntimeError("a stream client ended before the window") from failed[0].exception()
    for frames in received:
        frames.clear()  # the window starts when every client is subscribed
    _say("window-start")
    cpu_started = time.process_time()
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    window_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    _say("window-end")
    for task in tasks:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [o for o in outcomes if not isinstance(o, asyncio.CancelledError)]
    if failures:
        raise RuntimeError(f"{len(failures)} stream client(s) failed: {failures[0]!r}")
    return {
        "clients": clients,
        "window_s": window_s,
        "cpu_s": cpu_s,
        "messages": [len(messages) for messages in received],
        "frames": [
            [sample for at, text in messages for sample in _samples(at, text)]
            for messages in received
        ],
    }


def _samples(received_at: float, text: str) -> list[list[Any]]:
    """For each frame of one message (one frame, or an array of them): [receive time, event
    id or None, type, the frame's `at` as text or None, missed]."""
    message = json.loads(text)
    frames = message if isinstance(message, list) else [message]
    return [
        [
            received_at,
            frame["id"],
            frame["type"],
            frame["at"],
            frame["data"].get("missed", 0) if frame["type"] == "gap" else 0,
        ]
        for frame in frames
    ]


if __name__ == "__main__":
    sys.exit(main())
