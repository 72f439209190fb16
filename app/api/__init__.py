"""Litestar controllers, one module per resource: thin (parse, call, encode).

Collaborators come by dependency injection under explicit names (``dependencies.py``); errors
are mapped once to problem details (``errors.py``).
"""
