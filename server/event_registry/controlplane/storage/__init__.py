"""Storage: the durable, revisioned object store and consistent reads from it.

:mod:`.sqlite` keeps every object in SQLite behind an in-memory index, with one global,
monotonic revision and a bounded change history; :mod:`.listing` serves lists at one revision,
with selectors and continue tokens. Objects are plain dicts under a resource key: this layer
knows no schema, admission or HTTP, and it is the only one that opens SQLite.

May import: machinery/ and the standard library (the ``layers`` contract in pyproject.toml
enforces it).
"""
