"""The reference sync client: keeps a local SQLite copy from the export and the change feed."""
