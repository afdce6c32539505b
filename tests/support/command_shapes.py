"""Shapes of what tests send to a control plane: kubectl command lines and client operations.

A shape keeps what changes the behaviour under test and replaces what does not by
placeholders, so one row of the conformance table stands for every call of that form:
kubectl's command words and flags, with the values of ``-o``, ``--type``,
``--subresource``, ``--dry-run``, ``--validate``, ``--cascade`` and ``-f -`` (stdin) kept and
the rest as ``<ns>``, ``<selector>``, ``<name>``, ...; resource types are taken out of the
shape (``<type>``) into the row's resources, as plurals (``svc`` -> ``services``). A client
operation is its method, path template and query parameter names. Pure functions of their
arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# ----------------------------------------------------------------------------- kubectl shapes

_SUBCOMMANDS: dict[str, frozenset[str]] = {
    "create": frozenset(
        {
            "namespace",
            "configmap",
            "secret",
            "serviceaccount",
            "service",
            "token",
            "role",
            "clusterrole",
            "rolebinding",
            "clusterrolebinding",
            "deployment",
            "job",
            "cronjob",
            "ingress",
            "quota",
            "priorityclass",
            "poddisruptionbudget",
        }
    ),
    "secret": frozenset({"generic", "tls", "docker-registry"}),
    "service": frozenset({"clusterip", "nodeport", "loadbalancer", "externalname"}),
    "auth": frozenset({"can-i", "whoami", "reconcile"}),
    "config": frozenset({"view", "current-context", "use-context", "get-contexts"}),
    "cluster-info": frozenset({"dump"}),
    "apply": frozenset({"view-last-applied", "set-last-applied", "edit-last-applied"}),
    "rollout": frozenset({"status", "history", "restart", "undo"}),
}
_TYPED_COMMANDS = frozenset(
    {
        "get",
        "describe",
        "delete",
        "label",
        "annotate",
        "patch",
        "edit",
        "wait",
        "explain",
        "scale",
        "status",
        "history",
        "restart",
        "can-i",
    }
)
"""Commands (last command word) whose first positional argument names a resource type."""
_ALIASES = {
    "--namespace": "-n",
    "--output": "-o",
    "--selector": "-l",
    "--filename": "-f",
    "--patch": "-p",
    "--all-namespaces": "-A",
    "--watch": "-w",
    "--recursive": "-R",
    "--kustomize": "-k",
}
_VALUED = frozenset(
    {
        "-n",
        "-o",
        "-l",
        "-f",
        "-p",
        "-k",
        "-c",
        "--type",
        "--for",
        "--timeout",
        "--field-selector",
        "--as",
        "--as-group",
        "--as-uid",
        "--subresource",
        "--from-literal",
        "--from-file",
        "--from-env-file",
        "--tcp",
        "--clusterip",
        "--external-name",
        "--field-manager",
        "--cascade",
        "--grace-period",
        "--prune-allowlist",
        "--context",
        "--server",
        "--token",
        "--raw",
        "--duration",
        "--audience",
        "--sort-by",
        "--template",
        "--chunk-size",
        "--resource-version",
        "--verb",
        "--resource",
        "--user",
        "--group",
        "--serviceaccount",
        "--clusterrole",
        "--role",
        "--image",
        "--api-group",
        "--cert",
        "--key",
        "--docker-server",
        "--docker-username",
        "--docker-password",
        "--docker-email",
        "--type-name",
        "--request-timeout",
        "--replicas",
        "--subresources",
    }
)
_KEPT_VALUES = frozenset(
    {"-o", "--type", "--subresource", "--dry-run", "--validate", "--cascade", "--wait", "-f"}
)
"""Flags whose value changes what kubectl does, kept in the shape (``-f -`` vs a file)."""
_PLACEHOLDERS = {
    "-n": "<ns>",
    "-l": "<selector>",
    "-p": "<patch>",
    "--for": "<condition>",
    "--field-selector": "<selector>",
    "--as": "<user>",
    "--as-group": "<group>",
}


def _kept_value(flag: str, value: str) -> str:
    if flag == "-o":
        kind = re.split(r"[=]", value, maxsplit=1)[0]
        return kind if kind == value else f"{kind}=<template>"
    if flag == "-f":
        return "-" if value == "-" else "<path>"
    return value


_PLURALS = {
    "ns": "namespaces",
    "cm": "configmaps",
    "sa": "serviceaccounts",
    "svc": "services",
    "ep": "endpoints",
    "endpoints": "endpoints",
    "po": "pods",
    "pvc": "persistentvolumeclaims",
    "pv": "persistentvolumes",
    "rc": "replicationcontrollers",
    "deploy": "deployments",
    "ds": "daemonsets",
    "rs": "replicasets",
    "sts": "statefulsets",
    "cj": "cronjobs",
    "ing": "ingresses",
    "ingress": "ingresses",
    "ev": "events",
    "crd": "customresourcedefinitions",
    "crds": "customresourcedefinitions",
    "all": "all",
    "knative": "knative",  # categories
    "eventing": "eventing",
    "sources": "sources",
}


def _plural(name: str) -> str:
    name = name.lower()
    if name in _PLURALS:
        return _PLURALS[name]
    return name if name.endswith("s") else name + "s"


def _resource_types(argument: str) -> list[str]:
    """``eventtypes.v1beta2.eventing.knative.dev,svc/web`` -> ``["eventtypes", "services"]``."""
    found = []
    for part in argument.split(","):
        kind = part.split("/", 1)[0].split(".", 1)[0]
        if kind:
            found.append(_plural(kind))
    return found


@dataclass(frozen=True)
class Shape:
    text: str
    resources: tuple[str, ...]


def kubectl_shape(args: Sequence[str]) -> Shape:
    """The shape of one kubectl command line (without the kubectl binary itself)."""
    words: list[str] = []
    positionals: list[str] = []
    flags: list[str] = []
    resources: list[str] = []
    pending = list(args)
    while pending:
        token = pending.pop(0)
        if token.startswith("-") and token != "-":
            if not token.startswith("--") and len(token) > 2:  # -oyaml, -o=yaml, -nfoo
                name, has_value, value = token[:2], "=", token[2:].removeprefix("=")
            else:
                name, has_value, value = token.partition("=")
            name = _ALIASES.get(name, name)
            if name == "--kubeconfig":
                continue
            if name in _VALUED and not has_value:
                value = pending.pop(0) if pending else ""
                has_value = "="
            if not has_value:
                flags.append(name)
            elif name in _KEPT_VALUES:
                flags.append(f"{name} {_kept_value(name, value)}")
            else:
                flags.append(f"{name} {_PLACEHOLDERS.get(name, '<' + name.lstrip('-') + '>')}")
            continue
        parent = words[-1] if words else None
        if not positionals and (
            not words or (parent in _SUBCOMMANDS and token in _SUBCOMMANDS[parent])
        ):
            words.append(token)
            continue
        positionals.append(token)
    command = words[-1] if words else ""
    shaped: list[str] = []
    for index, token in enumerate(positionals):
        if command == "can-i" and index == 0:
            shaped.append(token if token == "*" else "<verb>")
        elif (index == 0 and command in _TYPED_COMMANDS and command != "can-i") or (
            command == "can-i" and index == 1
        ):
            kinds = _resource_types(token)
            resources.extend(kinds)
            if command == "explain" and "." in token:
                shaped.append("<type>.<field>")
            elif "/" in token:
                shaped.append("<type>/<name>")
            else:
                shaped.append("<types>" if len(kinds) > 1 else "<type>")
        elif command in ("label", "annotate") and token.endswith("-"):
            shaped.append("<key>-")
        elif command in ("label", "annotate") and "=" in token:
            shaped.append("<key>=<value>")
        elif "/" in token and command in _TYPED_COMMANDS:
            resources.extend(_resource_types(token))
            shaped.append("<type>/<name>")
        else:
            shaped.append("<name>")
    if command in ("namespace", "configmap", "serviceaccount", "token"):
        resources.append(_plural("serviceaccount" if command == "token" else command))
    elif command in _SUBCOMMANDS["secret"]:
        resources.append("secrets")
    elif command in _SUBCOMMANDS["service"]:
        resources.append("services")
    text = " ".join(["kubectl", *words, *shaped, *sorted(dict.fromkeys(flags))])
    return Shape(text, tuple(sorted(set(resources))))


# ------------------------------------------------------------------------------- client shapes


def client_shape(
    method: str, path: str, query: Iterable[str], path_params: Mapping[str, Any] | None = None
) -> Shape:
    """``GET /api/v1/namespaces/{namespace}/secrets ?labelSelector`` and its resource (for a
    templated ``{plural}``, the one in ``path_params``)."""
    names = sorted(set(query))
    text = f"{method.upper()} {path}" + (f" ?{'&'.join(names)}" if names else "")
    segments = [s for s in path.split("/") if s]
    rest = segments[2:] if segments[:1] == ["api"] else segments[3:]
    if rest[:2] == ["namespaces", "{namespace}"] and len(rest) > 2:
        rest = rest[2:]
    resource = rest[0] if rest else ""
    if resource == "{plural}" and path_params:
        resource = str(path_params.get("plural", ""))
    return Shape(text, (resource,) if resource and not resource.startswith("{") else ())
