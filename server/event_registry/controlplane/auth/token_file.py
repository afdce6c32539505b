"""kube-apiserver's static token file (``--token-auth-file``): ``token,user,uid,"g1,g2"``.

One CSV record per line; the fourth column (optional) is a comma-separated group list; blank
lines and lines starting with ``#`` are skipped. A record with fewer than three columns, an
empty token or user, or a token seen twice is a :class:`ValueError` naming the line, so a
bad file stops the control plane at start instead of locking someone out later.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .identity import UserInfo, with_authenticated


def parse(text: str, *, source: str = "token file") -> dict[str, UserInfo]:
    users: dict[str, UserInfo] = {}
    for number, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not record or not "".join(record).strip() or record[0].lstrip().startswith("#"):
            continue
        if len(record) < 3:
            raise ValueError(f"{source}:{number}: need token,user,uid[,groups]")
        token, name, uid = (field.strip() for field in record[:3])
        if not token or not name:
            raise ValueError(f"{source}:{number}: token and user must not be empty")
        if token in users:
            raise ValueError(f"{source}:{number}: duplicate token")
        groups = tuple(
            g.strip() for g in (record[3] if len(record) > 3 else "").split(",") if g.strip()
        )
        users[token] = UserInfo(name, uid, with_authenticated(groups))
    return users


def load(path: Path) -> dict[str, UserInfo]:
    return parse(path.read_text(), source=str(path))
