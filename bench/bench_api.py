"""The API under load: `GET /api/v1/positions` at a fixed rate while a replay runs, and the
live stream's delay to 50 WebSocket clients while paper bots trade.

Run: ``python bench/bench_api.py [--quick] [--only positions|stream] [--unbatched]``
(``--quick``: 10 s windows instead of 30 s; ``--only``: one of the two parts below, default
both; ``--unbatched``: stream clients that take one frame per message, the stream's
default, instead of batches as the dashboard asks for them).

Setup: a real ``orchestrade serve`` subprocess on a free local port over a fresh SQLite
store holding synthetic KRX daily bars (`REPLAY_SYMBOLS` x `REPLAY_BOTS` symbols, `DAYS`
sessions from 2006) and an admin; the bench logs in through the API and drives the bots
through it. The clients run in another process (`api_clients.py`): the server and the
clients share the machine's two cores (with whatever else runs on it), so the CPU time of
the server, of the clients and of the rest of the machine over each window is printed.

1. Positions while a replay runs, twice: first with one replay bot (sma_cross 20/60 over
   `REPLAY_SYMBOLS` symbols) paced to take `PACED_REPLAY_S` for its `DAYS` sessions
   (about 75 sessions, 7,500 bars, per second: the requirement's case), then with
   `REPLAY_BOTS` such bots at full speed (``speed: "max"``, the API's default: they take
   all the CPU the server's event loop gives them; a stress case). Each time, once the
   bots fill orders, an open-loop generator sends `RATE` requests/s to
   ``/api/v1/positions`` for the window (after a 2 s warm-up); each latency runs from the
   request's due time, not from when a connection was free, so stalls are not hidden
   (no coordinated omission). Printed: achieved rate, p50/p90/p99/max latency, errors,
   positions per answer, the generator's own lateness, and the bots' fills in the window
   (they must still be running at its end, or the run says the load was not all under a
   replay). Target: p99 < 20 ms and no errors.
2. Stream fan-out: `PAPER_BOTS` paper bots (one slice of `PAPER_SYMBOLS` stored bars every
   `PAPER_INTERVAL_S` s, sma_cross 2/3 so that they trade every few slices) and
   `STREAM_CLIENTS` clients of ``/api/v1/stream`` subscribed to every event. An event's
   delay is the client's wall-clock receive time minus the frame's ``at``, the wall-clock
   time at which the event was published on its bot's bus (every bus stamps envelopes with
   the wall clock), so it covers the hub, the buffer, encoding, the socket and the client's
   own scheduling. The clients ask for batches (the frames ready at once in one message) as
   the dashboard does, unless ``--unbatched``. Printed: events, frames and messages per
   second, p50/p90/p99/max delay over every frame of every client, missed events (``gap``
   frames). Target: p99 < 100 ms (and nothing missed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from orchestrade.auth import AccountService, PasswordHasher, Role
from orchestrade.data.importing import store_synthetic
from orchestrade.data.synthetic import synthesize_market
from orchestrade.domain import Market
from orchestrade.storage import open_store
from orchestrade.storage.users import UserRepository

CLIENTS = Path(__file__).resolve().parent / "api_clients.py"
SERVE = [sys.executable, "-m", "orchestrade.cli.main", "serve"]
"""The server's command (an experiment may put a patched launcher here)."""
ADMIN, PASSWORD = "bench", "password of the bench admin"
SEED = 11
DAYS = 4500
"""Sessions per symbol, from 2006 to 2024."""
REPLAY_SYMBOLS = 100
REPLAY_BOTS = 2
REPLAY_PARAMS = {"fast": 20, "slow": 60}
"""Slow enough crosses that 100 symbols stay under the trade-rate anomaly that stops a bot
(more than 20 trades within 10 minutes of bar time, i.e. in one daily slice)."""
PACED_REPLAY_S = 60.0
"""Wall time the paced replay takes for its sessions (it must outlast warm-up and window).
At full speed one bot replays its 450,000 bars in about 25 s on the 2-core machine."""
TRADING_LIMIT_S = 120.0
"""How long the replay bots may take to load their bars and fill a first order."""
RATE = 500.0
WINDOW_S = 30.0
QUICK_WINDOW_S = 10.0
PAPER_BOTS = 2
PAPER_SYMBOLS = 10
PAPER_INTERVAL_S = 0.1
PAPER_PARAMS = {"fast": 2, "slow": 3}
STREAM_CLIENTS = 50
HTTP_P99_TARGET_S = 0.020
STREAM_P99_TARGET_S = 0.100
STARTUP_LIMIT_S = 120.0


class BenchError(RuntimeError):
    """The setup did not do what the measurement needs (the message says what)."""


PARTS = ("positions", "stream")
"""The parts ``--only`` may pick (default: both, in this order)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 s windows instead of 30 s")
    parser.add_argument("--only", choices=PARTS, help="run one part only (default: both)")
    parser.add_argument(
        "--unbatched", action="store_true", help="stream clients take one frame per message"
    )
    arguments = parser.parse_args()
    missing = [name for name in ("uvicorn", "websockets") if importlib.util.find_spec(name) is None]
    if missing:
        print(f"skipped: {', '.join(missing)} not installed (the api extra)")
        return
    window = QUICK_WINDOW_S if arguments.quick else WINDOW_S
    parts = PARTS if arguments.only is None else (arguments.only,)
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        home = Path(folder)
        url = f"sqlite:///{home / 'orchestrade.db'}"
        started = time.perf_counter()
        symbols, span_s = _prepare_store(url)
        print(
            f"store: {len(symbols)} synthetic KRX symbols x {DAYS:,} sessions "
            f"({time.perf_counter() - started:.1f} s)",
            flush=True,
        )
        server = _Server.start(home, url)
        try:
            print(f"server: pid {server.process.pid} on {server.base}", flush=True)
            if "positions" in parts:
                paced = span_s / PACED_REPLAY_S
                _positions_under_replay(server, symbols[:REPLAY_SYMBOLS], [paced], window)
                _positions_under_replay(server, symbols, ["max"] * REPLAY_BOTS, window)
            if "stream" in parts:
                _stream_fan_out(server, symbols, window, batch=not arguments.unbatched)
        finally:
            server.stop()


def _prepare_store(url: str) -> tuple[list[str], float]:
    """Store the market and the admin; returns the symbols and the sessions' time span."""
    count = max(REPLAY_BOTS * REPLAY_SYMBOLS, PAPER_BOTS * PAPER_SYMBOLS)
    market = synthesize_market(count, DAYS, SEED, market=Market.KRX, start=dt.date(2006, 1, 2))
    with open_store(url) as store:
        store_synthetic(market, store)
        AccountService(UserRepository(store), PasswordHasher(), clock=_utc_now).add_user(
            ADMIN, Role.ADMIN, PASSWORD
        )
    sessions = market.regimes.index
    span = (sessions[-1] - sessions[0]).total_seconds()
    return [str(instrument.symbol) for instrument in market.instruments], float(span)


# -- the server ------------------------------------------------------------------------------


@dataclass
class _Server:
    """`orchestrade serve` in a subprocess, its log in a file, and an admin's API client."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path
    client: httpx.Client
    token: str = ""

    @classmethod
    def start(cls, home: Path, url: str) -> _Server:
        port = _free_port()
        environment = {
            **os.environ,
            "ORCHESTRADE_HOME": str(home),
            "ORCHESTRADE_API__JWT_SECRET": secrets.token_urlsafe(48),
            "PYTHONUNBUFFERED": "1",
        }
        log = home / "server.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [*SERVE, "--host", "127.0.0.1", "--port", str(port), "--db", url],
                stdout=output,
                stderr=subprocess.STDOUT,
                env=environment,
            )
        base = f"http://127.0.0.1:{port}"
        server = cls(process, base, log, httpx.Client(base_url=base, timeout=60.0))
        try:
            server._wait_ready()
            login = server.call("POST", "/auth/login", {"username": ADMIN, "password": PASSWORD})
            server.token = login["access_token"]
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"the server exited with {self.process.returncode}:\n{self.tail()}"
                )
            try:
                if self.client.get("/api/v1/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise BenchError(f"the server did not answer in {STARTUP_LIMIT_S:.0f} s:\n{self.tail()}")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.client.request(method, f"/api/v1{path}", json=body, headers=headers)
        if response.status_code >= 400:
            raise BenchError(f"{method} {path}: HTTP {response.status_code} {response.text[:300]}")
        return response.json()

    def start_bots(self, bodies: Sequence[dict[str, Any]]) -> list[str]:
        ids = [self.call("POST", "/bots", body)["bot_id"] for body in bodies]
        for bot_id in ids:
            self.call("POST", f"/bots/{bot_id}/start")
        return ids

    def states(self, bot_ids: Sequence[str]) -> list[str]:
        return [self.call("GET", f"/bots/{bot_id}")["state"] for bot_id in bot_ids]

    def stop_bots(self, bot_ids: Sequence[str]) -> None:
        for bot_id, state in zip(bot_ids, self.states(bot_ids), strict=True):
            if state == "running":
                self.call("POST", f"/bots/{bot_id}/stop")

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn stops the bots cleanly
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# -- the clients' process --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Window:
    """What `api_clients.py` measured, with the CPU seconds used meanwhile by the server,
    the clients and the whole machine (every core, every process)."""

    result: dict[str, Any]
    server_cpu_s: float
    clients_cpu_s: float
    machine_cpu_s: float


def _run_clients(server: _Server, arguments: list[str], out: Path) -> _Window:
    environment = {**os.environ, "BENCH_TOKEN": server.token}
    host = psutil.Process(server.process.pid)
    clients = subprocess.Popen(
        [sys.executable, str(CLIENTS), *arguments, "--out", str(out)],
        stdout=subprocess.PIPE,
        env=environment,
        text=True,
    )
    process = psutil.Process(clients.pid)
    marks: dict[str, tuple[float, float, float]] = {}
    assert clients.stdout is not None
    with clients.stdout:
        for line in clients.stdout:
            mark = line.strip()
            if mark in ("window-start", "window-end"):
                marks[mark] = (_cpu(host), _cpu(process), _busy(psutil.cpu_times()))
    if clients.wait() != 0 or len(marks) != 2:
        raise BenchError(f"{CLIENTS.name} {arguments[0]} failed (exit {clients.returncode})")
    first, last = marks["window-start"], marks["window-end"]
    server_s, clients_s, machine_s = (end - start for start, end in zip(first, last, strict=True))
    return _Window(json.loads(out.read_text()), server_s, clients_s, machine_s)


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _busy(times: Any) -> float:
    """CPU seconds all cores spent on anything but idling (and waiting for disks)."""
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def _print_cpu(window: _Window, clients_name: str) -> None:
    seconds = window.result["window_s"]
    cores = psutil.cpu_count() or 1
    others = max(0.0, window.machine_cpu_s - window.server_cpu_s - window.clients_cpu_s)
    print(
        f"CPU over the {seconds:.1f} s window: server {window.server_cpu_s:.1f} s "
        f"({window.server_cpu_s / seconds:.0%} of a core), {clients_name} "
        f"{window.clients_cpu_s:.1f} s ({window.clients_cpu_s / seconds:.0%}), other "
        f"processes {others:.1f} s ({others / seconds:.0%}); the {cores} cores "
        f"{window.machine_cpu_s / (seconds * cores):.0%} busy"
    )


# -- 1. positions under a replay -------------------------------------------------------------


def _positions_under_replay(
    server: _Server, symbols: list[str], speeds: list[float | str], window_s: float
) -> None:
    """One run of the positions load while replay bots run at `speeds` (one bot each, over
    its own `REPLAY_SYMBOLS` of `symbols`)."""
    pace = (
        "full speed"
        if "max" in speeds
        else f"paced to {PACED_REPLAY_S:.0f} s (speed {float(speeds[0]):,.0f}x)"
    )
    replay = f"{len(speeds)} replay bot(s) x {REPLAY_SYMBOLS} symbols at {pace}"
    print(f"\n-- GET /api/v1/positions at {RATE:.0f}/s for {window_s:.0f} s; {replay} --")
    bodies = [
        {
            "strategy": "sma_cross",
            "name": f"bench replay {number}",
            "mode": "replay",
            "speed": speed,
            "params": REPLAY_PARAMS,
            "symbols": symbols[number * REPLAY_SYMBOLS : (number + 1) * REPLAY_SYMBOLS],
        }
        for number, speed in enumerate(speeds)
    ]
    bots = server.start_bots(bodies)
    try:
        fills_before = _wait_for_fills(server, bots)
        with tempfile.TemporaryDirectory() as folder:
            window = _run_clients(
                server,
                [
                    *("http", "--url", f"{server.base}/api/v1/positions"),
                    *("--rate", str(RATE), "--seconds", str(window_s)),
                ],
                Path(folder) / "http.json",
            )
        states = Counter(server.states(bots))
        fills = _fills(server) - fills_before
    finally:
        server.stop_bots(bots)
    result = window.result
    latencies = sorted(result["latencies_s"])
    errors: dict[str, int] = result["errors"]
    error_count = sum(errors.values())
    seconds = result["window_s"]
    print(
        f"{result['completed']:,} of {result['scheduled']:,} requests answered in {seconds:.1f} s"
        f" = {result['completed'] / seconds:,.1f} requests/s (offered {RATE:.0f}/s over "
        f"{result['last_due_s']:.1f} s); {result['connections_opened']} connections opened"
    )
    if latencies:
        services = sorted(result["service_s"])
        lateness = sorted(result["lateness_s"])
        items = result["items"]
        print(
            f"latency from due time: p50 {_ms(_quantile(latencies, 0.5))}, "
            f"p90 {_ms(_quantile(latencies, 0.9))}, p99 {_ms(_quantile(latencies, 0.99))}, "
            f"max {_ms(latencies[-1])}"
        )
        print(
            f"from the request's send: p50 {_ms(_quantile(services, 0.5))}, p99 "
            f"{_ms(_quantile(services, 0.99))}; sent after its due time (no free connection, "
            f"or the generator late) by p99 {_ms(_quantile(lateness, 0.99))}, "
            f"max {_ms(lateness[-1])}; {min(items)}..{max(items)} positions per answer"
        )
    print(
        f"errors: {error_count}"
        + (f" {errors}" if errors else "")
        + f"; sent again after the server closed an idle kept-alive connection: "
        f"{result['retried']}"
    )
    running = states.get("running", 0)
    print(
        f"replay: {fills:,} fills ({fills / seconds:,.1f}/s) in the window; at its end "
        f"{running} of {len(bots)} bot(s) still running ({dict(states)})"
    )
    _print_cpu(window, "load generator")
    met = (
        bool(latencies)
        and _quantile(latencies, 0.99) < HTTP_P99_TARGET_S
        and error_count == 0
        and result["completed"] == result["scheduled"]
    )
    verdict = "met" if met else "NOT met"
    if running < len(bots):
        verdict += " (but a replay bot ended inside the window: the load was not all under replay)"
    print(f"target p99 < {_ms(HTTP_P99_TARGET_S)} with no errors: {verdict}", flush=True)


def _wait_for_fills(server: _Server, bots: Sequence[str]) -> int:
    """Wait until every bot has filled an order (they have loaded their bars and trade);
    returns the fills so far."""
    deadline = time.monotonic() + TRADING_LIMIT_S
    while time.monotonic() < deadline:
        filled = _fills_by_bot(server)
        if all(filled.get(bot, 0) > 0 for bot in bots):
            return sum(filled.values())
        time.sleep(0.2)
    raise BenchError(
        f"the replay bots filled no order in {TRADING_LIMIT_S:.0f} s:\n{server.tail()}"
    )


def _fills(server: _Server) -> int:
    return sum(_fills_by_bot(server).values())


def _fills_by_bot(server: _Server) -> dict[str, int]:
    """Fills so far by bot, from the Prometheus metrics."""
    response = server.client.get("/metrics", headers={"Authorization": f"Bearer {server.token}"})
    if response.status_code != 200:
        raise BenchError(f"GET /metrics: HTTP {response.status_code}")
    fills: dict[str, int] = {}
    for line in response.text.splitlines():
        if line.startswith("orchestrade_fills_total{"):
            labels, value = line.rsplit(" ", 1)
            fills[labels.split('bot_id="', 1)[1].split('"', 1)[0]] = int(float(value))
    return fills


# -- 2. stream fan-out -----------------------------------------------------------------------


def _stream_fan_out(server: _Server, symbols: list[str], window_s: float, *, batch: bool) -> None:
    """The stream run: paper bots trade, `STREAM_CLIENTS` clients listen (in batches, or
    one frame per message)."""
    protocol = "batched messages" if batch else "one frame per message"
    print(
        f"\n-- live stream to {STREAM_CLIENTS} WebSocket clients ({protocol}) for "
        f"{window_s:.0f} s, {PAPER_BOTS} paper bots --"
    )
    bodies = [
        {
            "strategy": "sma_cross",
            "name": f"bench paper {number}",
            "mode": "paper",
            "interval_s": PAPER_INTERVAL_S,
            "params": PAPER_PARAMS,
            "symbols": symbols[number * PAPER_SYMBOLS : (number + 1) * PAPER_SYMBOLS],
        }
        for number in range(PAPER_BOTS)
    ]
    bots = server.start_bots(bodies)
    stream = server.base.replace("http://", "ws://") + "/api/v1/stream"
    try:
        with tempfile.TemporaryDirectory() as folder:
            window = _run_clients(
                server,
                [
                    *("ws", "--url", stream, "--clients", str(STREAM_CLIENTS)),
                    *("--seconds", str(window_s)),
                    *(["--batch"] if batch else []),
                ],
                Path(folder) / "ws.json",
            )
    finally:
        server.stop_bots(bots)
    result = window.result
    seconds = result["window_s"]
    delays: list[float] = []
    missed = 0
    kinds: Counter[str] = Counter()
    per_client: list[int] = []
    distinct: set[int] = set()
    for frames in result["frames"]:
        events = 0
        for received_at, event_id, kind, at, gap in frames:
            missed += gap
            if event_id is None:
                continue
            events += 1
            distinct.add(event_id)
            kinds[kind] += 1
            delays.append(received_at - datetime.fromisoformat(at).timestamp())
        per_client.append(events)
    delays.sort()
    messages = sum(result["messages"])
    print(
        f"{len(distinct):,} distinct events ({len(distinct) / seconds:,.0f}/s), "
        f"{len(delays):,} event frames delivered ({len(delays) / seconds:,.0f}/s) in "
        f"{messages:,} messages ({messages / seconds:,.0f}/s); per client "
        f"{min(per_client):,}..{max(per_client):,} frames; by type (all clients): "
        + ", ".join(f"{kind} {count:,}" for kind, count in kinds.most_common())
    )
    if delays:
        print(
            f"event delay (receive - at): p50 {_ms(_quantile(delays, 0.5))}, "
            f"p90 {_ms(_quantile(delays, 0.9))}, p99 {_ms(_quantile(delays, 0.99))}, "
            f"max {_ms(delays[-1])}, min {_ms(delays[0])}"
        )
    print(f"missed events (gap frames): {missed}")
    _print_cpu(window, "stream clients")
    met = bool(delays) and _quantile(delays, 0.99) < STREAM_P99_TARGET_S and missed == 0
    print(
        f"target p99 < {_ms(STREAM_P99_TARGET_S)} (nothing missed): {'met' if met else 'NOT met'}"
    )


# -- helpers ---------------------------------------------------------------------------------


def _quantile(ordered: Sequence[float], q: float) -> float:
    """The `q` quantile of a sorted sample by nearest rank: the smallest value with at least
    a share `q` of the sample at or below it."""
    return float(ordered[max(1, math.ceil(len(ordered) * q)) - 1])


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _utc_now() -> datetime:
    return datetime.now(UTC)


if __name__ == "__main__":
    main()
