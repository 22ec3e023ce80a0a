"""`python -m local.secret PATH`: write a new random secret to PATH unless one is there already.

docker compose runs it on first start for the MinIO webhook's shared secret, so no stack runs
with a secret anyone could read in this repository; later starts keep the same secret.
"""

from __future__ import annotations

import argparse
import os
import secrets
from collections.abc import Sequence
from pathlib import Path


def ensure_secret(path: Path, owner: int | None = None) -> bool:
    """True when a new secret was written (mode 0600, owned by `owner` when given)."""
    if path.is_file() and path.read_text().strip():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_urlsafe(32) + "\n")
    path.chmod(0o600)
    if owner is not None:
        os.chown(path, owner, owner)
    return True


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.secret", description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--owner", type=int, help="uid (and gid) to own the file")
    args = parser.parse_args(argv)
    made = ensure_secret(args.path, args.owner)
    print(f"{'wrote a new' if made else 'kept the'} secret in {args.path}")


if __name__ == "__main__":
    main()
