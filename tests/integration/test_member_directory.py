"""The member directory answers a batch of references exactly as it answers each one."""

from __future__ import annotations

import crm
import points_engine
from common.errors import DomainError


def test_resolve_many_agrees_with_resolve(uow) -> None:
    directory = crm.CrmMemberDirectory()
    with uow() as unit:
        a = crm.register_member(
            unit, crm.RegisterCommand("13900000001", "甲", card_no="6221880000000001")
        )
    with uow() as unit:
        b = crm.register_member(unit, crm.RegisterCommand("13900000002", "乙"))
    with uow() as unit:
        crm.merge_members(unit, a["member_no"], b["member_no"])
    refs = [
        points_engine.MemberRef(member_no=a["member_no"]),
        points_engine.MemberRef(member_no=b["member_no"]),  # merged: resolves to a
        points_engine.MemberRef(phone="+86 139-0000-0002"),  # b's phone moved to a
        points_engine.MemberRef(card_no="6221880000000001"),
        points_engine.MemberRef(card_no="6221889999999999"),  # nobody
        points_engine.MemberRef(phone="12345"),  # not a mobile number
        points_engine.MemberRef(member_no="800000000000"),  # nobody
    ]
    with uow() as unit:
        many = directory.resolve_many(unit, refs, "member")
        one_by_one: list[object] = []
        for ref in refs:
            try:
                one_by_one.append(directory.resolve(unit, ref, "member"))
            except DomainError as error:
                one_by_one.append(error)
    assert [m.member_no for m in many[:4]] == [a["member_no"]] * 4  # type: ignore[union-attr]
    for batched, single in zip(many, one_by_one, strict=True):
        if isinstance(single, DomainError):
            assert isinstance(batched, type(single))
            assert batched.errors == single.errors
        else:
            assert batched == single
