"""Across a midnight on which values change state, through Varnish (api.md "HTTP caching",
"Shared caches and CDNs"): the service processes run on a shifted clock
(CODELISTS_CLOCK_OFFSET_SECONDS) that reaches a state-change midnight during the test; no
answer made the day before is served after it, though Varnish held one until then.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.varnish.stack import deployment

ZONE = ZoneInfo("Europe/Copenhagen")
DAY = date(2031, 3, 4)  # the state-change day: a value starts, another ends
MIDNIGHT = datetime.combine(DAY, clock_time(), ZONE)
# Service time at start-up is this long before the midnight: room for starting two service
# processes and Varnish, and two publishes. Tried in turn: a busy machine gets a longer lead
# rather than the test waiting out the longest one every time.
LEADS = (timedelta(seconds=15), timedelta(seconds=40), timedelta(seconds=100))

VISIBLE_WITHIN = 10.0  # seconds; the one-second bound is test_shared_cache's to check


class StartedTooLate(Exception):
    """The deployment was ready too close to midnight for the test to see the day before."""


@pytest.mark.timeout(600)
def test_no_answer_of_the_previous_day_is_served_after_a_state_change_midnight(
    postgres_seeded_template: str, tmp_path: Path
) -> None:
    late: list[str] = []
    for lead in LEADS:
        try:
            _across_midnight(postgres_seeded_template, tmp_path / f"lead-{lead.seconds}", lead)
            return
        except StartedTooLate as exc:
            late.append(str(exc))
    pytest.fail(f"start-up took too long for every lead: {late}")


def _across_midnight(template: str, workdir: Path, lead: timedelta) -> None:
    """Run the deployment on a clock ``lead`` before the state-change midnight, past it."""
    workdir.mkdir()
    offset = (MIDNIGHT - lead - datetime.now(UTC)).total_seconds()

    def service_now() -> float:
        return time.time() + offset

    env = {"CODELISTS_CLOCK_OFFSET_SECONDS": repr(offset)}
    with deployment(template, workdir, extra_env=env) as stack:
        stack.publish(stack.write_changeset("fravaer", "STARTS", valid_from=DAY.isoformat()))
        stack.publish(stack.write_changeset("fravaer", "ENDS", valid_to=DAY.isoformat()))
        # The other process may answer from before the publish until the purge (api.md allows
        # a second); this test is about midnight, so it reads on once the publish shows.
        stack.wait_for("fravaer", "ENDS", within=VISIBLE_WITHIN)
        left = MIDNIGHT.timestamp() - service_now()
        if left < 3:
            raise StartedTooLate(f"{lead} was not enough (left {left:.1f} s)")

        before = after = held = 0
        while service_now() < MIDNIGHT.timestamp() + 3:
            sent = service_now()
            answer = stack.get("/v1/codelists/fravaer/options")
            assert answer.status_code == 200
            body = answer.json()
            codes = {option["code"] for option in body["options"]}
            if sent >= MIDNIGHT.timestamp():
                after += 1
                assert body["at"] == DAY.isoformat(), (
                    f"an answer of {body['at']} {sent - MIDNIGHT.timestamp():.3f} s after "
                    f"midnight: {dict(answer.headers)}"
                )
                assert "STARTS" in codes and "ENDS" not in codes
            elif service_now() < MIDNIGHT.timestamp():
                before += 1
                assert "STARTS" not in codes and "ENDS" in codes
                held += answer.headers["x-cache"] == "HIT"
            time.sleep(0.02)
        assert before and after
        assert held, "Varnish never held the previous day's answer: the test proved nothing"
