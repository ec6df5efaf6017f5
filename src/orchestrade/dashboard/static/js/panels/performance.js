// Performance metrics as the API computes them from the equity snapshots: return, Sharpe
// ratio, maximum drawdown, volatility and win rate, for the account and for each bot.
// Nothing is computed here: a figure the API does not report shows as a dash.

import { get } from "../api.js";
import { figures, h, table } from "../dom.js";
import { date, number, ratio, trend } from "../format.js";
import { Panel } from "./panel.js";

const FIGURES = [
  ["roi", "Return", (value) => ratio(value, { signed: true })],
  ["sharpe", "Sharpe ratio", number],
  ["max_drawdown", "Max drawdown", (value) => ratio(value)],
  ["volatility", "Volatility (annual)", (value) => ratio(value)],
  ["win_rate", "Win rate", (value) => ratio(value)],
];

export class PerformancePanel extends Panel {
  constructor(stream) {
    super({ id: "performance", title: "Performance" });
    this.own(stream.on("OrderFilled", () => this.refreshSoon(5000)));
  }

  async load() {
    const metrics = await get("/portfolio/metrics");
    const total = metrics.total;
    const list = figures(FIGURES.map(([key, label, format]) => ({
      key,
      label,
      value: format(total?.[key]),
      css: key === "roi" ? trend(total?.[key]) : null,
      title: total && total[key] === undefined ? "not reported by this server" : null,
    })), { id: "performance-figures" });
    const period = total
      ? h("p", { class: "muted small" },
        `Account, ${date(total.start)} to ${date(total.end)}, ${total.observations} daily returns.`)
      : h("p", { class: "muted small" }, "No equity snapshots yet.");
    const bots = table({
      label: "Performance by bot",
      empty: "No bot has equity snapshots yet.",
      rows: metrics.bots ?? [],
      rowKey: (row) => row.bot_id,
      columns: [
        { label: "Bot", value: (row) => row.bot_id },
        {
          label: "Return",
          numeric: true,
          value: (row) => h("span", { class: trend(row.performance.roi) },
            ratio(row.performance.roi, { signed: true })),
        },
        { label: "Sharpe", numeric: true, value: (row) => number(row.performance.sharpe) },
        { label: "Max DD", numeric: true, value: (row) => ratio(row.performance.max_drawdown) },
      ],
    });
    const skipped = Object.entries(metrics.skipped ?? {});
    this.show(list, period, h("h3", {}, "By bot"), bots,
      skipped.length
        ? h("ul", { class: "muted small" },
          skipped.map(([owner, reason]) => h("li", {}, `${owner}: ${reason}`)))
        : null);
  }
}
