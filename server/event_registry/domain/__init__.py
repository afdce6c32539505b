"""The registry's domain: pure models and rules, no I/O, no asyncio, no GraphQL, no client.

``models`` are immutable values; ``normalizing`` turns raw Kubernetes objects of every served
Knative version into them; ``readiness`` derives ``ready`` and ``consumable``; ``matching``
decides which Triggers consume which EventTypes.
"""
