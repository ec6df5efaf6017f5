"""`/api/v1/stream`: the live events of every bot over a WebSocket, resumable after a drop.

Browsers cannot set headers on a WebSocket, so the credential (a login token or an API
key; a viewer is enough) comes as the ``token`` query parameter or in the first message,
``{"token": "..."}``, within `AUTH_TIMEOUT_S`. A missing, bad or expired credential closes
the socket with code 4401; so does one that expires or is disabled while connected (it is
checked again every `RECHECK_S` seconds: send ``{"token": "<new one>"}`` before it expires).

Every frame is one JSON object of the same shape::

    {"id": 42, "at": "2024-05-02T01:02:03.456Z", "bot_id": "bot-1a2b3c4d",
     "type": "OrderFilled", "data": {...the event as the bus encodes it...}}

Event frames have a numeric ``id`` (one sequence across every bot) and an event class name
as ``type``; control frames have ``id`` null and a lowercase ``type``:

- ``subscribed``: after authentication and after each accepted message; ``data`` is
  ``{"types": [...] | null, "bots": [...] | null, "last_event_id": n, "latest_event_id": m,
  "oldest_event_id": k}`` (null: every type / every bot; events after ``last_event_id``
  follow);
- ``gap``: events were lost between two frames (the client fell further behind than the
  buffer keeps, or resumed too late); ``data`` is ``{"missed": n, "after": a, "next": b}``;
- ``reset``: the client resumed after an id this process never gave (the server was
  restarted and numbers from 1 again); the stream goes on from the oldest kept event;
- ``error``: a message was refused (``data.message`` says why); the connection stays.

Messages a client may send, any keys together: ``{"types": ["OrderFilled", ...]}`` and
``{"bots": ["bot-1a2b3c4d"]}`` filter (null: all; events of no bot, such as risk-limit
changes, pass only an unfiltered bots list), ``{"last_event_id": n}`` resumes after event n
(0: everything still buffered), ``{"batch": true}`` asks for batches (below; ``false``: one
frame per message again), ``{"token": ...}`` refreshes the credential. The same filter,
``last_event_id`` and ``batch`` may be given as query parameters (comma-separated lists;
``batch=true`` or ``1``). Without ``last_event_id`` a client gets only the events from now on.

Batches (opt-in; by default every message is one frame): the frames that are ready at once
(a burst of events, a ``gap`` frame and the events after it) come as one message, a JSON
array of up to `BATCH_FRAMES` frames in stream order; a frame ready alone still comes as
one object, and so do the replies (``subscribed``, ``error``, ``reset``). A client handles
each frame of an array as if it had come alone. Each WebSocket message costs the server a
framing and a socket write per client (and a compression, with `serve --ws-compression`),
far more than the frame's text (encoded once for every client): with tens of clients,
batches cut that cost by the number of frames ready at once, which grows with the load,
while a frame that arrives alone is sent at once.

A slow client never slows the bots: it reads the supervisor's buffer at its own pace and,
when it falls too far behind, gets a ``gap`` frame and goes on with the oldest kept event.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import json
import logging
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from orchestrade.api.deps import ApiContext
from orchestrade.api.routers import API_PREFIX
from orchestrade.auth import AuthenticationError, Role, User
from orchestrade.auth.api_keys import looks_like_api_key
from orchestrade.orchestration.control import StreamEvent, TradingControl
from orchestrade.orchestration.event_hub import STREAMED_TYPE_NAMES

log = logging.getLogger(__name__)

STREAM_PATH = f"{API_PREFIX}/stream"
UNAUTHORIZED_CLOSE = 4401
"""Close code for a missing, bad or expired credential (HTTP's 401, in the private range)."""
UNAVAILABLE_CLOSE = 1013
"""Close code when no trading node runs with this API ("try again later")."""
AUTH_TIMEOUT_S = 10.0
"""How long a client without a ``token`` query parameter has to send its first message."""
RECHECK_S = 5.0
"""The credential is checked again when this much time (the app's clock) has passed."""
IDLE_WAIT_S = 15.0
"""Longest wait for new events before the credential is looked at again."""
BATCH = 500
"""Events taken from the buffer at once."""
BATCH_FRAMES = 100
"""Most frames in one batched message (about 100 kB: a client's default message size limit,
1 MiB in Python's websockets, stays far away)."""
MESSAGE_KEYS = ("token", "types", "bots", "last_event_id", "batch")

router = APIRouter(tags=["stream"])


class StreamRequestError(ValueError):
    """A client's message or query parameter cannot be used (the message says why)."""


@router.websocket(STREAM_PATH)
async def stream(websocket: WebSocket) -> None:
    """The live stream (see the module docstring)."""
    await websocket.accept()
    context: ApiContext = websocket.app.state.context
    control = context.control
    if control is None:
        await websocket.close(UNAVAILABLE_CLOSE, "no trading node runs with this API")
        return
    session = _Session(context, control, websocket)
    try:
        await session.run()
    except WebSocketDisconnect:
        pass
    finally:
        session.end()


@dataclass(slots=True)
class _Filter:
    """Which events a client wants (None: all)."""

    types: frozenset[str] | None = None
    bots: frozenset[str] | None = None

    def wants(self, event: StreamEvent) -> bool:
        if self.types is not None and event.type_name not in self.types:
            return False
        return self.bots is None or (event.bot_id is not None and event.bot_id in self.bots)


@dataclass(slots=True)
class _Session:
    """One client: its credential, filter and position in the stream."""

    context: ApiContext
    control: TradingControl
    websocket: WebSocket
    credential: str = ""
    checked_at: datetime | None = None
    filter: _Filter = field(default_factory=_Filter)
    cursor: int = 0
    rewind: int | None = None
    batch: bool = False
    replies: deque[dict[str, Any]] = field(default_factory=deque)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    counted: bool = False

    async def run(self) -> None:
        first = await self._first_request()
        if first is None:
            return
        self.context.metrics.stream_clients.inc()
        self.counted = True
        self.cursor = _latest(self.control)
        try:
            self._apply(first)
        except StreamRequestError as error:
            self.replies.append(_control_frame("error", {"message": str(error)}))
        self.replies.append(self._subscribed())
        receiver = asyncio.ensure_future(self._receive())
        try:
            await self._send_loop(receiver)
        finally:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await receiver

    def end(self) -> None:
        if self.counted:
            self.context.metrics.stream_clients.dec()
            self.counted = False

    # -- authentication --------------------------------------------------------------------

    async def _first_request(self) -> dict[str, Any] | None:
        """The query parameters (and, without a token there, the first message) as one
        request; None when the socket was closed for want of a valid credential."""
        query = self.websocket.query_params
        request: dict[str, Any] = {}
        for key in ("types", "bots"):
            if key in query:
                request[key] = [part for part in query[key].split(",") if part.strip()]
        for key in ("last_event_id", "batch"):
            if key in query:
                request[key] = query[key]
        token = query.get("token")
        if token is None:
            try:
                text = await asyncio.wait_for(self.websocket.receive_text(), AUTH_TIMEOUT_S)
            except TimeoutError:
                await self._close_unauthorized('authentication required: send {"token": ...}')
                return None
            try:
                message = _parse(text)
            except StreamRequestError as error:
                await self._close_unauthorized(f"authentication required: {error}")
                return None
            token = message.pop("token", None)
            request.update(message)
        if not isinstance(token, str) or not token:
            await self._close_unauthorized('authentication required: send {"token": ...}')
            return None
        if not await self._authenticate(token):
            return None
        return request

    async def _authenticate(self, credential: str) -> bool:
        """Check `credential` (and keep it); closes the socket with 4401 when it fails."""
        try:
            _user_of(self.context, credential)
        except AuthenticationError as error:
            await self._close_unauthorized(str(error))
            return False
        self.credential = credential
        self.checked_at = self.context.clock()
        return True

    async def _still_authorized(self) -> bool:
        """Check the kept credential again when `RECHECK_S` has passed since the last time."""
        now = self.context.clock()
        if self.checked_at is not None and (now - self.checked_at).total_seconds() < RECHECK_S:
            return True
        return await self._authenticate(self.credential)

    async def _close_unauthorized(self, reason: str) -> None:
        # A close reason is at most 123 bytes.
        await self.websocket.close(
            UNAUTHORIZED_CLOSE, reason.encode()[:120].decode(errors="ignore")
        )

    # -- the client's messages -------------------------------------------------------------

    async def _receive(self) -> None:
        """Read the client's messages until it leaves; each changes the session."""
        while True:
            text = await self.websocket.receive_text()
            try:
                message = _parse(text)
                token = message.pop("token", None)
                if token is not None:
                    if not isinstance(token, str) or not token:
                        raise StreamRequestError("token: must be non-empty text")
                    self.credential, self.checked_at = token, None
                self._apply(message)
            except StreamRequestError as error:
                self.replies.append(_control_frame("error", {"message": str(error)}))
            else:
                self.replies.append(self._subscribed())
            self.changed.set()

    def _apply(self, request: Mapping[str, Any]) -> None:
        """Take the filter and resume point of `request` (all of it, or nothing)."""
        updated = _Filter(self.filter.types, self.filter.bots)
        if "types" in request:
            updated.types = _types(request["types"])
        if "bots" in request:
            updated.bots = _names("bots", request["bots"])
        rewind = _event_id(request["last_event_id"]) if "last_event_id" in request else None
        batch = _flag("batch", request["batch"]) if "batch" in request else self.batch
        self.filter = updated
        self.batch = batch
        if rewind is not None:
            self.rewind = rewind

    def _subscribed(self) -> dict[str, Any]:
        position = self.rewind if self.rewind is not None else self.cursor
        return _control_frame(
            "subscribed",
            {
                "types": sorted(self.filter.types) if self.filter.types is not None else None,
                "bots": sorted(self.filter.bots) if self.filter.bots is not None else None,
                "last_event_id": position,
                "latest_event_id": _latest(self.control),
                "oldest_event_id": _oldest(self.control),
            },
        )

    # -- sending ---------------------------------------------------------------------------

    async def _send_loop(self, receiver: asyncio.Future[None]) -> None:
        websocket = self.websocket
        while not receiver.done():
            while self.replies:
                await websocket.send_text(json.dumps(self.replies.popleft()))
            if self.rewind is not None:
                await self._resume_at(self.rewind)
            if not await self._still_authorized():
                return
            events = self.control.events_after(self.cursor, limit=BATCH)
            if events:
                await self._send_events(events)
                continue
            self.changed.clear()
            if self.replies or self.rewind is not None:
                continue
            arrived = asyncio.ensure_future(self.control.wait_for_event(self.cursor, IDLE_WAIT_S))
            changed = asyncio.ensure_future(self.changed.wait())
            waits: set[asyncio.Future[Any]] = {arrived, changed, receiver}
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                arrived.cancel()
                changed.cancel()
        if receiver.done() and not receiver.cancelled():
            receiver.result()  # the client's disconnect (or a failure) surfaces here

    async def _resume_at(self, event_id: int) -> None:
        """Go on after `event_id`; an id this process never gave (the client saw an earlier
        process) starts again from the oldest kept event, after a ``reset`` frame."""
        self.rewind = None
        latest = _latest(self.control)
        if event_id > latest:
            frame = _control_frame("reset", {"last_event_id": event_id, "latest_event_id": latest})
            await self.websocket.send_text(json.dumps(frame))
            event_id = 0
        self.cursor = event_id

    async def _send_events(self, events: Iterable[StreamEvent]) -> None:
        """Send the frames of `events` the filter wants, after a ``gap`` frame where ids
        skip; each event's text is encoded once for every client (`StreamEvent.to_json`)."""
        frames: list[str] = []
        missed = 0
        sent = 0
        wants = self.filter.wants
        for event in events:
            skipped = event.event_id - self.cursor - 1
            if skipped > 0:
                missed += skipped
                gap = {"missed": skipped, "after": self.cursor, "next": event.event_id}
                frames.append(json.dumps(_control_frame("gap", gap)))
            self.cursor = event.event_id
            if wants(event):
                frames.append(event.to_json())
                sent += 1
        metrics = self.context.metrics
        if missed:
            metrics.stream_missed.inc(missed)
        send_text = self.websocket.send_text
        for message in messages_of(frames, batch=self.batch):
            await send_text(message)
        if sent:
            metrics.stream_frames.inc(sent)


def messages_of(frames: Sequence[str], *, batch: bool) -> list[str]:
    """The messages that carry `frames` (JSON texts) in order: one frame each, or, for a
    client that asked for batches, arrays of up to `BATCH_FRAMES` (a lone frame alone)."""
    if not batch:
        return list(frames)
    chunks = [frames[start : start + BATCH_FRAMES] for start in range(0, len(frames), BATCH_FRAMES)]
    return [chunk[0] if len(chunk) == 1 else f"[{','.join(chunk)}]" for chunk in chunks]


def _control_frame(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": None, "at": None, "bot_id": None, "type": kind, "data": dict(data)}


def _user_of(context: ApiContext, credential: str) -> User:
    authenticator = context.authenticator
    if looks_like_api_key(credential):
        user = authenticator.user_for_api_key(credential)
    else:
        user = authenticator.user_for_token(credential)
    if not user.role.allows(Role.VIEWER):
        raise AuthenticationError("this stream needs the viewer role")
    return user


def _parse(text: str) -> dict[str, Any]:
    try:
        message = json.loads(text)
    except json.JSONDecodeError as error:
        raise StreamRequestError(f"a message is a JSON object: {error.msg}") from None
    if not isinstance(message, dict):
        raise StreamRequestError(f"a message is a JSON object, got {type(message).__name__}")
    unknown = sorted(set(message) - set(MESSAGE_KEYS))
    if unknown:
        raise StreamRequestError(
            f"unknown key {unknown[0]!r} (a message may have: {', '.join(MESSAGE_KEYS)})"
        )
    return message


def _types(value: object) -> frozenset[str] | None:
    names = _names("types", value)
    if names is None:
        return None
    unknown = sorted(names - STREAMED_TYPE_NAMES)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(STREAMED_TYPE_NAMES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise StreamRequestError(
            f"types: {unknown[0]!r} is not a streamed event{hint}; streamed: "
            f"{', '.join(sorted(STREAMED_TYPE_NAMES))}"
        )
    return names


def _names(key: str, value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise StreamRequestError(f"{key}: a list of names or null, got {value!r}")
    return frozenset(value)


def _flag(key: str, value: object) -> bool:
    """A JSON boolean, or its query parameter spelling (``true``, ``false``, ``1``, ``0``)."""
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in ("true", "1"):
        return True
    if word in ("false", "0"):
        return False
    raise StreamRequestError(f"{key}: true or false, got {value!r}")


def _event_id(value: object) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StreamRequestError(f"last_event_id: an event id >= 0, got {value!r}")
    return value


def _latest(control: TradingControl) -> int:
    """The newest event's id (0 before the first)."""
    newest = 0
    while True:
        events = control.events_after(newest, limit=BATCH)
        if not events:
            return newest
        newest = events[-1].event_id


def _oldest(control: TradingControl) -> int | None:
    """The oldest kept event's id (None when none is kept)."""
    events = control.events_after(0, limit=1)
    return events[0].event_id if events else None
