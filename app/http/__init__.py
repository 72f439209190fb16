"""Bytes: encoded answers with strong ETags and content codings, conditional GET, the fast path
in front of the framework, CORS."""
