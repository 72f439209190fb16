"""State on a date, and the dates on which states change (api.md "Time and validity")."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.domain.values import (
    Value,
    in_option_order,
    last_state_change,
    next_state_change,
    state_change_dates,
)

DAY = date(2025, 7, 1)


def value(**fields: object) -> Value:
    base: dict[str, object] = {"code": "59", "name": "Bonus", "valid_from": date(2014, 1, 1)}
    return Value(**{**base, **fields})  # type: ignore[arg-type]


def test_validity_is_closed_open() -> None:
    retired = value(valid_to=DAY)
    assert retired.state_on(DAY - timedelta(days=1)) == "selectable"
    assert retired.state_on(DAY) == "expired"
    assert value(valid_from=DAY).state_on(DAY) == "selectable"
    assert value(valid_from=DAY).state_on(DAY - timedelta(days=1)) == "not_yet_valid"


def test_deactivated_wins_over_dates() -> None:
    assert value(active=False).state_on(DAY) == "deactivated"
    assert value(active=False, valid_from=date(2030, 1, 1)).state_on(DAY) == "deactivated"
    assert value(active=False, valid_to=date(2020, 1, 1)).state_on(DAY) == "deactivated"


def test_open_ended_value_never_expires() -> None:
    assert value().state_on(date(9999, 12, 31)) == "selectable"


dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def values(draw: st.DrawFn) -> Value:
    start = draw(dates)
    end = draw(
        st.none() | st.dates(min_value=start + timedelta(days=1), max_value=date(2041, 1, 1))
    )
    return value(
        code=str(draw(st.integers(0, 999))),
        valid_from=start,
        valid_to=end,
        active=draw(st.booleans()),
    )


@given(values(), dates)
def test_state_matches_the_definition(v: Value, day: date) -> None:
    valid = v.valid_from <= day and (v.valid_to is None or day < v.valid_to)
    assert v.selectable_on(day) == (v.active and valid)
    assert (v.state_on(day) == "deactivated") == (not v.active)


@given(st.lists(values(), max_size=8), dates)
def test_states_hold_until_the_next_change_and_change_there(vs: list[Value], day: date) -> None:
    changes = state_change_dates(vs)
    upcoming = next_state_change(changes, day)
    horizon = upcoming or day + timedelta(days=400)
    states_today = [v.state_on(day) for v in vs]
    # Constant from `day` up to (not including) the next change ...
    probe = day
    while probe < horizon and probe < day + timedelta(days=400):
        assert [v.state_on(probe) for v in vs] == states_today
        probe += timedelta(days=37)
    assert [v.state_on(horizon - timedelta(days=1)) for v in vs] == states_today
    # ... and different on it.
    if upcoming is not None:
        assert [v.state_on(upcoming) for v in vs] != states_today


@given(st.lists(values(), max_size=8), dates)
def test_last_change_is_the_latest_change_on_or_before(vs: list[Value], day: date) -> None:
    changes = state_change_dates(vs)
    last = last_state_change(changes, day)
    assert last == max((d for d in changes if d <= day), default=None)
    if last is not None:
        before = last - timedelta(days=1)
        assert [v.state_on(before) for v in vs] != [v.state_on(last) for v in vs]


def test_option_order_sort_order_then_danish_name_then_code() -> None:
    vs = [
        value(code="3", name="Øl"),
        value(code="2", name="Åben"),
        value(code="1", name="Zebra"),
        value(code="10", name="Æble"),
        value(code="9", name="Æble"),
        value(code="5", name="Sidst", sort_order=2),
        value(code="4", name="Først", sort_order=1),
    ]
    assert [v.code for v in in_option_order(vs)] == ["4", "5", "1", "9", "10", "3", "2"]
