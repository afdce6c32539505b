"""Knative Eventing semantics of the embedded control plane."""
