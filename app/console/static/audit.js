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

const hasEntriesAfter = async (seq) =>
  (await api("/v1/admin/audit", { query: { after: seq, limit: 1 } })).entries.length > 0;

/**
 * The last entry's `seq`, found with a few one-entry reads (the API pages forwards only):
 * doubling until nothing follows, then halving the gap. About 2·log2(n) requests.
 */
async function lastSeq() {
  if (!(await hasEntriesAfter(0))) return 0;
  let low = 0; // something follows `low`
  let high = 1;
  while (await hasEntriesAfter(high)) {
    low = high;
    high *= 2;
  }
  while (high - low > 1) { // something follows `low`, nothing follows `high`
    const middle = Math.floor((low + high) / 2);
    if (await hasEntriesAfter(middle)) low = middle;
    else high = middle;
  }
  return high;
}

/**
 * `/console/audit`: the newest entries; `?after=SEQ`: the entries after SEQ. Oldest first on
 * each page, with links to the pages before and after.
 */
export async function renderAudit(session) {
  if (!session.who) return signInFirst("revisionsloggen");
  const asked = params().get("after");
  let after;
  let page;
  try {
    after = asked !== null && asked !== "" ? Number(asked) : Math.max(0, (await lastSeq()) - PAGE_SIZE);
    page = await api("/v1/admin/audit", { query: { after, limit: PAGE_SIZE } });
  } catch (error) {
    show();
    say(failure(error), { error: true });
    return;
  }
  const first = page.entries[0]?.seq ?? after + 1;
  const links = [
    first > 1 ? h("li", {}, h("a", { href: withQuery("/console/audit", { after: 0 }) }, "Første side")) : null,
    first > 1
      ? h("li", {}, h("a", { href: withQuery("/console/audit", { after: Math.max(0, first - 1 - PAGE_SIZE) }) },
          "Forrige side"))
      : null,
    page.has_more
      ? h("li", {}, h("a", { href: withQuery("/console/audit", { after: page.next_after }) }, "Næste side"))
      : null,
    page.has_more ? h("li", {}, h("a", { href: "/console/audit" }, "Nyeste")) : null,
  ].filter(Boolean);
  const navigation = links.length
    ? h("nav", { "aria-label": "Sider i revisionsloggen", class: "pages" }, h("ul", {}, links))
    : null;
  show(
    h("p", {}, "Loggen kan ikke ændres eller slettes. ",
      asked === null || asked === "" ? "De nyeste poster, ældste først." : `Poster efter nummer ${after}, ældste først.`),
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
