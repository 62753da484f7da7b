"""Property tests (hypothesis, bounded): whatever a plugin prints, whatever bytes sit in the
store, whatever the settings file or environment holds, the parsers answer or raise their one
documented error (InvalidCredential, BadEntry) — never another exception, never a hang."""

from __future__ import annotations

import json
import math
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubewarm.engine.core.entry import BadEntry, Entry, decode
from kubewarm.engine.core.exec_credential import (
    API_VERSIONS,
    Credential,
    InvalidCredential,
    parse_timestamp,
    requested_api_version,
    validate,
)
from kubewarm.engine.hotpath import (
    DEFAULTS,
    MAGIC,
    load_settings,
    number,
    read_settings_file,
    sha256,
    timing,
)

BOUNDED = settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
NOW = 1_900_000_000.0

# --- ExecCredential ------------------------------------------------------------------------

json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda m: timezone(timedelta(minutes=m))
)


@st.composite
def rfc3339(draw) -> str:
    """Timestamps as plugins write them, and near misses."""
    moment = draw(st.datetimes(timezones=st.none() | offsets))
    text = moment.isoformat()
    variant = draw(st.integers(0, 4))
    if variant == 1 and text.endswith("+00:00"):
        text = text[:-6] + "Z"
    elif variant == 2:
        text = text.replace("T", draw(st.sampled_from(["t", " ", "T"])))
    elif variant == 3:
        frac = draw(st.text("0123456789", min_size=0, max_size=12))
        head, sep, rest = text.partition("+") if "+" in text[10:] else (text, "", "")
        text = head.split(".")[0] + "." + frac + sep + rest
    elif variant == 4:
        text = draw(st.text(max_size=40))
    return text


status_values = st.fixed_dictionaries(
    {},
    optional={
        "token": st.text(max_size=8) | json_value,
        "clientCertificateData": st.text(max_size=8) | json_value,
        "clientKeyData": st.text(max_size=8) | json_value,
        "expirationTimestamp": rfc3339() | json_value,
    },
)
credentials = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["ExecCredential", "Secret", ""]) | json_value,
        "apiVersion": st.sampled_from(API_VERSIONS) | json_value,
        "spec": json_value,
        "status": status_values | json_value,
    },
)
plugin_output = (
    st.binary(max_size=200)
    | credentials.map(lambda d: json.dumps(d).encode())
    | st.integers(1, 5000).map(lambda n: b"[" * n)
)
requested = st.none() | st.sampled_from(API_VERSIONS) | st.text(max_size=10)


@BOUNDED
@given(output=plugin_output, asked=requested)
def test_validate_returns_a_servable_credential_or_says_why(output, asked):
    try:
        credential = validate(output, asked, NOW)
    except InvalidCredential as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(credential, Credential)
    assert credential.api_version in API_VERSIONS
    assert credential.expires is None or (
        math.isfinite(credential.expires) and credential.expires > NOW
    )


@BOUNDED
@given(text=rfc3339())
def test_parse_timestamp_is_a_number_or_invalid(text):
    try:
        value = parse_timestamp(text)
    except InvalidCredential:
        return
    assert math.isfinite(value)


@BOUNDED
@given(moment=st.datetimes(timezones=offsets))
def test_parse_timestamp_agrees_with_datetime(moment):
    assert parse_timestamp(moment.isoformat()) == moment.timestamp()


@BOUNDED
@given(info=st.text(max_size=200) | json_value.map(json.dumps))
def test_requested_api_version_never_raises(info):
    result = requested_api_version(info)
    assert result is None or isinstance(result, str)


# --- stored entries --------------------------------------------------------------------------

header_field = (
    st.binary(max_size=12)
    | st.integers().map(lambda n: str(n).encode())
    | st.integers(10**300, 10**400).map(lambda n: str(n).encode())  # beyond a float
)


@st.composite
def entry_blobs(draw) -> bytes:
    payload = draw(st.binary(max_size=64))
    digest = sha256(payload).hexdigest().encode()
    fields = [MAGIC, draw(header_field), draw(header_field), draw(header_field), digest]
    if draw(st.booleans()):  # now and then a damaged or missing field
        index = draw(st.integers(0, 4))
        fields[index] = draw(st.binary(max_size=70))
    return b" ".join(fields) + b"\n" + payload


@BOUNDED
@given(blob=st.binary(max_size=200) | entry_blobs())
def test_decode_returns_an_entry_or_bad_entry(blob):
    try:
        entry = decode(blob)
    except BadEntry:
        return
    assert isinstance(entry, Entry)
    assert sha256(entry.payload).hexdigest() == entry.digest
    assert math.isfinite(entry.expires) and math.isfinite(entry.obtained)


@BOUNDED
@given(
    payload=st.binary(max_size=200),
    expires=st.integers(0, 2**40),
    obtained=st.integers(0, 2**40),
    explicit=st.booleans(),
)
def test_encode_then_decode_is_the_same_entry(payload, expires, obtained, explicit):
    entry = decode(Entry(payload, expires, obtained, explicit).encode())
    assert (entry.payload, entry.expires, entry.obtained, entry.explicit) == (
        payload,
        expires,
        obtained,
        explicit,
    )


# --- settings --------------------------------------------------------------------------------

NAMES = sorted(DEFAULTS)
# what float() accepts beyond plain numbers, and what it refuses
NUMBERISH = ["inf", "-inf", "Infinity", "nan", "1e999", "-0", "1_000", " 5 ", "0x10", "1e-400"]
setting_text = st.text(max_size=20) | st.sampled_from(NUMBERISH)
setting_lines = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(NAMES), setting_text).map(lambda t: f"{t[0]}={t[1]}"),
        st.text(max_size=40),
    ),
    max_size=10,
).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass"))
settings_bytes = st.binary(max_size=300) | setting_lines


@contextmanager
def _config_dir(content: bytes):
    """A private config directory holding ``settings.conf`` with ``content``, as the
    environment's KUBEWARM_CONFIG_DIR for the duration."""
    saved = os.environ.get("KUBEWARM_CONFIG_DIR")
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "settings.conf"), "wb") as fh:
            fh.write(content)
        os.environ["KUBEWARM_CONFIG_DIR"] = directory
        try:
            yield os.path.join(directory, "settings.conf")
        finally:
            if saved is None:
                os.environ.pop("KUBEWARM_CONFIG_DIR", None)
            else:
                os.environ["KUBEWARM_CONFIG_DIR"] = saved


@BOUNDED
@given(content=settings_bytes)
def test_settings_file_parses_to_kubewarm_names(content):
    with _config_dir(content) as path:
        values = read_settings_file(path)
    assert all(k.startswith("KUBEWARM_") and isinstance(v, str) for k, v in values.items())
    assert all("\n" not in v and "\r" not in v and v == v.strip() for v in values.values())


@BOUNDED
@given(
    content=settings_bytes,
    environ=st.dictionaries(st.sampled_from(NAMES), setting_text, max_size=4),
    lifetime=st.floats(min_value=1, max_value=10**9),
)
def test_load_settings_gives_usable_numbers(content, environ, lifetime):
    with _config_dir(content):
        values = load_settings(environ)
    assert set(DEFAULTS) <= set(values)
    for name in environ:
        assert values[name] == environ[name]  # the environment wins
    for name in (
        "KUBEWARM_REFRESH_WINDOW",
        "KUBEWARM_MARGIN_SECONDS",
        "KUBEWARM_MARGIN_FRACTION",
        "KUBEWARM_DEFAULT_TTL",
        "KUBEWARM_REFRESH_TIMEOUT",
        "KUBEWARM_BACKUPS",
    ):
        result = number(values, name)
        assert math.isfinite(result) and result >= 0, (name, values[name])
    window, margin = timing(values, lifetime)
    assert 0 <= margin <= window <= lifetime


@BOUNDED
@given(text=st.text(max_size=30) | st.sampled_from(NUMBERISH))
def test_number_is_finite_and_not_negative(text):
    for name in ("KUBEWARM_DEFAULT_TTL", "KUBEWARM_MARGIN_SECONDS", "KUBEWARM_REFRESH_WINDOW"):
        result = number({name: text}, name)
        assert math.isfinite(result) and result >= 0


def test_strategies_reach_the_interesting_cases():
    """The generators above do produce valid credentials, entries and settings (a property
    test whose inputs are all rejected early proves nothing)."""
    good = {
        "kind": "ExecCredential",
        "apiVersion": API_VERSIONS[0],
        "status": {
            "token": "t",
            "expirationTimestamp": datetime(2031, 1, 1, tzinfo=timezone.utc).isoformat(),
        },
    }
    assert validate(json.dumps(good).encode(), None, NOW).expires
    assert decode(Entry(b"x", 2, 1, True).encode()).payload == b"x"
    with _config_dir(b"KUBEWARM_DEFAULT_TTL = 30\n# c\n") as path:
        assert read_settings_file(path) == {"KUBEWARM_DEFAULT_TTL": "30"}


# --- the kubeconfig model: any text is a model or one KubeconfigError -----------------------

_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=12),
    st.sampled_from(["aws", "~", "null", "[", "&a x", "*a", "!!binary x", "- a"]),
)  # fmt: skip
_yaml_value = st.recursive(
    _scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_EXEC_OPTIONAL = ("args", "env", "apiVersion", "provideClusterInfo", "interactiveMode")
_exec_block = st.fixed_dictionaries(
    {"command": _scalar | st.just("aws")}, optional={k: _yaml_value for k in _EXEC_OPTIONAL}
)
_user = st.fixed_dictionaries({}, optional={"exec": _exec_block, "token": _scalar})


def _named(field: str, body) -> st.SearchStrategy:
    return st.lists(st.fixed_dictionaries({"name": _scalar, field: body}), max_size=2)


_kubeconfig_doc = st.fixed_dictionaries(
    {},
    optional={
        "apiVersion": _yaml_value,
        "kind": st.sampled_from(["Config", "Other", ""]),
        "clusters": _named("cluster", _yaml_value),
        "users": _named("user", _user),
        "contexts": _named("context", _yaml_value),
        "current-context": _scalar,
    },
)
_kubeconfig_text = (
    _kubeconfig_doc.map(lambda d: _dump(d))
    | st.text(max_size=200)
    | st.sampled_from(["a: &x [*x]", "a: !!python/object:os.system x", "\ufeff---\n...", "[" * 300])
)


def _dump(doc: dict) -> str:
    import yaml

    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


@BOUNDED
@given(text=_kubeconfig_text)
def test_kubeconfig_model_reads_or_says_why(text):
    from kubewarm.engine.kubeconfig import merge
    from kubewarm.engine.kubeconfig.files import KubeconfigPath
    from kubewarm.engine.kubeconfig.model import KubeconfigError

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "config")
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as fh:
            fh.write(text)
        try:
            contexts = merge.merge_contexts(merge.load([KubeconfigPath(path, path, "default")]))
        except KubeconfigError as exc:
            assert "\n" not in str(exc) and path in str(exc)
            return
        assert all(isinstance(c.name, str) for c in contexts)
