// Short confirmations and errors after an action, read out by screen readers (the region in
// index.html is aria-live), each gone after a few seconds.

import { h } from "./dom.js";

const SHOWN_MS = 6000;

export function toast(message, kind = "info") {
  const region = document.getElementById("toasts");
  if (!region) return;
  const item = h("div", { class: `toast toast-${kind}` }, message);
  region.append(item);
  setTimeout(() => item.remove(), SHOWN_MS);
}
