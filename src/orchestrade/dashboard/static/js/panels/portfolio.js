// Portfolio monitor: the equity curve (the account's, or one bot's), the latest equity with
// its cash and market value and the P&L since the curve began, and the open positions.

import { get } from "../api.js";
import { EquityChart } from "../chart.js";
import { figures, h, replace, table } from "../dom.js";
import { money, number, ratio, time, toNumber, trend } from "../format.js";
import { Panel } from "./panel.js";

const ACCOUNT = "";
const LIVE_TYPES = ["OrderFilled", "PositionChanged"];

export class PortfolioPanel extends Panel {
  constructor(stream) {
    super({ id: "portfolio", title: "Portfolio", wide: true });
    this.owner = ACCOUNT;
    this.chart = new EquityChart("Equity");
    this.picker = h("select", {
      id: "equity-owner",
      onchange: () => {
        this.owner = this.picker.value;
        this.refresh();
      },
    });
    this.actions.append(h("label", { for: "equity-owner" }, "Curve of "), this.picker);
    this.summary = h("div", { id: "portfolio-summary" });
    this.positions = h("div", { id: "positions" });
    this.status = h("p", { class: "muted small", id: "equity-status" });
    this.layout = h("div", { class: "portfolio" },
      h("div", { class: "chart-box" }, this.chart.element, this.status),
      this.summary,
      h("h3", {}, "Positions"),
      this.positions);
    for (const type of LIVE_TYPES) this.own(stream.on(type, () => this.refreshSoon(2000)));
  }

  async load() {
    const [history, positions] = await Promise.all([
      get("/portfolio/equity"),
      get("/positions").catch((error) => error),
    ]);
    this.fillPicker(history.bots ?? []);
    const curve = this.owner === ACCOUNT
      ? history.total
      : (history.bots ?? []).find((item) => item.bot_id === this.owner) ?? { points: [] };
    const points = curve?.points ?? [];
    if (!this.body.contains(this.layout)) this.show(this.layout);
    this.chart.update(points);
    this.status.textContent = points.length
      ? `${points.length} snapshots, last at ${time(points.at(-1).time)}`
      : "No equity snapshots yet: they appear once a bot has run.";
    this.showSummary(points);
    this.showPositions(positions);
  }

  fillPicker(bots) {
    const options = [[ACCOUNT, "the whole account"],
      ...bots.map((item) => [item.bot_id, `bot ${item.bot_id}`])];
    const current = [...this.picker.options].map((option) => `[${option.value}]`).join("");
    if (current === options.map(([value]) => `[${value}]`).join("")) return;
    replace(this.picker, options.map(([value, label]) =>
      h("option", { value, selected: value === this.owner }, label)));
    if (!options.some(([value]) => value === this.owner)) this.owner = ACCOUNT;
  }

  showSummary(points) {
    const last = points.at(-1);
    const first = points[0];
    const pnl = last && first ? toNumber(last.equity) - toNumber(first.equity) : null;
    const change = pnl !== null && toNumber(first.equity) ? pnl / toNumber(first.equity) : null;
    replace(this.summary, figures([
      { key: "equity", label: "Equity", value: money(last?.equity) },
      { key: "cash", label: "Cash", value: money(last?.cash) },
      { key: "market-value", label: "Market value", value: money(last?.market_value) },
      { key: "pnl", label: "P&L since start", value: pnl === null ? "—" : money(pnl), css: trend(pnl) },
      { key: "change", label: "Change", value: ratio(change, { signed: true }), css: trend(change) },
    ]));
  }

  showPositions(positions) {
    if (positions instanceof Error) {
      replace(this.positions, h("p", { class: "notice notice-error" },
        `Positions could not be loaded: ${positions.message}`));
      return;
    }
    const shown = this.owner === ACCOUNT
      ? positions
      : positions.filter((item) => item.bot_id === this.owner);
    replace(this.positions, table({
      label: "Open positions",
      empty: "No open positions.",
      rowKey: (row) => `${row.bot_id ?? "account"}/${row.symbol}`,
      rows: shown,
      columns: [
        { label: "Bot", value: (row) => row.bot_id ?? "account" },
        { label: "Symbol", value: (row) => row.symbol },
        { label: "Quantity", numeric: true, value: (row) => number(row.quantity) },
        { label: "Average price", numeric: true, value: (row) => money(row.average_price) },
        { label: "Cost basis", numeric: true, value: (row) => money(row.cost_basis) },
        {
          label: "Realized P&L",
          numeric: true,
          value: (row) => h("span", { class: trend(row.realized_pnl) }, money(row.realized_pnl)),
        },
      ],
    }));
  }

  destroy() {
    super.destroy();
    this.chart.destroy();
  }
}
