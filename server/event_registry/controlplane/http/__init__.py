"""The HTTP surface: Kubernetes API paths, content types, Tables and Status errors over Starlette.

:mod:`.app` identifies and authorizes each request (through auth/), decodes requests (JSON,
YAML, protobuf, the patch types) and routes them to api/; :mod:`.tables` renders
``as=Table`` answers; :mod:`.kubeconfig` writes the file that points kubectl and client
libraries at the listening address; :mod:`.certificates` makes the CA and serving
certificate of HTTPS (on with ``--auth``). Every failure is answered as a ``Status``; nothing
below this layer imports a web framework.

May import: auth/, api/, storage/ and machinery/; never knative/ or the assembly in
``server`` (the ``layers`` contract in pyproject.toml enforces it).
"""
