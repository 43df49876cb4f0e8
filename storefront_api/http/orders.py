"""Catalogue, order, payment and pickup endpoints, and a member's order list."""

from __future__ import annotations

from flask import Blueprint, Response

import crm
from common.db import read_session
from common.errors import Invalid, NotFound
from common.unit_of_work import UnitOfWork, run_in_transaction
from storefront_api import catalogue, orders, pickup
from storefront_api.auth import ChannelPrincipal, MemberPrincipal
from storefront_api.http.context import api_context
from storefront_api.http.orders_schemas import (
    OrderIn,
    OrderOut,
    OrderPage,
    PaymentIn,
    PickupVerifyIn,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatchIn,
    ProductQuery,
    ReasonIn,
)
from storefront_api.http.routing import (
    decode_int_cursor,
    encode_cursor,
    json_response,
    route,
    written_response,
)
from storefront_api.http.schemas import PageQuery
from storefront_api.http.security import caller as current_caller

blueprint = Blueprint("orders", __name__, url_prefix="/api/v1")

MEMBER_CHANNEL = "app"


def order_context() -> orders.OrderContext:
    context = api_context()
    return orders.OrderContext.from_settings(context.directory, context.settings)


def order_caller() -> orders.Caller:
    """On whose behalf an order use case acts (the policy decided that it may)."""
    principal = current_caller()
    if isinstance(principal, ChannelPrincipal):
        return orders.Caller(
            channel=principal.channel,
            scope=f"channel:{principal.channel}",
            actor=f"channel:{principal.channel}:{principal.key_id}",
            institution_code=principal.institution_code,
        )
    if isinstance(principal, MemberPrincipal):
        return orders.Caller(
            channel=MEMBER_CHANNEL,
            scope=f"member:{principal.member_no}",
            actor=f"member:{principal.member_no}",
            member_no=principal.member_no,
        )
    return orders.Caller(
        channel="staff", scope=f"staff:{principal.username}", actor=f"staff:{principal.username}"
    )


# -- catalogue -------------------------------------------------------------------------


@route(
    blueprint,
    "/products",
    "GET",
    summary="The product catalogue (active products), filtered and paged",
    query=ProductQuery,
    responses={200: ProductPage},
)
def list_products(query: ProductQuery) -> Response:
    with read_session(api_context().session_factory) as session:
        items, last = catalogue.list_products(
            session,
            category=query.category,
            business_type=query.business_type,
            festival=query.festival,
            after_id=decode_int_cursor(query.cursor),
            limit=query.limit,
        )
    return json_response({"items": items, "next_cursor": encode_cursor(last) if last else None})


@route(
    blueprint,
    "/products/<sku>",
    "GET",
    summary="One product with its stock",
    responses={200: ProductOut},
    errors=(404,),
)
def get_product(sku: str) -> Response:
    with read_session(api_context().session_factory) as session:
        product = catalogue.get_product(session, sku)
        if product is None:
            raise NotFound(f"no product {sku!r}")
        return json_response(catalogue.product_body(product))


@route(
    blueprint,
    "/products",
    "POST",
    summary="Add a product (admin)",
    body=ProductIn,
    responses={201: ProductOut},
    errors=(403, 409, 422),
)
def add_product(body: ProductIn) -> Response:
    command = catalogue.ProductCommand(
        **{**body.model_dump(), "name_en": body.name_en or body.name}
    )
    created = run_in_transaction(
        api_context().session_factory, lambda uow: catalogue.add_product(uow, command)
    )
    return json_response(created, 201)


@route(
    blueprint,
    "/products/<sku>",
    "PATCH",
    summary="Change a product's price, stock, limit or availability (admin)",
    body=ProductPatchIn,
    responses={200: ProductOut},
    errors=(403, 404, 422),
)
def update_product(sku: str, body: ProductPatchIn) -> Response:
    patch = catalogue.ProductPatch(**body.model_dump())
    updated = run_in_transaction(
        api_context().session_factory, lambda uow: catalogue.update_product(uow, sku, patch)
    )
    return json_response(updated)


# -- orders ----------------------------------------------------------------------------


@route(
    blueprint,
    "/orders",
    "POST",
    summary="Place an order from any channel (or as the member)",
    body=OrderIn,
    responses={201: OrderOut, 200: OrderOut},
    errors=(403, 409, 422),
)
def place_order(body: OrderIn) -> Response:
    caller = order_caller()
    fulfilment = body.fulfillment
    command = orders.PlaceOrder(
        external_id=body.external_id,
        member_no=body.member_no,
        lines=tuple(orders.LineCommand(line.sku, line.quantity) for line in body.lines),
        fulfilment=fulfilment.type,
        outlet_code=getattr(fulfilment, "outlet_code", None),
        address=getattr(fulfilment, "address", None),
        payment_method=body.payment.method,
        points=body.payment.points,
        card_no=body.payment.card_no,
        card_pin=body.payment.card_pin,
        voucher_code=body.payment.voucher_code,
    )
    context = order_context()
    written = run_in_transaction(
        api_context().session_factory,
        lambda uow: orders.place_order(uow, context, caller, command),
    )
    return written_response(written)


@route(
    blueprint,
    "/orders/<order_no>/payments",
    "POST",
    summary="Confirm an online payment; a pickup order then waits at its outlet with a code",
    body=PaymentIn,
    responses={201: OrderOut, 200: OrderOut},
    errors=(403, 404, 409, 422),
)
def pay_order(order_no: str, body: PaymentIn) -> Response:
    caller = order_caller()
    command = orders.PaymentCommand(
        external_id=body.external_id,
        amount_fen=body.amount_fen,
        method=body.method,
        transaction_ref=body.transaction_ref,
    )
    context = order_context()
    written = run_in_transaction(
        api_context().session_factory,
        lambda uow: orders.pay_order(uow, context, caller, order_no, command),
    )
    return written_response(written)


@route(
    blueprint,
    "/orders/<order_no>",
    "GET",
    summary="An order with its lines, payments, pickup and status history",
    responses={200: OrderOut},
    errors=(403, 404),
)
def get_order(order_no: str) -> Response:
    with read_session(api_context().session_factory) as session:
        order = orders.find_order(session, order_no)
        if order is None:
            raise NotFound(f"no order {order_no!r}")
        return json_response(orders.order_body(session, order))


def _order_action(order_no: str, action: str, reason: str | None = None) -> Response:
    caller = order_caller()
    context = order_context()

    def run(uow: UnitOfWork) -> dict[str, object]:
        if action == "cancel":
            return orders.cancel_order(uow, context, caller, order_no, reason)
        if action == "return":
            return orders.return_order(uow, context, caller, order_no, reason)
        if action == "ship":
            return orders.ship_order(uow, context, caller, order_no)
        if action == "deliver":
            return orders.deliver_order(uow, context, caller, order_no)
        return orders.reissue_pickup_code(uow, context, caller, order_no)

    return json_response(run_in_transaction(api_context().session_factory, run))


@route(
    blueprint,
    "/orders/<order_no>/cancel",
    "POST",
    summary="Cancel before pickup or shipping: money back, points used returned, earned reversed",
    body=ReasonIn,
    body_required=False,
    responses={200: OrderOut},
    errors=(403, 404, 409),
)
def cancel_order(order_no: str, body: ReasonIn) -> Response:
    return _order_action(order_no, "cancel", body.reason)


@route(
    blueprint,
    "/orders/<order_no>/returns",
    "POST",
    summary="Take back a collected or delivered order within the return window",
    body=ReasonIn,
    body_required=False,
    responses={200: OrderOut},
    errors=(403, 404, 409, 422),
)
def return_order(order_no: str, body: ReasonIn) -> Response:
    return _order_action(order_no, "return", body.reason)


@route(
    blueprint,
    "/orders/<order_no>/shipments",
    "POST",
    summary="Hand a delivery order to the courier",
    responses={200: OrderOut},
    errors=(403, 404, 409, 422),
)
def ship_order(order_no: str) -> Response:
    return _order_action(order_no, "ship")


@route(
    blueprint,
    "/orders/<order_no>/delivery",
    "POST",
    summary="Confirm delivery (cash on delivery is collected now)",
    responses={200: OrderOut},
    errors=(403, 404, 409),
)
def deliver_order(order_no: str) -> Response:
    return _order_action(order_no, "deliver")


@route(
    blueprint,
    "/orders/<order_no>/pickup-code",
    "POST",
    summary="Issue a new pickup code (the old one stops working), e.g. when the SMS was lost",
    responses={200: OrderOut},
    errors=(403, 404, 409),
)
def reissue_pickup_code(order_no: str) -> Response:
    return _order_action(order_no, "reissue")


@route(
    blueprint,
    "/pickups/verify",
    "POST",
    summary="Hand over a pickup order at the counter of its outlet",
    body=PickupVerifyIn,
    responses={200: OrderOut},
    errors=(403, 404, 409, 422, 429),
)
def verify_pickup(body: PickupVerifyIn) -> Response:
    if not pickup.looks_like_pickup_code(body.pickup_code):
        raise Invalid.field("pickup_code", "a pickup code is 8 digits")
    factory = api_context().session_factory
    verified = orders.verify_pickup(
        lambda: UnitOfWork(factory),
        order_context(),
        order_caller(),
        body.outlet_code,
        body.pickup_code,
    )
    return json_response(verified)


@route(
    blueprint,
    "/members/<member_no>/orders",
    "GET",
    summary="The member's orders from every channel, newest first",
    query=PageQuery,
    responses={200: OrderPage},
    errors=(403, 404),
)
def member_orders(member_no: str, query: PageQuery) -> Response:
    with read_session(api_context().session_factory) as session:
        member_ids = crm.queries.member_ids_merged_into(
            session, crm.queries.active_member_id(session, member_no)
        )
        items, last = orders.member_orders(
            session, member_ids, before_id=decode_int_cursor(query.cursor), limit=query.limit
        )
    return json_response({"items": items, "next_cursor": encode_cursor(last) if last else None})
