// Backtests: pick a strategy and its parameters, run it as a background job on the server,
// watch it go through its phases, then read the headline metrics and the HTML report.

import { ApiError, describe, get, hasRoute, post, request } from "../api.js";
import { figures, h, notice, replace, table } from "../dom.js";
import { money, number, ratio, time } from "../format.js";
import { currentSession } from "../session.js";
import { strategyChoices } from "../strategies.js";

const POLL_MS = 700;
const PHASES = ["queued", "loading", "running", "done"];
const PHASE_WORDS = {
  queued: "Queued",
  loading: "Loading bars",
  running: "Simulating",
  done: "Done",
  failed: "Failed",
};
/** The report's headline metrics (backtest/summary.py HEADLINE_METRICS) and their kind. */
const HEADLINE = [
  ["final_equity", "Final equity", "money"],
  ["total_return", "Total return", "fraction"],
  ["cagr", "CAGR", "fraction"],
  ["sharpe_ratio", "Sharpe ratio", "ratio"],
  ["sortino_ratio", "Sortino ratio", "ratio"],
  ["max_drawdown", "Max drawdown", "fraction"],
  ["max_drawdown_duration_days", "Longest drawdown (days)", "ratio"],
  ["trades", "Trades", "count"],
  ["win_rate", "Win rate", "fraction"],
  ["profit_factor", "Profit factor", "ratio"],
  ["exposure", "Exposure", "fraction"],
];

export function showBacktests(main) {
  if (!hasRoute("POST", "/backtests")) {
    replace(main, h("h1", {}, "Backtests"),
      notice("Backtests are not available on this server (its API has no backtest routes).", "muted"));
    return () => {};
  }
  const view = new BacktestsView(main);
  view.start();
  return () => view.stop();
}

class BacktestsView {
  constructor(main) {
    this.main = main;
    this.stopped = false;
    this.timer = null;
    this.reportUrl = null;
    this.progress = h("section", { id: "backtest-progress", class: "panel", "aria-labelledby": "progress-title" },
      h("header", {}, h("h2", { id: "progress-title" }, "Run")),
      h("div", { class: "panel-body" }, h("p", { class: "muted" }, "Submit a backtest to see it run here.")));
    this.jobs = h("div", { id: "backtest-jobs" });
    this.canTrade = currentSession()?.user?.role !== "viewer";
  }

  async start() {
    const form = this.canTrade
      ? await this.form()
      : notice("Viewers can read backtests; running one needs the trader role.", "muted");
    if (this.stopped) return; // left while the strategies loaded: the page is another view's
    replace(this.main,
      h("h1", {}, "Backtests"),
      h("div", { class: "panels" },
        h("section", { class: "panel", id: "backtest-form", "aria-labelledby": "form-title" },
          h("header", {}, h("h2", { id: "form-title" }, "New backtest")),
          h("div", { class: "panel-body" }, form)),
        h("section", { class: "panel", id: "backtest-list", "aria-labelledby": "jobs-title" },
          h("header", {}, h("h2", { id: "jobs-title" }, "Recent backtests")),
          h("div", { class: "panel-body" }, this.jobs)),
        this.progress));
    this.progress.classList.add("full");
    await this.listJobs();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.reportUrl) URL.revokeObjectURL(this.reportUrl);
  }

  async form() {
    const choices = await strategyChoices().catch(() => []);
    const strategy = h("select", { id: "bt-strategy", name: "strategy", required: true },
      choices.map((choice) => h("option", { value: choice.name }, choice.name)));
    const custom = h("input", {
      id: "bt-strategy-name", name: "strategy_name", list: "bt-strategies",
      value: choices[0]?.name ?? "sma_cross", required: true,
    });
    const useSelect = choices.length > 0 && choices.some((choice) => choice.parameters);
    const describeStrategy = h("p", { id: "bt-strategy-description", class: "muted small" });
    const parameters = h("fieldset", { id: "bt-parameters", class: "parameters" });
    const paramsText = h("textarea", {
      id: "bt-params", rows: 2, placeholder: '{"fast": 5, "slow": 20}', "aria-describedby": "bt-params-hint",
    });
    const showParameters = () => {
      const choice = choices.find((item) => item.name === (useSelect ? strategy.value : custom.value));
      describeStrategy.textContent = choice?.description ?? "";
      if (!choice?.parameters) {
        replace(parameters, h("legend", {}, "Parameters"), h("div", { class: "field wide" },
          h("label", { for: "bt-params" }, "Overrides (JSON)"), paramsText,
          h("small", { id: "bt-params-hint", class: "muted" }, "Empty: the strategy's defaults.")));
        return;
      }
      replace(parameters, h("legend", {}, "Parameters"),
        Object.entries(choice.parameters).map(([name, spec]) => h("div", { class: "field" },
          h("label", { for: `bt-param-${name}` }, name),
          h("input", {
            id: `bt-param-${name}`, type: "number", dataset: { param: name, kind: spec.type ?? "float" },
            value: spec.default, min: spec.min, max: spec.max, step: spec.step ?? "any",
            "aria-describedby": spec.description ? `bt-param-${name}-hint` : null,
          }),
          spec.description ? h("small", { id: `bt-param-${name}-hint`, class: "muted" }, spec.description) : null)));
    };
    (useSelect ? strategy : custom).addEventListener("change", showParameters);
    const symbols = h("input", { id: "bt-symbols", placeholder: "empty: every stored symbol", "aria-describedby": "bt-symbols-hint" });
    const market = h("select", { id: "bt-market" },
      h("option", { value: "" }, "any"), h("option", { value: "krx" }, "KRX"),
      h("option", { value: "us" }, "US"), h("option", { value: "crypto" }, "crypto"));
    const startDate = h("input", { id: "bt-start", type: "date" });
    const endDate = h("input", { id: "bt-end", type: "date" });
    const cash = h("input", { id: "bt-cash", type: "number", min: "1", step: "any", value: "10000000" });
    const fees = h("input", { id: "bt-fees", type: "number", min: "0", max: "0.5", step: "any", value: "0.00015" });
    const mode = h("select", { id: "bt-mode" },
      h("option", { value: "isolated" }, "isolated (cash per symbol)"),
      h("option", { value: "portfolio" }, "portfolio (shared cash)"));
    const error = h("p", { class: "notice notice-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "primary" }, "Run backtest");
    const field = (id, label, input, hint) => h("div", { class: "field" },
      h("label", { for: id }, label), input,
      hint ? h("small", { id: `${id}-hint`, class: "muted" }, hint) : null);
    const form = h("form", { class: "grid-form", "aria-label": "New backtest" },
      useSelect
        ? field("bt-strategy", "Strategy", strategy)
        : [field("bt-strategy-name", "Strategy", custom),
          h("datalist", { id: "bt-strategies" }, choices.map((c) => h("option", { value: c.name })))],
      describeStrategy,
      parameters,
      field("bt-symbols", "Symbols", symbols, "Comma-separated stored symbols."),
      field("bt-market", "Market", market),
      field("bt-start", "From", startDate),
      field("bt-end", "To", endDate),
      field("bt-cash", "Cash", cash),
      field("bt-fees", "Fees (fraction of traded value)", fees),
      field("bt-mode", "Cash mode", mode),
      h("div", { class: "field actions" }, submit),
      error);
    showParameters();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      let params = {};
      try {
        params = collectParams(parameters, paramsText);
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
        return;
      }
      const body = {
        strategy: useSelect ? strategy.value : custom.value.trim(),
        params,
        symbols: symbols.value.split(",").map((item) => item.trim()).filter(Boolean),
        cash: Number(cash.value),
        fees: Number(fees.value),
        mode: mode.value,
      };
      if (market.value) body.market = market.value;
      if (startDate.value) body.start = startDate.value;
      if (endDate.value) body.end = endDate.value;
      submit.disabled = true;
      try {
        const job = await post("/backtests", body);
        this.follow(job);
        this.listJobs();
      } catch (failure) {
        error.textContent = failure instanceof ApiError ? failure.message : describe(failure);
        error.hidden = false;
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  async listJobs() {
    try {
      const jobs = await get("/backtests");
      replace(this.jobs, table({
        label: "Recent backtests",
        empty: "No backtests yet.",
        rows: jobs,
        rowKey: (job) => job.job_id,
        columns: [
          { label: "Submitted", value: (job) => time(job.submitted_at) },
          { label: "Strategy", value: (job) => job.strategy },
          { label: "Status", value: (job) => h("span", { class: `badge job-${job.status}` }, job.status) },
          {
            label: "",
            value: (job) => h("button", {
              type: "button", class: "secondary small", "aria-label": `Show backtest ${job.job_id}`,
              onclick: () => this.follow(job),
            }, "Show"),
          },
        ],
      }));
    } catch (error) {
      replace(this.jobs, notice(`Could not load the backtests: ${describe(error)}`, "error"));
    }
  }

  /** Poll the job until it is done or failed, showing its phase, then its results. */
  follow(job) {
    clearTimeout(this.timer);
    this.current = job.job_id;
    this.showJob(job);
    if (job.status === "done") {
      this.showResult(job);
      return;
    }
    if (job.status === "failed") return;
    this.timer = setTimeout(async () => {
      if (this.stopped || this.current !== job.job_id) return;
      try {
        const next = await request("GET", `/backtests/${encodeURIComponent(job.job_id)}`, {
          template: "/backtests/{}",
        });
        if (next.status === "done" || next.status === "failed") this.listJobs();
        this.follow(next);
      } catch (error) {
        this.setBody(notice(`Lost track of backtest ${job.job_id}: ${describe(error)}`, "error"));
      }
    }, POLL_MS);
  }

  setBody(...nodes) {
    replace(this.progress.querySelector(".panel-body"), ...nodes);
  }

  showJob(job) {
    const reached = job.status === "failed" ? -1 : PHASES.indexOf(job.status);
    const steps = h("ol", { class: "phases", "aria-label": "Phases" }, PHASES.map((phase, index) =>
      h("li", {
        class: index < reached || job.status === "done" ? "past" : index === reached ? "current" : "",
        "aria-current": index === reached && job.status !== "done" ? "step" : null,
      }, PHASE_WORDS[phase])));
    const finished = job.status === "done" || job.status === "failed";
    const bar = h("progress", {
      id: "backtest-progressbar",
      max: PHASES.length - 1,
      value: finished ? PHASES.length - 1 : null,
      "aria-label": `Backtest ${PHASE_WORDS[job.status] ?? job.status}`,
    });
    if (!finished && reached > 0) bar.value = reached;
    this.setBody(
      h("p", { id: "backtest-status", role: "status", dataset: { status: job.status, job: job.job_id } },
        `Backtest ${job.job_id} (${job.strategy}): ${PHASE_WORDS[job.status] ?? job.status}`,
        job.bars ? `, ${number(job.bars)} bars` : "",
        job.started_at && job.finished_at
          ? `, ${number((Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000)} s`
          : ""),
      steps,
      bar,
      job.error ? notice(job.error, "error") : null,
      h("div", { id: "backtest-result" }));
  }

  async showResult(job) {
    const target = this.progress.querySelector("#backtest-result");
    const path = `/backtests/${encodeURIComponent(job.job_id)}`;
    try {
      const result = await request("GET", `${path}/result`, { template: "/backtests/{}/result" });
      if (this.current !== job.job_id) return;
      const metrics = figures(HEADLINE.map(([key, label, kind]) => ({
        key, label, value: formatMetric(result.metrics?.[key], kind),
      })), { id: "backtest-metrics" });
      replace(target, h("h3", {}, "Metrics"), metrics,
        h("p", { class: "muted small" }, `${result.trades?.length ?? 0} trades.`),
        h("h3", {}, "Report"), h("p", { class: "muted" }, "Loading the report…"));
      const html = await request("GET", `${path}/report`, {
        template: "/backtests/{}/report", accept: "text/html",
      });
      if (this.current !== job.job_id) return;
      if (this.reportUrl) URL.revokeObjectURL(this.reportUrl);
      this.reportUrl = URL.createObjectURL(new Blob([html], { type: "text/html" }));
      target.lastChild.replaceWith(h("div", { class: "report" },
        h("p", {},
          h("a", { href: this.reportUrl, target: "_blank", rel: "noopener" }, "Open the report in a new tab"),
          " · ",
          h("a", { href: this.reportUrl, download: `backtest-${job.job_id}.html` }, "Download it")),
        // Sandboxed without same-origin: the report's scripts run but cannot read the token.
        h("iframe", {
          id: "backtest-report", title: `Report of backtest ${job.job_id}`, src: this.reportUrl,
          sandbox: "allow-scripts",
        })));
    } catch (error) {
      replace(target, notice(`Could not load the results: ${describe(error)}`, "error"));
    }
  }
}

function collectParams(fieldset, text) {
  const inputs = fieldset.querySelectorAll("input[data-param]");
  if (inputs.length === 0) {
    if (!text.value.trim()) return {};
    try {
      const parsed = JSON.parse(text.value);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new Error("an object is expected");
      }
      return parsed;
    } catch (error) {
      throw new Error(`Parameters are not a JSON object: ${error.message}`);
    }
  }
  const params = {};
  for (const input of inputs) {
    if (input.value === "") continue;
    const value = Number(input.value);
    if (!Number.isFinite(value)) throw new Error(`Parameter ${input.dataset.param} is not a number`);
    params[input.dataset.param] = input.dataset.kind === "int" ? Math.trunc(value) : value;
  }
  return params;
}

function formatMetric(value, kind) {
  if (value === null || value === undefined) return "n/a";
  if (kind === "money") return money(value);
  if (kind === "fraction") return ratio(value);
  if (kind === "count") return number(Math.round(value));
  return number(value);
}
