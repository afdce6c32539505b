"""The only layer that talks to a Kubernetes API (through kubernetes_asyncio).

``connecting`` picks the cluster and opens the :class:`~.client.ClusterClient`, the one
object that makes requests, owns discovery and the REST mapping, and raises only the errors
of ``errors``; ``listwatching`` lists and watches one resource as raw JSON; ``reflecting``
keeps a sink equal to the cluster (list, watch, relist on 410, backoff with jitter, read
timeouts); ``informing`` runs the reflectors of a set of resources for the registry or a
controller, ``raw`` keeps the raw objects a controller needs; ``writing`` is the registry's
write port (domain kinds and errors); ``recording`` writes Kubernetes Events about objects for
controllers, after ``correlating`` (client-go's counting, aggregation and rate limit).
"""
