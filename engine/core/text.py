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


def format_duration(seconds: float) -> str:
    """'45s', '12m05s', '2h03m', '1d4h' (negative counts as 0)."""
    seconds = max(int(seconds), 0)
    if seconds >= 86400:
        return f"{seconds // 86400}d{seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def about(seconds: float) -> str:
    """A duration as a person says it: '45 s', '14 min', '2 h 05 min' (negative counts as 0)."""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


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
