// Relations between lists (docs/relations.md): the index, and one relation as its matrix on a
// date and version. Read with the public API; text is set as text (dom.js).
import { api } from "./api.js";
import { failure, h, moment, params, say, setHeading, show, table, withQuery } from "./dom.js";
import { choiceForm } from "./lists.js";

const relationPath = (key) => `/console/relations/${encodeURIComponent(key)}`;

/** `/console/relations`: every relation at its latest version. */
export async function renderRelations() {
  let index;
  try {
    index = await api("/v1/relations");
  } catch (error) {
    say(failure(error), { error: true });
    return;
  }
  show(
    index.relations.length
      ? table("Relationer mellem kodelister", ["Relation", "Navn", "Fra liste", "Til liste",
          "Kvalifikator", "Rækker", "Version"],
        index.relations.map((r) => [
          h("a", { href: relationPath(r.key) }, r.key), r.name, r.source_list, r.target_list,
          r.qualifier_list ?? "–", String(r.row_count), String(r.version),
        ]))
      : h("p", { class: "note" }, "Der er ingen relationer."),
  );
}

/** One cell: the allowed qualifiers ("uden" for none), "tilladt" without qualifiers, else –. */
function cell(value) {
  if (value === null) return h("span", { "aria-label": "ikke tilladt" }, "–");
  if (!value.length) return "tilladt";
  return value.map((q) => (q === "none" ? "uden" : q)).join(" ");
}

const marked = (code) => (code.selectable ? code.code : `${code.code} (kan ikke vælges)`);

/** `/console/relations/{key}`: the relation as its matrix on a date and version. */
export async function renderRelation() {
  const key = decodeURIComponent(location.pathname.split("/")[3] ?? "");
  const query = params();
  const at = query.get("at") || undefined;
  const version = query.get("version") || undefined;
  let matrix;
  let relation;
  try {
    const base = `/v1/relations/${encodeURIComponent(key)}`;
    [matrix, relation] = await Promise.all([
      api(`${base}/matrix`, { query: { at, version } }),
      api(base, { query: { at, version } }),
    ]);
  } catch (error) {
    show(h("p", {}, h("a", { href: "/console/relations" }, "Alle relationer")));
    say(failure(error), { error: true });
    return;
  }
  setHeading(`${relation.name} (${relation.key})`);
  const sources = matrix.sources;
  show(
    choiceForm(relationPath(key), matrix.at, version),
    relation.description ? h("p", { class: "description" }, relation.description) : null,
    relation.source ? h("p", { class: "note" }, `Kilde: ${relation.source}`) : null,
    h("section", { "aria-labelledby": "matrix" },
      h("h2", { id: "matrix" }, "Matrix"),
      h("p", {}, `Version ${matrix.version}, udgivet `, moment(relation.published_at),
        `; rækker i kraft ${matrix.at}. ${matrix.source_list} nedad, ${matrix.target_list} `
        + `henad${matrix.qualifier_list ? `; cellerne viser tilladte ${matrix.qualifier_list}` : ""}`
        + " (uden: tilladt uden). – : ikke tilladt."),
      table(`${relation.name} på ${matrix.at}`,
        [`${matrix.source_list} \\ ${matrix.target_list}`, ...matrix.targets.map(marked)],
        sources.map((source, i) => [marked(source), ...matrix.cells[i].map(cell)]),
        { className: "matrix" })),
    h("p", {}, h("a", { href: withQuery("/console/relations", {}) }, "Alle relationer")),
  );
}
