"""A local HTTP server standing in for Telegram, Slack and a webhook receiver.

It runs in a thread on 127.0.0.1 (port chosen by the system), records every request
(method, path, headers, body) and answers each path with the replies a test scripted, in
order, then with 200 ``{"ok": true}``. A `hang` reply holds the request until `release`,
to stand for a slow or dead service.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Reply:
    status: int = 200
    body: str = '{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


@dataclass(frozen=True, slots=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LocalHttpServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._replies: dict[str, list[Reply]] = {}
        self._lock = threading.Condition()
        self._released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                reply = server._record(Recorded("POST", self.path, headers, body))
                if reply.hang:
                    server._released.wait(timeout=30)
                data = reply.body.encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up on a hanging request: nothing to report

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to `path` with `replies`, in order."""
        with self._lock:
            self._replies.setdefault(path, []).extend(replies)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Block until `count` requests have arrived (False if they did not in time)."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.requests) >= count, timeout)

    def release(self) -> None:
        """Let hanging requests answer (200)."""
        self._released.set()

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _record(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            self._lock.notify_all()
            queue = self._replies.get(request.path)
            return queue.pop(0) if queue else Reply()
