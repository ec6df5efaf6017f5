// Trading activity: the fills as they arrive on the live stream, the latest orders as the
// OMS recorded them, and the latest signals with the rules' decision on each.

import { get } from "../api.js";
import { h, replace, table } from "../dom.js";
import { money, number, time } from "../format.js";
import { Panel } from "./panel.js";

const MAX_FILLS = 50;
const ORDER_TYPES = ["OrderSubmitted", "OrderFilled", "OrderCancelled", "RiskRejected"];
const SIGNAL_TYPES = ["SignalGenerated", "SignalApproved"];

/** The fills of the live stream, newest first, seeded with the latest filled orders. */
export class FillsPanel extends Panel {
  constructor(stream) {
    super({ id: "fills", title: "Fills", scroll: true });
    this.live = []; // from the stream, newest arrival first
    this.recent = []; // the latest filled orders from the API, newest first
    this.list = h("div", { id: "fill-list" });
    this.own(stream.on("OrderFilled", (frame) => this.arrived(frame)));
  }

  async load() {
    const orders = await get("/orders", { query: { status: "filled", limit: 20 } });
    this.recent = orders.map(orderFill);
    this.render();
  }

  arrived(frame) {
    const fill = frameFill(frame);
    if (!fill || this.live.some((item) => item.key === fill.key)) return;
    this.live.unshift(fill);
    this.live.length = Math.min(this.live.length, MAX_FILLS);
    this.render();
  }

  /** The live fills first (as they came), then the recorded ones not already shown. */
  render() {
    const shownOrders = new Set(this.live.map((fill) => fill.orderId));
    const rows = [...this.live.map((fill) => ({ ...fill, live: true })),
      ...this.recent.filter((fill) => !shownOrders.has(fill.orderId))].slice(0, MAX_FILLS);
    if (!this.body.contains(this.list)) this.show(this.list);
    replace(this.list, table({
      label: "Latest fills",
      empty: "No fills yet.",
      rows,
      rowKey: (fill) => fill.key,
      rowClass: (fill) => (fill.live ? (fill.key === this.live[0]?.key ? "live fresh" : "live") : null),
      columns: [
        { label: "Bar time", value: (fill) => time(fill.time) },
        { label: "Bot", value: (fill) => fill.bot ?? "—" },
        { label: "Symbol", value: (fill) => fill.symbol },
        { label: "Side", value: (fill) => h("span", { class: `side-${fill.side}` }, fill.side) },
        { label: "Quantity", numeric: true, value: (fill) => number(fill.quantity) },
        { label: "Price", numeric: true, value: (fill) => money(fill.price) },
      ],
    }));
  }
}

/** A fill from an OrderFilled frame: data {order, fill}. */
function frameFill(frame) {
  const fill = frame.data?.fill;
  if (!fill) return null;
  return {
    key: `fill:${fill.fill_id ?? `${fill.order_id}@${fill.filled_at}`}`,
    orderId: fill.order_id,
    time: fill.filled_at ?? frame.at,
    bot: frame.bot_id ?? frame.data?.order?.bot_id ?? null,
    symbol: fill.symbol,
    side: fill.side,
    quantity: fill.quantity,
    price: fill.price,
  };
}

/** A filled order from GET /orders, shown as one fill at its average price. */
function orderFill(order) {
  return {
    key: `order:${order.order_id}`,
    orderId: order.order_id,
    time: order.created_at,
    bot: order.bot_id,
    symbol: order.symbol,
    side: order.side,
    quantity: order.filled_quantity,
    price: order.average_fill_price,
  };
}

/** The latest orders, reloaded when the stream says an order moved. */
export class OrdersPanel extends Panel {
  constructor(stream) {
    super({ id: "orders", title: "Orders", scroll: true });
    for (const type of ORDER_TYPES) this.own(stream.on(type, () => this.refreshSoon(1000)));
  }

  async load() {
    const orders = await get("/orders", { query: { limit: 15 } });
    this.show(table({
      label: "Latest orders",
      empty: "No orders yet.",
      rows: orders,
      rowKey: (order) => order.order_id,
      columns: [
        { label: "Created", value: (order) => time(order.created_at) },
        { label: "Bot", value: (order) => order.bot_id ?? "—" },
        { label: "Symbol", value: (order) => order.symbol },
        { label: "Side", value: (order) => h("span", { class: `side-${order.side}` }, order.side) },
        { label: "Quantity", numeric: true, value: (order) => number(order.quantity) },
        {
          label: "Status",
          value: (order) => h("span", { class: `badge order-${order.status}` }, order.status),
        },
        { label: "Avg price", numeric: true, value: (order) => money(order.average_fill_price) },
      ],
    }));
  }
}

/** The latest signals and whether the rules approved them. */
export class SignalsPanel extends Panel {
  constructor(stream) {
    super({ id: "signals", title: "Signals", scroll: true });
    for (const type of SIGNAL_TYPES) this.own(stream.on(type, () => this.refreshSoon(1500)));
  }

  async load() {
    const signals = await get("/signals", { query: { limit: 15 } });
    this.show(table({
      label: "Latest signals",
      empty: "No signals yet.",
      rows: signals,
      columns: [
        { label: "Time", value: (signal) => time(signal.time) },
        { label: "Bot", value: (signal) => signal.bot_id ?? signal.strategy_id },
        { label: "Symbol", value: (signal) => signal.symbol },
        { label: "Side", value: (signal) => h("span", { class: `side-${signal.side}` }, signal.side) },
        { label: "Confidence", numeric: true, value: (signal) => number(signal.confidence) },
        {
          label: "Status",
          value: (signal) => [
            h("span", { class: `badge ${signal.approved ? "ok" : "warn"}` },
              signal.approved ? "approved" : "rejected"),
            signal.decision_reason ? h("span", { class: "muted small" }, ` ${signal.decision_reason}`) : null,
          ],
        },
      ],
    }));
  }
}
