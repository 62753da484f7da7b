"""Validating a plugin's ExecCredential before it is cached (slow path only)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from kubewarm.engine.errors import KubewarmError

API_VERSIONS = ("client.authentication.k8s.io/v1beta1", "client.authentication.k8s.io/v1")


class InvalidCredential(KubewarmError, ValueError):
    """The plugin's output cannot be served; the message says why (never echoing a secret)."""


class Credential:
    """What kubewarm needs to know of a valid ExecCredential."""

    __slots__ = ("api_version", "expires")

    def __init__(self, api_version: str, expires: float | None) -> None:
        self.api_version = api_version
        self.expires = expires


def requested_api_version(exec_info: str) -> str | None:
    """The apiVersion kubectl asked for in ``KUBERNETES_EXEC_INFO`` (None when absent)."""
    if not exec_info.strip():
        return None
    try:
        doc = json.loads(exec_info)
    except (ValueError, RecursionError):
        return None
    version = doc.get("apiVersion") if isinstance(doc, dict) else None
    return version if isinstance(version, str) else None


def parse_timestamp(value: str) -> float:
    """RFC 3339 (as Go writes it, up to nanoseconds, ``Z`` or an offset) to Unix seconds."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if "." in text:  # datetime takes at most 6 fractional digits; Go writes up to 9
        head, _, rest = text.partition(".")
        count = len(rest) - len(rest.lstrip("0123456789"))  # the digits before the offset
        if count:
            text = head + "." + rest[:count][:6].ljust(6, "0") + rest[count:]
    try:
        moment = datetime.fromisoformat(text.replace("t", "T"))
    except ValueError as exc:
        raise InvalidCredential(f"expirationTimestamp {value[:40]!r} is not RFC 3339") from exc
    if moment.tzinfo is None:
        raise InvalidCredential(f"expirationTimestamp {value[:40]!r} has no time zone")
    try:  # year 1 or 9999 with an offset leaves datetime's range
        return moment.astimezone(timezone.utc).timestamp()
    except (OverflowError, ValueError) as exc:
        raise InvalidCredential(f"expirationTimestamp {value[:40]!r} is out of range") from exc


def validate(output: bytes, requested: str | None, now: float) -> Credential:
    """Check a plugin's stdout; raise :class:`InvalidCredential` with a one-line reason."""
    if not output.strip():
        raise InvalidCredential("printed nothing")
    try:
        doc = json.loads(output.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: [[[[…
        raise InvalidCredential("printed something that is not JSON") from None
    if not isinstance(doc, dict) or doc.get("kind") != "ExecCredential":
        raise InvalidCredential("printed JSON that is not an ExecCredential")
    version = doc.get("apiVersion")
    if requested and version != requested:
        raise InvalidCredential(f"answered apiVersion {version!r}, kubectl asked for {requested!r}")
    if not requested and version not in API_VERSIONS:
        raise InvalidCredential(f"answered an unknown apiVersion {version!r}")
    status = doc.get("status")
    if not isinstance(status, dict):
        raise InvalidCredential("gave no status")
    token = status.get("token")
    cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
    has_token = isinstance(token, str) and token != ""
    has_cert = isinstance(cert, str) and cert != "" and isinstance(key, str) and key != ""
    if not has_token and not has_cert:
        raise InvalidCredential("gave neither a token nor a client certificate and key")
    stamp = status.get("expirationTimestamp")
    expires = None
    if stamp not in (None, ""):
        if not isinstance(stamp, str):
            raise InvalidCredential("gave an expirationTimestamp that is not a string")
        expires = parse_timestamp(stamp)
        if expires <= now:
            raise InvalidCredential(f"gave a credential that already expired at {stamp[:40]}")
    return Credential(str(version), expires)
