// The equity curve: a uPlot line chart that follows its container's width. The chart is an
// image to assistive technology, described by a sentence (first and last value, how many
// points); the numbers themselves are in the panel's summary beside it.

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { h } from "./dom.js";
import { compact, date, money } from "./format.js";

const HEIGHT = 260;

export class EquityChart {
  constructor(label = "Equity") {
    this.label = label;
    this.plot = null;
    this.element = h("div", { class: "chart", role: "img", "aria-label": `${label}: no data yet` });
    this.resizer = new ResizeObserver(() => this.fit());
    this.resizer.observe(this.element);
  }

  /** Show `points`: [{time: ISO string, equity: decimal string}], oldest first. */
  update(points) {
    const times = [];
    const values = [];
    for (const point of points) {
      const seconds = Date.parse(point.time) / 1000;
      const value = Number(point.equity);
      if (!Number.isFinite(seconds) || !Number.isFinite(value)) continue;
      times.push(seconds);
      values.push(value);
    }
    this.element.dataset.points = String(times.length);
    if (times.length === 0) {
      this.element.setAttribute("aria-label", `${this.label}: no data yet`);
    } else {
      this.element.setAttribute(
        "aria-label",
        `${this.label} from ${money(values[0])} on ${date(times[0] * 1000)} to ` +
          `${money(values.at(-1))} on ${date(times.at(-1) * 1000)}, ${times.length} points`,
      );
    }
    const data = [times, values];
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    this.plot = new uPlot(this.options(), data, this.element);
  }

  options() {
    const styles = getComputedStyle(document.documentElement);
    const line = styles.getPropertyValue("--accent").trim() || "#2563eb";
    const grid = styles.getPropertyValue("--grid").trim() || "#e5e7eb";
    const text = styles.getPropertyValue("--muted").trim() || "#6b7280";
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    return {
      width: Math.max(this.element.clientWidth, 300),
      height: HEIGHT,
      legend: { show: false }, // the panel's figures give the latest values
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [axis, { ...axis, size: 60, values: (_, ticks) => ticks.map((tick) => compact(tick)) }],
      series: [
        { label: "Time", value: (_, seconds) => (seconds == null ? "" : date(seconds * 1000)) },
        {
          label: this.label,
          stroke: line,
          width: 2,
          fill: `${line}1a`,
          value: (_, value) => (value == null ? "" : money(value)),
        },
      ],
    };
  }

  fit() {
    if (this.plot && this.element.clientWidth > 0) {
      this.plot.setSize({ width: this.element.clientWidth, height: HEIGHT });
    }
  }

  destroy() {
    this.resizer.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}
