"""Installation of the built-in Knative CRDs into the control plane, at every start.

:func:`install_builtin_crds` writes each CRD of :data:`.definitions.BUILTIN_CRDS` through the
ordinary API (``ApiServer.create``/``update``), so the CRDs are admitted, stored, watched and
served exactly as if a user had applied them. Each CRD it writes carries two annotations:

* ``registry.knative.dev/definitions-hash``: :data:`.definitions.DEFINITIONS_HASH` of the build
  that wrote it (marks the CRD as *ours*);
* ``registry.knative.dev/spec-hash``: SHA-256 of the canonical JSON of the ``spec`` it wrote.

The rule, for each built-in CRD, by what is stored under its name:

1. nothing: the CRD is created;
2. a CRD without ``registry.knative.dev/definitions-hash``: it belongs to the user (for
   example the real Knative CRD applied or replaced over ours) and is **left alone**, now and
   at every later start; to hand it back, delete that CRD (its objects go with it) or put the
   annotation back;
3. our CRD whose ``spec`` no longer matches its recorded ``spec-hash``: the user edited it in
   place (e.g. ``kubectl apply`` or ``kubectl edit``, which keep our annotations); it is
   **left alone** as in 2;
4. our CRD with a ``definitions-hash`` different from this build's: it is **upgraded in
   place** with ``update`` (same name, uid and stored objects; the stored ``resourceVersion``
   is the precondition), so existing objects keep being served;
5. our CRD with this build's hash: nothing is written.

:func:`install_system_namespace` creates Knative's system namespace ``knative-eventing`` (where
Broker addresses point and where ``config-features`` and ``config-br-defaults`` live) when it
does not exist; an existing one, the user's or ours, is left alone.

Guarantees: the functions are synchronous and idempotent (a second call writes nothing); it
never deletes anything; it never changes a CRD in cases 2, 3 and 5; an API error (which would be
a bug in the definitions) propagates unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from typing import Any

from ...knative.vocabulary import REGISTRY_DEFINITIONS_HASH_ANNOTATION as HASH_ANNOTATION
from ...knative.vocabulary import REGISTRY_SPEC_HASH_ANNOTATION as SPEC_HASH_ANNOTATION
from ...knative.vocabulary import SYSTEM_NAMESPACE
from ..api.apiserver import ApiServer, Target
from ..api.resources import CUSTOM_RESOURCE_DEFINITIONS, NAMESPACES
from .definitions import BUILTIN_CRDS, DEFINITIONS_HASH, canonical_json

__all__ = [
    "HASH_ANNOTATION",
    "SPEC_HASH_ANNOTATION",
    "install_builtin_crds",
    "install_system_namespace",
    "spec_hash",
]

log = logging.getLogger(__name__)


def spec_hash(crd: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a CRD's ``spec``."""
    return hashlib.sha256(canonical_json(crd.get("spec")).encode()).hexdigest()


def _desired(crd: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a built-in CRD with the ownership annotations set."""
    desired = copy.deepcopy(crd)
    annotations = desired["metadata"].setdefault("annotations", {})
    annotations[HASH_ANNOTATION] = DEFINITIONS_HASH
    annotations[SPEC_HASH_ANNOTATION] = spec_hash(desired)
    return desired


def install_builtin_crds(api: ApiServer) -> None:
    """Create missing built-in CRDs and upgrade ours from older builds (see module doc)."""
    for crd in BUILTIN_CRDS:
        name = crd["metadata"]["name"]
        stored = api.storage.get(CUSTOM_RESOURCE_DEFINITIONS.key, "", name)
        if stored is None:
            api.create(Target(CUSTOM_RESOURCE_DEFINITIONS, "v1"), _desired(crd))
            log.info("installed CRD %s", name)
            continue
        annotations = stored["metadata"].get("annotations") or {}
        recorded = annotations.get(HASH_ANNOTATION)
        if recorded is None:
            log.info("CRD %s was applied by a user; leaving it alone", name)
            continue
        recorded_spec = annotations.get(SPEC_HASH_ANNOTATION)
        if recorded_spec is not None and recorded_spec != spec_hash(stored):
            log.info("CRD %s was edited by a user; leaving it alone", name)
            continue
        if recorded == DEFINITIONS_HASH:
            continue
        desired = _desired(crd)
        desired["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        api.update(Target(CUSTOM_RESOURCE_DEFINITIONS, "v1", name=name), desired)
        log.info("upgraded CRD %s", name)


def install_system_namespace(api: ApiServer) -> None:
    """Create ``knative-eventing`` unless a Namespace of that name is stored."""
    if api.storage.get(NAMESPACES.key, "", SYSTEM_NAMESPACE) is None:
        api.create(Target(NAMESPACES, "v1"), {"metadata": {"name": SYSTEM_NAMESPACE}})
        log.info("created namespace %s", SYSTEM_NAMESPACE)
