"""An embedded, SQLite-backed, Kubernetes-compatible API server (see ``server.ControlPlane``)."""
