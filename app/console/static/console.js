// The console's entry point: signing in and out, then the page named by <body data-page>.
import { api, setToken, token } from "./api.js";
import { failure, say } from "./dom.js";
import { renderAudit } from "./audit.js";
import { renderChangeSet, renderChangeSets } from "./changesets.js";
import { renderList, renderLists } from "./lists.js";

const PAGES = {
  lists: renderLists,
  list: renderList,
  changesets: renderChangeSets,
  changeset: renderChangeSet,
  audit: renderAudit,
};

/** Who is signed in: `{name, scopes}` from GET /v1/admin/whoami, or null. */
export const session = { who: null };

const SCOPE_WORDS = { read: "læse", sync: "synkronisere", admin: "administrere", approve: "godkende" };

function showSession() {
  const signedIn = session.who !== null;
  document.getElementById("signin").hidden = signedIn;
  document.getElementById("signedin").hidden = !signedIn;
  if (signedIn) {
    const scopes = session.who.scopes.map((scope) => SCOPE_WORDS[scope] ?? scope).join(", ");
    document.getElementById("who").textContent =
      `Logget ind som ${session.who.name} (må ${scopes || "intet"})`;
  }
}

async function loadSession() {
  if (!token()) {
    session.who = null;
    return;
  }
  try {
    session.who = await api("/v1/admin/whoami");
  } catch (error) {
    session.who = null;
    if (error.status === 401) {
      setToken(null);
      say("Din token blev ikke godkendt; log ind igen.", { error: true });
    } else {
      say(failure(error), { error: true });
    }
  }
}

async function render() {
  const page = PAGES[document.body.dataset.page];
  if (page) await page(session);
}

async function signIn(event) {
  event.preventDefault();
  const field = document.getElementById("token");
  const value = field.value.trim();
  field.value = ""; // the token is not left lying in the form
  if (!value) {
    say("Skriv din token i feltet Token.", { error: true });
    field.focus();
    return;
  }
  setToken(value);
  await loadSession();
  showSession();
  if (session.who) {
    say(`Du er logget ind som ${session.who.name}.`);
    document.getElementById("signout").focus();
    await render();
  } else {
    field.focus();
  }
}

async function signOut() {
  setToken(null);
  session.who = null;
  showSession();
  say("Du er logget ud.");
  document.getElementById("token").focus();
  await render();
}

async function start() {
  document.getElementById("signin").addEventListener("submit", signIn);
  document.getElementById("signout").addEventListener("click", signOut);
  await loadSession();
  showSession();
  await render();
  document.body.dataset.ready = "true"; // for tests and scripts: the page has rendered
}

start();
