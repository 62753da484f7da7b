"""What a plugin's stdout must be before it is cached: table tests of
``engine/core/exec_credential.py`` (pure functions, a fixed clock)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from kubewarm.engine.core.exec_credential import (
    InvalidCredential,
    parse_timestamp,
    requested_api_version,
    validate,
)

from tests.shim_helpers import exec_info

V1BETA1 = "client.authentication.k8s.io/v1beta1"
V1 = "client.authentication.k8s.io/v1"
NOW = 1_900_000_000.0  # 2030-03-17T17:46:40Z
Y2030 = 1_893_456_000.0  # 2030-01-01T00:00:00Z


def _stamp(epoch: float, offset_hours: float = 0, fmt: str = "%Y-%m-%dT%H:%M:%S%z") -> str:
    """``epoch`` written in the time zone UTC+``offset_hours`` (``+02:00`` style)."""
    zone = timezone(timedelta(hours=offset_hours))
    text = datetime.fromtimestamp(epoch, zone).strftime(fmt)
    return text[:-2] + ":" + text[-2:]


def _doc(status=None, kind: str | None = "ExecCredential", api_version=V1BETA1, **extra) -> bytes:
    if status is None:
        status = {"token": "t0ken", "expirationTimestamp": _stamp(NOW + 900)}
    doc = {"kind": kind, "apiVersion": api_version, "spec": {}, "status": status, **extra}
    return json.dumps(doc).encode()


# --- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2030-01-01T00:00:00Z", Y2030),
        ("2030-01-01t00:00:00z", Y2030),  # RFC 3339 allows lower case
        ("2030-01-01T02:00:00+02:00", Y2030),  # the offset is honoured, not dropped
        ("2029-12-31T19:30:00-04:30", Y2030),
        ("2030-01-01T00:00:00.5Z", Y2030 + 0.5),
        ("2030-01-01T00:00:00.123456Z", Y2030 + 0.123456),
        ("2030-01-01T00:00:00.123456789Z", Y2030 + 0.123456),  # Go's nanoseconds, cut to µs
        ("2030-01-01T02:00:00.250+02:00", Y2030 + 0.25),  # fraction and offset together
        ("  2030-01-01T00:00:00Z\n", Y2030),
    ],
)
def test_rfc3339_timestamps(text, epoch):
    assert parse_timestamp(text) == pytest.approx(epoch, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2030-01-01T00:00:00", "no time zone"),
        ("2030-01-01", "no time zone"),
        ("tomorrow", "not RFC 3339"),
        ("", "not RFC 3339"),
        ("2030-13-01T00:00:00Z", "not RFC 3339"),
        ("0001-01-01T00:00:00+01:00", "out of range"),  # before year 1 in UTC
        ("9999-12-31T23:59:59-01:00", "out of range"),  # after year 9999 in UTC
    ],
)
def test_bad_timestamps_are_invalid_credentials(text, says):
    with pytest.raises(InvalidCredential, match=says):
        parse_timestamp(text)


# --- expiry ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stamp", "ok"),
    [
        (_stamp(NOW - 60, offset_hours=2), False),  # passed a minute ago, written at +02:00
        (_stamp(NOW - 60, offset_hours=-5), False),
        (_stamp(NOW - 60), False),
        (_stamp(NOW), False),  # expiring this very second is expired
        (_stamp(NOW + 60, offset_hours=2), True),
        (_stamp(NOW + 60, offset_hours=-5), True),
    ],
)
def test_expiry_is_compared_in_utc_whatever_the_offset(stamp, ok):
    output = _doc({"token": "t", "expirationTimestamp": stamp})
    if ok:
        assert validate(output, None, NOW).expires == pytest.approx(NOW + 60)
    else:
        with pytest.raises(InvalidCredential, match="already expired"):
            validate(output, None, NOW)


def test_fractional_expiry_is_kept():
    stamp = _stamp(NOW + 900)[:-6] + ".750000000Z"
    assert validate(_doc({"token": "t", "expirationTimestamp": stamp}), V1BETA1, NOW).expires == (
        pytest.approx(NOW + 900.75)
    )


@pytest.mark.parametrize("status", [{"token": "t"}, {"token": "t", "expirationTimestamp": None}])
def test_no_expiration_timestamp_means_no_expiry(status):
    credential = validate(_doc(status), None, NOW)
    assert credential.expires is None and credential.api_version == V1BETA1


@pytest.mark.parametrize("stamp", [1893456000, 1.5, ["2030-01-01T00:00:00Z"], {"a": 1}, True])
def test_expiration_timestamp_must_be_a_string(stamp):
    with pytest.raises(InvalidCredential, match="not a string"):
        validate(_doc({"token": "t", "expirationTimestamp": stamp}), None, NOW)


# --- kind, apiVersion ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_version", "requested", "says"),
    [
        (V1BETA1, None, ""),
        (V1, None, ""),
        (V1BETA1, V1BETA1, ""),
        (V1, V1, ""),
        ("client.authentication.k8s.io/v1alpha1", None, "unknown apiVersion"),
        (None, None, "unknown apiVersion"),
        (V1, V1BETA1, "kubectl asked for"),
        (V1BETA1, V1, "kubectl asked for"),
    ],
)
def test_api_version_must_be_known_or_the_one_kubectl_asked_for(api_version, requested, says):
    output = _doc(api_version=api_version)
    if not says:
        assert validate(output, requested, NOW).api_version == api_version
    else:
        with pytest.raises(InvalidCredential, match=says):
            validate(output, requested, NOW)


@pytest.mark.parametrize(
    "output",
    [
        _doc(kind="Secret"),
        _doc(kind=None),
        _doc(kind="execcredential"),
        json.dumps({"apiVersion": V1BETA1, "status": {"token": "t"}}).encode(),
    ],
)
def test_wrong_kind_is_refused(output):
    with pytest.raises(InvalidCredential, match="not an ExecCredential"):
        validate(output, None, NOW)


# --- token or client certificate -------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        {"token": "t"},
        {"clientCertificateData": "CERT", "clientKeyData": "KEY"},
        {"token": "t", "clientCertificateData": "CERT", "clientKeyData": "KEY"},
        {"token": "t", "clientCertificateData": "CERT"},  # a token makes a lone cert harmless
    ],
)
def test_a_token_or_a_certificate_with_its_key_is_enough(status):
    assert validate(_doc(status), None, NOW).expires is None


@pytest.mark.parametrize(
    "status",
    [
        {},
        {"token": ""},
        {"token": None},
        {"token": 42},
        {"token": ["t"]},
        {"clientCertificateData": "CERT"},
        {"clientKeyData": "KEY"},
        {"clientCertificateData": "CERT", "clientKeyData": ""},
        {"clientCertificateData": "", "clientKeyData": "KEY"},
        {"clientCertificateData": 1, "clientKeyData": "KEY"},
        {"expirationTimestamp": _stamp(NOW + 900)},
    ],
)
def test_neither_token_nor_complete_certificate_is_refused(status):
    with pytest.raises(InvalidCredential, match="neither a token nor a client certificate"):
        validate(_doc(status), None, NOW)


@pytest.mark.parametrize("status", ["token", ["token"], 7, False])
def test_status_must_be_an_object(status):
    output = json.dumps({"kind": "ExecCredential", "apiVersion": V1, "status": status}).encode()
    with pytest.raises(InvalidCredential, match="gave no status"):
        validate(output, None, NOW)


def test_missing_status_is_refused():
    output = json.dumps({"kind": "ExecCredential", "apiVersion": V1}).encode()
    with pytest.raises(InvalidCredential, match="gave no status"):
        validate(output, None, NOW)


# --- garbage ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "says"),
    [
        (b"", "printed nothing"),
        (b" \n\t\r\n", "printed nothing"),
        (b"<html>502 Bad Gateway</html>\n", "not JSON"),
        (b"\xff\xfe{}", "not JSON"),  # not UTF-8
        (b'{"kind": "ExecCredential"', "not JSON"),  # cut short
        (b"[" * 100_000, "not JSON"),  # nested deeper than the parser's recursion limit
        (b"null", "not an ExecCredential"),
        (b"[]", "not an ExecCredential"),
        (b'"ExecCredential"', "not an ExecCredential"),
        (b"42", "not an ExecCredential"),
    ],
)
def test_garbage_is_one_reason_never_a_traceback(output, says):
    with pytest.raises(InvalidCredential, match=says):
        validate(output, None, NOW)


def test_reasons_never_echo_the_secret():
    secret = "kwsecret-AAAA-BBBB"
    outputs = [
        _doc({"token": secret, "expirationTimestamp": _stamp(NOW - 1)}),
        _doc({"token": secret}, api_version="x/" + "v9"),
        secret.encode(),
    ]
    for output in outputs:
        with pytest.raises(InvalidCredential) as caught:
            validate(output, V1, NOW)
        assert secret not in str(caught.value)


# --- what kubectl asked for ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("info", "version"),
    [
        (exec_info(api_version=V1), V1),
        (exec_info(server="https://127.0.0.1:6443", ca="Q0E="), V1BETA1),
        ("", None),
        ("   ", None),
        ("not json", None),
        ("[]", None),
        ('{"apiVersion": 1}', None),
        ('{"kind":"ExecCredential"}', None),
        ("[" * 100_000, None),
    ],
)
def test_requested_api_version(info, version):
    assert requested_api_version(info) == version
