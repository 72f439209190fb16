"""``python -m app.cli``: the ``codelists`` command."""

from app.cli.main import main

main()
