// The overview: every panel of the orchestrator's real-time display, kept current by the
// live stream (each panel reloads what an event changed) and by a slow periodic refresh for
// what has no event (database health, metrics).

import { h, replace } from "../dom.js";
import { BotsPanel } from "../panels/bots.js";
import { AnomaliesPanel, RebalancesPanel } from "../panels/oversight.js";
import { PerformancePanel } from "../panels/performance.js";
import { PortfolioPanel } from "../panels/portfolio.js";
import { SystemPanel } from "../panels/system.js";
import { FillsPanel, OrdersPanel, SignalsPanel } from "../panels/trading.js";
import { LiveStream } from "../stream.js";

const PERIODIC_REFRESH_MS = 15000;

export function showOverview(main) {
  const stream = new LiveStream();
  const panels = [
    new PortfolioPanel(stream),
    new PerformancePanel(stream),
    new BotsPanel(stream),
    new SystemPanel(stream),
    new FillsPanel(stream),
    new OrdersPanel(stream),
    new SignalsPanel(stream),
    new AnomaliesPanel(stream),
    new RebalancesPanel(stream),
  ];
  replace(main,
    h("h1", { class: "visually-hidden" }, "Overview"),
    h("div", { class: "panels" }, panels.map((panel) => panel.section)));
  // Events were lost (the page fell behind the server's buffer, or the server restarted):
  // reload everything.
  const reload = () => panels.forEach((panel) => panel.refresh());
  const offGap = stream.on("gap", reload);
  const offReset = stream.on("reset", reload);
  stream.start();
  for (const panel of panels) panel.refresh();
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") {
      for (const panel of panels) panel.refresh();
    }
  }, PERIODIC_REFRESH_MS);
  return () => {
    clearInterval(timer);
    offGap();
    offReset();
    stream.stop();
    for (const panel of panels) panel.destroy();
  };
}
