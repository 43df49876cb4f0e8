"""Authentication use cases: channel keys (hashed), staff users (Argon2), signed bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common.clock import utcnow
from common.db import read_session
from common.errors import Conflict, Invalid, NotFound, Unauthorized
from common.organisation import Channel, Institution
from common.reference_cache import ReferenceCache
from common.unit_of_work import UnitOfWork
from storefront_api.auth.orm import ApiKey, StaffUser

ROLES = ("marketer", "finance", "admin")
CHANNEL_KEY_PREFIX = "mhk"
INSTITUTION_BOUND_KINDS = ("outlet", "kiosk", "store")
_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,63}$")
_hasher = PasswordHasher()


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


Principal = ChannelPrincipal | MemberPrincipal | StaffPrincipal


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


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
        raise Invalid.field("institution", f"a {channel} key must name its outlet or store")
    if institution_code is not None:
        institution = session.get(Institution, institution_code)
        if institution is None:
            raise Invalid.field("institution", "unknown institution")
        if channel_row.needs_institution and institution.kind not in INSTITUTION_BOUND_KINDS:
            raise Invalid.field("institution", "must be an outlet, kiosk or store")
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
    uow.commit()
    return f"{CHANNEL_KEY_PREFIX}_{key_id}_{secret}"


def authenticate_api_key(session: Session, token: str) -> ChannelPrincipal | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != CHANNEL_KEY_PREFIX or "\x00" in token:
        return None
    _, key_id, secret = parts
    key = session.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).one_or_none()
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_sha256, _sha256(secret)):
        return None
    return ChannelPrincipal(key.channel, key.institution_code, key.key_id)


# Channel keys are checked on every request; a valid key is remembered for
# KEY_CACHE_SECONDS, which is how long a key revoked on another worker may still work.
KEY_CACHE_SECONDS = 30.0
_known_keys = ReferenceCache(ttl_seconds=KEY_CACHE_SECONDS)


def remembered_api_key(factory: sessionmaker[Session], token: str) -> ChannelPrincipal | None:
    """`authenticate_api_key` with valid keys remembered per process for a short while."""

    def check() -> ChannelPrincipal | None:
        with read_session(factory) as session:
            return authenticate_api_key(session, token)

    digest = _sha256(token)
    principal = _known_keys.get(factory, digest, check)
    if principal is None:
        _known_keys.forget(factory, digest)  # only valid keys are remembered
    return principal


def revoke_api_key(uow: UnitOfWork, key_id: str) -> None:
    """Revoke a key at once on this process, within KEY_CACHE_SECONDS on every other.

    Raises NotFound for an unknown key id, Conflict for a key already revoked.
    """
    key = uow.session.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).one_or_none()
    if key is None:
        raise NotFound(f"no API key with id {key_id!r}")
    if key.revoked_at is not None:
        raise Conflict(f"API key {key_id} was already revoked")
    key.revoked_at = utcnow()
    uow.commit()
    _known_keys.clear()


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
    uow.commit()
    return password


def authenticate_staff(session: Session, username: str, password: str) -> StaffPrincipal:
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).one_or_none()
    if user is None or not user.active:
        raise Unauthorized("wrong username or password")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError) as error:
        raise Unauthorized("wrong username or password") from error
    return StaffPrincipal(user.username, user.role)


class TokenIssuer:
    """Signs and checks bearer tokens for members and staff (HS256 JWT)."""

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
            claims.update(sub=principal.username, kind="staff", role=principal.role)
        return jwt.encode(claims, self._key, algorithm="HS256")

    def read(self, token: str) -> MemberPrincipal | StaffPrincipal | None:
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"])
        except jwt.PyJWTError:
            return None
        if claims.get("kind") == "member":
            return MemberPrincipal(str(claims["sub"]))
        if claims.get("kind") == "staff" and claims.get("role") in ROLES:
            return StaffPrincipal(str(claims["sub"]), str(claims["role"]))
        return None
