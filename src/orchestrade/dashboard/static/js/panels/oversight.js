// What needs a person's eye: anomalies and circuit-breaker trips, and the rebalancing
// agent's proposals (traders can apply a proposed one).

import { describe, get, post } from "../api.js";
import { h, table } from "../dom.js";
import { number, ratio, time } from "../format.js";
import { currentSession } from "../session.js";
import { toast } from "../toast.js";
import { Panel } from "./panel.js";

const ANOMALY_TYPES = ["AnomalyDetected", "CircuitBreakerTripped"];
const REBALANCE_TYPES = ["RebalanceDue", "RebalanceApplied"];

export class AnomaliesPanel extends Panel {
  constructor(stream) {
    super({ id: "anomalies", title: "Anomalies", wide: true, scroll: true });
    for (const type of ANOMALY_TYPES) this.own(stream.on(type, () => this.refreshSoon(1000)));
  }

  async load() {
    const anomalies = await get("/anomalies", { query: { limit: 15 } });
    this.show(table({
      label: "Latest anomalies",
      empty: "No anomalies found.",
      rows: anomalies,
      rowKey: (item) => String(item.id),
      columns: [
        { label: "Detected", value: (item) => time(item.detected_at) },
        {
          label: "Severity",
          value: (item) => h("span", { class: `badge severity-${item.severity}` }, item.severity),
        },
        { label: "Detector", value: (item) => item.detector },
        { label: "Subject", value: (item) => item.subject },
        { label: "Reason", value: (item) => h("span", { class: "reason" }, item.reason) },
      ],
    }));
  }
}

export class RebalancesPanel extends Panel {
  constructor(stream) {
    super({ id: "rebalances", title: "Rebalance proposals", scroll: true });
    this.canTrade = currentSession()?.user?.role !== "viewer";
    for (const type of REBALANCE_TYPES) this.own(stream.on(type, () => this.refreshSoon(1000)));
  }

  async load() {
    const proposals = await get("/rebalances", { query: { limit: 10 } });
    this.show(table({
      label: "Latest rebalance proposals",
      empty: "No proposals yet.",
      rows: proposals,
      rowKey: (item) => String(item.id),
      columns: [
        { label: "Proposed", value: (item) => time(item.proposed_at) },
        { label: "Portfolio", value: (item) => item.portfolio },
        {
          label: "Status",
          value: (item) => h("span", { class: `badge rebalance-${item.status}`, title: item.decision },
            item.status),
        },
        {
          label: "Sharpe",
          value: (item) => `${number(item.before?.sharpe)} → ${number(item.after?.sharpe)}`,
        },
        {
          label: "Gain",
          numeric: true,
          value: (item) => ratio(item.sharpe_improvement, { signed: true }),
        },
        { label: "Largest weights", value: (item) => topWeights(item.proposed) },
        { label: "", value: (item) => this.applyButton(item) },
      ],
    }));
  }

  applyButton(item) {
    if (!this.canTrade || item.status !== "proposed") return null;
    return h("button", {
      type: "button",
      class: "secondary small",
      "aria-label": `Apply rebalance ${item.id}`,
      onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          const answer = await post(`/rebalances/${item.id}/apply`, undefined, {
            template: "/rebalances/{}/apply",
          });
          toast(`Rebalance ${item.id} applied to ${answer.updated_bots.length} bot(s).`);
        } catch (error) {
          toast(`Could not apply rebalance ${item.id}: ${describe(error)}`, "error");
        }
        this.refresh();
      },
    }, "Apply");
  }
}

function topWeights(weights) {
  if (!weights?.length) return "—";
  return [...weights]
    .sort((a, b) => Number(b.weight) - Number(a.weight))
    .slice(0, 3)
    .map((item) => `${item.bot_id.split("/").at(-1)} ${ratio(item.weight)}`)
    .join(", ");
}
