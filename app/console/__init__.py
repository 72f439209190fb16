"""The administrators' console (api.md "Administrators' console"): one HTML page and its static
scripts and styles, shipped inside the package and served by ``app.api.console``."""
