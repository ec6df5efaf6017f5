// The strategies a person can pick for a bot or a backtest. The server lists them (with
// their parameters) at GET /strategies when it has that route; otherwise the names are taken
// from what the OpenAPI document gives as examples, and parameters are typed in as JSON.

import { get, hasRoute, openapi } from "./api.js";

let cached = null;

/** [{name, description, parameters: {name: {default, min, max, type, description}}}] */
export async function strategyChoices() {
  if (cached) return cached;
  if (hasRoute("GET", "/strategies")) {
    const answer = await get("/strategies");
    const items = Array.isArray(answer) ? answer : answer?.items ?? [];
    cached = items.map((item) => ({
      name: item.name,
      description: item.description ?? "",
      parameters: item.parameters ?? {},
    }));
    return cached;
  }
  cached = examples().map((name) => ({ name, description: "", parameters: null }));
  return cached;
}

/** Built-in names the OpenAPI document mentions for the `strategy` field. */
function examples() {
  const schemas = openapi().components?.schemas ?? {};
  const names = new Set();
  for (const schema of [schemas.BotIn, schemas.BacktestIn]) {
    const field = schema?.properties?.strategy;
    for (const example of field?.examples ?? []) {
      if (typeof example === "string") names.add(example);
    }
    const listed = /\(([^)]*)\)/.exec(field?.description ?? "");
    for (const name of listed?.[1]?.split(",") ?? []) {
      const trimmed = name.trim();
      if (/^[a-z][a-z0-9_]*$/.test(trimmed)) names.add(trimmed);
    }
  }
  return [...names]; // in the order the document gives them: its example first
}
