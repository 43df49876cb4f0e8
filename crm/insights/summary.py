"""Purchase histories in the form the counting models read: frequency, recency and age.

A customer's history is `x` repeat purchases (purchases after the first), the time `t_x`
of the last of them measured from the first purchase (0 without repeats) and the age `T`,
the time from the first purchase to the end of the calibration period, all in the same
unit (weeks here). The likelihoods depend on nothing else, so customers with equal
(x, t_x, T) are fitted once with a weight: transaction data recorded by the day has few
distinct histories, and a million customers fit in the time of a few tens of thousands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crm.insights.errors import NoCustomers

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Histories:
    """Per-customer (x, t_x, T), or distinct histories with `weight` customers each."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weight: FloatArray

    @classmethod
    def of(cls, x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike) -> Histories:
        """One row per customer; raises `NoCustomers` when empty and `ValueError` when a
        row breaks 0 <= t_x <= T, x >= 0 (x counts purchases, so it is whole)."""
        xs = np.asarray(x, dtype=np.float64).ravel()
        recency = np.asarray(t_x, dtype=np.float64).ravel()
        age = np.asarray(T, dtype=np.float64).ravel()
        if not xs.size == recency.size == age.size:
            raise ValueError("x, t_x and T need one value per customer")
        if xs.size == 0:
            raise NoCustomers("no customers to fit")
        valid = (
            np.isfinite(xs)
            & np.isfinite(recency)
            & np.isfinite(age)
            & (xs >= 0)
            & (xs == np.floor(xs))
            & (recency >= 0)
            & (recency <= age)
        )
        if not bool(valid.all()):
            raise ValueError("every history needs whole x >= 0 and 0 <= t_x <= T")
        return cls(xs, recency, age, np.ones_like(xs))

    @property
    def customers(self) -> int:
        return round(float(self.weight.sum()))

    def grouped(self) -> Histories:
        """Distinct (x, t_x, T) with the number of customers sharing each as its weight."""
        if self.x.size < 2:
            return self
        order = np.lexsort((self.T, self.t_x, self.x))
        x, t_x, age = self.x[order], self.t_x[order], self.T[order]
        starts = np.flatnonzero(
            np.concatenate(([True], (np.diff(x) != 0) | (np.diff(t_x) != 0) | (np.diff(age) != 0)))
        )
        weight = np.add.reduceat(self.weight[order], starts)
        return Histories(x[starts], t_x[starts], age[starts], weight)


@dataclass(frozen=True)
class Distinct:
    """The distinct values of a column and, for each row, where its value is among them:
    terms that depend on one column alone (a gamma function of r + x, a log of α + T)
    are computed once per distinct value, of which purchase data has few."""

    values: FloatArray
    at: npt.NDArray[np.intp]

    @classmethod
    def of(cls, column: FloatArray) -> Distinct:
        values, at = np.unique(column, return_inverse=True)
        return cls(values, at.ravel())

    @classmethod
    def pairs(cls, first: FloatArray, second: FloatArray) -> Distinct:
        """Distinct (first, second) rows: `values` has two columns."""
        order = np.lexsort((second, first))
        a, b = first[order], second[order]
        new = np.ones(a.size, dtype=bool)
        new[1:] = (np.diff(a) != 0) | (np.diff(b) != 0)
        at = np.empty(a.size, dtype=np.intp)
        at[order] = np.cumsum(new) - 1
        return cls(np.column_stack([a[new], b[new]]), at)
