// The live event stream: one WebSocket to /api/v1/stream, reconnected with exponential
// backoff (and jitter) after any drop, resuming after the last event id seen so that nothing
// is missed or shown twice. The token goes in the first message, not in the URL, so that it
// never lands in a server's or a proxy's access log. Frames are {id, at, bot_id, type, data}; control
// frames (id null) are "subscribed", "gap" (events were lost: reload what they would have
// changed), "reset" (the server restarted) and "error". The URL asks for batches: the frames
// ready at once come in one message, a JSON array, each handled as if it came alone (fewer
// messages cost the server far less when many pages watch).

import { API, get, unauthorized } from "./api.js";
import { currentSession } from "./session.js";

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;
/** Close codes meaning "your credentials are refused": no point reconnecting. */
const AUTH_CLOSE_CODES = new Set([1008, 4401, 4403]);
/** "Try again later": the API runs without a trading node; retry slowly. */
const NO_TRADING_NODE_CLOSE = 1013;
const MAX_ATTEMPT = Math.ceil(Math.log2(MAX_DELAY_MS / FIRST_DELAY_MS));

export class LiveStream {
  constructor() {
    this.lastId = null;
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    this.handlers = new Map();
    this.statusHandlers = new Set();
    this.status = "idle";
  }

  /** Call `handler(frame)` for frames of `type` ("*": every frame). Returns an unsubscribe. */
  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
    return () => this.handlers.get(type)?.delete(handler);
  }

  /** Call `handler(status, detail)` when the connection changes (connecting, live, retrying). */
  onStatus(handler) {
    this.statusHandlers.add(handler);
    handler(this.status, null);
    return () => this.statusHandlers.delete(handler);
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close(1000, "page left");
      this.socket = null;
    }
    this.setStatus("idle");
  }

  connect() {
    const session = currentSession();
    if (!session || this.stopped) return;
    const url = new URL(`${API}/stream`, document.baseURI);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("batch", "true");
    this.setStatus("connecting");
    let opened = false;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      opened = true;
      const hello = { token: session.token };
      if (this.lastId !== null) hello.last_event_id = this.lastId;
      socket.send(JSON.stringify(hello));
    };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      if (AUTH_CLOSE_CODES.has(event.code)) {
        unauthorized();
        return;
      }
      if (!opened) this.checkCredentials();
      if (event.code === NO_TRADING_NODE_CLOSE) {
        this.attempt = Math.max(this.attempt, MAX_ATTEMPT);
        this.retry("no trading node runs with this API", "unavailable");
        return;
      }
      this.retry(event.reason || `connection closed (${event.code})`);
    };
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    for (const frame of Array.isArray(message) ? message : [message]) this.handle(frame);
  }

  handle(frame) {
    if (typeof frame?.id === "number") {
      if (this.lastId !== null && frame.id <= this.lastId) return; // seen before a reconnect
      this.lastId = frame.id;
    } else if (frame?.type === "subscribed") {
      // Authenticated: the stream is live. Resume from here after a drop, even if no
      // event comes before it.
      this.attempt = 0;
      this.setStatus("live");
      if (this.lastId === null) this.lastId = frame.data?.last_event_id ?? null;
    } else if (frame?.type === "reset") {
      // The server restarted and numbers its events from 1 again.
      this.lastId = null;
    }
    const keys = typeof frame?.id === "number" ? [frame.type, "*"] : [frame?.type];
    for (const key of keys) {
      for (const handler of this.handlers.get(key) ?? []) {
        try {
          handler(frame);
        } catch (error) {
          console.error("stream handler failed on", frame.type, error);
        }
      }
    }
  }

  retry(reason, status = "retrying") {
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempt);
    const jittered = Math.round(delay / 2 + Math.random() * (delay / 2));
    this.attempt += 1;
    this.setStatus(status, { reason, delayMs: jittered });
    this.timer = setTimeout(() => this.connect(), jittered);
  }

  /** A handshake refused before it opened may be an expired token: ask the API (a 401
   * there ends the session and shows the login page). */
  checkCredentials() {
    get("/auth/me").catch(() => {});
  }

  setStatus(status, detail = null) {
    this.status = status;
    for (const handler of this.statusHandlers) handler(status, detail);
  }
}
