"""Authentication use cases: channel keys (hashed, rotatable), staff accounts and sessions,
throttled logins, and signed bearer tokens."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from common import audit, throttle
from common.clock import as_utc, utcnow
from common.codes import STAFF_ROLES
from common.db import read_session
from common.errors import (
    Conflict,
    InconsistentFields,
    Invalid,
    NotFound,
    Throttled,
    Unauthorized,
    UnknownReference,
)
from common.organisation import Channel, Institution
from common.reference_cache import ReferenceCache
from common.unit_of_work import UnitOfWork
from storefront_api.auth.orm import ApiKey, StaffSession, StaffUser

ROLES = STAFF_ROLES
CHANNEL_KEY_PREFIX = "mhk"
INSTITUTION_BOUND_KINDS = ("outlet", "kiosk", "store")
SESSION_KINDS = ("api", "dashboards")
_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")
_hasher = PasswordHasher()

# Wrong passwords an account may take, and attempts one client address may make, in a
# window; past either the login answers 429 without looking at the password.
LOGIN_PER_ACCOUNT = throttle.Limit(attempts=5, window=timedelta(minutes=15))
LOGIN_PER_ADDRESS = throttle.Limit(attempts=30, window=timedelta(minutes=15))


@dataclass(frozen=True)
class ChannelPrincipal:
    channel: str
    institution_code: str | None
    key_id: str


@dataclass(frozen=True)
class MemberPrincipal:
    member_no: str


@dataclass(frozen=True)
class StaffPrincipal:
    username: str
    role: str
    # Which login this is (the hash of its session token); empty for tokens of old.
    session_sha256: str = ""


Principal = ChannelPrincipal | MemberPrincipal | StaffPrincipal


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# -- channel keys ------------------------------------------------------------------------


def create_api_key(
    uow: UnitOfWork, channel: str, institution_code: str | None, label: str = ""
) -> str:
    """Create a key for a channel (and, for counter and retail, one institution); returns it once.

    Keys are 256-bit random secrets, so a single SHA-256 is enough to store them: a slow
    password hash would only make every API call slower without adding safety.
    Raises Invalid for an unknown channel or institution, or a missing/extra institution.
    """
    session = uow.session
    channel_row = session.get(Channel, channel)
    if channel_row is None:
        raise Invalid.field("channel", "unknown channel")
    if channel_row.needs_institution and institution_code is None:
        raise InconsistentFields.field(
            "institution_code", f"a {channel} key must name its outlet or store"
        )
    if institution_code is not None:
        institution = session.get(Institution, institution_code)
        if institution is None:
            raise UnknownReference.field("institution_code", "unknown institution")
        if channel_row.needs_institution and institution.kind not in INSTITUTION_BOUND_KINDS:
            raise UnknownReference.field("institution_code", "must be an outlet, kiosk or store")
    key = _new_key(session, channel, institution_code, label)
    return key


def _new_key(session: Session, channel: str, institution_code: str | None, label: str) -> str:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            key_id=key_id,
            secret_sha256=_sha256(secret),
            channel=channel,
            institution_code=institution_code,
            label=label,
            created_at=utcnow(),
        )
    )
    session.flush()
    return f"{CHANNEL_KEY_PREFIX}_{key_id}_{secret}"


@dataclass(frozen=True)
class _KnownKey:
    principal: ChannelPrincipal
    expires_at: datetime | None


def _check_key(session: Session, token: str) -> _KnownKey | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != CHANNEL_KEY_PREFIX or "\x00" in token:
        return None
    _, key_id, secret = parts
    key = session.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).one_or_none()
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_sha256, _sha256(secret)):
        return None
    expires_at = as_utc(key.expires_at) if key.expires_at is not None else None
    return _KnownKey(ChannelPrincipal(key.channel, key.institution_code, key.key_id), expires_at)


def authenticate_api_key(session: Session, token: str) -> ChannelPrincipal | None:
    known = _check_key(session, token)
    if known is None or (known.expires_at is not None and known.expires_at <= utcnow()):
        return None
    return known.principal


# Channel keys are checked on every request; a valid key is remembered for
# KEY_CACHE_SECONDS, which is how long a key revoked on another worker may still work.
# A rotated key's end of overlap is remembered with it and checked on every use.
KEY_CACHE_SECONDS = 30.0
_known_keys = ReferenceCache(ttl_seconds=KEY_CACHE_SECONDS)


def remembered_api_key(factory: sessionmaker[Session], token: str) -> ChannelPrincipal | None:
    """`authenticate_api_key` with valid keys remembered per process for a short while."""

    def check() -> _KnownKey | None:
        with read_session(factory) as session:
            return _check_key(session, token)

    digest = _sha256(token)
    known: _KnownKey | None = _known_keys.get(factory, digest, check)
    if known is None:
        _known_keys.forget(factory, digest)  # only valid keys are remembered
        return None
    if known.expires_at is not None and known.expires_at <= utcnow():
        return None
    return known.principal


def _key_row(session: Session, key_id: str) -> ApiKey:
    key = session.scalars(
        select(ApiKey).where(ApiKey.key_id == key_id).with_for_update()
    ).one_or_none()
    if key is None:
        raise NotFound(f"no API key with id {key_id!r}")
    if key.revoked_at is not None:
        raise Conflict(f"API key {key_id} was already revoked")
    return key


def revoke_api_key(uow: UnitOfWork, key_id: str) -> None:
    """Revoke a key at once on this process, within KEY_CACHE_SECONDS on every other.

    Raises NotFound for an unknown key id, Conflict for a key already revoked.
    """
    key = _key_row(uow.session, key_id)
    key.revoked_at = utcnow()
    uow.after_commit(_known_keys.clear)


def rotate_api_key(uow: UnitOfWork, key_id: str, overlap: timedelta) -> str:
    """A new key for the same channel and institution; the old one works for `overlap` more.

    Returns the new key (shown once). Raises NotFound, Conflict (revoked, or already
    rotated), Invalid (a negative overlap).
    """
    if overlap < timedelta(0) or overlap > timedelta(days=30):
        raise Invalid.field("overlap_hours", "must be between 0 and 720 hours")
    session = uow.session
    old = _key_row(session, key_id)
    if old.replaced_by is not None:
        raise Conflict(f"API key {key_id} was already rotated to {old.replaced_by}")
    new = _new_key(session, old.channel, old.institution_code, old.label)
    old.replaced_by = new.split("_")[1]
    old.expires_at = utcnow() + overlap
    uow.after_commit(_known_keys.clear)
    return new


def list_api_keys(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "key_id": key.key_id,
            "channel": key.channel,
            "institution_code": key.institution_code,
            "label": key.label,
            "created_at": as_utc(key.created_at).isoformat(),
            "expires_at": as_utc(key.expires_at).isoformat() if key.expires_at else None,
            "revoked_at": as_utc(key.revoked_at).isoformat() if key.revoked_at else None,
            "replaced_by": key.replaced_by,
        }
        for key in session.scalars(select(ApiKey).order_by(ApiKey.id))
    ]


# -- staff accounts ----------------------------------------------------------------------


def create_staff_user(uow: UnitOfWork, username: str, role: str) -> str:
    """Create a staff user with a generated password, returned once. Raises Invalid, Conflict."""
    if not _USERNAME.match(username):
        raise Invalid.field("username", "3-64 lowercase letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise Invalid.field("role", f"must be one of {', '.join(ROLES)}")
    session = uow.session
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise Conflict(f"staff user {username!r} already exists")
    password = secrets.token_urlsafe(12)
    session.add(
        StaffUser(
            username=username,
            password_hash=_hasher.hash(password),
            role=role,
            active=True,
            created_at=utcnow(),
        )
    )
    return password


def staff_body(user: StaffUser) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role,
        "active": user.active,
        "created_at": as_utc(user.created_at).isoformat(),
    }


def list_staff(session: Session) -> list[dict[str, Any]]:
    return [staff_body(user) for user in session.scalars(select(StaffUser).order_by(StaffUser.id))]


def _staff_row(session: Session, username: str) -> StaffUser:
    user = session.scalars(
        select(StaffUser).where(StaffUser.username == username).with_for_update()
    ).one_or_none()
    if user is None:
        raise NotFound(f"no staff user {username!r}")
    return user


def _end_sessions(session: Session, user_id: int) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.staff_user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def set_staff_active(uow: UnitOfWork, username: str, active: bool) -> dict[str, Any]:
    """Disable (ending every session at once) or enable a staff account. Raises NotFound."""
    session = uow.session
    user = _staff_row(session, username)
    user.active = active
    if not active:
        _end_sessions(session, user.id)
    body = staff_body(user)
    return body


def reset_staff_password(uow: UnitOfWork, username: str) -> str:
    """A new generated password (returned once); every session of the account ends."""
    session = uow.session
    user = _staff_row(session, username)
    password = secrets.token_urlsafe(12)
    user.password_hash = _hasher.hash(password)
    _end_sessions(session, user.id)
    return password


# -- logins ------------------------------------------------------------------------------


@functools.cache
def _decoy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_staff_password(stored_hash: str | None, password: str) -> bool:
    """Argon2 verification that takes as long for an unknown account as for a known one."""
    try:
        return _hasher.verify(stored_hash or _decoy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class LoginAttempt:
    kind: str  # "staff" or "member"
    account: str
    client_address: str | None


def count_login_attempt(new_uow: Callable[[], UnitOfWork], attempt: LoginAttempt) -> None:
    """Count the attempt per account and per address before any password is checked.

    Committed on its own, so parallel guesses are counted one by one (common.throttle).
    Raises Throttled, after auditing the refusal.
    """
    with new_uow() as uow:
        session = uow.session
        per_account = throttle.hit(
            session, f"login:{attempt.kind}:{attempt.account}", LOGIN_PER_ACCOUNT
        )
        worst = per_account if per_account.over(LOGIN_PER_ACCOUNT) else None
        if attempt.client_address:
            per_address = throttle.hit(
                session, f"login-address:{attempt.client_address}", LOGIN_PER_ADDRESS
            )
            if per_address.over(LOGIN_PER_ADDRESS) and (
                worst is None or per_address.retry_after > worst.retry_after
            ):
                worst = per_address
        if worst is not None:
            _audit_login(session, attempt, "throttled")
            uow.commit()
            raise Throttled(
                f"too many login attempts; retry in {worst.retry_after} s", worst.retry_after
            )
        uow.commit()


def settle_login_attempt(uow: UnitOfWork, attempt: LoginAttempt, succeeded: bool) -> None:
    """Audit the outcome; a success clears the account's streak and returns the address's
    attempt, so only failures add up. The caller commits."""
    session = uow.session
    if succeeded:
        throttle.forgive(session, f"login:{attempt.kind}:{attempt.account}")
        if attempt.client_address:
            throttle.give_back(session, f"login-address:{attempt.client_address}")
    _audit_login(session, attempt, "ok" if succeeded else "failed")


def _audit_login(session: Session, attempt: LoginAttempt, outcome: str) -> None:
    audit.record(
        session,
        audit.AuditEntry(
            actor=f"{attempt.kind}:{attempt.account}",
            action=f"login.{attempt.kind}",
            target=attempt.account,
            outcome=outcome,
            client_address=attempt.client_address,
        ),
    )


@dataclass(frozen=True)
class StaffLogin:
    principal: StaffPrincipal
    session_token: str
    expires_at: datetime


def log_in_staff(
    factory: sessionmaker[Session],
    username: str,
    password: str,
    *,
    client_address: str | None,
    kind: str,
    ttl: timedelta,
) -> StaffLogin:
    """Check a staff login and open a session of `kind` (api or dashboards).

    The password is checked outside any write transaction (Argon2 takes a while and
    SQLite would hold its write lock). Raises Throttled, Unauthorized (never saying
    whether the account exists).
    """
    attempt = LoginAttempt("staff", username[:64], client_address)
    new_uow = functools.partial(UnitOfWork, factory)
    count_login_attempt(new_uow, attempt)
    with read_session(factory) as session:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
        stored = user.password_hash if user is not None and user.active else None
    ok = verify_staff_password(stored, password)
    with new_uow() as uow:
        settle_login_attempt(uow, attempt, ok)
        if not ok:
            uow.commit()
            raise Unauthorized("wrong username or password")
        login = open_staff_session(uow, username, kind, ttl)
        uow.commit()
    return login


def open_staff_session(uow: UnitOfWork, username: str, kind: str, ttl: timedelta) -> StaffLogin:
    """A new session for an active staff user (the caller commits). Raises Unauthorized."""
    if kind not in SESSION_KINDS:
        raise Invalid.field("kind", f"must be one of {', '.join(SESSION_KINDS)}")
    session = uow.session
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    if user is None or not user.active:
        raise Unauthorized("wrong username or password")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = StaffSession(
        session_sha256=_sha256(token),
        staff_user_id=user.id,
        kind=kind,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    session.flush()
    return StaffLogin(
        StaffPrincipal(user.username, user.role, row.session_sha256), token, now + ttl
    )


def staff_of_session(session: Session, session_sha256: str) -> StaffPrincipal | None:
    """The staff member a live session belongs to, with the role the account has now."""
    row = session.execute(
        select(StaffUser.username, StaffUser.role, StaffSession.expires_at)
        .join(StaffUser, StaffUser.id == StaffSession.staff_user_id)
        .where(
            StaffSession.session_sha256 == session_sha256,
            StaffSession.revoked_at.is_(None),
            StaffUser.active.is_(True),
        )
    ).one_or_none()
    if row is None or as_utc(row.expires_at) <= utcnow() or row.role not in ROLES:
        return None
    return StaffPrincipal(row.username, row.role, session_sha256)


def session_sha256_of(session_token: str) -> str:
    return _sha256(session_token)


def end_staff_session(uow: UnitOfWork, session_sha256: str) -> None:
    """Log out: the session stops working at once (the caller commits)."""
    uow.session.execute(
        update(StaffSession)
        .where(StaffSession.session_sha256 == session_sha256, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


# -- bearer tokens -----------------------------------------------------------------------


class TokenIssuer:
    """Signs and checks bearer tokens for members and staff (HS256 JWT).

    A staff token carries its session's hash; the HTTP layer checks that session on
    every request, so the signature alone never keeps a revoked login alive.
    """

    def __init__(self, secret_key: str, ttl_seconds: int) -> None:
        self._key = secret_key
        self.ttl_seconds = ttl_seconds

    def issue(self, principal: MemberPrincipal | StaffPrincipal) -> str:
        now = utcnow()
        claims: dict[str, object] = {
            "iat": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
        }
        if isinstance(principal, MemberPrincipal):
            claims.update(sub=principal.member_no, kind="member")
        else:
            claims.update(
                sub=principal.username,
                kind="staff",
                role=principal.role,
                sid=principal.session_sha256,
            )
        return jwt.encode(claims, self._key, algorithm="HS256")

    def read(self, token: str) -> MemberPrincipal | StaffPrincipal | None:
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"])
        except jwt.PyJWTError:
            return None
        if claims.get("kind") == "member":
            return MemberPrincipal(str(claims["sub"]))
        if claims.get("kind") == "staff" and claims.get("role") in ROLES and claims.get("sid"):
            return StaffPrincipal(str(claims["sub"]), str(claims["role"]), str(claims["sid"]))
        return None
