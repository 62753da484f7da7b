"""``kubewarm tray --no-icon``: the tray's warmer without a GUI, until SIGTERM or Ctrl-C.

Events go to stdout (and kubewarm's log), failure notifications to stderr.
"""

from __future__ import annotations

import signal
import sys
import threading

from kubewarm.engine.warmer.warmer import Warmer


def run_headless() -> int:
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    if sys.platform != "win32":  # Windows has no SIGHUP
        signal.signal(signal.SIGHUP, on_signal)
    warmer = Warmer(
        notify=lambda title, message: print(f"{title}: {message}", file=sys.stderr, flush=True),
        on_event=lambda line: print(f"kubewarm: {line}", flush=True),
    )
    warmer.start()
    print(f"kubewarm: {warmer.summary()}", flush=True)
    while not stop.wait(3600):
        pass
    warmer.stop()
    return 0
