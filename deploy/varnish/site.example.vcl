vcl 4.1;
# An example site VCL for the code-list service (api.md "Shared caches and CDNs").
# Run:  varnishd -a :6081 -f /etc/varnish/site.vcl -s malloc,64m
# The site owns the backends, their health probe, the director and the purge ACL; the shipped
# codelists.vcl is included after this file's vcl_recv and relies on all four.

import directors;

probe codelists_ready {
    .url = "/health/ready";
    .interval = 1s;
    .timeout = 1s;
    .window = 3;
    .threshold = 2;
    .initial = 2;
}

backend codelists_1 {
    .host = "127.0.0.1";
    .port = "8000";
    .probe = codelists_ready;
    .connect_timeout = 1s;
    .first_byte_timeout = 30s;
}

backend codelists_2 {
    .host = "127.0.0.1";
    .port = "8001";
    .probe = codelists_ready;
    .connect_timeout = 1s;
    .first_byte_timeout = 30s;
}

# The service processes send their purges from here (CODELISTS_PURGE_URLS).
acl codelists_purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_init {
    new codelists = directors.round_robin();
    codelists.add_backend(codelists_1);
    codelists.add_backend(codelists_2);
}

sub vcl_recv {
    set req.backend_hint = codelists.backend();
}

include "/etc/varnish/codelists.vcl";
