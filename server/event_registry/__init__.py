"""Knative Event Registry: a GraphQL API over Knative Eventing's EventTypes, Brokers and Triggers.

Layers (enforced by the import-linter contracts in pyproject.toml):

- ``controlplane``: an embedded, SQLite-backed, Kubernetes-compatible API server;
- ``cli``: the ``event-registry`` console script.
"""

__version__ = "0.1.0"
