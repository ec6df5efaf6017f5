"""`orchestrade serve`: the REST API, the live stream and the bots, in one process, until
interrupted.

The bots run in the server's own event loop under a `BotSupervisor`: it starts with the
application (the bots that were running when the last server stopped resume) and stops with
it, cleanly (each node finishes its slice, flushes its broker state and journal). Once it
runs, `FrozenHeap` keeps the garbage collector's full collections short (they stop the loop).
`orchestrade demo --serve` uses the same server over the demo's store.

The bots share the API's event loop on purpose. In a thread of their own, every socket and
database call of a request hands the interpreter lock over to the bots' thread and waits to
get it back, and on a busy machine each hand-over waits for the scheduler: measured with
``bench/bench_api.py`` on the 2-core machine (positions at 500/s under the paced replay),
the API answered 58 requests/s that way against 310/s on one loop, whatever the switch
interval (0.05 to 5 ms).

The API comes with the `api` extra; it is imported when the command runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from orchestrade.bus.urls import MEMORY, check_bus_url, open_bus
from orchestrade.cli.console import console, reports_user_errors
from orchestrade.cli.notify_command import notifier_from
from orchestrade.cli.options import DatabaseOption, open_database
from orchestrade.cli.user_commands import require_api_extra
from orchestrade.domain.errors import OrchestradeError
from orchestrade.settings import Settings

if TYPE_CHECKING:
    from orchestrade.orchestration.supervisor import BotSupervisor
    from orchestrade.storage import Store

HostOption = Annotated[
    str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")
]
PortOption = Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")]
AccessLogOption = Annotated[
    bool,
    typer.Option(
        "--access-log/--no-access-log",
        help="Log one line per request (off by default: /metrics counts requests and their "
        "latency by route; the line costs the server about as much as serving it).",
    ),
]
BusOption = Annotated[
    str,
    typer.Option(
        "--bus",
        help="The bots' bus: memory (each bot's agents in this process) or a "
        "redis://host:port/db URL (a bot's agents may also run elsewhere: "
        "`orchestrade agent run NAME --bus ...`).",
    ),
]
WsCompressionOption = Annotated[
    bool,
    typer.Option(
        "--ws-compression/--no-ws-compression",
        help="Compress the live stream's WebSocket messages (off by default: compressing "
        "each message for each client was a fifth of the server's time with 50 clients, "
        "CPU the bots in the same process need more than a local network needs bandwidth).",
    ),
]
Startup = Callable[["BotSupervisor"], Awaitable[None]]
"""Something to do once the bots' supervisor runs (the demo starts its paper bot)."""


class ServeError(OrchestradeError):
    """The server could not start (the port is taken, the address is not this machine's)."""


@reports_user_errors
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    db: DatabaseOption = None,
    bus: BusOption = MEMORY,
    access_log: AccessLogOption = False,
    ws_compression: WsCompressionOption = False,
) -> None:
    """Serve the REST API (`/api/v1`, docs at `/api/v1/docs`), the live stream
    (`/api/v1/stream`) and `/metrics`, and run the bots (the running ones resume)."""
    require_api_extra()
    settings = Settings()
    check_bus(bus)
    with open_database(db) as store:
        serve_store(
            store,
            settings,
            host=host,
            port=port,
            access_log=access_log,
            ws_compression=ws_compression,
            bus_url=bus,
        )


def serve_store(
    store: Store,
    settings: Settings,
    *,
    host: str,
    port: int,
    on_startup: Startup | None = None,
    seconds: float | None = None,
    access_log: bool = False,
    ws_compression: bool = False,
    bus_url: str = MEMORY,
) -> None:
    """Run the API and the bots over `store` until Ctrl-C or SIGTERM (or for `seconds`);
    with `access_log`, one log line per request (credentials in query strings redacted);
    with `ws_compression`, WebSocket messages are compressed (permessage-deflate) for the
    clients that offer it; `bus_url` is the bots' bus (`orchestrade.bus.urls`).

    Raises:
        ServeError: the server did not start (uvicorn logged why).
    """
    import uvicorn

    from orchestrade.api import API_PREFIX, create_app
    from orchestrade.cli.serve_heap import FrozenHeap
    from orchestrade.orchestration.supervisor import BotSupervisor

    notifier = notifier_from(None, settings.home)
    heap = FrozenHeap()
    supervisor = BotSupervisor(
        store,
        home=settings.home,
        risk=settings.risk,
        rules_settings=settings.rules,
        notifier=notifier,
        heap=heap,
        bus_url=bus_url,
    )
    app = create_app(store, settings.api, control=supervisor)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        ws_per_message_deflate=ws_compression,
    )
    for name in ("uvicorn.access", "uvicorn.error"):  # after the Config set logging up
        logging.getLogger(name).addFilter(RedactTokens())
    server = uvicorn.Server(config)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            if notifier is not None:
                await notifier.start()
            try:
                resumed = await supervisor.resume()
                if resumed:
                    console.print(
                        f"resumed {len(resumed)} running bot(s): {', '.join(resumed)}",
                        highlight=False,
                        soft_wrap=True,
                    )
                if on_startup is not None:
                    await on_startup(supervisor)
                if seconds is not None:
                    asyncio.get_running_loop().call_later(seconds, _stop, server)
                heap.install()
                yield state
            finally:
                await supervisor.close()
                heap.uninstall()
                if notifier is not None:
                    await notifier.close()

    app.router.lifespan_context = lifespan
    if not app.state.context.accounts.users():
        console.print(
            "[yellow]no users yet:[/] create the first admin with "
            "`orchestrade user add NAME --role admin`",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"API on http://{host}:{port}{API_PREFIX} (docs: {API_PREFIX}/docs, live stream: "
        f"ws://{host}:{port}{API_PREFIX}/stream), database {store.url}",
        highlight=False,
        soft_wrap=True,
    )
    # uvicorn shuts down cleanly on Ctrl-C, then passes the interrupt on: it ends here. It
    # exits on a startup failure (a port in use) after logging why.
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        server.run()
    if not server.started:
        raise ServeError(f"could not serve on {host}:{port} (the log above says why)")


def serve_demo(
    url: str,
    settings: Settings,
    *,
    strategy: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    seconds: float | None = None,
) -> None:
    """After `orchestrade demo`: the dashboard over the demo's store, with a first admin
    (when the store has no user; the password is printed once) and a paper bot trading
    `strategy` on the synthetic KRX stocks, one day per second, until Ctrl-C."""
    require_api_extra()
    from orchestrade.orchestration.control import BotRequest

    with open_database(url) as store:
        credentials = _first_admin(store)
        _retire_demo_bots(store)

        async def start_demo_bot(supervisor: BotSupervisor) -> None:
            request = BotRequest(
                strategy, name=DEMO_BOT_NAME, market="krx", mode="paper", interval_s=1.0
            )
            bot = await supervisor.create_bot(request)
            await supervisor.start_bot(bot.bot_id)
            console.print(
                f"paper bot {bot.bot_id}: {strategy} on {len(bot.symbols)} synthetic KRX "
                "stocks, one day of bars per second",
                highlight=False,
                soft_wrap=True,
            )

        console.rule("[bold]dashboard")
        console.print(f"dashboard: http://{host}:{port}/", highlight=False, soft_wrap=True)
        if credentials is not None:
            name, password = credentials
            console.print(
                f"log in as {name}, one-time password: {password}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
            console.print("(shown once: only its hash is stored)", highlight=False, soft_wrap=True)
        else:
            console.print("log in with a user of this store (orchestrade user list --db ...)")
        console.print("Ctrl-C stops the server and the bot", highlight=False, soft_wrap=True)
        serve_store(
            store, settings, host=host, port=port, on_startup=start_demo_bot, seconds=seconds
        )


DEMO_BOT_NAME = "demo paper bot"
"""The name of the paper bot `demo --serve` starts (earlier ones are stopped first)."""
DEMO_ADMIN = "admin"
DEMO_REPLAY_PREFIX = "demo-"
"""The ids of the bots the demo's replays run as (`demo_command.replay_through_agents`)."""


def _first_admin(store: Store) -> tuple[str, str] | None:
    """Create the admin with a random password when the store has no user: (name, password)."""
    from orchestrade.auth import AccountService, PasswordHasher, Role, generate_password
    from orchestrade.storage.users import UserRepository

    accounts = AccountService(UserRepository(store), PasswordHasher(), clock=_utc_now)
    if accounts.users():
        return None
    password = generate_password()
    user = accounts.add_user(DEMO_ADMIN, Role.ADMIN, password)
    return user.name, password


def _retire_demo_bots(store: Store) -> None:
    """Stop the paper bots of earlier `demo --serve` runs (one demo bot trades at a time) and
    mark the demo's finished replays stopped (their nodes record them as running)."""
    from orchestrade.domain import BotState
    from orchestrade.storage import BotRepository

    bots = BotRepository(store)
    for bot in bots.list():
        finished = bot.name == DEMO_BOT_NAME or bot.bot_id.startswith(DEMO_REPLAY_PREFIX)
        if finished and bot.state is not BotState.STOPPED:
            at = max(_utc_now(), bot.updated_at or bot.created_at)
            bots.set_state(bot.bot_id, BotState.STOPPED, at=at)


def check_bus(url: str) -> None:
    """Fail now, in one line, when the bots' bus cannot be opened (rather than at the first
    bot's start).

    Raises:
        BusUrlError: `url` names no bus.
        BusError: the Redis server does not answer.
    """
    if check_bus_url(url) == MEMORY:
        return

    async def probe() -> None:
        bus = await open_bus(url, namespace="serve", name=f"serve-probe-{os.getpid()}")
        await bus.stop(timeout_s=1.0)

    asyncio.run(probe())


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RedactTokens(logging.Filter):
    """Hide the credential of `/api/v1/stream?token=...` in the server's log lines (a
    browser's WebSocket cannot send it in a header)."""

    _TOKEN = re.compile(r"(token=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        # Every request's access line passes here: most carry no token, so look first.
        args = record.args
        if isinstance(args, tuple) and any(
            isinstance(arg, str) and "token=" in arg for arg in args
        ):
            record.args = tuple(
                self._TOKEN.sub(r"\1***", arg) if isinstance(arg, str) else arg for arg in args
            )
        if isinstance(record.msg, str) and "token=" in record.msg:
            record.msg = self._TOKEN.sub(r"\1***", record.msg)
        return True


def _stop(server: Any) -> None:
    server.should_exit = True
