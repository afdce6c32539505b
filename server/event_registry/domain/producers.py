"""Who produces an EventType's events, as far as the cluster records it (pure).

Knative leaves two marks, and nothing else: a source's reconciler registers the EventTypes
of a source whose sink is a Broker with a ``controller: true`` ownerReference to the source
(knative/eventing ``pkg/reconciler/source/duck``; the registry's own registrar does the
same); a Broker's ingress with ``eventtype-auto-create`` on creates one per new (type,
source) it accepts, owned by the Broker without ``controller`` and described as
:data:`~event_registry.knative.vocabulary.AUTO_CREATED_DESCRIPTION` (no label). An
EventType registered by hand carries neither: no producer is known, and it is not auto-created.
"""

from __future__ import annotations

from ..knative.vocabulary import AUTO_CREATED_DESCRIPTION
from . import models


def producers(event_type: models.EventType) -> tuple[models.Reference, ...]:
    """The source that registered the EventType (its controller owner, in its namespace)."""
    owner = event_type.meta.owner
    if owner is None or auto_created(event_type):
        return ()  # an auto-created EventType's owner is the Broker that carries it
    return (models.Reference(owner.api_version, owner.kind, owner.name, event_type.meta.namespace),)


def auto_created(event_type: models.EventType) -> bool:
    """Whether a Broker's ingress created the EventType from an event it accepted."""
    return event_type.description == AUTO_CREATED_DESCRIPTION
