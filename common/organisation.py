"""Organisation reference data shared by every context: institutions, channels, categories."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Boolean, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.db import Base, name_str
from common.errors import NotFound
from common.reference_cache import reference_cache

INSTITUTION_KINDS = ("company", "district", "outlet", "kiosk", "store")


class Institution(Base):
    __tablename__ = "common_institution"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]
    kind: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("common_institution.code"), index=True
    )
    address: Mapped[str] = mapped_column(String(300), default="")


class Channel(Base):
    __tablename__ = "common_channel"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]
    online: Mapped[bool] = mapped_column(Boolean)
    needs_institution: Mapped[bool] = mapped_column(Boolean)


class BusinessType(Base):
    __tablename__ = "common_business_type"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]


class Category(Base):
    __tablename__ = "common_category"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]


@dataclass(frozen=True)
class InstitutionView:
    code: str
    name: str
    name_en: str
    kind: str
    parent_code: str | None
    address: str


def get_institution(session: Session, code: str) -> Institution:
    institution = session.get(Institution, code)
    if institution is None:
        raise NotFound(f"unknown institution {code!r}")
    return institution


def get_channel(session: Session, code: str) -> Channel:
    channel = session.get(Channel, code)
    if channel is None:
        raise NotFound(f"unknown channel {code!r}")
    return channel


def list_institutions(
    session: Session, after: str | None, limit: int, parent_code: str | None = None
) -> list[InstitutionView]:
    query = select(Institution).order_by(Institution.code).limit(limit)
    if after is not None:
        query = query.where(Institution.code > after)
    if parent_code is not None:
        query = query.where(Institution.parent_code == parent_code)
    return [
        InstitutionView(i.code, i.name, i.name_en, i.kind, i.parent_code, i.address)
        for i in session.scalars(query)
    ]


def all_rows(
    session: Session, model: type[Channel] | type[BusinessType] | type[Category]
) -> list[Channel | BusinessType | Category]:
    return list(session.scalars(select(model).order_by(model.code)))


def institution_codes(session: Session) -> frozenset[str]:
    """Every institution code (cached per process; see common.reference_cache)."""
    return reference_cache.get(
        session, "institution_codes", lambda: frozenset(session.scalars(select(Institution.code)))
    )


def category_codes(session: Session) -> frozenset[str]:
    return reference_cache.get(
        session, "category_codes", lambda: frozenset(codes(session, Category))
    )


def codes(session: Session, model: type[Channel] | type[BusinessType] | type[Category]) -> set[str]:
    return set(session.scalars(select(model.code)))


__all__ = [
    "INSTITUTION_KINDS",
    "BusinessType",
    "Category",
    "Channel",
    "Institution",
    "InstitutionView",
    "all_rows",
    "category_codes",
    "codes",
    "get_channel",
    "get_institution",
    "institution_codes",
    "list_institutions",
]
