"""Identity: who is behind a request's bearer token, whichever kind it is.

- ``tokens``: static tokens (``codelists token create``), stored as their SHA-256;
- ``issuers``: the trusted OAuth 2.0 / OpenID Connect issuers, from CODELISTS_OAUTH_ISSUERS;
- ``keys``: each issuer's JWKS, fetched asynchronously, cached, rotated without a restart;
- ``access_tokens``: JWT access tokens checked as RFC 9068 and RFC 8725 say (PyJWT does the
  cryptography and the registered claims);
- ``identity``: ``Identity.principal(authorization)``, the one entry used by the fast path and
  the guards; both kinds of token become the same ``Principal`` (``app.domain.principals``);
- ``metadata``: RFC 9728 protected resource metadata and the OpenAPI security schemes, both
  made from the same configuration.
"""
