// Calls to the REST API with the session's token. Any 401 ends the session and sends the
// person to the login page with a message; errors carry the API's {error: {code, message}}.
// Which routes this server has is read from its OpenAPI document, so a panel whose route is
// missing says "not available" instead of failing.

import { currentSession, endSession } from "./session.js";

export const API = "api/v1";
const EXPIRED = "Your session has expired or is no longer valid. Please log in again.";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** A route this server does not have (not in its OpenAPI document). */
export class NotAvailable extends Error {
  constructor(method, path) {
    super(`${method} ${path} is not available on this server`);
    this.name = "NotAvailable";
  }
}

let routes = null;

/** Read the OpenAPI document once; returns the set of "METHOD /path/{}" it lists. */
export async function loadRoutes() {
  if (routes) return routes;
  const response = await fetch(`${API}/openapi.json`, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new ApiError(response.status, "unavailable", "the API does not answer");
  const document = await response.json();
  const found = new Set();
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const method of Object.keys(operations)) found.add(routeKey(method, path));
  }
  routes = { keys: found, document };
  return routes;
}

/** True when the server has `method` `path` (path below /api/v1; "{}" for a parameter). */
export function hasRoute(method, path, { root = false } = {}) {
  return routes !== null && routes.keys.has(routeKey(method, root ? path : `/${API}${path}`));
}

/** The OpenAPI document (after loadRoutes). */
export function openapi() {
  return routes?.document ?? { paths: {}, components: {} };
}

function routeKey(method, path) {
  return `${method.toUpperCase()} ${path.replace(/\{[^}]*\}/g, "{}")}`;
}

/**
 * Call the API. `path` is below /api/v1 ("/bots"), or below the site's root with `root`
 * ("/metrics"); `template` (same, with "{}" for parameters) names the route to check it
 * exists first; `query` an object of parameters.
 * Returns the parsed JSON (or text for non-JSON answers, null for 204).
 */
export async function request(method, path, { body, query, template, accept, root = false } = {}) {
  if (routes !== null && !hasRoute(method, template ?? path, { root })) {
    throw new NotAvailable(method, root ? path.slice(1) : `/${API}${template ?? path}`);
  }
  const headers = { Accept: accept ?? "application/json" };
  const session = currentSession();
  if (session) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let url = root ? path.slice(1) : `${API}${path}`; // relative: the page may sit under a prefix
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== "") search.set(name, String(value));
  }
  if ([...search].length) url += `?${search}`;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, "network", "the server cannot be reached");
  }
  if (response.status === 401 && session) {
    unauthorized();
  }
  if (!response.ok) {
    let code = `http_${response.status}`;
    let message = response.statusText || "request failed";
    try {
      const answer = await response.json();
      code = answer?.error?.code ?? code;
      message = answer?.error?.message ?? message;
    } catch {
      // not our JSON error shape: keep the status line
    }
    throw new ApiError(response.status, code, message);
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") ?? "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, options) => request("GET", path, options);
export const post = (path, body, options) => request("POST", path, { ...options, body });

/** End the session and show the login page with the reason (once, however many calls fail). */
export function unauthorized(message = EXPIRED) {
  if (!currentSession()) return;
  endSession(message);
  window.dispatchEvent(new CustomEvent("orchestrade:logout"));
}

/** A sentence for an error, for a panel or a toast. */
export function describe(error) {
  if (error instanceof NotAvailable) return "Not available on this server.";
  if (error instanceof ApiError) return error.message;
  return String(error?.message ?? error);
}
