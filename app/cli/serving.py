"""Running granian for ``codelists serve``: its log lines through the service's logging, and a
stop signal that cannot deadlock its main process.

Imported only by ``serve``: granian costs every other command start-up time.
"""

from __future__ import annotations

import threading
from typing import Any

from granian.server import MPServer

# Granian's own lines ("Starting granian", "Stopping worker-1") go to the root logger, whose
# one handler ``app.server.logs.configure_logging`` set up: JSON lines when stdout is not a
# terminal, like every other line. Its access log stays off: ``AccessLog`` writes ours.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": False},
    },
}


class Server(MPServer):
    """granian's multi-process server (what ``granian.Granian`` is on a Python with a GIL),
    with signal handlers that never take a lock.

    granian 2.8's handlers call ``threading.Event.set`` on the main thread. That takes the
    event's lock, which the main thread may hold at that moment: inside the handler of a signal
    that came a moment earlier (``kill`` of a process group: the signal, and again from a
    process that forwards it), or in ``Event.wait`` just woken by a worker's exit. The process
    then waits for itself for ever, and only SIGKILL ends it. Setting the event from a new
    thread lets the main thread go on, release the lock, and then see the event set.
    """

    def signal_handler_interrupt(self, *args: Any, **kwargs: Any) -> None:
        self.interrupt_signal = True
        threading.Thread(target=self.main_loop_interrupt.set, daemon=True).start()

    def signal_handler_reload(self, *args: Any, **kwargs: Any) -> None:
        self.reload_signal = True
        threading.Thread(target=self.main_loop_interrupt.set, daemon=True).start()
