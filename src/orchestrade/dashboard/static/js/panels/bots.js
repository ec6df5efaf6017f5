// Bots and their controls: the list with each bot's state, start / pause / stop / delete
// buttons (traders and admins), and a form to create a paper or replay bot.

import { ApiError, describe, post, request } from "../api.js";
import { h, replace, table } from "../dom.js";
import { number, ratio, time } from "../format.js";
import { currentSession } from "../session.js";
import { strategyChoices } from "../strategies.js";
import { toast } from "../toast.js";
import { Panel } from "./panel.js";

const LIVE_TYPES = ["BotStateChanged", "RebalanceApplied"];

export class BotsPanel extends Panel {
  constructor(stream) {
    super({ id: "bots", title: "Bots", wide: true });
    this.list = h("div", { id: "bot-list" });
    this.form = null;
    this.canTrade = currentSession()?.user?.role !== "viewer";
    for (const type of LIVE_TYPES) this.own(stream.on(type, () => this.refreshSoon(300)));
  }

  async load() {
    const bots = await request("GET", "/bots");
    if (!this.body.contains(this.list)) {
      this.show(this.list, this.canTrade ? await this.createForm() : null);
    }
    replace(this.list, table({
      label: "Bots",
      empty: "No bots yet: create one below.",
      rows: bots,
      rowKey: (bot) => bot.bot_id,
      columns: [
        {
          label: "Bot",
          value: (bot) => [h("strong", {}, bot.name), h("br"), h("code", { class: "small" }, bot.bot_id)],
        },
        { label: "Strategy", value: (bot) => bot.strategy_name },
        { label: "Symbols", value: (bot) => symbols(bot.symbols) },
        { label: "Allocation", numeric: true, value: (bot) => ratio(bot.allocation) },
        {
          label: "State",
          value: (bot) => h("span", { class: `badge state-${bot.state}`, dataset: { state: bot.state } },
            bot.state),
        },
        { label: "Updated", value: (bot) => time(bot.updated_at) },
        { label: "Controls", value: (bot) => this.controls(bot) },
      ],
    }));
  }

  controls(bot) {
    if (!this.canTrade) return h("span", { class: "muted small" }, "view only");
    const button = (action, label, enabled, css = "secondary") => h("button", {
      type: "button",
      class: `${css} small`,
      disabled: !enabled,
      dataset: { action },
      "aria-label": `${label} bot ${bot.name}`,
      onclick: (event) => this.act(bot, action, event.currentTarget),
    }, label);
    const running = bot.state === "running";
    return h("div", { class: "controls" },
      button("start", "Start", !running, "primary"),
      button("pause", "Pause", running),
      button("stop", "Stop", bot.state !== "stopped"),
      button("delete", "Delete", !running, "danger"));
  }

  async act(bot, action, button) {
    if (action === "delete" && !window.confirm(`Delete bot ${bot.name}? Its records stay.`)) return;
    button.disabled = true;
    try {
      if (action === "delete") {
        await request("DELETE", `/bots/${encodeURIComponent(bot.bot_id)}`, { template: "/bots/{}" });
        toast(`Bot ${bot.name} deleted.`);
      } else {
        const updated = await request("POST", `/bots/${encodeURIComponent(bot.bot_id)}/${action}`, {
          template: `/bots/{}/${action}`,
        });
        toast(`Bot ${updated.name} is ${updated.state}.`);
      }
    } catch (error) {
      toast(`Could not ${action} bot ${bot.name}: ${describe(error)}`, "error");
    }
    await this.refresh();
  }

  async createForm() {
    const choices = await strategyChoices().catch(() => []);
    const field = (id, label, input, hint) => h("div", { class: "field" },
      h("label", { for: id }, label), input,
      hint ? h("small", { id: `${id}-hint`, class: "muted" }, hint) : null);
    const strategy = h("input", {
      id: "bot-strategy", name: "strategy", list: "bot-strategies", required: true,
      value: choices[0]?.name ?? "sma_cross", "aria-describedby": "bot-strategy-hint",
    });
    const names = h("datalist", { id: "bot-strategies" },
      choices.map((choice) => h("option", { value: choice.name }, choice.description)));
    const name = h("input", { id: "bot-name", name: "name", placeholder: "default: the strategy's" });
    const symbolsInput = h("input", {
      id: "bot-symbols", name: "symbols", placeholder: "e.g. KRX0001, KRX0002",
      "aria-describedby": "bot-symbols-hint",
    });
    const mode = h("select", { id: "bot-mode", name: "mode" },
      h("option", { value: "paper" }, "paper (wall clock)"),
      h("option", { value: "replay" }, "replay (stored bars, fast)"));
    const interval = h("input", {
      id: "bot-interval", name: "interval_s", type: "number", min: "0.05", step: "any", value: "1",
    });
    const cash = h("input", {
      id: "bot-cash", name: "cash", type: "number", min: "1", step: "any", value: "10000000",
    });
    const params = h("textarea", {
      id: "bot-params", name: "params", rows: 2, placeholder: '{"fast": 5, "slow": 20}',
      "aria-describedby": "bot-params-hint",
    });
    const error = h("p", { class: "notice notice-error", role: "alert", hidden: true });
    const submit = h("button", { type: "submit", class: "primary" }, "Create bot");
    const form = h("form", { id: "new-bot", class: "grid-form", "aria-label": "New bot" },
      field("bot-strategy", "Strategy", strategy, "A built-in strategy's name."),
      names,
      field("bot-name", "Name", name),
      field("bot-symbols", "Symbols", symbolsInput, "Comma-separated; empty: the strategy's universe."),
      field("bot-mode", "Mode", mode),
      field("bot-interval", "Seconds per bar (paper)", interval),
      field("bot-cash", "Cash", cash),
      field("bot-params", "Parameters (JSON)", params, "Overrides of the strategy's defaults."),
      h("div", { class: "field actions" }, submit),
      error);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      let body;
      try {
        body = {
          strategy: strategy.value.trim(),
          mode: mode.value,
          cash: Number(cash.value),
          symbols: symbolsInput.value.split(",").map((item) => item.trim()).filter(Boolean),
          params: params.value.trim() ? JSON.parse(params.value) : {},
        };
        if (name.value.trim()) body.name = name.value.trim();
        if (mode.value === "paper") body.interval_s = Number(interval.value);
      } catch (failure) {
        error.textContent = `Parameters are not valid JSON: ${failure.message}`;
        error.hidden = false;
        return;
      }
      submit.disabled = true;
      try {
        const created = await post("/bots", body);
        toast(`Bot ${created.name} created (paused): start it when ready.`);
        form.reset();
        strategy.value = body.strategy;
        await this.refresh();
      } catch (failure) {
        error.textContent = failure instanceof ApiError ? failure.message : describe(failure);
        error.hidden = false;
      } finally {
        submit.disabled = false;
      }
    });
    return h("details", { class: "new-bot" }, h("summary", {}, "New bot"), form);
  }
}

function symbols(list) {
  if (!list?.length) return "—";
  if (list.length <= 2) return list.join(", ");
  return h("span", { title: list.join(", ") }, `${list.slice(0, 2).join(", ")} +${number(list.length - 2)}`);
}
