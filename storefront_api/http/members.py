"""Member endpoints: registration, profile, lookup, identifiers, merge, points and ledger."""

from __future__ import annotations

from flask import Blueprint, Response

import crm
import points_engine
from common.clock import today
from common.db import read_session
from common.unit_of_work import ReadOnlyUnitOfWork, UnitOfWork, run_in_transaction
from storefront_api.auth import ChannelPrincipal
from storefront_api.http.context import api_context
from storefront_api.http.routing import (
    decode_int_cursor,
    encode_cursor,
    json_response,
    route,
    written_response,
)
from storefront_api.http.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    IdentifierIn,
    IdentifierOut,
    LedgerPage,
    LookupQuery,
    MemberIn,
    MemberOut,
    MemberPatch,
    MergeIn,
    PageQuery,
    PointsOut,
    TierStatusOut,
)
from storefront_api.http.security import current_principal, member_caller, staff_caller

blueprint = Blueprint("members", __name__, url_prefix="/api/v1/members")


@route(
    blueprint,
    "",
    "POST",
    summary=(
        "Register a member: a channel key vouches for the person; self-registration needs "
        "the verification_code sent to the phone (POST /verification-codes)"
    ),
    body=MemberIn,
    responses={201: MemberOut},
    errors=(409, 422, 429),
)
def register(body: MemberIn) -> Response:
    principal = current_principal()
    context = api_context()
    if isinstance(principal, ChannelPrincipal):
        channel, institution = principal.channel, principal.institution_code
        proof = None
    else:
        channel, institution = crm.SELF_REGISTRATION, None
        proof = crm.CodeProof(body.verification_code, context.settings.secret_key)
    command = crm.RegisterCommand(
        phone=body.phone,
        name=body.name,
        password=body.password,
        card_no=body.card_no,
        birthday=body.birthday,
        marketing_consent=body.marketing_consent,
        channel=channel,
        institution_code=institution,
    )
    if proof is not None and proof.code is not None:
        crm.check_registration(command)  # a typo is refused before it costs a try
        crm.verification.count_try(
            lambda: UnitOfWork(context.session_factory), body.phone, "register"
        )
    created = run_in_transaction(
        context.session_factory, lambda uow: crm.register_member(uow, command, proof=proof)
    )
    return json_response(created, 201)


@route(
    blueprint,
    "/lookup",
    "GET",
    summary="Find a member by phone, card or WeChat id",
    query=LookupQuery,
    responses={200: MemberOut},
    errors=(404,),
)
def lookup(query: LookupQuery) -> Response:
    kind, value = next((k, v) for k, v in query.model_dump().items() if v is not None)
    with read_session(api_context().session_factory) as session:
        body = crm.queries.lookup(session, kind, value)
    return json_response(body)


@route(
    blueprint,
    "/<member_no>",
    "GET",
    summary="A member's profile with tier",
    responses={200: MemberOut},
    errors=(404,),
)
def get_member(member_no: str) -> Response:
    with read_session(api_context().session_factory) as session:
        body = crm.queries.member_profile(session, member_no)
    return json_response(body)


@route(
    blueprint,
    "/<member_no>",
    "PATCH",
    summary="Change name, birthday or consent flags",
    body=MemberPatch,
    responses={200: MemberOut},
    errors=(404, 422),
)
def update(member_no: str, body: MemberPatch) -> Response:
    changes = body.model_dump(exclude_unset=True)
    updated = run_in_transaction(
        api_context().session_factory, lambda uow: crm.update_member(uow, member_no, changes)
    )
    return json_response(updated)


@route(
    blueprint,
    "/<member_no>/identifiers",
    "POST",
    summary=(
        "Link an offline card, WeChat or partner id: a channel key vouches for it; the "
        "member themself proves it with the verification_code sent to their phone"
    ),
    body=IdentifierIn,
    responses={201: IdentifierOut},
    errors=(404, 409, 422, 429),
)
def link(member_no: str, body: IdentifierIn) -> Response:
    context = api_context()
    proof = None
    if member_caller() is not None and body.verification_code is not None:
        proof = crm.CodeProof(body.verification_code, context.settings.secret_key)
        with read_session(context.session_factory) as session:
            phone = crm.queries.phone_of(session, crm.queries.active_member_id(session, member_no))
        crm.verification.count_try(
            lambda: UnitOfWork(context.session_factory), phone, "link_identifier"
        )
    elif member_caller() is not None:
        proof = crm.CodeProof(None, context.settings.secret_key)  # refused: a code is needed
    linked = run_in_transaction(
        context.session_factory,
        lambda uow: crm.link_identifier(uow, member_no, body.type, body.value, proof=proof),
    )
    return json_response(linked, 201)


@route(
    blueprint,
    "/merge",
    "POST",
    summary="Merge two member records (admin)",
    body=MergeIn,
    responses={200: None},
    errors=(404, 409, 422),
)
def merge(body: MergeIn) -> Response:
    merged = run_in_transaction(
        api_context().session_factory,
        lambda uow: crm.merge_members(uow, body.survivor, body.absorbed),
    )
    return json_response(merged)


@route(
    blueprint,
    "/<member_no>/merges",
    "GET",
    summary="The merges a member took part in, with the numbers that undo them (admin)",
    responses={200: None},
    errors=(404,),
)
def merges(member_no: str) -> Response:
    with read_session(api_context().session_factory) as session:
        return json_response({"merges": crm.queries.merges_of(session, member_no)})


@route(
    blueprint,
    "/merges/<merge_no>/undo",
    "POST",
    summary="Undo a wrong merge: the absorbed member gets back what the merge moved (admin)",
    responses={200: None},
    errors=(404, 409),
)
def unmerge(merge_no: str) -> Response:
    by = f"staff:{staff_caller().username}"
    restored = run_in_transaction(
        api_context().session_factory,
        lambda uow: crm.unmerge_members(uow, merge_no, by=by),
    )
    return json_response(restored)


@route(
    blueprint,
    "/<member_no>/points",
    "GET",
    summary="Available, pending, expiring points and negative debt",
    responses={200: PointsOut},
    errors=(404,),
)
def points(member_no: str) -> Response:
    with ReadOnlyUnitOfWork(api_context().session_factory) as uow:
        member = crm.resolve_member_no(uow, member_no)
        summary = points_engine.queries.points_summary(uow.session, member.id, today())
        body = {"member_no": member.member_no, **summary, "tier": member.tier}
    return json_response(body)


@route(
    blueprint,
    "/<member_no>/tier",
    "GET",
    summary=(
        "The member's 自邮一族 tier: since when, any grace (the last day a member whose "
        "year fell short keeps it), qualifying points and spend of the trailing year, "
        "what the next tier needs, and the tier history"
    ),
    responses={200: TierStatusOut},
    errors=(404,),
)
def tier(member_no: str) -> Response:
    with ReadOnlyUnitOfWork(api_context().session_factory) as uow:
        member = crm.resolve_member_no(uow, member_no)
        body = crm.club.tier_status(uow.session, member, today())
    return json_response(body)


@route(
    blueprint,
    "/<member_no>/ledger",
    "GET",
    summary="Postings on the member's points, newest first",
    query=PageQuery,
    responses={200: LedgerPage},
    errors=(404, 422),
)
def ledger(member_no: str, query: PageQuery) -> Response:
    before = decode_int_cursor(query.cursor)
    with ReadOnlyUnitOfWork(api_context().session_factory) as uow:
        member = crm.resolve_member_no(uow, member_no)
        entries = points_engine.queries.ledger_history(
            uow.session, member.id, before, query.limit + 1
        )
    more = len(entries) > query.limit
    entries = entries[: query.limit]
    return json_response(
        {
            "items": entries,
            "next_cursor": encode_cursor(entries[-1]["id"]) if more else None,
        }
    )


@route(
    blueprint,
    "/<member_no>/adjustments",
    "POST",
    summary="Credit or debit points by hand, with a reason (finance, admin)",
    body=AdjustmentIn,
    responses={201: AdjustmentOut, 200: AdjustmentOut},
    errors=(403, 404, 409, 422),
)
def adjust(member_no: str, body: AdjustmentIn) -> Response:
    staff = staff_caller()
    context = api_context()
    with read_session(context.session_factory) as session:
        crm.queries.active_member_id(session, member_no)  # unknown member in the path: 404
    command = points_engine.AdjustmentCommand(
        external_id=body.external_id, member_no=member_no, points=body.points, reason=body.reason
    )
    written = run_in_transaction(
        context.session_factory,
        lambda uow: points_engine.adjust_points(
            uow, context.directory, command, actor=staff.username
        ),
    )
    return written_response(written)
