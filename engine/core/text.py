"""Short phrases that both adaptors (the CLI and the tray) put into sentences: counts, times of
day, failure reasons cut to fit a menu line. Pure functions of their arguments (and the local
time zone); no output."""

from __future__ import annotations

import time


def plural(count: int, word: str) -> str:
    """'1 user', '3 users', '2 entries'."""
    if count == 1:
        return f"1 {word}"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return f"{count} {word[:-1]}ies"
    return f"{count} {word}s"


def clock(epoch: float, now: float | None = None) -> str:
    """HH:MM in local time (with the weekday when it is not within the next 20 hours)."""
    now = time.time() if now is None else now
    if epoch - now > 20 * 3600:
        return time.strftime("%a %H:%M", time.localtime(epoch))
    return time.strftime("%H:%M", time.localtime(epoch))


def short(reason: str, limit: int = 48) -> str:
    """A failure reason cut to fit a menu line ('exit 3: ' dropped when a message follows)."""
    reason = " ".join(reason.split())
    code, sep, message = reason.partition(": ")
    if sep and message and code.startswith("exit ") and code[5:].isdigit():
        reason = message
    return reason if len(reason) <= limit else reason[: limit - 1].rstrip() + "…"
