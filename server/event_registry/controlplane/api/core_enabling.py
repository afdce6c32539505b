"""Switch on what the core kinds do beyond their schemas, on one :class:`ApiServer`.

Secrets are admitted by :func:`.secrets.admit_secret`, Services by
:class:`.services.ServiceAdmission` (which reads the stored Services), and the ``kubernetes``
Service with its Endpoints in ``default`` is written to point at the control plane's address,
so ``kubectl cluster-info`` and in-cluster clients find the API as on a cluster. Called once
at start, after the control plane knows its port.
"""

from __future__ import annotations

from . import core, secrets, services
from .apiserver import ApiServer


def enable(api: ApiServer, *, host: str, port: int, scheme: str) -> None:
    api.admission.register(core.SECRETS.key, secrets.admit_secret)
    api.admission.register(core.SERVICES.key, services.ServiceAdmission(api))
    services.ensure_kubernetes_service(api, host=host, port=port, scheme=scheme)
