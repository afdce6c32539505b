"""API machinery: pure primitives that behave, and word their errors, as kube-apiserver does.

The error tree every layer raises (:mod:`.errors`), name validation (:mod:`.names`), label and
field selectors, JSONPath and printer-column cells, structural schemas, patch application, API
URL paths and protobuf request bodies. Each module takes values and returns values: no I/O, no
storage, no event loop, no web framework.

May import: the standard library, jsonschema/jsonpatch/jsonpointer and its own modules; nothing
else of the control plane (the ``layers`` contract in pyproject.toml enforces it).
"""
