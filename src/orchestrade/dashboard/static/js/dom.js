// Building DOM nodes from data without innerHTML: every text goes in as a text node, so
// nothing the server or a user wrote can turn into markup.

/**
 * An element: h("button", {class: "primary", onclick: go}, "Start").
 * Attributes whose value is null, undefined or false are left out; `true` sets an empty
 * attribute; functions under on* names become event listeners; `dataset` takes an object.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name === "value" && !(element instanceof HTMLInputElement) && "value" in element) {
      element.value = value; // textarea, select: no value attribute to reset to
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Append children (nodes, strings, numbers, nested arrays; null and false are skipped). */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace everything inside `parent` with `children`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/**
 * A table: `columns` are {label, value: row => text or node, numeric?}; `rows` the data.
 * An empty list shows `empty` in one cell, so a person sees that it is empty, not broken.
 */
export function table({ label, columns, rows, empty = "Nothing yet.", rowKey, rowClass }) {
  const head = h("thead", {}, h("tr", {}, columns.map((column) =>
    h("th", { scope: "col", class: column.numeric ? "num" : null }, column.label))));
  const body = h("tbody");
  if (rows.length === 0) {
    body.append(h("tr", { class: "empty" }, h("td", { colspan: columns.length }, empty)));
  }
  for (const row of rows) {
    body.append(h("tr", {
      dataset: rowKey ? { key: rowKey(row) } : undefined,
      class: rowClass ? rowClass(row) : null,
    }, columns.map((column) =>
      h("td", { class: column.numeric ? "num" : null }, column.value(row)))));
  }
  return h("table", { "aria-label": label }, head, body);
}

/** A panel's notice that its data cannot be shown (role=status so it is read out). */
export function notice(text, kind = "info") {
  return h("p", { class: `notice notice-${kind}`, role: "status" }, text);
}

/**
 * Labelled figures: a <dl> of {key, label, value, css?, title?}, each pair in its own <div>
 * (valid inside a dl) so that they lay out as cards. The value's <dd> has data-figure=key.
 */
export function figures(items, attributes = {}) {
  return h("dl", { ...attributes, class: `figures ${attributes.class ?? ""}`.trim() },
    items.map((item) => h("div", { class: "figure" },
      h("dt", {}, item.label),
      h("dd", { class: item.css || null, title: item.title ?? null, dataset: { figure: item.key } },
        item.value))));
}
