"""Reference data and campaigns: institutions, channels, categories, campaigns and simulation."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response

import crm
import points_engine
from common import idempotency, organisation
from common.clock import today
from common.db import read_session
from common.errors import Invalid, combined
from common.unit_of_work import ReadOnlyUnitOfWork, UnitOfWork, run_in_transaction
from crm.campaign_lift import campaign_lift as measure_lift
from storefront_api.http.context import api_context
from storefront_api.http.routing import decode_cursor, encode_cursor, json_response, route
from storefront_api.http.schemas import (
    CampaignIn,
    CampaignLiftOut,
    CampaignList,
    CampaignOut,
    CampaignPatchIn,
    CampaignSimulationIn,
    CampaignSimulationOut,
    CampaignStopped,
    ChurnRiskIn,
    ExpectedValueIn,
    HistoryWindowIn,
    InstitutionPage,
    InstitutionQuery,
    NamedCodeList,
    RuleVersionIn,
    RuleVersionList,
    RuleVersionOut,
    TierList,
)
from storefront_api.http.security import actor, staff_caller

blueprint = Blueprint("reference", __name__, url_prefix="/api/v1")


@route(
    blueprint,
    "/tiers",
    "GET",
    summary=(
        "The 自邮一族 tiers, lowest first: the qualifying points or spend of a trailing year "
        "that earn each, its earning multiplier, and the grace before a downgrade"
    ),
    responses={200: TierList},
)
def tiers() -> Response:
    with read_session(api_context().session_factory) as session:
        multipliers = points_engine.queries.tier_multipliers(session)
        items = [
            {**tier, "multiplier_bp": multipliers.get(tier["code"], 10_000)}
            for tier in crm.club.tier_list(session)
        ]
    return json_response({"items": items})


@route(
    blueprint,
    "/institutions",
    "GET",
    summary="The institution tree, page by page",
    query=InstitutionQuery,
    responses={200: InstitutionPage},
    errors=(422,),
)
def institutions(query: InstitutionQuery) -> Response:
    after = decode_cursor(query.cursor)
    with read_session(api_context().session_factory) as session:
        rows = organisation.list_institutions(session, after, query.limit + 1, query.parent_code)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return json_response(
        {
            "items": [row.__dict__ for row in rows],
            "next_cursor": encode_cursor(rows[-1].code) if more else None,
        }
    )


def _named(
    model: type[organisation.Channel]
    | type[organisation.Category]
    | type[organisation.BusinessType],
) -> Response:
    with read_session(api_context().session_factory) as session:
        items = [
            {"code": row.code, "name": row.name, "name_en": row.name_en}
            for row in organisation.all_rows(session, model)
        ]
    return json_response({"items": items})


@route(blueprint, "/channels", "GET", summary="Sales channels", responses={200: NamedCodeList})
def channels() -> Response:
    return _named(organisation.Channel)


@route(
    blueprint,
    "/categories",
    "GET",
    summary="Product category codes",
    responses={200: NamedCodeList},
)
def categories() -> Response:
    return _named(organisation.Category)


@route(
    blueprint, "/business-types", "GET", summary="Business types", responses={200: NamedCodeList}
)
def business_types() -> Response:
    return _named(organisation.BusinessType)


@route(
    blueprint,
    "/campaigns",
    "GET",
    summary="Campaigns with their remaining budget",
    responses={200: CampaignList},
    errors=(401, 403),
)
def list_campaigns() -> Response:
    with read_session(api_context().session_factory) as session:
        items = [
            points_engine.campaign_view(row, remaining)
            for row, remaining in points_engine.queries.list_campaigns(session)
        ]
    return json_response({"items": items})


@route(
    blueprint,
    "/campaigns/<code>",
    "GET",
    summary="One campaign: window, target (score targets included), effect, budget left",
    responses={200: CampaignOut},
    errors=(401, 403, 404),
)
def get_campaign(code: str) -> Response:
    with read_session(api_context().session_factory) as session:
        row, remaining = points_engine.queries.campaign(session, code)
        answer = points_engine.campaign_view(row, remaining)
    return json_response(answer)


@route(
    blueprint,
    "/campaigns",
    "POST",
    summary="Create a campaign with its own points budget",
    body=CampaignIn,
    responses={201: CampaignOut},
    errors=(401, 403, 409, 422),
)
def create_campaign(body: CampaignIn) -> Response:
    command = _campaign_command(body)
    context = api_context()
    created = run_in_transaction(
        context.session_factory,
        lambda uow: points_engine.create_campaign(uow, command, context.directory),
    )
    return json_response(created, 201)


@route(
    blueprint,
    "/campaigns/<code>",
    "PATCH",
    summary="Change a campaign before it starts: window, target, effect, cap, budget, holdout",
    body=CampaignPatchIn,
    responses={200: CampaignOut},
    errors=(401, 403, 404, 409, 422),
)
def update_campaign(code: str, body: CampaignPatchIn) -> Response:
    given = body.model_fields_set
    nulls = [name for name in sorted(given) if getattr(body, name) is None]
    if set(nulls) - _REMOVABLE:
        raise combined(
            [Invalid.field(name, "must not be null") for name in nulls if name not in _REMOVABLE]
        )
    # Only the fields the body names change (a list given empty clears that target).
    values: dict[str, Any] = {
        name: _command_value(value) for name in given if (value := getattr(body, name)) is not None
    }
    changes = points_engine.CampaignChanges(
        **values,
        remove_cap="per_member_cap" in nulls,
        remove_churn_risk="churn_risk" in nulls,
        remove_expected_value_fen="expected_value_fen" in nulls,
    )
    context = api_context()
    updated = run_in_transaction(
        context.session_factory,
        lambda uow: points_engine.update_campaign(uow, code, changes, today(), context.directory),
    )
    return json_response(updated)


@route(
    blueprint,
    "/campaigns/<code>/pause",
    "POST",
    summary="Pause a campaign: it awards nothing until resumed, its budget stays",
    responses={200: CampaignOut},
    errors=(401, 403, 404, 409),
)
def pause_campaign(code: str) -> Response:
    paused = run_in_transaction(
        api_context().session_factory,
        lambda uow: points_engine.pause_campaign(uow, code, today()),
    )
    return json_response(paused)


@route(
    blueprint,
    "/campaigns/<code>/resume",
    "POST",
    summary="Resume a paused campaign",
    responses={200: CampaignOut},
    errors=(401, 403, 404, 409),
)
def resume_campaign(code: str) -> Response:
    resumed = run_in_transaction(
        api_context().session_factory,
        lambda uow: points_engine.resume_campaign(uow, code, today()),
    )
    return json_response(resumed)


@route(
    blueprint,
    "/campaigns/<code>/stop",
    "POST",
    summary="Stop a campaign for good; its unspent budget goes back to the funder",
    responses={200: CampaignStopped},
    errors=(401, 403, 404, 409),
)
def stop_campaign(code: str) -> Response:
    stopped, returned = run_in_transaction(
        api_context().session_factory, lambda uow: points_engine.stop_campaign(uow, code)
    )
    return json_response({**idempotency.as_answer(stopped), "budget_returned": returned})


@route(
    blueprint,
    "/campaigns/<code>/lift",
    "GET",
    summary="What a campaign added against its holdout: GMV, purchase rate, cost and ROI",
    responses={200: CampaignLiftOut},
    errors=(401, 403, 404, 422),
)
def campaign_lift(code: str) -> Response:
    context = api_context()
    with ReadOnlyUnitOfWork(context.session_factory) as uow:
        answer = measure_lift(uow.session, code, today(), context.settings.fen_per_point)
    return json_response(answer)


@route(
    blueprint,
    "/earning-rules",
    "GET",
    summary="The base earning rules as set up, and every dated version of them",
    responses={200: RuleVersionList},
    errors=(401, 403),
)
def earning_rules() -> Response:
    with read_session(api_context().session_factory) as session:
        items = points_engine.list_rule_versions(session)
    return json_response({"items": items})


@route(
    blueprint,
    "/earning-rules",
    "POST",
    summary="Schedule a new version of a base earning rule from a future day",
    body=RuleVersionIn,
    responses={201: RuleVersionOut},
    errors=(401, 403, 409, 422),
)
def schedule_earning_rule(body: RuleVersionIn) -> Response:
    command = points_engine.RuleVersionCommand(**body.model_dump())
    by = actor(staff_caller())
    scheduled = run_in_transaction(
        api_context().session_factory,
        lambda uow: points_engine.schedule_rule_version(uow, command, today(), by),
    )
    return json_response(scheduled, 201)


# PATCH fields that `null` removes rather than refuses.
_REMOVABLE = {"per_member_cap", "churn_risk", "expected_value_fen"}


def _command_value(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, ChurnRiskIn | ExpectedValueIn):
        return points_engine.ScoreBounds(value.min, value.max)
    return value


def _campaign_command(body: CampaignIn) -> points_engine.CampaignCommand:
    return points_engine.CampaignCommand(
        **{
            name: _command_value(getattr(body, name))
            for name in CampaignIn.model_fields
            if name != "name_en"
        },
        name_en=body.name_en or body.name,
    )


def _simulate(
    uow: UnitOfWork,
    command: points_engine.CampaignCommand,
    history_from: date | None,
    history_to: date | None,
) -> dict[str, Any]:
    since, until = points_engine.history_window(command, history_from, history_to)
    return points_engine.simulate_campaign(uow, api_context().directory, command, since, until)


@route(
    blueprint,
    "/campaigns/simulate",
    "POST",
    summary="Replay past accruals under a proposed campaign: its cost, reach and budget run-out",
    body=CampaignSimulationIn,
    responses={200: CampaignSimulationOut},
    errors=(401, 403, 422),
)
def simulate_proposed_campaign(body: CampaignSimulationIn) -> Response:
    command = _campaign_command(body)
    answer = run_in_transaction(
        api_context().session_factory,
        lambda uow: _simulate(uow, command, body.history_from, body.history_to),
    )
    return json_response(answer)


@route(
    blueprint,
    "/campaigns/<code>/simulate",
    "POST",
    summary="Replay past accruals under an existing campaign: its cost, reach and budget run-out",
    body=HistoryWindowIn,
    body_required=False,
    responses={200: CampaignSimulationOut},
    errors=(401, 403, 404, 422),
)
def simulate_existing_campaign(code: str, body: HistoryWindowIn) -> Response:
    answer = run_in_transaction(
        api_context().session_factory,
        lambda uow: _simulate(
            uow, points_engine.stored_campaign(uow, code), body.history_from, body.history_to
        ),
    )
    return json_response(answer)
