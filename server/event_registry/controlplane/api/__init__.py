"""The Kubernetes API semantics: which resources are served and what a request does to them.

Resource definitions and the catalog of served resources, version conversion, admission,
create/read/update/patch/delete with validation before any write, optimistic concurrency and
finalizers (:mod:`.apiserver`), watches (:mod:`.watching`), the garbage collector
(:mod:`.collecting`), and the discovery and OpenAPI documents. Requests arrive as a
:class:`~.apiserver.Target` plus options and answers leave as dicts or
:class:`~event_registry.controlplane.machinery.errors.ApiError`: nothing here knows HTTP.

May import: storage/ and machinery/; never http/, knative/ or the assembly in ``server`` (the
``layers`` contract in pyproject.toml enforces it).
"""
