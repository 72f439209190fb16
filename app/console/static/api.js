// Talking to the service's API. The token lives only in this tab's sessionStorage and travels
// only in the Authorization header of fetch() calls to this origin: never in a URL, a cookie
// or a log. Because the browser never attaches it by itself, another site cannot make a
// signed-in administrator's browser approve or publish anything (no CSRF; docs/console.md).

const TOKEN_KEY = "codelists.console.token";

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled: the console still works for public pages
  }
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An API answer that was not 2xx, with the problem details' `detail` when there is one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/**
 * Call the API: `path` is an absolute path on this origin, `query` an object of parameters
 * (empty values left out), `body` an object sent as JSON. Resolves to the decoded JSON.
 */
export async function api(path, { method = "GET", query = {}, body, anonymous = false } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  const bearer = anonymous ? null : token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit", // no ambient credential is ever sent
    cache: "no-cache", // an administrator sees what is there now
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
