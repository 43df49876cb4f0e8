"""Error categories every package raises; only the HTTP layer turns them into responses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """Base of every expected failure; `code` is stable and ends up in problem `type`."""

    code = "domain-error"
    title = "Request could not be completed"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class NotFound(DomainError):
    code = "not-found"
    title = "Not found"


class Invalid(DomainError):
    code = "invalid"
    title = "Invalid input"

    @classmethod
    def field(cls, field: str, message: str) -> Invalid:
        return cls(f"{field}: {message}", [FieldError(field, message)])


class UnknownReference(Invalid):
    """The request is well formed but names something that does not exist (an institution,
    an outlet, a category or tier code): no schema can know which codes exist."""

    code = "unknown-reference"
    title = "Names something unknown"


class InconsistentFields(Invalid):
    """Each field is well formed but together they break a rule the operation's description
    states (an end before a start, a total that is not the sum of its lines, the same member
    twice): rules between fields that JSON Schema does not express."""

    code = "inconsistent-fields"
    title = "Fields do not fit together"


class UnknownCursor(Invalid):
    """A cursor of the stated shape (unpadded base64url) that this API did not issue."""

    code = "invalid-cursor"
    title = "Not a cursor this API issued"


def combined(errors: list[Invalid]) -> Invalid:
    """One error for several: generic `Invalid` if any of them is (input the schema
    refuses too), else of the first one's kind."""
    kind = Invalid if any(type(error) is Invalid for error in errors) else type(errors[0])
    return kind("; ".join(e.detail for e in errors), [fe for e in errors for fe in e.errors])


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict"


class RuleViolation(DomainError):
    code = "rule-violation"
    title = "Business rule violated"


class Forbidden(DomainError):
    code = "forbidden"
    title = "Forbidden"


class Unauthorized(DomainError):
    code = "unauthorized"
    title = "Authentication required"


class Throttled(DomainError):
    """Too many attempts; the caller may try again after `retry_after` seconds."""

    code = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
