"""Settings of ``event-registry serve``: one frozen dataclass made of small groups."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..cluster.connecting import ClusterOption
from ..graphql.limits import QueryLimits
from ..ingress.limits import IngressSettings
from .auth.kubernetes import KubernetesAuthSettings
from .budgets import BudgetSettings
from .limits import RequestLimits
from .live.connection import LiveSettings
from .origins import OriginPolicy


@dataclass(frozen=True)
class ClusterSettings:
    kubeconfig: Path | None = None
    context: str | None = None
    cluster: ClusterOption = "auto"


@dataclass(frozen=True)
class EmbeddedSettings:
    controlplane_port: int = 8001
    history_limit: int = 100_000
    ingress: IngressSettings = field(default_factory=IngressSettings)
    """The Broker ingress served next to the controllers (port 8002 on loopback)."""


@dataclass(frozen=True)
class AuthSettings:
    tokens_file: Path | None = None
    """When set, ``tokens`` mode; otherwise ``open`` (development) mode."""
    kubernetes: KubernetesAuthSettings | None = None
    """When set, ``kubernetes`` mode: the cluster's TokenReviews, SubjectAccessReviews and
    RBAC decide (``--auth=kubernetes``, see app/auth/kubernetes.py)."""

    @property
    def mode(self) -> str:
        if self.kubernetes is not None:
            return "kubernetes"
        return "tokens" if self.tokens_file is not None else "open"


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    embedded: EmbeddedSettings = field(default_factory=EmbeddedSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    live: LiveSettings = field(default_factory=LiveSettings)
    limits: RequestLimits = field(default_factory=RequestLimits)
    query_limits: QueryLimits = field(default_factory=QueryLimits)
    """Query cost and response size of each operation (see graphql/limits.py)."""
    budgets: BudgetSettings = field(default_factory=BudgetSettings)
    origins: OriginPolicy = field(default_factory=OriginPolicy)
    hub_history: int = 10_000
    """Changes kept for subscriptions resuming with ``since``."""
    cursor_key_file: Path | None = None
    """A secret sealing subscription cursors, for processes that must open each other's
    cursors; by default a random key per process."""
    resume_wait: float = 2.0
    """How long a subscription resuming with ``since`` waits for changes its cursor names
    that this process has not applied yet (another replica's cursor) before RESYNC_REQUIRED."""
    drain_timeout: float = 10.0
    """On SIGTERM: how long in-flight requests may take to finish after every WebSocket was
    closed with 1001 (going away), before the process exits anyway."""
    completed_objects: int = 200_000
    """Completed objects kept between queries as JSON (0: complete every object every time)."""
    mutation_timeout: float = 10.0
    workers: int = 1
    """Processes serving the port (``--workers``); more than one: see app/workers.py."""
