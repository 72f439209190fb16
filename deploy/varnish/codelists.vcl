# Code-list service behind Varnish 7.1 with varnish-modules (xkey): api.md "Shared caches and
# CDNs". Include this file from a site VCL after the site's own vcl_recv (see
# site.example.vcl); the site declares the backends, their probe, the director `codelists`,
# the ACL `codelists_purgers`, and sets req.backend_hint. Nothing here touches those.
#
# What the service sends and what this file does with it:
#   Cache-Control: public, max-age=M, s-maxage=S, stale-if-error=86400, ...
#       kept S seconds (Varnish prefers s-maxage to max-age by itself); then kept another
#       86400 s, served only while the service cannot answer (stale-if-error).
#   Cache-Control: private / no-store, or a 401      never stored.
#   Surrogate-Key: codelists list:<key> index        indexed with xkey; PURGE by key drops them.
# Requests for /v1/admin/... and the change feed /v1/changes are passed straight through.

import std;
import xkey;

sub vcl_recv {
    # Purges: `PURGE /` with `Surrogate-Key: k1 k2 ...` drops every object carrying any of
    # those keys (hard purge: nothing of the previous publish is kept, not even as stale).
    if (req.method == "PURGE") {
        if (client.ip !~ codelists_purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.Surrogate-Key) {
            set req.http.X-Codelists-Purged = xkey.purge(req.http.Surrogate-Key);
            return (synth(200, "Purged"));
        }
        return (purge);
    }
    unset req.http.X-Codelists-Pass;
    unset req.http.X-Codelists-Attempt;
    if (req.method != "GET" && req.method != "HEAD") {
        set req.http.X-Codelists-Pass = "1";
        return (pass);
    }
    # Administration, the change feed (long polls, per-reader positions), health and metrics
    # are never answered from the cache.
    if (req.url ~ "^/(v1/admin|v1/changes|health|metrics)([/?]|$)") {
        set req.http.X-Codelists-Pass = "1";
        return (pass);
    }
    # Token-protected reads are for their requester only; the service marks them private,
    # and they are never looked up either.
    if (req.http.Authorization) {
        set req.http.X-Codelists-Pass = "1";
        return (pass);
    }
    # Public reads never depend on cookies; dropping them keeps one object per URL.
    if (req.url ~ "^/(v1|components)/") {
        unset req.http.Cookie;
    }

    # Accept-Encoding normalised to the coding the service would choose (brotli, then gzip,
    # else identity; q=0 in any letter case means not acceptable). Varnish itself rewrites
    # Accept-Encoding to "gzip" or nothing after vcl_recv, so the choice travels in
    # X-Codelists-AE: vcl_hash keeps one object per coding (at most three per URL) and
    # vcl_backend_fetch asks the service for exactly that coding. A restart keeps the choice.
    # The values browsers and HTTP libraries send are compared exactly first (a string
    # comparison per value); the full parse, six case-insensitive regular expressions, is only
    # for the rest, so the common request pays for none of them.
    if (req.restarts == 0) {
        set req.http.X-Codelists-AE = "identity";
        if (!req.http.Accept-Encoding || req.http.Accept-Encoding == "identity") {
            # (identity: nothing to match)
        } elsif (req.http.Accept-Encoding == "gzip, deflate, br, zstd"
            || req.http.Accept-Encoding == "gzip, deflate, br"
            || req.http.Accept-Encoding == "br"
            || req.http.Accept-Encoding == "deflate, gzip, br, zstd"
            || req.http.Accept-Encoding == "br, gzip") {
            set req.http.X-Codelists-AE = "br";
        } elsif (req.http.Accept-Encoding == "gzip"
            || req.http.Accept-Encoding == "gzip, deflate"
            || req.http.Accept-Encoding == "deflate, gzip"
            || req.http.Accept-Encoding == "gzip,deflate") {
            set req.http.X-Codelists-AE = "gzip";
        } elsif (req.http.Accept-Encoding ~ "(?i)(^|,)\s*br\s*(;\s*q\s*=\s*(1|0?\.0*[1-9])[^,]*)?\s*(,|$)"
            || (req.http.Accept-Encoding !~ "(?i)(^|,)\s*br\s*(;|,|$)"
                && req.http.Accept-Encoding ~ "(?i)(^|,)\s*\*\s*(;\s*q\s*=\s*(1|0?\.0*[1-9])[^,]*)?\s*(,|$)")) {
            set req.http.X-Codelists-AE = "br";
        } elsif (req.http.Accept-Encoding ~ "(?i)(^|,)\s*(x-)?gzip\s*(;\s*q\s*=\s*(1|0?\.0*[1-9])[^,]*)?\s*(,|$)"
            || (req.http.Accept-Encoding !~ "(?i)(^|,)\s*(x-)?gzip\s*(;|,|$)"
                && req.http.Accept-Encoding ~ "(?i)(^|,)\s*\*\s*(;\s*q\s*=\s*(1|0?\.0*[1-9])[^,]*)?\s*(,|$)")) {
            set req.http.X-Codelists-AE = "gzip";
        }
    }

    # A stored answer is served past its freshness only when the service cannot answer: the
    # first attempt takes no grace (so no answer of yesterday is handed out after a
    # state-change midnight while the service is up); a failed fetch restarts the request
    # (vcl_deliver) with the full stale-if-error allowance.
    if (req.restarts == 0) {
        set req.grace = 0s;
        set req.http.X-Codelists-Attempt = "first";
    } else {
        set req.grace = 86400s;
        set req.http.X-Codelists-Attempt = "stale-if-error";
    }
    return (hash);
}

sub vcl_hash {
    if (req.http.X-Codelists-AE) {
        hash_data(req.http.X-Codelists-AE);
    }
    # (no return: the built-in vcl_hash adds the URL and host)
}

sub vcl_backend_fetch {
    # Varnish asks backends for gzip whatever the client said; ask for what the client gets,
    # so brotli and identity answers keep their own strong ETags.
    if (bereq.http.X-Codelists-AE == "identity") {
        unset bereq.http.Accept-Encoding;
    } elsif (bereq.http.X-Codelists-AE) {
        set bereq.http.Accept-Encoding = bereq.http.X-Codelists-AE;
    }
    unset bereq.http.X-Codelists-AE;
    unset bereq.http.X-Codelists-Pass;
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        return (deliver);
    }
    # The service failing: never store the error, and leave the stale object alone. A
    # background refresh gives up quietly; a first attempt gives up too, and vcl_synth
    # restarts the request to take the stale object; with none, the error is delivered.
    if (beresp.status >= 500) {
        if (bereq.is_bgfetch || bereq.http.X-Codelists-Attempt == "first") {
            return (abandon);
        }
        set beresp.ttl = 0s;
        set beresp.grace = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    if (beresp.status == 401 || beresp.http.Cache-Control ~ "(?i)(private|no-store|no-cache)"
        || beresp.http.Set-Cookie) {
        # Hit-for-miss: only a marker is kept, never the answer.
        set beresp.ttl = 10s;
        set beresp.grace = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    if (beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }
    # The service counts s-maxage from when it made the answer (ending it at a state-change
    # midnight at the latest), Varnish from when the answer arrived: a second less keeps the
    # transit time from carrying yesterday's answer past midnight.
    # (Never 0: Varnish never looks up an object of TTL 0, not even as a stale copy.)
    if (beresp.ttl > 1s) {
        set beresp.ttl = beresp.ttl - 1s;
    } else {
        set beresp.ttl = 1ms;
    }
    # stale-if-error: kept this long past its TTL, served only when a fetch fails.
    if (beresp.http.Cache-Control ~ "(?i)stale-if-error\s*=\s*[0-9]+") {
        set beresp.grace = std.duration(
            regsub(beresp.http.Cache-Control, "(?i)^.*stale-if-error\s*=\s*([0-9]+).*$", "\1s"),
            0s);
    }
    return (deliver);
}

sub vcl_backend_error {
    # The service unreachable: as for a 5xx above.
    if (bereq.is_bgfetch || bereq.http.X-Codelists-Attempt == "first") {
        return (abandon);
    }
    set beresp.ttl = 0s;
    set beresp.grace = 0s;
}

sub vcl_deliver {
    unset resp.http.xkey;
    if (req.http.X-Codelists-Pass) {
        set resp.http.X-Cache = "PASS";
    } elsif (obj.uncacheable) {
        set resp.http.X-Cache = "MISS";
    } elsif (obj.hits > 0) {
        if (obj.ttl <= 0s) {
            set resp.http.X-Cache = "HIT-STALE";
        } else {
            set resp.http.X-Cache = "HIT";
        }
    } else {
        set resp.http.X-Cache = "MISS";
    }
    unset req.http.X-Codelists-Pass;
    unset req.http.X-Codelists-Attempt;
}

sub vcl_synth {
    # A first attempt whose fetch was abandoned: again, this time taking a stale answer.
    if (req.http.X-Codelists-Attempt == "first" && resp.status == 503
        && req.method != "PURGE") {
        return (restart);
    }
    if (req.method == "PURGE" && resp.status == 200 && req.http.X-Codelists-Purged) {
        set resp.http.X-Codelists-Purged = req.http.X-Codelists-Purged;
    }
}
