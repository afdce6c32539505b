"""The answers of the create-only review kinds and of TokenRequest, from a request's body.

- TokenReview (``authentication.k8s.io/v1``): ``status.authenticated`` and ``status.user`` of
  ``spec.token`` for ``spec.audiences`` (default: the API server's), or ``status.error``;
- SelfSubjectReview: the caller, as authenticated (and impersonated);
- SubjectAccessReview: RBAC's decision for ``spec.user``/``groups`` on
  ``spec.resourceAttributes`` or ``spec.nonResourceAttributes`` (exactly one);
- SelfSubjectAccessReview: the same for the caller;
- SelfSubjectRulesReview: every rule bound to the caller in ``spec.namespace``;
- TokenRequest (``POST .../serviceaccounts/<name>/token``): a signed token for an existing
  ServiceAccount, ``spec.expirationSeconds`` from 600 (default 3600) to 2^32.

Each answer echoes the request object with ``status`` filled, as kube-apiserver does; a
malformed body is a 400 or a 422 naming the field, never a 5xx. Nothing is stored.
"""

from __future__ import annotations

import datetime
from typing import Any

from ..api import access
from ..api.resources import Resource
from ..machinery import errors
from ..storage.sqlite import Storage
from . import tokens
from .attributes import Attributes
from .authenticator import Authenticator
from .identity import UserInfo
from .rbac import RbacIndex

_AUTHENTICATION = "authentication.k8s.io"
_MAX_EXPIRATION = 1 << 32


def _timestamp(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _echo(resource: Resource, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise errors.BadRequest(f"the body of a {resource.kind} must be a JSON object")
    spec = body.get("spec", {})
    if not isinstance(spec, dict):
        raise errors.BadRequest(f"spec of a {resource.kind} must be an object")
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    return {
        "kind": resource.kind,
        "apiVersion": resource.api_version("v1"),
        "metadata": {**metadata, "creationTimestamp": None},
        "spec": spec,
    }


def _strings(value: object, field: str, kind: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise errors.BadRequest(f"{field} of a {kind} must be a list of strings")
    return tuple(value)


def _text(value: object, field: str, kind: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise errors.BadRequest(f"{field} of a {kind} must be a string")
    return value


class Reviewer:
    def __init__(self, storage: Storage, authenticator: Authenticator, rbac: RbacIndex) -> None:
        self._storage = storage
        self._authenticator = authenticator
        self._rbac = rbac

    def answer(self, resource: Resource, caller: UserInfo, body: Any) -> dict[str, Any]:
        review = _echo(resource, body)
        if resource is access.TOKEN_REVIEWS:
            review["status"] = self._token_review(review["spec"])
        elif resource is access.SELF_SUBJECT_REVIEWS:
            review.pop("spec")
            review["status"] = {"userInfo": caller.to_dict()}
        elif resource is access.SUBJECT_ACCESS_REVIEWS:
            review["status"] = self._access_review(resource, self._subject(review["spec"]), review)
        elif resource is access.SELF_SUBJECT_ACCESS_REVIEWS:
            review["status"] = self._access_review(resource, caller, review)
        elif resource is access.SELF_SUBJECT_RULES_REVIEWS:
            review["status"] = self._rules_review(caller, review["spec"])
        else:
            raise errors.MethodNotAllowed(f"create is not supported on {resource.key}")
        return review

    def _token_review(self, spec: dict[str, Any]) -> dict[str, Any]:
        kind = "TokenReview"
        token = _text(spec.get("token"), "spec.token", kind)
        if not token:
            raise errors.BadRequest("token is required for TokenReview in ")
        wanted = _strings(spec.get("audiences"), "spec.audiences", kind) or (tokens.API_AUDIENCE,)
        try:
            user, audiences = self._authenticator.authenticate(token, wanted)
        except tokens.InvalidToken as error:
            return {"authenticated": False, "user": {}, "error": f"[invalid bearer token, {error}]"}
        return {"authenticated": True, "user": user.to_dict(), "audiences": list(audiences)}

    def _subject(self, spec: dict[str, Any]) -> UserInfo:
        kind = "SubjectAccessReview"
        user = _text(spec.get("user"), "spec.user", kind)
        groups = _strings(spec.get("groups"), "spec.groups", kind)
        if not user and not groups:
            raise errors.invalid(
                kind,
                "",
                "authorization.k8s.io",
                [
                    errors.invalid_value(
                        "spec.user", "", "at least one of user or group must be specified"
                    )
                ],
            )
        extra = spec.get("extra")
        if not isinstance(extra, dict):
            extra = {}
        return UserInfo(
            user,
            _text(spec.get("uid"), "spec.uid", kind),
            groups,
            {key: tuple(v) for key, v in extra.items() if isinstance(v, list)},
        )

    def _access_review(
        self, resource: Resource, user: UserInfo, review: dict[str, Any]
    ) -> dict[str, Any]:
        spec = review["spec"]
        attributes = self._attributes(resource, user, spec)
        decision = self._rbac.authorize(attributes)
        status: dict[str, Any] = {"allowed": decision.allowed}
        if decision.reason:
            status["reason"] = decision.reason
        return status

    def _rules_review(self, caller: UserInfo, spec: dict[str, Any]) -> dict[str, Any]:
        namespace = _text(spec.get("namespace"), "spec.namespace", "SelfSubjectRulesReview")
        where = Attributes(caller, "", True, namespace=namespace)
        resource_rules, non_resource_rules = [], []
        for rule in self._rbac.rules_for(where):
            if rule.get("nonResourceURLs"):
                non_resource_rules.append(
                    {"verbs": rule.get("verbs") or [], "nonResourceURLs": rule["nonResourceURLs"]}
                )
            else:
                resource_rules.append(
                    {
                        key: rule[key]
                        for key in ("verbs", "apiGroups", "resources", "resourceNames")
                        if rule.get(key) is not None
                    }
                )
        return {
            "resourceRules": resource_rules,
            "nonResourceRules": non_resource_rules,
            "incomplete": False,
        }

    def _attributes(self, resource: Resource, user: UserInfo, spec: dict[str, Any]) -> Attributes:
        kind = resource.kind
        on_resource = spec.get("resourceAttributes")
        on_path = spec.get("nonResourceAttributes")
        if (on_resource is None) == (on_path is None):
            raise errors.invalid(
                kind,
                "",
                resource.group,
                [
                    errors.invalid_value(
                        "spec.resourceAttributes",
                        on_resource,
                        "exactly one of nonResourceAttributes or resourceAttributes must be "
                        "specified",
                    )
                ],
            )
        if on_path is not None:
            if not isinstance(on_path, dict):
                raise errors.BadRequest(f"spec.nonResourceAttributes of a {kind} must be an object")
            return Attributes(
                user,
                _text(on_path.get("verb"), "spec.nonResourceAttributes.verb", kind),
                False,
                path=_text(on_path.get("path"), "spec.nonResourceAttributes.path", kind),
            )
        if not isinstance(on_resource, dict):
            raise errors.BadRequest(f"spec.resourceAttributes of a {kind} must be an object")

        def field(name: str) -> str:
            return _text(on_resource.get(name), f"spec.resourceAttributes.{name}", kind)

        return Attributes(
            user,
            field("verb"),
            True,
            api_group=field("group"),
            api_version=field("version"),
            resource=field("resource"),
            subresource=field("subresource"),
            namespace=field("namespace"),
            name=field("name"),
        )

    def token_request(self, namespace: str, name: str, body: Any) -> dict[str, Any]:
        kind = "TokenRequest"
        if not isinstance(body, dict) or not isinstance(body.get("spec", {}), dict):
            raise errors.BadRequest("the body of a TokenRequest must be an object with a spec")
        account = self._storage.get(access.SERVICE_ACCOUNTS.key, namespace, name)
        if account is None:
            raise errors.NotFound(
                f'serviceaccounts "{name}" not found',
                errors.Details(name=name, kind="serviceaccounts"),
            )
        spec = dict(body.get("spec") or {})
        audiences = _strings(spec.get("audiences"), "spec.audiences", kind) or (
            tokens.API_AUDIENCE,
        )
        expiration = spec.get("expirationSeconds")
        if expiration is None:
            expiration = tokens.DEFAULT_EXPIRATION
        if not isinstance(expiration, int) or isinstance(expiration, bool):
            raise errors.BadRequest("spec.expirationSeconds of a TokenRequest must be an integer")
        causes = []
        if expiration < tokens.MIN_EXPIRATION:
            causes.append(
                errors.invalid_value(
                    "spec.expirationSeconds",
                    expiration,
                    "may not specify a duration less than 10 minutes",
                )
            )
        elif expiration > _MAX_EXPIRATION:
            causes.append(
                errors.invalid_value(
                    "spec.expirationSeconds",
                    expiration,
                    "may not specify a duration larger than 2^32 seconds",
                )
            )
        if spec.get("boundObjectRef") is not None:
            causes.append(
                errors.forbidden_field(
                    "spec.boundObjectRef", "binding tokens to objects is not supported here"
                )
            )
        if causes:
            raise errors.invalid(kind, name, _AUTHENTICATION, causes)
        now = int(self._authenticator.clock())
        token = tokens.sign(
            self._authenticator.signing_key,
            namespace=namespace,
            name=name,
            uid=account["metadata"]["uid"],
            audiences=audiences,
            issued_at=now,
            expiration_seconds=expiration,
        )
        return {
            "kind": kind,
            "apiVersion": f"{_AUTHENTICATION}/v1",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "creationTimestamp": _timestamp(now),
            },
            "spec": {
                "audiences": list(audiences),
                "expirationSeconds": expiration,
                "boundObjectRef": None,
            },
            "status": {"token": token, "expirationTimestamp": _timestamp(now + expiration)},
        }
