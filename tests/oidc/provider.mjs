// A real OpenID Provider for the tests (npm oidc-provider, OpenID certified), on 127.0.0.1.
//
// Configuration comes as JSON in the environment (OP_CONFIG): port, audience (the resource
// indicator the service expects), clientJwks (the public keys of the private_key_jwt client),
// consoleRedirectUris, accessTokenTTL. It prints "listening <issuer>" when ready.
//
// Test-only endpoints under /test/ (never in a real provider):
//   POST /test/keys    body {"keys": [private JWK, ...]}: the signing keys from now on (the
//                      first of an algorithm signs; all are published at /jwks)
//   POST /test/rotate  a new RSA key signs from now on; the old ones stay published
//   POST /test/retire  only the newest key stays published
//   POST /test/outage  body {"down": true|false}: while down every other request is dropped
//   GET  /test/stats   {"jwks": how many times /jwks was fetched}
// Changing keys builds a new Provider on the same in-memory storage: oidc-provider reads its
// keys once, when it is made.
import crypto from "node:crypto";
import http from "node:http";
import Provider, { errors } from "oidc-provider";

const config = JSON.parse(process.env.OP_CONFIG ?? "{}");
const port = config.port;
const issuer = `http://127.0.0.1:${port}`;
const scopes = ["read", "sync", "admin", "approve", "other"];

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" });
  return { ...jwk, kid: crypto.randomUUID(), alg: "RS256", use: "sig" };
}

let keys = [newKey()];
let down = false;
let jwksFetches = 0;

function makeProvider() {
  const provider = new Provider(issuer, {
    jwks: { keys },
    clients: [
      {
        client_id: "supplier",
        token_endpoint_auth_method: "private_key_jwt",
        jwks: { keys: config.clientJwks ?? [] },
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
        scope: scopes.join(" "),
      },
      {
        client_id: "console",
        token_endpoint_auth_method: "none",
        application_type: "web",
        grant_types: ["authorization_code"],
        response_types: ["code"],
        redirect_uris: config.consoleRedirectUris ?? [],
        scope: ["openid", ...scopes].join(" "),
      },
    ],
    scopes: ["openid", ...scopes],
    features: {
      devInteractions: { enabled: true }, // any login name and password: a test provider
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => config.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          if (resource !== config.audience) throw new errors.InvalidTarget();
          return {
            scope: scopes.join(" "),
            audience: config.audience,
            accessTokenFormat: "jwt",
            accessTokenTTL: config.accessTokenTTL ?? 300,
            jwt: { sign: { alg: "RS256" } },
          };
        },
      },
    },
    // The console is a first-party client: its grant is given at login, without a consent page.
    loadExistingGrant: async (ctx) => {
      const grantId =
        ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      if (ctx.oidc.client.clientId !== "console" || !ctx.oidc.session.accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({
        clientId: "console",
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope("openid");
      grant.addResourceScope(config.audience, scopes.join(" "));
      await grant.save();
      return grant;
    },
    pkce: { required: () => true },
    ttl: { AccessToken: config.accessTokenTTL ?? 300 },
  });
  provider.proxy = false;
  return provider;
}

let handler = makeProvider().callback();

function rebuild() {
  handler = makeProvider().callback();
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {};
}

function answer(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  if (path.startsWith("/test/")) {
    try {
      if (path === "/test/stats") return answer(res, 200, { jwks: jwksFetches });
      const body = await readJson(req);
      if (path === "/test/keys") keys = body.keys;
      else if (path === "/test/rotate") keys = [newKey(), ...keys];
      else if (path === "/test/retire") keys = keys.slice(0, 1);
      else if (path === "/test/outage") down = Boolean(body.down);
      else return answer(res, 404, { error: "no such test endpoint" });
      rebuild();
      return answer(res, 200, { kids: keys.map((key) => key.kid), down });
    } catch (error) {
      return answer(res, 400, { error: String(error) });
    }
  }
  if (down) {
    req.socket.destroy();
    return;
  }
  if (path === "/jwks") jwksFetches += 1;
  return handler(req, res);
});

server.listen(port, "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});
