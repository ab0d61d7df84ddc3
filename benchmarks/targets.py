"""A benchmark target: a measured figure, its limit and its verdict.

Its own module so that the figure modules (postgres, service, ...) and the report that
gathers them both import it, and neither imports the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass
class Target:
    key: str
    text: str
    measured: float
    limit: float
    unit: str
    #: "<=", ">=" or "<".
    compare: str
    detail: str = ""

    @property
    def met(self) -> bool | None:
        if math.isnan(self.measured):
            return None
        if self.compare == "<=":
            return self.measured <= self.limit
        if self.compare == ">=":
            return self.measured >= self.limit
        return self.measured < self.limit

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: "not measured"}[self.met]

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.text,
            "measured": None if math.isnan(self.measured) else self.measured,
            "limit": self.limit,
            "unit": self.unit,
            "compare": self.compare,
            "met": self.met,
            "detail": self.detail,
        }
