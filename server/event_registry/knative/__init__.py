"""Knative's own words, shared by every layer: API groups, versions, kinds, resources,
annotations, labels and feature flags (:mod:`.vocabulary`), and the conversion of EventTypes
between their API versions (:mod:`.eventtype_versions`, pure).

A leaf package: it imports nothing else of the registry (an import-linter contract says so), so
the pure domain, the cluster seam, the controllers and the embedded control plane (which
imports nothing else of the registry) can all name Knative's objects the same way. Adding a
kind is one entry here.
"""
