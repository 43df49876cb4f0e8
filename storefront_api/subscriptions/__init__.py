"""Newspaper and magazine subscriptions: the facade other packages and the HTTP layer use."""

from storefront_api.subscriptions.domain import (
    SubscriptionAlreadyCancelled,
    SubscriptionFullyDelivered,
    Term,
    UnknownPressTitle,
    UnknownSubscription,
)
from storefront_api.subscriptions.queries import (
    find_subscription,
    list_press_titles,
    member_activity,
    subscription_owner,
)
from storefront_api.subscriptions.services import (
    COMPANY_INSTITUTION,
    SELF_SERVICE_CHANNEL,
    Caller,
    CancelCommand,
    Delivery,
    SubscribeCommand,
    cancel_subscription,
    load_press_titles,
    subscribe,
)

__all__ = [
    "COMPANY_INSTITUTION",
    "SELF_SERVICE_CHANNEL",
    "Caller",
    "CancelCommand",
    "Delivery",
    "SubscribeCommand",
    "SubscriptionAlreadyCancelled",
    "SubscriptionFullyDelivered",
    "Term",
    "UnknownPressTitle",
    "UnknownSubscription",
    "cancel_subscription",
    "find_subscription",
    "list_press_titles",
    "load_press_titles",
    "member_activity",
    "subscribe",
    "subscription_owner",
]
