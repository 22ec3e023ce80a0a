"""`python -m local.admin`: the operator's commands, talking to DATABASE_URL directly. Runs from a
checkout (`make install`) where the database is reachable, never over HTTP; the `inlet` client
has no admin commands.

  create-token NAME [--owner OWNER]   print a new token on the last line (shown only once)
  list-tokens                         names, owners, creation, last use, revocation
  revoke-token NAME                   the token stops working at once (behind API Gateway's
                                      authorizer cache: within a minute)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from chalicelib import tokens
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.errors import ApiError

EXIT_OK = 0
EXIT_REFUSED = 2
EXIT_DATABASE = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.admin",
        description="Manage Inlet's API tokens (needs DATABASE_URL).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    create = commands.add_parser("create-token", help="create a token; printed on the last line")
    create.add_argument("name", metavar="NAME", help="unique name, e.g. ci-prod or alice-laptop")
    create.add_argument("--owner", help="whose runs the token sees (default: NAME)")
    commands.add_parser("list-tokens", help="list tokens (never the tokens themselves)")
    revoke = commands.add_parser("revoke-token", help="revoke a token for good")
    revoke.add_argument("name", metavar="NAME")
    return parser


def _when(value: object) -> str:
    return "-" if value is None else str(value)


def run(args: argparse.Namespace, db: Database) -> None:
    if args.command == "create-token":
        info, token = tokens.create_token(db, args.name, args.owner)
        print(f"Created token {info.name!r} for owner {info.owner!r}. It is shown only once:")
        print(token)
    elif args.command == "list-tokens":
        print(f"{'NAME':<24} {'OWNER':<24} {'CREATED':<33} {'LAST USED':<33} REVOKED")
        for info in tokens.list_tokens(db):
            print(
                f"{info.name:<24} {info.owner:<24} {_when(info.created_at):<33} "
                f"{_when(info.last_used_at):<33} {_when(info.revoked_at)}"
            )
    else:
        info = tokens.revoke_token(db, args.name)
        print(f"Revoked token {info.name!r} (owner {info.owner!r}) at {info.revoked_at}.")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    db = Database.from_url(Settings.from_env().database_url)
    try:
        run(args, db)
    except ApiError as exc:  # a refused name, a missing token: one clear line
        print(f"local.admin: {exc.message}", file=sys.stderr)
        return EXIT_REFUSED
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(
            f"local.admin: database error at {db.engine.url!r}: {reason} "
            "(is DATABASE_URL right, and migrated with `make migrate`?)",
            file=sys.stderr,
        )
        return EXIT_DATABASE
    finally:
        db.engine.dispose()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
