// What every panel of the overview shares: a titled <section>, a body that shows the data or
// says why it cannot ("not available on this server", the API's error), a refresh that never
// runs twice at once, and a way to coalesce bursts of live events into one reload.

import { ApiError, NotAvailable, describe } from "../api.js";
import { h, notice, replace } from "../dom.js";

export class Panel {
  constructor({ id, title, wide = false, scroll = false }) {
    this.id = id;
    this.body = h("div", {
      class: scroll ? "panel-body scroll" : "panel-body", "aria-busy": "true",
    }, "Loading…");
    this.actions = h("div", { class: "panel-actions" });
    this.section = h("section", {
      id, class: wide ? "panel wide" : "panel", "aria-labelledby": `${id}-title`,
    },
    h("header", {}, h("h2", { id: `${id}-title` }, title), this.actions),
    this.body);
    this.loading = null;
    this.again = false;
    this.timer = null;
    this.cleanups = [];
  }

  /** Load and show the data (subclasses); throw to show the error in the panel. */
  async load() {}

  /** Reload now, or once more after the load in progress when called during one. */
  async refresh() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          await this.load();
        } catch (error) {
          this.fail(error);
        }
      } while (this.again);
      this.body.setAttribute("aria-busy", "false");
      this.loading = null;
    })();
    return this.loading;
  }

  /** Reload at most once per `delayMs` however many events ask for it. */
  refreshSoon(delayMs = 1000) {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh();
    }, delayMs);
  }

  /** Show `nodes` as the panel's content. */
  show(...nodes) {
    replace(this.body, ...nodes);
  }

  fail(error) {
    if (error instanceof NotAvailable) {
      this.section.dataset.available = "false";
      this.show(notice("Not available on this server (its API has no route for this yet).", "muted"));
      return;
    }
    if (error instanceof ApiError && error.code === "no_trading_node") {
      this.show(notice("No trading node runs with this API, so there are no bots to show.", "muted"));
      return;
    }
    this.show(notice(`Could not load: ${describe(error)}`, "error"));
  }

  /** Remember `cleanup` for destroy (stream subscriptions, timers). */
  own(cleanup) {
    this.cleanups.push(cleanup);
  }

  destroy() {
    clearTimeout(this.timer);
    for (const cleanup of this.cleanups) cleanup();
    this.cleanups = [];
  }
}
