"""Customer analytics on purchase histories: lifetime value (BG/NBD, Pareto/NBD,
Gamma-Gamma) and what a campaign added against its holdout (lift).

Pure computation over files and arrays: nothing here touches the database or the web.
"""

from crm.insights import bgnbd, gamma_gamma, lift, pareto_nbd, simulation
from crm.insights.errors import BadPeriod, BadTransactionFile, FitFailed, NoCustomers
from crm.insights.lifetime_value import ClvReport, Holdout, fit_clv
from crm.insights.summary import Histories
from crm.insights.transactions import (
    CalibrationSummary,
    FileFormat,
    Transactions,
    read_transactions,
    summarise,
)

__all__ = [
    "BadPeriod",
    "BadTransactionFile",
    "CalibrationSummary",
    "ClvReport",
    "FileFormat",
    "FitFailed",
    "Histories",
    "Holdout",
    "NoCustomers",
    "Transactions",
    "bgnbd",
    "fit_clv",
    "gamma_gamma",
    "lift",
    "pareto_nbd",
    "read_transactions",
    "simulation",
    "summarise",
]
