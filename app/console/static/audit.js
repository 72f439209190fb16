// Signed-in page: the audit log, oldest first, a page at a time (api.md "Audit").
import { api } from "./api.js";
import { failure, h, moment, params, say, show, table, withQuery } from "./dom.js";
import { signInFirst } from "./changesets.js";

const PAGE_SIZE = 100;
const ACTION_WORDS = {
  "changeset.submitted": "ændringssæt indsendt",
  "changeset.replanned": "ændringssæt planlagt igen",
  "changeset.approved": "ændringssæt godkendt",
  "changeset.rejected": "ændringssæt afvist",
  "changeset.scheduled": "ændringssæt tidsplanlagt",
  "changeset.published": "ændringssæt udgivet",
  "changeset.failed": "ændringssæt fejlet",
  "token.created": "token oprettet",
  "token.revoked": "token tilbagekaldt",
  "subscription.created": "abonnement oprettet",
  "subscription.deleted": "abonnement slettet",
  "access.denied": "adgang nægtet",
};

function target(text) {
  const match = /^changeset:(.+)$/.exec(text ?? "");
  return match ? h("a", { href: `/console/changesets/${encodeURIComponent(match[1])}` }, text) : text;
}

function detail(value) {
  if (!value || (typeof value === "object" && !Object.keys(value).length)) return "–";
  if (typeof value !== "object") return String(value);
  return h("ul", { class: "detail" },
    Object.entries(value).map(([name, item]) =>
      h("li", {}, `${name}: ${typeof item === "object" && item !== null ? JSON.stringify(item) : item}`)));
}

/** `/console/audit?after=SEQ`: one page of entries, with a link to the next. */
export async function renderAudit(session) {
  if (!session.who) return signInFirst("revisionsloggen");
  const after = params().get("after") || undefined;
  let page;
  try {
    page = await api("/v1/admin/audit", { query: { after, limit: PAGE_SIZE } });
  } catch (error) {
    show();
    say(failure(error), { error: true });
    return;
  }
  const navigation = !after && !page.has_more ? null : h("nav", { "aria-label": "Sider i revisionsloggen", class: "pages" },
    h("ul", {},
      after ? h("li", {}, h("a", { href: "/console/audit" }, "Fra begyndelsen")) : null,
      page.has_more
        ? h("li", {}, h("a", { href: withQuery("/console/audit", { after: page.next_after }) },
            "Næste side"))
        : null));
  show(
    h("p", {}, "Loggen kan ikke ændres eller slettes. Ældste først",
      after ? `, efter nummer ${after}.` : "."),
    page.entries.length
      ? table("Revisionslog", ["Nr.", "Tidspunkt", "Aktør", "Handling", "Mål", "Detaljer"],
          page.entries.map((entry) => [
            String(entry.seq), moment(entry.at), entry.actor,
            [ACTION_WORDS[entry.action] ?? entry.action, " ", h("code", {}, entry.action)],
            target(entry.target), detail(entry.detail),
          ]))
      : h("p", { class: "note" }, "Ingen poster."),
    navigation,
  );
}
