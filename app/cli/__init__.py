"""The ``codelists`` command (api.md "Running")."""
