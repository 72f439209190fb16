"""The server process of ``codelists serve`` (app/cli/serving.py): a stop or reload signal never
waits for a lock, so a signal that arrives while the main thread holds the event's lock (a
second signal inside the first one's handler, or a worker's exit waking ``Event.wait``) cannot
hang the process."""

from __future__ import annotations

import signal
import threading

import pytest
from granian.constants import Interfaces

from app.cli.serving import LOGGING, Server


@pytest.mark.parametrize("handler", ["signal_handler_interrupt", "signal_handler_reload"])
def test_a_signal_while_the_main_thread_holds_the_event_lock_does_not_hang(handler: str) -> None:
    server = Server(
        "app.server.app:serve_app", interface=Interfaces.ASGI, factory=True, log_dictconfig=LOGGING
    )
    event = server.main_loop_interrupt
    returned = threading.Event()

    def main_thread() -> None:
        # Python runs a signal handler on the main thread between two bytecodes: here, while
        # that thread holds the lock, as inside Event.set or a just-woken Event.wait.
        with event._cond:  # type: ignore[attr-defined]
            getattr(server, handler)(signal.SIGTERM, None)
        returned.set()

    threading.Thread(target=main_thread, daemon=True).start()
    assert returned.wait(5), "the handler waits for a lock its own thread holds"
    assert event.wait(5)
    assert server.interrupt_signal or server.reload_signal
