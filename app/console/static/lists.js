// Public pages: every list on a date and version, one list with its values, a value's history
// and the list's versions (api.md "Read endpoints").
import { api } from "./api.js";
import {
  failure,
  h,
  moment,
  params,
  plain,
  say,
  setHeading,
  show,
  stateBadge,
  table,
  withQuery,
} from "./dom.js";

const listPath = (key) => `/console/lists/${encodeURIComponent(key)}`;

/** The date and version form; submitting it loads the page again with ?at= and ?version=. */
function choiceForm(action, at, version, versionField, extra = {}) {
  return h(
    "form",
    { class: "choice", method: "get", action, "aria-label": "Visning" },
    h("div", { class: "field" }, h("label", { for: "at" }, "Dato"),
      h("input", { id: "at", name: "at", type: "date", value: at ?? "" })),
    versionField ??
      h("div", { class: "field" }, h("label", { for: "version" }, "Version"),
        h("input", { id: "version", name: "version", type: "number", min: 1, inputmode: "numeric",
          value: version ?? "", "aria-describedby": "version-hint" }),
        h("span", { id: "version-hint", class: "hint" }, "Tom: seneste version")),
    Object.entries(extra).map(([name, value]) => h("input", { type: "hidden", name, value })),
    h("button", { type: "submit" }, "Vis"),
  );
}

function valueRows(key, values, at, version) {
  return values.map((value) => [
    h("a", { href: withQuery(listPath(key), { at, version, code: value.code }),
      "aria-label": `Historik for ${value.code} ${value.name}` }, value.code),
    value.name,
    stateBadge(value.state),
    plain(value.valid_from),
    plain(value.valid_to),
    plain(value.replaced_by),
  ]);
}

const VALUE_COLUMNS = ["Kode", "Navn", "Tilstand", "Gyldig fra", "Gyldig til", "Erstattet af"];

/** `/console/`: every list, each with its values and their states on the chosen date. */
export async function renderLists() {
  const query = params();
  const at = query.get("at") || undefined;
  const version = query.get("version") || undefined;
  let index;
  try {
    index = await api("/v1/codelists", { query: { at } });
  } catch (error) {
    show(choiceForm("/console/", at, version));
    say(failure(error), { error: true });
    return;
  }
  const answers = await Promise.all(
    index.codelists.map((list) =>
      api(`/v1/codelists/${encodeURIComponent(list.key)}`, { query: { at, version } }).catch(
        (error) => ({ error }),
      ),
    ),
  );
  const day = answers.find((answer) => answer.at)?.at ?? at;
  const sections = index.codelists.map((list, position) => {
    const answer = answers[position];
    const id = `liste-${list.key}`;
    const body = answer.error
      ? h("p", { class: "note" }, version ? `Listen har ingen version ${version}.`
        : failure(answer.error))
      : table(`${answer.name}, version ${answer.version}, på ${answer.at}`, VALUE_COLUMNS,
          valueRows(list.key, answer.values, at, version));
    return h("section", { "aria-labelledby": id, class: "list" },
      h("h2", { id }, h("a", { href: withQuery(listPath(list.key), { at, version }) }, list.name)),
      list.description ? h("p", { class: "description" }, list.description) : null,
      body);
  });
  show(
    choiceForm("/console/", day, version),
    h("p", {}, `Tilstande på ${day ?? "dagen i dag"}`,
      version ? `, version ${version} af hver liste.` : ", seneste version af hver liste."),
    table("Alle kodelister", ["Navn", "Nøgle", "Seneste version", "Udgivet", "Værdier"],
      index.codelists.map((list) => [
        h("a", { href: withQuery(listPath(list.key), { at, version }) }, list.name),
        list.key, list.version, moment(list.published_at), list.value_count,
      ])),
    sections,
  );
}

async function historySection(key, code, at, version) {
  let value;
  try {
    value = await api(`/v1/codelists/${encodeURIComponent(key)}/values/${encodeURIComponent(code)}`,
      { query: { at, version } });
  } catch (error) {
    return h("section", { "aria-labelledby": "historik" },
      h("h2", { id: "historik", tabindex: -1 }, `Historik for kode ${code}`),
      h("p", { class: "error" }, failure(error)));
  }
  return h("section", { "aria-labelledby": "historik", class: "history" },
    h("h2", { id: "historik", tabindex: -1 }, `Historik for ${value.code} ${value.name}`),
    h("p", {}, "Tilstand ", value.at ? `på ${value.at}: ` : ": ", stateBadge(value.state)),
    table(`Revisioner af ${value.code}, ældste først`,
      ["Version", "Ændringssæt", "Udgivet", "Navn", "Gyldig fra", "Gyldig til", "Aktiv"],
      value.history.map((entry) => [
        entry.version,
        h("a", { href: `/console/changesets/${encodeURIComponent(entry.changeset)}` },
          entry.changeset),
        moment(entry.published_at), entry.name, plain(entry.valid_from), plain(entry.valid_to),
        plain(entry.active),
      ])),
    h("p", {}, h("a", { href: withQuery(listPath(key), { at, version }) }, "Luk historikken")));
}

/** `/console/lists/{key}`: one list on a date and version, a value's history, its versions. */
export async function renderList() {
  const key = decodeURIComponent(location.pathname.split("/")[3] ?? "");
  const query = params();
  const at = query.get("at") || undefined;
  const version = query.get("version") || undefined;
  const code = query.get("code") || undefined;
  const base = `/v1/codelists/${encodeURIComponent(key)}`;
  let list;
  let versions;
  try {
    [list, versions] = await Promise.all([
      api(base, { query: { at, version } }),
      api(`${base}/versions`),
    ]);
  } catch (error) {
    show(h("p", {}, h("a", { href: "/console/" }, "Tilbage til alle kodelister")));
    say(failure(error), { error: true });
    return;
  }
  setHeading(`${list.name} (${list.key})`);
  const latest = versions.versions.at(-1)?.version;
  const versionField = h("div", { class: "field" }, h("label", { for: "version" }, "Version"),
    h("select", { id: "version", name: "version" },
      h("option", { value: "", selected: !version }, `Seneste (${latest})`),
      versions.versions.map((entry) =>
        h("option", { value: entry.version, selected: String(entry.version) === version },
          `${entry.version} (${entry.published_at.slice(0, 10)})`))));
  const history = code ? await historySection(key, code, at, version) : null;
  show(
    choiceForm(listPath(key), list.at, version, versionField),
    list.description ? h("p", { class: "description" }, list.description) : null,
    history,
    h("section", { "aria-labelledby": "vaerdier" },
      h("h2", { id: "vaerdier" }, "Værdier"),
      h("p", {}, `Version ${list.version}, udgivet `, moment(list.published_at),
        `; tilstande på ${list.at}. Vælg en kode for at se dens historik.`),
      table(`Værdier i ${list.name}`, VALUE_COLUMNS,
        valueRows(key, list.values, at, version))),
    h("section", { "aria-labelledby": "versioner" },
      h("h2", { id: "versioner" }, "Versioner"),
      table(`Versioner af ${list.name}, ældste først`,
        ["Version", "Udgivet", "Ændringssæt", "Udgivelse", "Begrundelse", "Tilføjet", "Ændret",
          "Deaktiveret"],
        versions.versions.map((entry) => [
          h("a", { href: withQuery(listPath(key), { at, version: entry.version }),
            "aria-label": `Vis version ${entry.version}` }, String(entry.version)),
          moment(entry.published_at),
          h("a", { href: `/console/changesets/${encodeURIComponent(entry.changeset)}` },
            entry.changeset),
          plain(entry.release), plain(entry.reason), plain(entry.added), plain(entry.changed),
          plain(entry.deactivated),
        ]))),
  );
  if (history) document.getElementById("historik")?.focus();
}
