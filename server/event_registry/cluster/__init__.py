"""The only layer that talks to a Kubernetes API (through kubernetes_asyncio).

``connecting`` picks and builds the API client; ``listwatching`` lists and watches one
resource as raw JSON; ``reflecting`` keeps a cache equal to the cluster (list, watch, relist
on 410, backoff with jitter, read timeouts); ``writing`` creates, patches and deletes.
"""
