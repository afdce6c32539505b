"""Core (``v1``) kinds beyond Namespaces and ConfigMaps: Secrets, Services and Endpoints, with
``discovery.k8s.io/v1`` EndpointSlices (what ``kubectl describe service`` reads).

Named, scoped and listed in discovery as kube-apiserver lists them (short names ``svc`` and
``ep``, Services in the category ``all``, every stored verb, a status subresource for
Services) and printed with kubectl's columns. Their schemas carry the fields of
``k8s.io/api/core/v1`` that a client sends, so unknown fields are pruned or refused as for
any built-in. What a write does beyond the schema lives elsewhere: a Secret's base64 data,
``stringData`` and immutability in :mod:`.secrets`, a Service's defaults and its cluster IP
in :mod:`.services`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .resources import PrinterColumn, stored_builtin
from .schema_words import (
    ANY_OBJECT,
    BOOLEAN,
    INT_OR_STRING,
    INTEGER,
    STRING,
    STRING_MAP,
    STRINGS,
    array_of,
    described,
    object_of,
)

_AGE = PrinterColumn("Age", "date", ".metadata.creationTimestamp")


SECRETS = stored_builtin(
    "",
    "secrets",
    "Secret",
    namespaced=True,
    schema=object_of(
        "Holds secret data of a certain type, base64 encoded.",
        type=described(STRING, "How data is used (Opaque by default); cannot change."),
        # base64 is checked by admission (a 400 as kube's decoder answers, not a 422)
        data=described(
            STRING_MAP,
            "The secret data, each value base64 encoded; keys are config keys "
            "([-._a-zA-Z0-9]+). At most 1 MiB in all.",
        ),
        stringData=described(
            STRING_MAP,
            "Write-only: plain-text values merged into data on write (replacing the same "
            "keys); never returned.",
        ),
        immutable=described(
            BOOLEAN, "If true, data cannot be changed any more (only the object deleted)."
        ),
    ),
    columns=(
        PrinterColumn("Type", "string", ".type"),
        PrinterColumn("Data", "integer", ".data", compute=lambda obj: len(obj.get("data") or {})),
        _AGE,
    ),
)

_SERVICE_PORT = object_of(
    name=STRING,
    # kube's schema default, which also completes the port's server-side apply key
    protocol={**STRING, "default": "TCP"},
    appProtocol=STRING,
    port=INTEGER,
    targetPort=INT_OR_STRING,
    nodePort=INTEGER,
)


def _service_ports(obj: Mapping[str, Any]) -> object:
    cells = []
    for port in (obj.get("spec") or {}).get("ports") or ():
        cell = str(port.get("port", ""))
        if port.get("nodePort"):
            cell += f":{port['nodePort']}"
        cells.append(f"{cell}/{port.get('protocol', 'TCP')}")
    return ",".join(cells) or "<none>"


def _external_ip(obj: Mapping[str, Any]) -> object:
    spec = obj.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return spec.get("externalName") or "<none>"
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ()
    found = [*(spec.get("externalIPs") or ()), *(i.get("ip") or i.get("hostname") for i in ingress)]
    if found:
        return ",".join(str(address) for address in found if address)
    return "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"


def _selector(obj: Mapping[str, Any]) -> object:
    selector = (obj.get("spec") or {}).get("selector") or {}
    return ",".join(f"{key}={value}" for key, value in sorted(selector.items())) or "<none>"


SERVICES = dataclasses.replace(
    stored_builtin(
        "",
        "services",
        "Service",
        namespaced=True,
        status=True,
        short_names=("svc",),
        categories=("all",),
        schema=object_of(
            "A named abstraction of an application running on a set of pods; on the embedded "
            "control plane nothing routes to its cluster IP.",
            spec=object_of(
                "The Service's behaviour: ports, selector, type and cluster IP.",
                ports=described(
                    {
                        **array_of(_SERVICE_PORT),
                        # as kube-apiserver's schema declares them (server-side apply)
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["port", "protocol"],
                        # strategic merge: what machinery/patching.py merges by
                        "x-kubernetes-patch-merge-key": "port",
                        "x-kubernetes-patch-strategy": "merge",
                    },
                    "The ports the Service exposes.",
                ),
                selector=described(
                    {**STRING_MAP, "x-kubernetes-map-type": "atomic"},
                    "Pods with these labels receive the Service's traffic.",
                ),
                clusterIP=described(
                    STRING, "Allocated from 10.96.0.0/12 unless None (headless); immutable."
                ),
                clusterIPs=STRINGS,
                type=described(
                    STRING, "ClusterIP (default), NodePort, LoadBalancer or ExternalName."
                ),
                externalIPs=STRINGS,
                sessionAffinity=STRING,
                sessionAffinityConfig=ANY_OBJECT,
                loadBalancerIP=STRING,
                loadBalancerSourceRanges=STRINGS,
                loadBalancerClass=STRING,
                externalName=STRING,
                externalTrafficPolicy=STRING,
                internalTrafficPolicy=STRING,
                healthCheckNodePort=INTEGER,
                publishNotReadyAddresses=BOOLEAN,
                ipFamilies=STRINGS,
                ipFamilyPolicy=STRING,
                allocateLoadBalancerNodePorts=BOOLEAN,
                trafficDistribution=STRING,
            ),
            status=object_of(
                "The observed state: load balancer ingress points and conditions.",
                loadBalancer=ANY_OBJECT,
                conditions=array_of(ANY_OBJECT),
            ),
        ),
        columns=(
            PrinterColumn("Type", "string", ".spec.type"),
            PrinterColumn(
                "Cluster-IP",
                "string",
                ".spec.clusterIP",
                compute=lambda obj: (obj.get("spec") or {}).get("clusterIP") or "<none>",
            ),
            PrinterColumn("External-IP", "string", ".status.loadBalancer", compute=_external_ip),
            PrinterColumn("Port(s)", "string", ".spec.ports", compute=_service_ports),
            _AGE,
            PrinterColumn("Selector", "string", ".spec.selector", priority=1, compute=_selector),
        ),
    ),
    generation_tracked=False,  # Services carry no metadata.generation
)


def _endpoints(obj: Mapping[str, Any]) -> object:
    found = [
        f"{address.get('ip', '')}:{port.get('port', '')}"
        for subset in obj.get("subsets") or ()
        for address in subset.get("addresses") or ()
        for port in subset.get("ports") or ({"port": ""},)
    ]
    if not found:
        return "<none>"
    shown = ",".join(found[:3])
    return shown + (f" + {len(found) - 3} more..." if len(found) > 3 else "")


_ENDPOINT_ADDRESS = object_of(ip=STRING, hostname=STRING, nodeName=STRING, targetRef=ANY_OBJECT)

ENDPOINTS = dataclasses.replace(
    stored_builtin(
        "",
        "endpoints",
        "Endpoints",
        namespaced=True,
        short_names=("ep",),
        schema=object_of(
            "The addresses and ports that implement a Service (deprecated in favour of "
            "discovery.k8s.io/v1 EndpointSlice).",
            subsets=array_of(
                object_of(
                    addresses=array_of(_ENDPOINT_ADDRESS),
                    notReadyAddresses=array_of(_ENDPOINT_ADDRESS),
                    ports=array_of(
                        object_of(name=STRING, port=INTEGER, protocol=STRING, appProtocol=STRING)
                    ),
                )
            ),
        ),
        columns=(PrinterColumn("Endpoints", "string", ".subsets", compute=_endpoints), _AGE),
    ),
    singular="endpoints",  # as kube-apiserver names it
)


def _slice_endpoints(obj: Mapping[str, Any]) -> object:
    found = [a for e in obj.get("endpoints") or () for a in e.get("addresses") or ()]
    if not found:
        return "<unset>"
    return ",".join(found[:3]) + (f" + {len(found) - 3} more..." if len(found) > 3 else "")


def _slice_ports(obj: Mapping[str, Any]) -> object:
    ports = obj.get("ports")
    if ports is None:
        return "<unset>"
    return ",".join(str(p.get("port", "")) for p in ports) or "<unset>"


ENDPOINT_SLICES = stored_builtin(
    "discovery.k8s.io",
    "endpointslices",
    "EndpointSlice",
    namespaced=True,
    schema=object_of(
        "A subset of the endpoints implementing a Service, labelled "
        "kubernetes.io/service-name with the Service's name.",
        addressType=described(STRING, "IPv4, IPv6 or FQDN."),
        endpoints=array_of(
            object_of(
                addresses=STRINGS,
                conditions=object_of(ready=BOOLEAN, serving=BOOLEAN, terminating=BOOLEAN),
                hostname=STRING,
                nodeName=STRING,
                zone=STRING,
                targetRef=ANY_OBJECT,
                hints=ANY_OBJECT,
            )
        ),
        ports=array_of(object_of(name=STRING, port=INTEGER, protocol=STRING, appProtocol=STRING)),
    ),
    columns=(
        PrinterColumn("AddressType", "string", ".addressType"),
        PrinterColumn("Ports", "string", ".ports", compute=_slice_ports),
        PrinterColumn("Endpoints", "string", ".endpoints", compute=_slice_endpoints),
        _AGE,
    ),
)

CORE_RESOURCES = (SECRETS, SERVICES, ENDPOINTS, ENDPOINT_SLICES)
