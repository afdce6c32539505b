"""The HTTP face of the control plane: Kubernetes API paths, content types and Status errors.

Each request is first authenticated, impersonated and authorized (:mod:`..auth.control`:
401, 400 or 403 before anything else happens) and, once answered, recorded in the audit log
if it wrote. It decodes requests (JSON, YAML, kubectl's protobuf bodies, the three patch
types), routes them to :class:`~.apiserver.ApiServer`, discovery and OpenAPI, and encodes
answers as kubectl and client libraries expect: objects with apiVersion/kind, Lists with a
resourceVersion, Tables when asked for ``as=Table``, chunked watch streams of one JSON event
per line, and every failure as a ``Status`` with the real code and reason. Any exception that
is not an :class:`~.errors.ApiError` is answered as a 500 ``InternalError`` and logged; it
never takes the server down.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..api import discovery, openapi
from ..api.access import RBAC_RESOURCES
from ..api.apiserver import ApiServer, FieldValidation, ListOptions, Target, WriteResult
from ..api.openapi import OpenApi
from ..api.watching import Broadcaster, WatchEvent, WatchOptions, watch
from ..auth import attributes as request_attributes
from ..auth.control import AccessControl, Caller
from ..machinery import errors, paths, protobuf, yaml_text
from . import managers, tables

log = logging.getLogger(__name__)

VERSION_INFO = {
    "major": "1",
    "minor": "37",
    "gitVersion": "v1.37.0+event-registry",
    "gitCommit": "",
    "gitTreeState": "clean",
    "buildDate": "2026-11-01T00:00:00Z",
    "goVersion": "python",
    "compiler": "cpython",
    "platform": "linux/amd64",
}

_NOT_FOUND = "the server could not find the requested resource"
RBAC_KEYS = frozenset(resource.key for resource in RBAC_RESOURCES)


@dataclass
class Services:
    """What the HTTP layer serves from; built and owned by :class:`~.server.ControlPlane`."""

    api: ApiServer
    broadcaster: Broadcaster
    openapi: OpenApi
    access: AccessControl
    server_address: str
    bookmark_interval: float = 60.0


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(
    obj: object, status: int = 200, content_type: str = "application/json"
) -> Response:
    return Response(_dumps(obj), status_code=status, media_type=content_type)


def status_response(error: errors.ApiError) -> Response:
    return json_response(error.to_status(), error.code)


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def _wants_table(accept: str) -> bool:
    return any("as=Table" in entry for entry in accept.split(","))


def _include_object(request: Request) -> tables.IncludeObject:
    value = request.query_params.get("includeObject") or "Metadata"
    if value not in ("None", "Metadata", "Object"):
        raise errors.BadRequest(f"includeObject must be None, Metadata or Object, not {value!r}")
    return value  # type: ignore[return-value]


def _field_validation(request: Request) -> FieldValidation:
    value = request.query_params.get("fieldValidation") or "Warn"
    if value not in ("Strict", "Warn", "Ignore"):
        raise errors.BadRequest(
            f'fieldValidation must be one of "Ignore", "Warn" or "Strict", not {value!r}'
        )
    return value  # type: ignore[return-value]


def _dry_run(request: Request) -> bool:
    values = request.query_params.getlist("dryRun")
    for value in values:
        if value != "All":
            raise errors.BadRequest(f"unsupported dryRun value {value!r}, only 'All' is allowed")
    return bool(values)


MAX_BODY = 3 * 1024 * 1024
"""Bytes a request body may hold, as kube-apiserver's ``MaxRequestBodyBytes`` (3 MiB)."""


async def _read_body(request: Request) -> bytes:
    """The body, refused with 413 once it is longer than :data:`MAX_BODY` (from its
    Content-Length when it says so, before anything is read)."""
    too_large = errors.RequestEntityTooLarge(f"Request entity too large: limit is {MAX_BODY}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def _body(request: Request, *, allow_empty: bool = False) -> Any:
    raw = await _read_body(request)
    if not raw:
        if allow_empty:
            return None
        raise errors.BadRequest("the request body is empty")
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    try:
        if content_type == protobuf.PROTOBUF_CONTENT_TYPE:
            return protobuf.decode_object(raw)
        if content_type in ("application/yaml", "application/apply-patch+yaml"):
            return yaml_text.load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as error:
        raise errors.BadRequest(f"the request body could not be decoded: {error}") from error


class Handler:
    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def api(self) -> ApiServer:
        return self.services.api

    async def handle(self, request: Request) -> Response:
        access = self.services.access
        caller: Caller | None = None
        attributes: request_attributes.Attributes | None = None
        try:
            caller = access.identify(
                request.url.path,
                request.headers.get("authorization"),
                _impersonation_headers(request),
            )
            request.state.caller = caller
            attributes = request_attributes.from_request(
                caller.user, request.method, request.url.path, request.query_params
            )
            access.authorize(caller, attributes)
            response = await self._dispatch(request)
        except errors.ApiError as error:
            response = status_response(error)
        except Exception as error:
            log.exception("internal error serving %s %s", request.method, request.url.path)
            response = status_response(errors.InternalError(f"internal error: {error}"))
        if (
            caller is not None
            and attributes is not None
            and getattr(request.state, "audited", True)
        ):
            access.audit.record(
                attributes,
                authenticated=caller.authenticated,
                code=response.status_code,
                uri=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
                name=getattr(request.state, "created_name", ""),
            )
        return response

    async def _dispatch(self, request: Request) -> Response:
        path = request.url.path
        if path.rstrip("/") in ("/healthz", "/livez", "/readyz"):
            return Response(b"ok", media_type="text/plain")
        if path.rstrip("/") == "/version":
            return json_response(VERSION_INFO)
        if path.startswith("/openapi/v3"):
            return self._openapi(path.removeprefix("/openapi/v3"))
        if path.rstrip("/") == "/openapi/v2":
            return self._swagger(request)
        parsed = paths.parse(path)
        if parsed is None:
            raise errors.NotFound(_NOT_FOUND)
        if isinstance(parsed, paths.GroupPath):
            if request.method != "GET":
                raise errors.MethodNotAllowed(f"{request.method} is not allowed on {path}")
            return self._discovery(request, parsed)
        return await self._resource(request, parsed)

    # discovery and OpenAPI -------------------------------------------------------------------

    def _openapi(self, rest: str) -> Response:
        openapi = self.services.openapi
        if rest.strip("/") == "":
            return json_response(openapi.root())
        document = openapi.document(rest)
        if document is None:
            raise errors.NotFound(_NOT_FOUND)
        return Response(document, media_type="application/json")

    def _swagger(self, request: Request) -> Response:
        if not openapi.accepts_json(request.headers.get("accept", "")):
            raise errors.NotAcceptable(
                "only the following media types are accepted: application/json"
            )
        return Response(self.services.openapi.swagger(), media_type="application/json")

    def _discovery(self, request: Request, parsed: paths.GroupPath) -> Response:
        catalog = self.api.catalog
        accept = request.headers.get("accept", "")
        if (
            parsed.version is None
            and parsed.group in ("", None)
            and discovery.wants_aggregated(accept)
        ):
            body = discovery.aggregated(catalog, core=parsed.group == "")
            return json_response(body, content_type=discovery.AGGREGATED)
        if parsed.legacy_root:
            return json_response(discovery.api_versions(self.services.server_address))
        if parsed.group is None:
            return json_response(discovery.api_group_list(catalog))
        if parsed.version is None:
            group = discovery.api_group(catalog, parsed.group)
            if group is None:
                raise errors.NotFound(_NOT_FOUND)
            return json_response(group)
        resource_list = discovery.api_resource_list(catalog, parsed.group, parsed.version)
        if resource_list is None:
            raise errors.NotFound(_NOT_FOUND)
        return json_response(resource_list)

    # resources -------------------------------------------------------------------------------

    def _target(self, parsed: paths.ResourcePath) -> Target:
        resource = self.api.catalog.lookup(parsed.group, parsed.version, parsed.plural)
        if resource is None:
            raise errors.NotFound(_NOT_FOUND)
        if parsed.namespace and not resource.namespaced:
            raise errors.NotFound(_NOT_FOUND)
        if resource.namespaced and parsed.name and not parsed.namespace:
            raise errors.NotFound(_NOT_FOUND)
        if parsed.subresource:
            served = resource.served_version(parsed.version)
            if parsed.subresource != "status" or served is None or not served.status_subresource:
                raise errors.NotFound(_NOT_FOUND)
        return Target(resource, parsed.version, parsed.namespace, parsed.name, parsed.subresource)

    async def _resource(self, request: Request, parsed: paths.ResourcePath) -> Response:
        if parsed.group == "" and parsed.plural == "serviceaccounts" and parsed.subresource:
            return await self._token_request(request, parsed)
        target = self._target(parsed)
        method = request.method
        if target.resource.create_only:
            return await self._review(request, target)
        response: Response
        if not target.name:
            if method == "GET":
                if _truthy(request.query_params.get("watch")):
                    return self._watch(request, target)
                response = self._list(request, target)
            elif method == "POST":
                response = await self._create(request, target)
            elif method == "DELETE" and target.resource.collection_deletable:
                response = await self._delete_collection(request, target)
            else:
                raise errors.MethodNotAllowed(
                    "the server does not allow this method on the requested resource"
                )
        elif method == "GET":
            response = self._get(request, target)
        elif method in ("PUT", "PATCH"):
            result = await self._write(request, target)
            response = self._written(result.object, result.warnings, 201 if result.created else 200)
        elif method == "DELETE":
            response = json_response(
                self.api.delete(
                    target, await self._delete_options(request), dry_run=_dry_run(request)
                )
            )
        else:
            raise errors.MethodNotAllowed(f"{method} is not allowed on an object")
        served = target.resource.served_version(target.version)
        if served is not None and served.deprecated:
            resource = target.resource
            message = served.deprecation_warning or (
                f"{resource.api_version(target.version)} {resource.kind} is deprecated"
            )
            _add_warning(response, message)
        return response

    async def _review(self, request: Request, target: Target) -> Response:
        if request.method != "POST" or target.name:
            raise errors.MethodNotAllowed(
                f"{request.method} is not allowed on {target.resource.key}: only create"
            )
        caller: Caller = request.state.caller
        request.state.audited = False  # a review changes nothing
        body = await _body(request)
        return json_response(
            self.services.access.reviewer.answer(target.resource, caller.user, body), 201
        )

    async def _token_request(self, request: Request, parsed: paths.ResourcePath) -> Response:
        if parsed.subresource != "token" or not parsed.namespace:
            raise errors.NotFound(_NOT_FOUND)
        if request.method != "POST":
            raise errors.MethodNotAllowed(
                f"{request.method} is not allowed on serviceaccounts/token"
            )
        body = await _body(request)
        answer = self.services.access.reviewer.token_request(parsed.namespace, parsed.name, body)
        return json_response(answer, 201)

    def _written(self, obj: dict[str, Any], warnings: list[str], status: int) -> Response:
        response = json_response(obj, status)
        for warning in warnings:
            _add_warning(response, warning)
        return response

    async def _write(self, request: Request, target: Target) -> WriteResult:
        """POST, PUT or PATCH; a Role or binding is first computed (a dry run) and refused
        if it would grant the caller more than they hold."""
        body = await _body(request)
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        validation = _field_validation(request)
        query = request.query_params
        options_kind = {"POST": "CreateOptions", "PUT": "UpdateOptions"}.get(
            request.method, "PatchOptions"
        )
        manager = managers.manager(query, request.headers.get("user-agent", ""), options_kind)

        def write(dry_run: bool) -> WriteResult:
            if request.method == "POST":
                return self.api.create(
                    target, body, field_validation=validation, dry_run=dry_run, manager=manager
                )
            if request.method == "PUT":
                return self.api.update(
                    target, body, field_validation=validation, dry_run=dry_run, manager=manager
                )
            applying = content_type.lower() == "application/apply-patch+yaml"
            return self.api.patch(
                target,
                content_type,
                body,
                field_validation=validation,
                dry_run=dry_run,
                manager=managers.explicit_manager(query, options_kind) if applying else manager,
                force=managers.force(query),
            )

        access = self.services.access
        caller: Caller = request.state.caller
        if target.resource.key in RBAC_KEYS and access.enforces(caller):
            access.check_grant(caller, target.resource.key, write(True).object)
        return write(_dry_run(request))

    async def _create(self, request: Request, target: Target) -> Response:
        result = await self._write(request, target)
        request.state.created_name = result.object["metadata"].get("name", "")
        return self._written(result.object, result.warnings, 201)

    async def _delete_options(self, request: Request) -> dict[str, Any]:
        body = await _body(request, allow_empty=True)
        options: dict[str, Any] = dict(body) if isinstance(body, dict) else {}
        query = request.query_params
        if query.get("propagationPolicy"):
            options["propagationPolicy"] = query["propagationPolicy"]
        if query.get("orphanDependents") is not None:
            options["orphanDependents"] = _truthy(query["orphanDependents"])
        return options

    def _get(self, request: Request, target: Target) -> Response:
        obj = self.api.get(target)
        if _wants_table(request.headers.get("accept", "")):
            return json_response(
                tables.table(
                    target.resource,
                    target.version,
                    [obj],
                    include=_include_object(request),
                    resource_version=obj["metadata"].get("resourceVersion", ""),
                )
            )
        return json_response(obj)

    def _list_options(self, request: Request) -> ListOptions:
        query = request.query_params
        try:
            limit = int(query.get("limit") or 0)
        except ValueError as error:
            raise errors.BadRequest(f"invalid limit: {query.get('limit')!r}") from error
        return ListOptions(
            label_selector=query.get("labelSelector"),
            field_selector=query.get("fieldSelector"),
            limit=max(0, limit),
            continue_token=query.get("continue"),
            resource_version=query.get("resourceVersion"),
            resource_version_match=query.get("resourceVersionMatch"),
        )

    def _list(self, request: Request, target: Target) -> Response:
        page, revision, token = self.api.list_objects(target, self._list_options(request))
        objects = [self.api.present(target, obj) for obj in page]
        if _wants_table(request.headers.get("accept", "")):
            return json_response(
                tables.table(
                    target.resource,
                    target.version,
                    objects,
                    include=_include_object(request),
                    resource_version=str(revision),
                    continue_token=token,
                )
            )
        metadata: dict[str, Any] = {"resourceVersion": str(revision)}
        if token:
            metadata["continue"] = token
        return json_response(
            {
                "apiVersion": target.resource.api_version(target.version),
                "kind": target.resource.list_kind,
                "metadata": metadata,
                "items": objects,
            }
        )

    async def _delete_collection(self, request: Request, target: Target) -> Response:
        options = await self._delete_options(request)
        dry_run = _dry_run(request)
        page, _, _ = self.api.list_objects(target, self._list_options(request))
        deleted = []
        for obj in page:
            meta = obj["metadata"]
            item = Target(target.resource, target.version, meta.get("namespace", ""), meta["name"])
            try:
                deleted.append(self.api.delete(item, options, dry_run=dry_run))
            except errors.NotFound:
                continue
        return json_response(
            {
                "apiVersion": target.resource.api_version(target.version),
                "kind": target.resource.list_kind,
                "metadata": {"resourceVersion": str(self.api.storage.revision)},
                "items": deleted,
            }
        )

    def _watch(self, request: Request, target: Target) -> Response:
        query = request.query_params
        timeout = query.get("timeoutSeconds")
        try:
            timeout_seconds = float(timeout) if timeout else None
        except ValueError as error:
            raise errors.BadRequest(f"invalid timeoutSeconds: {timeout!r}") from error
        options = WatchOptions(
            resource_version=query.get("resourceVersion"),
            label_selector=query.get("labelSelector"),
            field_selector=query.get("fieldSelector"),
            allow_bookmarks=_truthy(query.get("allowWatchBookmarks")),
            send_initial_events=_truthy(query.get("sendInitialEvents")),
            timeout_seconds=timeout_seconds,
        )
        as_table = _wants_table(request.headers.get("accept", ""))
        include = _include_object(request)
        events = watch(
            self.api,
            self.services.broadcaster,
            target,
            options,
            bookmark_interval=self.services.bookmark_interval,
        )

        async def lines() -> AsyncIterator[bytes]:
            try:
                async for event in events:
                    yield self._watch_line(target, event, as_table=as_table, include=include)
            except errors.ApiError as error:
                yield _dumps({"type": "ERROR", "object": error.to_status()}) + b"\n"
            finally:
                await events.aclose()

        return StreamingResponse(lines(), media_type="application/json")

    def _watch_line(
        self, target: Target, event: WatchEvent, *, as_table: bool, include: tables.IncludeObject
    ) -> bytes:
        obj = event.object
        if event.stored:
            obj = self.api.present(target, obj)
            if as_table:
                obj = tables.table(
                    target.resource,
                    target.version,
                    [obj],
                    include=include,
                    resource_version=obj["metadata"].get("resourceVersion", ""),
                )
        return _dumps({"type": event.type, "object": obj}) + b"\n"


def _impersonation_headers(request: Request) -> dict[str, list[str]]:
    """The ``Impersonate-*`` headers, lowercased, each with all its values."""
    found: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        lowered = name.lower()
        if lowered.startswith("impersonate-"):
            found.setdefault(lowered, []).append(value)
    return found


def _add_warning(response: Response, message: str) -> None:
    escaped = message.replace("\\", "\\\\").replace('"', '\\"')
    response.headers.append("Warning", f'299 - "{escaped}"')


def create_app(services: Services) -> Starlette:
    handler = Handler(services)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", handler.handle, methods=methods)])
