"""Errors the lifetime-value insights raise: unreadable transactions, nothing to fit, no optimum."""

from __future__ import annotations

from common.errors import DomainError, InconsistentFields, Invalid, RuleViolation


class BadTransactionFile(Invalid):
    """A transaction file line that is not of the stated format; `detail` names the line."""

    code = "bad-transaction-file"
    title = "Transaction file not in the stated format"


class BadPeriod(InconsistentFields):
    """Calibration and holdout ends that do not fit together (a holdout ending first)."""

    code = "bad-period"
    title = "Calibration and holdout periods do not fit together"


class NoCustomers(RuleViolation):
    """Nothing to fit: no customer bought on or before the calibration end (or none
    qualifies for the model, such as Gamma-Gamma without a repeat buyer)."""

    code = "no-customers"
    title = "No customers to fit"


class FitFailed(DomainError):
    """The optimiser found no maximum of the likelihood (it never stopped at a point where
    the gradient vanishes, or the likelihood was not finite there)."""

    code = "fit-failed"
    title = "Maximum-likelihood fit did not converge"
