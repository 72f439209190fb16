"""The Surrogate-Key vocabulary shared caches are told and purged by (api.md "Shared caches
and CDNs"): one definition for the answers that carry the keys and the purges that name them."""

from __future__ import annotations

ALL_KEY = "codelists"  # on every cacheable public answer: an operator's purge-all
INDEX_KEY = "index"  # on answers that depend on the set of lists
# Bytes of keys in one header line: Varnish's default limit for a header line
# (http_resp_hdr_len) is 8 KiB, and the contract runs it with no -p parameters.
KEYS_BUDGET = 4096


def list_tag(key: str) -> str:
    """The key of every answer that depends on list ``key``."""
    return f"list:{key}"
