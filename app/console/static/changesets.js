// Signed-in pages: change sets by status, and one change set's plan as a readable diff with the
// review actions (api.md "Admin endpoints", "Review, approval and scheduling").
import { api } from "./api.js";
import {
  FIELD_WORDS,
  STATUS_WORDS,
  failure,
  h,
  moment,
  params,
  plain,
  say,
  setHeading,
  show,
  statusBadge,
  table,
  withQuery,
} from "./dom.js";

const changeSetPath = (id) => `/console/changesets/${encodeURIComponent(id)}`;
const adminPath = (id) => `/v1/admin/changesets/${encodeURIComponent(id)}`;
const OPEN = new Set(["planned", "approved", "scheduled"]);

export function signInFirst(what) {
  show(h("p", { class: "note" }, `Log ind med en token (feltet Token øverst) for at se ${what}.`));
}

/** `/console/changesets`: every change set, newest first, optionally of one status. */
export async function renderChangeSets(session) {
  if (!session.who) return signInFirst("ændringssæt");
  const status = params().get("status") || undefined;
  const form = h("form", { class: "choice", method: "get", action: "/console/changesets",
    "aria-label": "Filter" },
    h("div", { class: "field" }, h("label", { for: "status" }, "Status"),
      h("select", { id: "status", name: "status" },
        h("option", { value: "", selected: !status }, "Alle"),
        Object.entries(STATUS_WORDS).map(([value, word]) =>
          h("option", { value, selected: value === status }, word)))),
    h("button", { type: "submit" }, "Vis"));
  let answer;
  try {
    answer = await api("/v1/admin/changesets", { query: { status } });
  } catch (error) {
    show(form);
    say(failure(error), { error: true });
    return;
  }
  const rows = answer.changesets.map((changeSet) => [
    h("a", { href: changeSetPath(changeSet.id) }, changeSet.id),
    statusBadge(changeSet.status),
    plain(changeSet.release),
    changeSet.reason,
    changeSet.author,
    moment(changeSet.created_at),
    changeSet.status === "scheduled" ? moment(changeSet.publish_at) : moment(changeSet.published_at),
  ]);
  const caption = status ? `Ændringssæt med status ${STATUS_WORDS[status] ?? status}` : "Alle ændringssæt";
  show(
    form,
    rows.length
      ? table(`${caption}, nyeste først`,
          ["Id", "Status", "Udgivelse", "Begrundelse", "Forfatter", "Oprettet", "Udgivet/udgives"],
          rows)
      : h("p", { class: "note" }, `Ingen ændringssæt${status ? ` med status ${STATUS_WORDS[status] ?? status}` : ""}.`),
  );
}

/** One field's change: "gyldig til: 2025-07-01 → –", with words for screen readers. */
function fieldChange(field, change) {
  return h("li", {},
    h("span", { class: "field-name" }, FIELD_WORDS[field] ?? field), ": ",
    h("span", { class: "visually-hidden" }, "fra "),
    h("del", {}, plain(change.from)),
    h("span", { "aria-hidden": "true", class: "arrow" }, " → "),
    h("span", { class: "visually-hidden" }, " til "),
    h("ins", {}, plain(change.to)));
}

function changeTable(caption, changes, className) {
  return table(caption, ["Kode", "Navn", "Ændringer"],
    changes.map((change) => [
      change.code,
      change.name,
      h("ul", { class: "changes" },
        Object.entries(change.fields).map(([field, diff]) => fieldChange(field, diff))),
    ]), { className });
}

function planSection(key, plan) {
  const id = `plan-${key}`;
  const title = plan.created
    ? `${key}: ny liste, version ${plan.new_version}`
    : `${key}: version ${plan.base_version} → ${plan.new_version}`;
  const parts = [];
  const listFields = Object.entries(plan.list_fields ?? {});
  if (listFields.length) {
    parts.push(h("h4", {}, "Listens felter"),
      h("ul", { class: "changes" }, listFields.map(([field, diff]) => fieldChange(field, diff))));
  }
  if (plan.added.length) {
    parts.push(h("h4", {}, `Nye værdier (${plan.added.length})`),
      table(`Nye værdier i ${key}`, ["Kode", "Navn", "Gyldig fra", "Gyldig til", "Aktiv"],
        plan.added.map((value) => [value.code, value.name, plain(value.valid_from),
          plain(value.valid_to), plain(value.active)]), { className: "added" }));
  }
  if (plan.changed.length) {
    parts.push(h("h4", {}, `Ændrede værdier (${plan.changed.length})`),
      changeTable(`Ændrede værdier i ${key}`, plan.changed, "changed"));
  }
  if (plan.deactivated.length) {
    parts.push(h("h4", {}, `Deaktiveringer (${plan.deactivated.length})`),
      changeTable(`Værdier der deaktiveres i ${key}`, plan.deactivated, "deactivated"));
  }
  if (plan.reactivated.length) {
    parts.push(h("h4", {}, `Genaktiveringer (${plan.reactivated.length})`),
      changeTable(`Værdier der genaktiveres i ${key}`, plan.reactivated, "reactivated"));
  }
  if (!parts.length) parts.push(h("p", {}, "Ingen ændringer i denne liste."));
  return h("section", { "aria-labelledby": id, class: "plan" }, h("h3", { id }, title), parts);
}

function facts(changeSet) {
  const rows = [
    ["Status", statusBadge(changeSet.status)],
    ["Udgivelse", plain(changeSet.release)],
    ["Begrundelse", changeSet.reason],
    ["Reference", plain(changeSet.reference)],
    ["Forfatter", changeSet.author],
    ["Oprettet", moment(changeSet.created_at)],
    ["Godkendt af", plain(changeSet.approved_by)],
    ["Udgives", moment(changeSet.publish_at)],
    ["Udgivet", moment(changeSet.published_at)],
  ];
  if (changeSet.failure) rows.push(["Fejl", changeSet.failure]);
  if (changeSet.versions && Object.keys(changeSet.versions).length) {
    rows.push(["Nye versioner", Object.entries(changeSet.versions)
      .map(([key, version]) => `${key} v${version}`).join(", ")]);
  }
  return h("dl", { class: "facts" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

/** What the signed-in person may do with this change set: the buttons to offer. */
function offered(who, changeSet) {
  const scopes = new Set(who?.scopes ?? []);
  const open = OPEN.has(changeSet.status);
  return {
    // Four eyes: never on one's own change set (the API would answer 403).
    approve: open && changeSet.status === "planned" && scopes.has("approve") &&
      who.name !== changeSet.author,
    reject: (open || changeSet.status === "failed") && scopes.has("approve"),
    // Where approval is required a planned change set cannot be published yet (409).
    publish: open && scopes.has("admin") &&
      (changeSet.status !== "planned" || document.body.dataset.requireApproval !== "true"),
  };
}

const ACTIONS = {
  approve: { label: "Godkend", done: "Ændringssættet er godkendt." },
  reject: { label: "Afvis", done: "Ændringssættet er afvist." },
  publish: { label: "Udgiv", done: "Ændringssættet er udgivet." },
};

function reviewForm(session, changeSet) {
  const may = offered(session.who, changeSet);
  const buttons = Object.entries(ACTIONS)
    .filter(([action]) => may[action])
    .map(([action, { label }]) =>
      h("button", { type: "submit", name: "action", value: action, class: `action-${action}` },
        label));
  const notes = [];
  if (changeSet.status === "planned" && session.who.name === changeSet.author) {
    notes.push("Du har selv indsendt dette ændringssæt; en anden skal godkende det.");
  }
  if (!OPEN.has(changeSet.status) && !buttons.length) {
    notes.push(`Ændringssættet er ${STATUS_WORDS[changeSet.status] ?? changeSet.status}; der er intet at gøre.`);
  } else if (!buttons.length && !notes.length) {
    notes.push("Din token giver ikke lov til at behandle ændringssættet.");
  }
  const form = h("form", { id: "review", class: "review", novalidate: true },
    notes.map((text) => h("p", { class: "note" }, text)),
    buttons.length
      ? h("div", { class: "field" }, h("label", { for: "comment" }, "Kommentar"),
          h("textarea", { id: "comment", name: "comment", rows: 3, "aria-describedby": "comment-hint" }),
          h("span", { id: "comment-hint", class: "hint" }, "Skal udfyldes, når du afviser."))
      : null,
    buttons.length ? h("div", { class: "buttons" }, buttons) : null);
  form.addEventListener("submit", (event) => act(event, session, changeSet));
  return h("section", { "aria-labelledby": "behandling", class: "actions" },
    h("h2", { id: "behandling" }, "Behandling"), form);
}

async function act(event, session, changeSet) {
  event.preventDefault();
  const form = event.currentTarget;
  const action = event.submitter?.value;
  if (!ACTIONS[action]) return;
  const field = form.querySelector("#comment");
  const comment = field?.value.trim() ?? "";
  if (action === "reject" && !comment) {
    field.setAttribute("aria-invalid", "true");
    say("Skriv i feltet Kommentar, hvorfor ændringssættet afvises.", { error: true });
    field.focus();
    return;
  }
  field?.removeAttribute("aria-invalid");
  const buttons = [...form.querySelectorAll("button")];
  buttons.forEach((button) => { button.disabled = true; });
  form.setAttribute("aria-busy", "true");
  try {
    const body = action === "publish" ? undefined : (comment ? { comment } : {});
    await api(`${adminPath(changeSet.id)}/${action}`, { method: "POST", body });
  } catch (error) {
    buttons.forEach((button) => { button.disabled = false; });
    form.removeAttribute("aria-busy");
    say(failure(error), { error: true });
    return;
  }
  await renderChangeSet(session);
  say(ACTIONS[action].done);
  document.getElementById("heading").focus();
}

/** `/console/changesets/{id}`: facts, the plan as a diff, and the review actions. */
export async function renderChangeSet(session) {
  const id = decodeURIComponent(location.pathname.split("/")[3] ?? "");
  if (!session.who) return signInFirst(`ændringssættet ${id}`);
  let changeSet;
  try {
    changeSet = await api(adminPath(id));
  } catch (error) {
    show(h("p", {}, h("a", { href: "/console/changesets" }, "Alle ændringssæt")));
    say(failure(error), { error: true });
    return;
  }
  setHeading(`Ændringssæt ${changeSet.id}`);
  const lists = Object.entries(changeSet.plan?.lists ?? {});
  show(
    facts(changeSet),
    h("section", { "aria-labelledby": "plan", class: "plan-all" },
      h("h2", { id: "plan" }, "Plan"),
      h("p", {}, lists.length
        ? `Ændringssættet ændrer ${lists.length} ${lists.length === 1 ? "liste" : "lister"}. `
          + "Gammel værdi er overstreget, ny værdi understreget."
        : "Planen ændrer ingenting."),
      lists.map(([key, plan]) => planSection(key, plan))),
    reviewForm(session, changeSet),
    h("p", {}, h("a", { href: withQuery("/console/changesets", {}) }, "Alle ændringssæt")),
  );
}
