""" "Today" is a dependency, not a global: the service's clock, in its time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class Clock:
    def __init__(self, zone: ZoneInfo, offset: timedelta = timedelta()) -> None:
        self.zone = zone
        # Non-zero only in tests that move a whole service process towards a midnight.
        self.offset = offset

    def now(self) -> datetime:
        if self.offset:
            return (datetime.now(UTC) + self.offset).astimezone(self.zone)
        return datetime.now(self.zone)

    def today(self) -> date:
        return self.now().date()

    def midnight(self, day: date) -> datetime:
        """The start of ``day`` in the service's time zone."""
        return datetime.combine(day, time(), self.zone)
