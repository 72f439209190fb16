"""The code-list service; see docs/architecture.md for the map of its packages."""
