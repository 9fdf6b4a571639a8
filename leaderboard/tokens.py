"""Accounts: API tokens, of which only the sha256 is stored, and authenticating requests.

A token is ``TOKEN_PREFIX`` and 43 URL-safe characters (32 random bytes). It is shown once,
when made; the database keeps its sha256, so a copy of the database grants nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from leaderboard import audit
from leaderboard.errors import AuthenticationError, ConflictError, NotFoundError, SettingsError
from leaderboard.models import NAME_LENGTH, Token

TOKEN_PREFIX = "ptk_"
# A name starts with a letter (so that it never reads as an id) and is short and plain.
NAME_PATTERN = re.compile(rf"[A-Za-z][A-Za-z0-9._@-]{{0,{NAME_LENGTH - 1}}}")
NAME_RULE = (
    f"a letter, then up to {NAME_LENGTH - 1} letters, digits and . _ @ - (such as alice or lab-7)"
)


def digest(token: str) -> str:
    """Return the sha256 of a token as 64 hex digits, as the database stores it."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, name: str, *, admin: bool, at: datetime.datetime
) -> tuple[Token, str]:
    """Make a token named ``name`` and log it (committed with ``session``).

    Args:
        session: Where to add it.
        name: The account's name: ``NAME_RULE``; unique, revoked tokens included.
        admin: Whether it may use the admin routes (hide, flag, audit log).
        at: When, in UTC.

    Returns:
        The row and the token itself, which is not stored and cannot be shown again.

    Raises:
        SettingsError: If ``name`` breaks ``NAME_RULE``.
        ConflictError: If a token of that name exists.
    """
    if not NAME_PATTERN.fullmatch(name):
        raise SettingsError(f"token name {name!r} is not accepted; a name is {NAME_RULE}")
    if session.scalar(select(Token).where(Token.name == name)) is not None:
        raise ConflictError(
            f"a token named {name!r} exists (names stay taken after a revocation); pick "
            f"another name, such as {name}-2"
        )
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = Token(
        name=name, sha256=digest(value), admin=admin, created_at=at, quota_day=None, quota_used=0
    )
    session.add(token)
    session.flush()
    audit.record(session, "token.created", at=at, token=None, detail={"name": name, "admin": admin})
    return token, value


def find_token(session: Session, name_or_id: str) -> Token:
    """Return the token of a name or an id (names never start with a digit).

    Raises:
        NotFoundError: If there is none.
    """
    if name_or_id.isdigit():
        token = session.get(Token, int(name_or_id))
    else:
        token = session.scalar(select(Token).where(Token.name == name_or_id))
    if token is None:
        raise NotFoundError(
            f"no token has the {'id' if name_or_id.isdigit() else 'name'} {name_or_id!r}; "
            f"`portia leaderboard token list` lists them"
        )
    return token


def revoke_token(session: Session, name_or_id: str, *, at: datetime.datetime) -> Token:
    """Revoke a token, by name or id, and log it (committed with ``session``).

    Returns:
        The token, now revoked.

    Raises:
        NotFoundError: If no token has that name or id.
        ConflictError: If it is already revoked.
    """
    token = find_token(session, name_or_id)
    if token.revoked_at is not None:
        raise ConflictError(f"token {token.name!r} was already revoked at {token.revoked_at}")
    token.revoked_at = at
    audit.record(session, "token.revoked", at=at, token=None, detail={"name": token.name})
    return token


def list_tokens(session: Session) -> list[Token]:
    """Return every token, revoked ones included, oldest first."""
    return list(session.scalars(select(Token).order_by(Token.id)))


def authenticate(session: Session, authorization: str | None) -> Token:
    """Return the live token of an ``Authorization: Bearer TOKEN`` header.

    Raises:
        AuthenticationError: Saying which: no header, another scheme, a token that does
            not exist, or one that was revoked.
    """
    if not authorization:
        raise AuthenticationError(
            "missing API token: send the header 'Authorization: Bearer TOKEN' (an admin "
            "makes tokens with `portia leaderboard token create NAME`)"
        )
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationError(
            f"the Authorization header must be 'Bearer TOKEN'; got a {scheme[:20]!r} "
            f"credential{'' if value.strip() else ' without a token'}"
        )
    token = session.scalar(select(Token).where(Token.sha256 == digest(value.strip())))
    if token is None:
        raise AuthenticationError(
            f"unknown API token: no account has this token (tokens start with "
            f"{TOKEN_PREFIX!r}; check for a copying error, or ask an admin for one)"
        )
    if token.revoked_at is not None:
        raise AuthenticationError(
            f"the API token of {token.name!r} was revoked at "
            f"{token.revoked_at.isoformat(timespec='seconds')}; ask an admin for a new one"
        )
    return token
