"""The Broker ingress: CloudEvents over HTTP to ``/<namespace>/<broker>``, as Knative's.

An ordinary API client of the cluster (it reads Brokers and EventTypes from a cache an
informer keeps, ``config-features`` through the API, and creates EventTypes through the API);
it never touches the control plane's storage. Modules:

- :mod:`.events`: one request → its CloudEvents (binary, structured or batch mode), or why not;
- :mod:`.naming`: the EventType name Knative derives from (broker, type, source);
- :mod:`.limits`: how many EventTypes may be auto-created, per Broker a minute and per namespace;
- :mod:`.features`: whether ``eventtype-auto-create`` is on;
- :mod:`.autocreating`: the EventTypes the events seen call for, created in the background;
- :mod:`.http`: the Starlette app; :mod:`.serving`: the uvicorn server in the embedded process.
"""
