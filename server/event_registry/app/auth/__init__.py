"""Authentication and authorization of the registry's callers, in three modes.

``open`` (the embedded development default) gives everyone every namespace; ``tokens`` reads
a file mapping bearer tokens to namespaces (:mod:`.static`); ``kubernetes`` asks the cluster:
a TokenReview says who the caller is, SubjectAccessReviews what it may read and write, and
writes are made as the caller by impersonation (:mod:`.kubernetes`, decisions kept in
:mod:`.expiring` caches). Whatever the mode, a request gets one
:class:`~...domain.access.Principal` before any GraphQL runs, or is refused.
"""

from __future__ import annotations

from .modes import Authenticating, AuthUnavailable
from .static import Authenticator, bearer_token

__all__ = ["AuthUnavailable", "Authenticating", "Authenticator", "bearer_token"]
