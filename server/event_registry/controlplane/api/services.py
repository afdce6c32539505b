"""What a write does to a Service beyond its schema, and the ``kubernetes`` Service.

:class:`ServiceAdmission` defaults and validates as kube-apiserver's Service registry does:
``type`` ``ClusterIP``, ``sessionAffinity`` ``None``, each port's ``protocol`` ``TCP`` and
``targetPort`` its ``port``, single-stack IPv4 families and ``internalTrafficPolicy``
``Cluster``; a cluster IP from ``10.96.0.0/12`` unless the Service is headless
(``clusterIP: None``) or an ``ExternalName``; node ports from 30000-32767 for ``NodePort`` and
``LoadBalancer``. An update that omits the allocated values keeps them; one that changes
``clusterIP`` is refused as immutable. Refusals are 422s naming the field (unknown type or
protocol, a port outside 1-65535, unnamed ports among several, no ports, an ExternalName
without ``externalName``, an address already taken).

Unlike kube-apiserver, addresses and node ports are given in order (the lowest free one),
not at random, and nothing routes to them. The ``kubernetes`` Service in ``default``
(cluster IP ``10.96.0.1``), its Endpoints and its EndpointSlice point at the control plane's
own address; they are written at every start (so they follow a changed port) rather than
reconciled continuously.
"""

from __future__ import annotations

import copy
import ipaddress
import logging
from typing import Any

from ..machinery import errors, patching
from .admission import Request
from .apiserver import ApiServer, Target
from .core import ENDPOINT_SLICES, ENDPOINTS, SERVICES

log = logging.getLogger(__name__)

SERVICE_RANGE = ipaddress.IPv4Network("10.96.0.0/12")
KUBERNETES_SERVICE_IP = "10.96.0.1"
NODE_PORTS = range(30000, 32768)
_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_PROTOCOLS = ("SCTP", "TCP", "UDP")


def _supported(values: tuple[str, ...]) -> str:
    return ", ".join(f'"{value}"' for value in values)


class ServiceAdmission:
    """Admission plugin for ``services``; reads stored Services to allocate addresses."""

    def __init__(self, api: ApiServer) -> None:
        self._api = api

    def __call__(self, request: Request) -> list[errors.Cause]:
        if request.subresource:
            return []
        spec = request.new.setdefault("spec", {})
        if not isinstance(spec, dict):
            return []
        old_spec = (request.old or {}).get("spec") or {}
        service_type = spec.setdefault("type", "ClusterIP")
        if service_type not in _TYPES:
            message = f'Unsupported value: "{service_type}": supported values: {_supported(_TYPES)}'
            return [errors.Cause("spec.type", "FieldValueNotSupported", message)]
        causes = self._port_causes(spec)
        if service_type == "ExternalName":
            if not spec.get("externalName"):
                causes.append(errors.required("spec.externalName"))
            return causes
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        causes.extend(self._cluster_ip(spec, old_spec, request.new["metadata"]))
        if not spec.get("ports") and spec.get("clusterIP") != "None":
            causes.append(errors.required("spec.ports"))
        if service_type in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
            if service_type == "LoadBalancer":
                spec.setdefault("allocateLoadBalancerNodePorts", True)
            self._node_ports(spec, old_spec)
        return causes

    def _port_causes(self, spec: dict[str, Any]) -> list[errors.Cause]:
        causes: list[errors.Cause] = []
        ports = spec.get("ports") or []
        for index, port in enumerate(ports):
            path = f"spec.ports[{index}]"
            number = port.get("port")
            if not isinstance(number, int) or not 1 <= number <= 65535:
                causes.append(
                    errors.invalid_value(
                        f"{path}.port", number, "must be between 1 and 65535, inclusive"
                    )
                )
            protocol = port.setdefault("protocol", "TCP")
            if protocol not in _PROTOCOLS:
                message = f'Unsupported value: "{protocol}": supported values: ' + _supported(
                    _PROTOCOLS
                )
                causes.append(errors.Cause(f"{path}.protocol", "FieldValueNotSupported", message))
            if len(ports) > 1 and not port.get("name"):
                causes.append(errors.required(f"{path}.name"))
            if spec.get("type") != "ExternalName" and number is not None:
                port.setdefault("targetPort", number)
        return causes

    def _taken_ips(self, metadata: dict[str, Any]) -> set[str]:
        taken: set[str] = set()
        for service in self._api.storage.items(SERVICES.key):
            meta = service["metadata"]
            if (meta["namespace"], meta["name"]) == (metadata.get("namespace"), metadata["name"]):
                continue
            taken.update((service.get("spec") or {}).get("clusterIPs") or ())
        return taken

    def _cluster_ip(
        self, spec: dict[str, Any], old_spec: dict[str, Any], metadata: dict[str, Any]
    ) -> list[errors.Cause]:
        old_ip = old_spec.get("clusterIP")
        wanted = spec.get("clusterIP") or old_ip or ""
        if old_ip and wanted != old_ip:
            return [errors.invalid_value("spec.clusterIP", wanted, "field is immutable")]
        if wanted != "None":
            taken = self._taken_ips(metadata)
            if not wanted:
                taken.add(KUBERNETES_SERVICE_IP)
                wanted = next(str(host) for host in SERVICE_RANGE.hosts() if str(host) not in taken)
            elif not old_ip:
                cause = _requested_ip_cause(wanted, taken, metadata)
                if cause is not None:
                    return [cause]
        spec["clusterIP"] = wanted
        spec["clusterIPs"] = [wanted]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        return []

    def _node_ports(self, spec: dict[str, Any], old_spec: dict[str, Any]) -> None:
        previous = {p.get("port"): p.get("nodePort") for p in old_spec.get("ports") or ()}
        taken = {
            port.get("nodePort")
            for service in self._api.storage.items(SERVICES.key)
            for port in (service.get("spec") or {}).get("ports") or ()
        }
        taken.update(port.get("nodePort") for port in spec.get("ports") or ())
        for port in spec.get("ports") or ():
            if port.get("nodePort"):
                continue
            kept = previous.get(port.get("port"))
            port["nodePort"] = kept or next(p for p in NODE_PORTS if p not in taken)
            taken.add(port["nodePort"])


def _requested_ip_cause(
    wanted: str, taken: set[str], metadata: dict[str, Any]
) -> errors.Cause | None:
    try:
        address = ipaddress.IPv4Address(wanted)
    except ValueError:
        return errors.invalid_value("spec.clusterIPs[0]", wanted, "must be a valid IP address")
    if address not in SERVICE_RANGE:
        detail = (
            f"failed to allocate IP {wanted}: the provided IP ({wanted}) is not in the valid "
            f"range. The range of valid IPs is {SERVICE_RANGE}"
        )
        return errors.invalid_value("spec.clusterIPs", [wanted], detail)
    is_kubernetes = (metadata.get("namespace"), metadata["name"]) == ("default", "kubernetes")
    reserved = wanted == KUBERNETES_SERVICE_IP and not is_kubernetes
    if wanted in taken or reserved:
        detail = f"failed to allocate IP {wanted}: provided IP is already allocated"
        return errors.invalid_value("spec.clusterIPs", [wanted], detail)
    return None


def ensure_kubernetes_service(api: ApiServer, *, host: str, port: int, scheme: str) -> None:
    """Write ``default/kubernetes`` (Service, Endpoints and EndpointSlice) pointing at
    ``host:port``."""
    port_name = scheme
    service = {
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": KUBERNETES_SERVICE_IP,
            "ports": [{"name": port_name, "port": 443, "protocol": "TCP", "targetPort": port}],
            "sessionAffinity": "None",
        },
    }
    endpoints = {
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {
                "addresses": [{"ip": host}],
                "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
            }
        ],
    }
    endpoint_slice = {
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": "kubernetes"},
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [host], "conditions": {"ready": True}}],
        "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
    }
    for resource, wanted in (
        (SERVICES, service),
        (ENDPOINTS, endpoints),
        (ENDPOINT_SLICES, endpoint_slice),
    ):
        target = Target(resource, "v1", namespace="default", name="kubernetes")
        stored = api.storage.get(resource.key, "default", "kubernetes")
        try:
            if stored is None:
                api.create(Target(resource, "v1", namespace="default"), copy.deepcopy(wanted))
            else:
                api.patch(target, patching.MERGE_PATCH, copy.deepcopy(wanted))
        except errors.ApiError as error:
            log.warning("could not write %s default/kubernetes: %s", resource.key, error)
