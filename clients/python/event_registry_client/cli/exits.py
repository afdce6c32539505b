"""``kreg``'s exit codes, and which error maps to which.

=====  ==========================================================================
0      success
1      any other error (a GraphQL error, an unexpected server answer)
2      usage: an unknown command, option or value (click's own code)
3      not found: the object or namespace does not exist (or the token may not read it)
4      unauthorized or forbidden: no or a wrong token, or no write permission
5      unreachable: no connection to the server, or no answer in time; or the server's
       cluster did not answer a write (Unavailable): retry
6      invalid input: the server's ValidationFailed, with each field's cause
7      conflict: the object already exists, or a concurrent change got in the way
=====  ==========================================================================
"""

from __future__ import annotations

from .. import errors

OK = 0
ERROR = 1
USAGE = 2
NOT_FOUND = 3
FORBIDDEN = 4
UNREACHABLE = 5
INVALID = 6
CONFLICT = 7


def code_for(error: errors.RegistryError) -> int:
    if isinstance(error, errors.NotFoundError):
        return NOT_FOUND
    if isinstance(error, errors.UnauthorizedError | errors.ForbiddenError):
        return FORBIDDEN
    if isinstance(error, errors.UnreachableError):
        return UNREACHABLE
    if isinstance(error, errors.InvalidInputError):
        return INVALID
    if isinstance(error, errors.ConflictError):
        return CONFLICT
    return ERROR
