"""HTTP-dates as RFC 9110 §5.6.7 defines them: all three forms, strictly, always GMT.

``email.utils.parsedate_to_datetime`` reads far more than HTTP-dates (numeric zones, missing
seconds, any year) and returns a naive datetime for the asctime form, which the zone-less
asctime grammar means as GMT. So the three forms are matched by their grammar here, and only
what matches is a date; anything else is "not a valid HTTP-date", which RFC 9110 §13.1.3 says
a recipient of ``If-Modified-Since`` must ignore.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = r"(\d\d):(\d\d):(\d\d)"
# IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
_IMF_FIXDATE = re.compile(rf"{_DAY}, (\d\d) {_MONTH} (\d{{4}}) {_TIME} GMT")
# obsolete RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
_RFC850 = re.compile(
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), "
    rf"(\d\d)-{_MONTH}-(\d\d) {_TIME} GMT"
)
# asctime: Sun Nov  6 08:49:37 1994 (the day is two digits or a space and one digit)
_ASCTIME = re.compile(rf"{_DAY} {_MONTH} (\d\d| \d) {_TIME} (\d{{4}})")


def parse_http_date(text: str | bytes, *, now: datetime | None = None) -> datetime | None:
    """The instant an HTTP-date names, as an aware UTC datetime; None if ``text`` is not one.

    Accepts exactly the three forms of RFC 9110 §5.6.7 (surrounding whitespace aside). A
    two-digit RFC 850 year is read, as that section says, as the most recent year with those
    last two digits that is not more than 50 years after ``now`` (default: the current time).
    """
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    text = text.strip()
    try:
        if found := _IMF_FIXDATE.fullmatch(text):
            day, month, year, hour, minute, second = found.groups()
            return _instant(int(year), month, day, hour, minute, second)
        if found := _RFC850.fullmatch(text):
            day, month, short_year, hour, minute, second = found.groups()
            year = _full_year(int(short_year), now or datetime.now(UTC))
            return _instant(year, month, day, hour, minute, second)
        if found := _ASCTIME.fullmatch(text):
            month, day, hour, minute, second, year = found.groups()
            return _instant(int(year), month, day.strip(), hour, minute, second)
    except ValueError:  # a day, hour, ... out of range: not a date
        return None
    return None


def _instant(year: int, month: str, day: str, hour: str, minute: str, second: str) -> datetime:
    # RFC 9110 allows a leap second (60); it names the same instant as :59 for our purposes.
    return datetime(
        year, _MONTHS[month], int(day), int(hour), int(minute), min(int(second), 59), tzinfo=UTC
    )


def _full_year(short_year: int, now: datetime) -> int:
    year = now.year - now.year % 100 + short_year
    if year > now.year + 50:
        year -= 100
    return year
