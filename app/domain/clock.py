""" "Today" is a dependency, not a global: the service's clock, in its time zone."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo


class Clock:
    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def now(self) -> datetime:
        return datetime.now(self.zone)

    def today(self) -> date:
        return self.now().date()

    def midnight(self, day: date) -> datetime:
        """The start of ``day`` in the service's time zone."""
        return datetime.combine(day, time(), self.zone)
