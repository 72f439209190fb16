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
# processes and Varnish, and two publishes, on a busy machine.
LEAD = timedelta(seconds=100)


@pytest.mark.timeout(600)
def test_no_answer_of_the_previous_day_is_served_after_a_state_change_midnight(
    postgres_template: str, tmp_path: Path
) -> None:
    offset = (MIDNIGHT - LEAD - datetime.now(UTC)).total_seconds()

    def service_now() -> float:
        return time.time() + offset

    env = {"CODELISTS_CLOCK_OFFSET_SECONDS": repr(offset)}
    with deployment(postgres_template, tmp_path, extra_env=env) as stack:
        stack.publish(stack.write_changeset("fravaer", "STARTS", valid_from=DAY.isoformat()))
        stack.publish(stack.write_changeset("fravaer", "ENDS", valid_to=DAY.isoformat()))
        left = MIDNIGHT.timestamp() - service_now()
        if left < 3:
            pytest.fail(f"start-up took too long: {LEAD} was not enough (left {left:.1f} s)")

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
