// Building the page. Text is always set as text (never as HTML), so nothing the API returns can
// become markup or script.

/** An element: `h("a", {href: "/x", class: "c"}, "text", child, ...)`. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

export const content = () => document.getElementById("content");

/** Replace the page's content with `children`. */
export function show(...children) {
  const box = content();
  box.replaceChildren();
  append(box, children);
}

/** Say something in the polite live region (or, with `error`, the assertive one). */
export function say(text, { error = false } = {}) {
  const polite = document.getElementById("messages");
  const alerts = document.getElementById("alerts");
  polite.replaceChildren();
  alerts.replaceChildren();
  if (text) (error ? alerts : polite).append(h("p", { class: error ? "error" : "note" }, text));
}

/** The message for a failed API call, in Danish. */
export function failure(error) {
  if (error?.status === 401) return `Ikke logget ind (401): ${error.message}`;
  if (error?.status === 403) return `Ikke tilladt (403): ${error.message}`;
  if (error?.status) return `Fejl ${error.status}: ${error.message}`;
  return `Tjenesten kunne ikke nås: ${error?.message ?? error}`;
}

// api.md "Time and validity": a value's state on a date, in words.
export const STATE_WORDS = {
  selectable: "kan vælges",
  not_yet_valid: "ikke gyldig endnu",
  expired: "udløbet",
  deactivated: "deaktiveret",
  unknown: "ukendt",
};

export function stateBadge(state) {
  return h("span", { class: `badge state-${state}` }, STATE_WORDS[state] ?? state);
}

// api.md "Review, approval and scheduling": a change set's status, in words.
export const STATUS_WORDS = {
  planned: "planlagt",
  approved: "godkendt",
  scheduled: "tidsplanlagt",
  published: "udgivet",
  rejected: "afvist",
  failed: "fejlet",
};

export function statusBadge(status) {
  return h("span", { class: `badge status-${status}` }, STATUS_WORDS[status] ?? status);
}

export const FIELD_WORDS = {
  name: "navn",
  description: "beskrivelse",
  valid_from: "gyldig fra",
  valid_to: "gyldig til",
  active: "aktiv",
  sort_order: "sortering",
  parent: "overordnet",
  replaced_by: "erstattet af",
  attributes: "attributter",
};

/** A field's value as text: dates as they are, booleans in Danish, nothing as a dash. */
export function plain(value) {
  if (value === null || value === undefined || value === "") return "–";
  if (value === true) return "ja";
  if (value === false) return "nej";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "–";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A timestamp as local date and time (the browser's zone), with the exact value kept. */
export function moment(iso) {
  if (!iso) return "–";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  const text = when.toLocaleString("da-DK", { dateStyle: "medium", timeStyle: "short" });
  return h("time", { datetime: iso }, text);
}

/** A table with a caption, column headers and rows of cells (`th` for the first when asked). */
export function table(caption, headers, rows, { rowHeader = true, className } = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: className },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
      h(
        "tbody",
        {},
        rows.map((cells) =>
          h(
            "tr",
            {},
            cells.map((cell, index) =>
              index === 0 && rowHeader ? h("th", { scope: "row" }, cell) : h("td", {}, cell),
            ),
          ),
        ),
      ),
    ),
  );
}

/** The current page's query parameters, and a path with new ones (empty ones left out). */
export const params = () => new URLSearchParams(location.search);

export function withQuery(path, query) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

export function setHeading(text) {
  document.getElementById("heading").textContent = text;
  document.title = `${text} – Kodelister, administration`;
}
