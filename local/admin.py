"""`python -m local.admin`: the operator's commands, talking to DATABASE_URL directly. Runs from a
checkout (`make install`) where the database is reachable, never over HTTP; the `inlet` client
has no admin commands.

  create-token NAME [--owner OWNER]   print a new token on the last line (shown only once)
  list-tokens                         names, owners, creation, last use, revocation
  revoke-token NAME                   the token stops working at once (behind API Gateway's
                                      authorizer cache: within a minute)
  dead-letters                        run events whose delivery failed its last attempt
  replay EVENT_ID... | --all          put dead letters back (attempts reset) and publish them
                                      now, to the destinations INLET_EVENT_* name
  events RUN_ID                       a run's events and the state of each delivery

Run events: docs/consumers.md.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from chalicelib import tokens
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.errors import ApiError, Invalid
from chalicelib.outbox import Outbox

EXIT_OK = 0
EXIT_REFUSED = 2
EXIT_DATABASE = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.admin",
        description="Manage Inlet's API tokens and run events (needs DATABASE_URL).",
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
    commands.add_parser("dead-letters", help="list run events whose delivery gave up")
    replay = commands.add_parser("replay", help="deliver dead letters again, now")
    replay.add_argument("event_ids", metavar="EVENT_ID", nargs="*", type=uuid.UUID)
    replay.add_argument("--all", action="store_true", help="every dead letter")
    events = commands.add_parser("events", help="a run's events and their deliveries")
    events.add_argument("run_id", metavar="RUN_ID", type=uuid.UUID)
    return parser


def _when(value: object) -> str:
    return "-" if value is None else str(value)


def run_events(args: argparse.Namespace, outbox: Outbox) -> None:
    if args.command == "dead-letters":
        print(
            f"{'EVENT ID':<36} {'TYPE':<13} {'RUN ID':<36} {'ATTEMPTS':>8} {'DIED':<33} DESTINATION"
        )
        for letter in outbox.dead_letters():
            print(
                f"{letter.event_id!s:<36} {letter.type:<13} {letter.run_id!s:<36} "
                f"{letter.attempts:>8} {_when(letter.died_at):<33} {letter.destination}"
            )
            print(f"    last error: {letter.last_error or '-'}")
    elif args.command == "replay":
        if bool(args.event_ids) == args.all:
            raise Invalid("name the events to replay, or --all (not both)")
        replayed = outbox.replay(None if args.all else args.event_ids)
        drained = outbox.drain(budget=60)
        print(
            f"Replayed {replayed} dead letters: {drained.published} delivered now, "
            f"{drained.retried} failed again (retried later), {drained.dead} dead again."
        )
    else:
        history = outbox.history(args.run_id)
        if not history:
            print(f"Run {args.run_id} has no events.")
        for event in history:
            print(f"{event.id}  {event.type:<13} {_when(event.occurred_at)}")
            for delivery in event.deliveries:
                print(
                    f"    {delivery.state:<9} attempts {delivery.attempts:<3} "
                    f"{_when(delivery.at):<33} {delivery.destination}"
                )
                if delivery.last_error and delivery.state != "delivered":
                    print(f"        last error: {delivery.last_error}")


def run(args: argparse.Namespace, db: Database, settings: Settings) -> None:
    if args.command in ("dead-letters", "replay", "events"):
        run_events(args, Outbox.from_settings(db, settings))
    elif args.command == "create-token":
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
    settings = Settings.from_env()
    db = Database.from_url(settings.database_url)
    try:
        run(args, db, settings)
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
