"""An embedded, SQLite-backed, Kubernetes-compatible API server (see ``server.ControlPlane``).

Layers, each importing only the ones after it (an import-linter ``layers`` contract):
``server`` (assembles and runs the parts) → ``http/`` (the HTTP surface) and ``knative/``
(Knative Eventing's CRDs, admission and conversion) → ``api/`` (API semantics) → ``storage/``
(the revisioned object store) → ``machinery/`` (pure API-machinery primitives).
"""
