"""Pure rules, no I/O: value states on a date, change-set documents and planning (the diff),
Danish collation, the error kinds. Most tests live here."""
