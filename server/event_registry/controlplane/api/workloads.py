"""The kinds kubectl's default prune set resolves, stored as sent: nothing runs them.

``kubectl apply --prune -l <selector>`` without an allowlist maps a fixed list of kinds
(kubectl's ``prune.GetRESTMappings``) and fails if any is missing from discovery: Pods,
PersistentVolumeClaims, PersistentVolumes and ReplicationControllers (core ``v1``),
Deployments, DaemonSets, ReplicaSets and StatefulSets (``apps/v1``), Jobs and CronJobs
(``batch/v1``) and Ingresses (``networking.k8s.io/v1``), beside ConfigMaps, Secrets,
Services, Endpoints and Namespaces, served elsewhere. Each is served here with kube-apiserver's
names, short names, categories, verbs and status subresource, and kubectl's main columns, so
manifests holding them apply, list, prune and delete as on a cluster. Their ``spec`` and
``status`` are kept as sent (no schema beyond the object's shape, no defaults) and no
controller acts on them: a Deployment never gets Pods, a Pod never runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .resources import PrinterColumn, Resource, stored_builtin

_OPEN = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_SCHEMA = {
    "type": "object",
    "description": (
        "Stored as sent on the embedded control plane: no controller acts on it, and its spec "
        "and status are not checked."
    ),
    "properties": {
        "spec": {**_OPEN, "description": "The desired state, kept as sent."},
        "status": {**_OPEN, "description": "The observed state, kept as sent."},
    },
}
_AGE = PrinterColumn("Age", "date", ".metadata.creationTimestamp")

Cell = Callable[[Mapping[str, Any]], object]


def _at(*path: str, default: object = None) -> Cell:
    def cell(obj: Mapping[str, Any]) -> object:
        value: Any = obj
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        return default if value is None else value

    return cell


def _column(name: str, cell: Cell, json_path: str, kind: str = "string") -> PrinterColumn:
    return PrinterColumn(name, kind, json_path, compute=cell)


def _ready_of(total_path: tuple[str, ...]) -> Cell:
    ready, total = _at("status", "readyReplicas", default=0), _at(*total_path, default=0)
    return lambda obj: f"{ready(obj)}/{total(obj)}"


def _pod_ready(obj: Mapping[str, Any]) -> object:
    statuses = (obj.get("status") or {}).get("containerStatuses") or ()
    containers = (obj.get("spec") or {}).get("containers") or ()
    return f"{sum(1 for s in statuses if s.get('ready'))}/{len(containers)}"


def _pod_restarts(obj: Mapping[str, Any]) -> object:
    statuses = (obj.get("status") or {}).get("containerStatuses") or ()
    return sum(int(s.get("restartCount") or 0) for s in statuses)


def _access_modes(*path: str) -> Cell:
    short = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    modes = _at(*path, default=())

    def cell(obj: Mapping[str, Any]) -> object:
        found = modes(obj)
        return ",".join(short.get(str(m), str(m)) for m in found) if isinstance(found, list) else ""

    return cell


def _ingress_hosts(obj: Mapping[str, Any]) -> object:
    rules = (obj.get("spec") or {}).get("rules") or ()
    return ",".join(r.get("host") or "*" for r in rules) or "*"


def _workload(
    group: str,
    plural: str,
    kind: str,
    columns: tuple[PrinterColumn, ...],
    *,
    namespaced: bool = True,
    short_names: tuple[str, ...] = (),
    categories: tuple[str, ...] = ("all",),
) -> Resource:
    return stored_builtin(
        group,
        plural,
        kind,
        namespaced=namespaced,
        status=True,
        schema=_SCHEMA,
        columns=(*columns, _AGE),
        short_names=short_names,
        categories=categories,
        open_schema=True,
    )


_DESIRED_CURRENT_READY = (
    _column("Desired", _at("spec", "replicas", default=1), ".spec.replicas", "integer"),
    _column("Current", _at("status", "replicas", default=0), ".status.replicas", "integer"),
    _column("Ready", _at("status", "readyReplicas", default=0), ".status.readyReplicas", "integer"),
)

PODS = _workload(
    "",
    "pods",
    "Pod",
    (
        _column("Ready", _pod_ready, ".status.containerStatuses"),
        _column("Status", _at("status", "phase", default="Pending"), ".status.phase"),
        _column("Restarts", _pod_restarts, ".status.containerStatuses", "integer"),
    ),
    short_names=("po",),
)
PERSISTENT_VOLUME_CLAIMS = _workload(
    "",
    "persistentvolumeclaims",
    "PersistentVolumeClaim",
    (
        _column("Status", _at("status", "phase", default="Pending"), ".status.phase"),
        _column("Volume", _at("spec", "volumeName", default=""), ".spec.volumeName"),
        _column("Capacity", _at("status", "capacity", "storage", default=""), ".status.capacity"),
        _column("Access Modes", _access_modes("status", "accessModes"), ".status.accessModes"),
        _column("StorageClass", _at("spec", "storageClassName", default="<unset>"), ".spec"),
    ),
    short_names=("pvc",),
    categories=(),
)
PERSISTENT_VOLUMES = _workload(
    "",
    "persistentvolumes",
    "PersistentVolume",
    (
        _column("Capacity", _at("spec", "capacity", "storage", default=""), ".spec.capacity"),
        _column("Access Modes", _access_modes("spec", "accessModes"), ".spec.accessModes"),
        _column(
            "Reclaim Policy",
            _at("spec", "persistentVolumeReclaimPolicy", default="Retain"),
            ".spec.persistentVolumeReclaimPolicy",
        ),
        _column("Status", _at("status", "phase", default="Pending"), ".status.phase"),
    ),
    namespaced=False,
    short_names=("pv",),
    categories=(),
)
REPLICATION_CONTROLLERS = _workload(
    "",
    "replicationcontrollers",
    "ReplicationController",
    _DESIRED_CURRENT_READY,
    short_names=("rc",),
)
DEPLOYMENTS = _workload(
    "apps",
    "deployments",
    "Deployment",
    (
        _column("Ready", _ready_of(("spec", "replicas")), ".status.readyReplicas"),
        _column("Up-to-date", _at("status", "updatedReplicas", default=0), ".status", "integer"),
        _column("Available", _at("status", "availableReplicas", default=0), ".status", "integer"),
    ),
    short_names=("deploy",),
)
DAEMON_SETS = _workload(
    "apps",
    "daemonsets",
    "DaemonSet",
    (
        _column(
            "Desired", _at("status", "desiredNumberScheduled", default=0), ".status", "integer"
        ),
        _column(
            "Current", _at("status", "currentNumberScheduled", default=0), ".status", "integer"
        ),
        _column("Ready", _at("status", "numberReady", default=0), ".status", "integer"),
    ),
    short_names=("ds",),
)
REPLICA_SETS = _workload(
    "apps", "replicasets", "ReplicaSet", _DESIRED_CURRENT_READY, short_names=("rs",)
)
STATEFUL_SETS = _workload(
    "apps",
    "statefulsets",
    "StatefulSet",
    (_column("Ready", _ready_of(("spec", "replicas")), ".status.readyReplicas"),),
    short_names=("sts",),
)
JOBS = _workload(
    "batch",
    "jobs",
    "Job",
    (
        _column(
            "Completions",
            lambda obj: (
                f"{_at('status', 'succeeded', default=0)(obj)}"
                f"/{_at('spec', 'completions', default=1)(obj)}"
            ),
            ".status.succeeded",
        ),
    ),
)
CRON_JOBS = _workload(
    "batch",
    "cronjobs",
    "CronJob",
    (
        _column("Schedule", _at("spec", "schedule", default=""), ".spec.schedule"),
        _column("Suspend", _at("spec", "suspend", default=False), ".spec.suspend", "boolean"),
        _column(
            "Active",
            lambda obj: len((obj.get("status") or {}).get("active") or ()),
            ".status.active",
            "integer",
        ),
    ),
    short_names=("cj",),
)
INGRESSES = _workload(
    "networking.k8s.io",
    "ingresses",
    "Ingress",
    (
        _column("Class", _at("spec", "ingressClassName", default="<none>"), ".spec"),
        _column("Hosts", _ingress_hosts, ".spec.rules"),
    ),
    short_names=("ing",),
    categories=(),
)

WORKLOAD_RESOURCES = (
    PODS,
    PERSISTENT_VOLUME_CLAIMS,
    PERSISTENT_VOLUMES,
    REPLICATION_CONTROLLERS,
    DEPLOYMENTS,
    DAEMON_SETS,
    REPLICA_SETS,
    STATEFUL_SETS,
    JOBS,
    CRON_JOBS,
    INGRESSES,
)
