// The login page: user name and password, exchanged for a token by POST /api/v1/auth/login.

import { ApiError, post } from "../api.js";
import { h, replace } from "../dom.js";
import { saveSession, takeLoginMessage } from "../session.js";

export function showLogin(main, { onLoggedIn }) {
  const message = takeLoginMessage();
  const error = h("p", { id: "login-error", class: "notice notice-error", role: "alert", hidden: true });
  const username = h("input", {
    id: "username", name: "username", autocomplete: "username", required: true,
    autocapitalize: "none", spellcheck: "false",
  });
  const password = h("input", {
    id: "password", name: "password", type: "password", autocomplete: "current-password",
    required: true,
  });
  const submit = h("button", { type: "submit", class: "primary" }, "Log in");
  const form = h("form", { class: "login", "aria-labelledby": "login-title", novalidate: false },
    h("h1", { id: "login-title" }, "orchestrade"),
    h("p", { class: "muted" }, "Log in to watch and steer the bots."),
    message ? h("p", { id: "login-message", class: "notice notice-warn", role: "status" }, message) : null,
    h("label", { for: "username" }, "User name"),
    username,
    h("label", { for: "password" }, "Password"),
    password,
    error,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = "Logging in…";
    try {
      const answer = await post("/auth/login", {
        username: username.value.trim(),
        password: password.value,
      });
      saveSession(answer);
      onLoggedIn();
    } catch (failure) {
      error.textContent = failure instanceof ApiError && failure.status === 401
        ? "Wrong user name or password."
        : failure.message;
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = "Log in";
    }
  });
  replace(main, h("div", { class: "login-page" }, form));
  username.focus();
  return () => {};
}
