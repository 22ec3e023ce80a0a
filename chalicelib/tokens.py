"""API tokens: created by an admin, stored as SHA-256 hashes, looked up by that hash.

A token is 256 random bits, so its SHA-256 is all that needs storing (no salt or slow hash: there
is nothing to guess), and looking a token up by its hash compares nothing secret byte by byte.
The token itself is shown once, when it is created. The API remembers a live token's principal
for a few seconds (`TokenCache`) rather than looking it up on every request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chalicelib.config import OWNER_PATTERN
from chalicelib.db import Database
from chalicelib.errors import Invalid, NotFound, TokenExists, Unauthorized
from chalicelib.models import ApiToken, utcnow

# Recognisable by secret scanners, and never a valid token of anything else.
PREFIX = "inlet_"
# Longer answers are refused before hashing: a token is 49 characters.
MAX_TOKEN_LENGTH = 256
# `last_used_at` is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
NAME = re.compile(OWNER_PATTERN)
# Live tokens a process remembers at most (the least recently used is forgotten first).
CACHE_SIZE = 1024


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: the owner of the runs it may see, and the token it used."""

    owner: str
    token_name: str

    def context(self) -> dict[str, str]:
        """As API Gateway hands an authorizer's result to the function (string values only)."""
        return {"owner": self.owner, "token_name": self.token_name}


@dataclass(frozen=True)
class TokenInfo:
    name: str
    owner: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCache:
    """Principals of live tokens, by token hash (never the token), each for `max_age` seconds
    after its lookup. Only tokens the database accepted are kept, and at most `size` of them: an
    unknown token costs a lookup every time and takes no room here."""

    def __init__(self, size: int = CACHE_SIZE, clock: Callable[[], float] = time.monotonic) -> None:
        self.size, self.clock = size, clock
        self._found: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()  # chalice local serves requests on several threads

    def __len__(self) -> int:
        return len(self._found)

    def get(self, token_hash: str, max_age: float) -> Principal | None:
        with self._lock:
            found = self._found.get(token_hash)
            if found is None:
                return None
            looked_up_at, principal = found
            if self.clock() - looked_up_at >= max_age:
                del self._found[token_hash]
                return None
            self._found.move_to_end(token_hash)
            return principal

    def put(self, token_hash: str, principal: Principal) -> None:
        with self._lock:
            self._found[token_hash] = (self.clock(), principal)
            self._found.move_to_end(token_hash)
            while len(self._found) > self.size:
                self._found.popitem(last=False)

    def forget(self, token_name: str) -> None:
        """Drop the token named `token_name` (revoked in this process: refused at once here)."""
        with self._lock:
            for token_hash, (_, principal) in list(self._found.items()):
                if principal.token_name == token_name:
                    del self._found[token_hash]


# The API process's cache (`auth.guard`); other processes' revocations reach it within max_age.
CACHE = TokenCache()


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.name, row.owner, row.created_at, row.last_used_at, row.revoked_at)


def create_token(db: Database, name: str, owner: str | None = None) -> tuple[TokenInfo, str]:
    """A new token named `name` for `owner` (default: the name); returns it once, in clear."""
    owner = owner or name
    for field, value in (("name", name), ("owner", owner)):
        if not NAME.match(value):
            raise Invalid(
                f"{field} {value!r} must be 1 to 64 of A-Z a-z 0-9 . _ @ -, starting with a "
                "letter or digit"
            )
    token = new_token()
    row = ApiToken(name=name, owner=owner, token_hash=hash_token(token), created_at=utcnow())
    try:
        with db.session() as session:
            session.add(row)
    except IntegrityError:
        raise TokenExists(f"a token named {name!r} exists already; pick another name") from None
    return _info(row), token


def revoke_token(db: Database, name: str) -> TokenInfo:
    """Revoke a token for good (revoking twice is harmless)."""
    with db.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.name == name))
        if row is None:
            raise NotFound(f"no token is named {name!r}")
        row.revoked_at = row.revoked_at or utcnow()
        CACHE.forget(name)
        return _info(row)


def list_tokens(db: Database) -> list[TokenInfo]:
    with db.session() as session:
        return [_info(row) for row in session.scalars(select(ApiToken).order_by(ApiToken.name))]


def authenticate(db: Database, token: str, max_age: float = 0) -> Principal:
    """The principal of a live token; 401 for any other string. With `max_age` > 0, a token the
    database accepted less than `max_age` seconds ago (in this process) is not looked up again:
    its revocation takes up to that long to show here."""
    if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("the bearer token is not valid")
    token_hash = hash_token(token)
    if max_age > 0 and (remembered := CACHE.get(token_hash, max_age)) is not None:
        return remembered
    with db.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
        if row is None or row.revoked_at is not None:
            raise Unauthorized("the bearer token is not valid")
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            row.last_used_at = now
        principal = Principal(owner=row.owner, token_name=row.name)
    if max_age > 0:
        CACHE.put(token_hash, principal)
    return principal
