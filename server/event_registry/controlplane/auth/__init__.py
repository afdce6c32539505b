"""Access control, as kube-apiserver does it: who is calling, and may they do this.

:mod:`.identity` is the caller (``user.Info``); :mod:`.attributes` derives the authorizer's
attributes (verb, group, resource, subresource, namespace, name or path) from a request line,
as kube-apiserver's RequestInfo does; :mod:`.rules` matches them against PolicyRules exactly
as Kubernetes' RBAC does (pure); :mod:`.rbac` keeps an in-memory index of the stored Roles and
bindings and answers each check from the subject's bindings alone; :mod:`.tokens` signs and
verifies ServiceAccount tokens (JWT, HS256) and :mod:`.token_file` reads the static token
file; :mod:`.authenticator` turns a bearer token into an identity; :mod:`.impersonation`
applies ``Impersonate-*`` headers; :mod:`.escalation` refuses Roles and bindings that grant
more than their writer holds; :mod:`.reviews` answers TokenRequest, TokenReview,
SubjectAccessReview, SelfSubjectAccessReview, SelfSubjectRulesReview and SelfSubjectReview;
:mod:`.bootstrap` installs the default ClusterRoles and bindings; :mod:`.service_accounts`
keeps a ``default`` ServiceAccount in every namespace; :mod:`.audit` appends one JSON line
per write; :mod:`.control` puts them together for the HTTP layer.

May import: api/, storage/ and machinery/; never http/, knative/ or the assembly in
``server`` (the ``layers`` contract in pyproject.toml enforces it). Nothing here speaks HTTP:
headers arrive as mappings and failures leave as :class:`~.errors.ApiError`.
"""
