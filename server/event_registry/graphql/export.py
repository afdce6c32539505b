"""Write the subgraph SDL (what ``_service { sdl }`` serves) to ``schema.graphql``.

``python -m event_registry.graphql.export [PATH]``; a unit test fails when the checked-in
file differs from the code, so the contract in the repository is always the one served.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .schema import schema


def sdl() -> str:
    return schema.as_str().rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path("schema.graphql")
    target.write_text(sdl())
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
