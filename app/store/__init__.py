"""Tables, queries, the publish transaction, the change feed, tokens and secrets at rest."""
