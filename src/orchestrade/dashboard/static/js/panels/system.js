// System status: the API and its database, the live event stream (the bus as this page sees
// it), and every agent of every running bot with its last heartbeat and restarts.

import { ApiError, describe, get, request } from "../api.js";
import { h, replace } from "../dom.js";
import { clock } from "../format.js";
import { Panel } from "./panel.js";

const AGENT_TYPES = ["AgentFailed", "AgentRestarted", "BotStateChanged"];
const STREAM_WORDS = {
  idle: ["not connected", "warn"],
  connecting: ["connecting…", "warn"],
  live: ["live", "ok"],
  retrying: ["reconnecting", "warn"],
  unavailable: ["no trading node", "muted"],
};

export class SystemPanel extends Panel {
  constructor(stream) {
    super({ id: "system", title: "System status", scroll: true });
    this.stream = stream;
    this.lastEvent = null;
    this.figures = h("dl", { class: "figures status-list" });
    this.agents = h("div", { id: "agents" });
    this.streamState = h("dd", { id: "stream-status" });
    this.own(stream.onStatus((status, detail) => this.showStream(status, detail)));
    this.own(stream.on("*", (frame) => {
      this.lastEvent = frame;
    }));
    this.own(stream.on("AgentHeartbeat", (frame) => this.heartbeat(frame)));
    for (const type of AGENT_TYPES) this.own(stream.on(type, () => this.refreshSoon(1000)));
  }

  async load() {
    const [health, ready, agents, metrics] = await Promise.all([
      get("/health").catch((error) => error),
      get("/ready").catch((error) => error),
      get("/agents").catch((error) => error),
      request("GET", "/metrics", { root: true, accept: "text/plain" }).catch((error) => error),
    ]);
    const badge = (ok, text) => h("span", { class: `badge ${ok ? "ok" : "error"}` }, text);
    replace(this.figures,
      h("dt", {}, "API"),
      h("dd", { dataset: { status: "api" } }, health instanceof Error
        ? badge(false, health.message)
        : badge(true, `up, version ${health.version}`)),
      h("dt", {}, "Database"),
      h("dd", { dataset: { status: "database" } }, ready instanceof Error
        ? badge(false, ready.message)
        : badge(true, "answers")),
      h("dt", {}, "Bus"),
      h("dd", { dataset: { status: "bus" } }, busStatus(metrics, badge)),
      h("dt", {}, "Event stream"),
      this.streamState);
    this.showStream(this.stream.status, null);
    if (!this.body.contains(this.figures)) this.show(this.figures, h("h3", {}, "Agents"), this.agents);
    if (agents instanceof ApiError && agents.code === "no_trading_node") {
      replace(this.agents, h("p", { class: "muted" }, "No trading node runs with this API."));
    } else if (agents instanceof Error) {
      throw agents;
    } else {
      this.showAgents(agents);
    }
  }

  /** One table, the agents grouped by bot under a row header naming it. */
  showAgents(agents) {
    if (agents.length === 0) {
      replace(this.agents, h("p", { class: "muted" }, "No bot is running, so no agent either."));
      return;
    }
    const groups = new Map();
    for (const agent of agents) {
      if (!groups.has(agent.bot_id)) groups.set(agent.bot_id, []);
      groups.get(agent.bot_id).push(agent);
    }
    const head = h("thead", {}, h("tr", {},
      ["Agent", "Status", "Last heartbeat", "Restarts"].map((label, index) =>
        h("th", { scope: "col", class: index === 3 ? "num" : null }, label))));
    const bodies = [...groups].map(([botId, members]) => h("tbody", {},
      h("tr", { class: "group" }, h("th", { scope: "rowgroup", colspan: 4 }, `Bot ${botId}`)),
      members.map((agent) => h("tr", { dataset: { key: `${agent.bot_id}/${agent.agent_id}` } },
        h("th", { scope: "row" }, agent.name),
        h("td", {}, h("span", {
          class: `badge ${/fail|dead|silent|stopp|crash/i.test(agent.status) ? "error" : "ok"}`,
        }, agent.status)),
        h("td", {}, h("span", { dataset: { heartbeat: `${agent.bot_id}/${agent.agent_id}` } }, clock(agent.last_heartbeat))),
        h("td", { class: "num" }, String(agent.restarts))))));
    replace(this.agents, h("table", { "aria-label": "Agents" }, head, bodies));
  }

  heartbeat(frame) {
    const agentId = frame.data?.agent_id;
    if (!agentId) return;
    const key = `${frame.bot_id}/${agentId}`; // agent ids repeat across bots
    let known = false;
    for (const cell of this.agents.querySelectorAll("[data-heartbeat]")) {
      if (cell.dataset.heartbeat !== key) continue;
      known = true;
      cell.textContent = clock(frame.data.sent_at ?? frame.at);
    }
    if (!known) this.refreshSoon(500); // an agent of a bot that just started
  }

  showStream(status, detail) {
    const [word, kind] = STREAM_WORDS[status] ?? [status, "warn"];
    const suffix = status === "retrying" && detail?.delayMs
      ? ` in ${Math.ceil(detail.delayMs / 1000)} s (${detail.reason})`
      : "";
    replace(this.streamState, h("span", { class: `badge ${kind}`, dataset: { stream: status } },
      `${word}${suffix}`));
    const connection = document.getElementById("connection");
    if (connection) {
      connection.dataset.stream = status;
      connection.textContent = status === "live" ? "● live" : `○ ${word}`;
    }
  }
}

/** The bots' buses from the Prometheus metrics: messages waiting for their consumers and
 * events the live stream had to drop. */
function busStatus(metrics, badge) {
  if (metrics instanceof Error) return h("span", { class: "muted small" }, describe(metrics));
  const depths = [...metrics.matchAll(
    /^orchestrade_bus_queue_depth\{bot_id="([^"]*)",consumer="([^"]*)"\} ([0-9.e+]+)$/gm,
  )].map(([, bot, consumer, value]) => ({ bot, consumer, depth: Number(value) }));
  const dropped = Number(/^orchestrade_stream_dropped_events_total ([0-9.e+]+)$/m.exec(metrics)?.[1] ?? 0);
  if (depths.length === 0) {
    return [badge(dropped === 0, "no bot running"), droppedNote(dropped)];
  }
  const waiting = depths.reduce((sum, item) => sum + item.depth, 0);
  const deepest = depths.reduce((most, item) => (item.depth > most.depth ? item : most));
  const text = waiting === 0
    ? `${depths.length} queues, none waiting`
    : `${waiting} waiting (deepest: ${deepest.consumer} of ${deepest.bot}, ${deepest.depth})`;
  return [badge(dropped === 0, text), droppedNote(dropped)];
}

function droppedNote(dropped) {
  return dropped > 0 ? h("span", { class: "small" }, ` ${dropped} events dropped`) : null;
}
