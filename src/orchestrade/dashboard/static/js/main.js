// The dashboard's entry: a hash router over three views (login, overview, backtests), the
// top bar, and the rule that without a session every view but login sends you to login.

import { loadRoutes } from "./api.js";
import { h, replace } from "./dom.js";
import { currentSession, endSession } from "./session.js";
import { showLogin } from "./views/login.js";
import { showOverview } from "./views/overview.js";
import { showBacktests } from "./views/backtests.js";

const VIEWS = {
  "#/": { title: "Overview", show: showOverview },
  "#/backtests": { title: "Backtests", show: showBacktests },
};

const main = document.getElementById("main");
const topbar = document.getElementById("topbar");
let leave = null;
let routing = 0;

async function route() {
  leave?.();
  leave = null;
  const generation = ++routing;
  const hash = location.hash || "#/";
  const session = currentSession();
  if (hash === "#/login" || !session) {
    topbar.hidden = true;
    document.title = "Log in · orchestrade";
    if (hash !== "#/login") {
      history.replaceState(null, "", "#/login");
    }
    leave = showLogin(main, { onLoggedIn: () => { location.hash = "#/"; } });
    return;
  }
  const view = VIEWS[hash] ?? VIEWS["#/"];
  document.title = `${view.title} · orchestrade`;
  renderTopbar(session, hash);
  try {
    await loadRoutes();
  } catch (error) {
    replace(main, h("p", { class: "notice notice-error", role: "alert" },
      `The API does not answer: ${error.message}`));
    return;
  }
  if (generation !== routing) return; // another view was asked for meanwhile
  leave = view.show(main);
}

function renderTopbar(session, hash) {
  topbar.hidden = false;
  const link = (href, label) => h("a", {
    href, "aria-current": hash === href ? "page" : null,
  }, label);
  replace(topbar,
    h("span", { class: "brand" }, "orchestrade"),
    h("nav", { "aria-label": "Main" }, link("#/", "Overview"), link("#/backtests", "Backtests")),
    h("span", { class: "spacer" }),
    h("span", { id: "connection", class: "connection", role: "status", "aria-live": "polite" }),
    h("span", { class: "who" }, `${session.user?.name ?? "?"} (${session.user?.role ?? "?"})`),
    h("button", {
      type: "button",
      class: "secondary",
      onclick: () => {
        endSession("You have logged out.");
        route();
      },
    }, "Log out"),
  );
}

window.addEventListener("hashchange", route);
// A 401 anywhere (api.js or the stream) ended the session: show the login page at once.
window.addEventListener("orchestrade:logout", () => {
  if (location.hash === "#/login") {
    route();
  } else {
    location.hash = "#/login";
  }
});
route();
