"""The cache key: which cached credential a shim invocation may be served.

Lean on purpose (hit path): ``os`` and the ``_sha256`` C module only. The tray computes keys
with this same function from the recipe the shim recorded, so both always agree.

The key is a SHA-256 over, each length-prefixed:
- the plugin argv;
- the value (or absence) of every identity-selecting environment variable;
- ``KUBERNETES_EXEC_INFO`` (requested apiVersion and, with ``provideClusterInfo``, the
  cluster's server and CA), with ``spec.interactive`` normalised so a terminal and a script
  share one entry.
Nothing secret is readable from the key.
"""

from __future__ import annotations

try:  # the C module alone: hashlib would also load OpenSSL (~4 ms)
    from _sha256 import sha256
except ImportError:  # pragma: no cover - interpreters built without it
    from hashlib import sha256

VERSION = "kubewarm-key-v1"

IDENTITY_ENV: tuple[str, ...] = (
    "KUBEWARM_USER",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_VAULT",
    "AWS_ACCESS_KEY_ID",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "CLOUDSDK_CONFIG",
    "CLOUDSDK_CORE_ACCOUNT",
    "CLOUDSDK_CORE_PROJECT",
    "CLOUDSDK_ACTIVE_CONFIG_NAME",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_CONFIG_DIR",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
)

_INTERACTIVE_TRUE = '"interactive":true}'
_INTERACTIVE_FALSE = '"interactive":false}'


def identity_env_names(extra: str = "") -> tuple[str, ...]:
    """The built-in identity variables plus the comma-separated ``KUBEWARM_KEY_ENV`` names."""
    names = list(IDENTITY_ENV)
    for name in extra.split(","):
        name = name.strip()
        if name and name not in names:
            names.append(name)
    return tuple(names)


def normalize_exec_info(info: str) -> str:
    """``KUBERNETES_EXEC_INFO`` with ``spec.interactive`` set to false.

    client-go serialises ``spec`` last and ``interactive`` as its last field, so the value is
    always at the very end of the document; nothing else in it is touched.
    """
    stripped = info.rstrip()
    if stripped.endswith(_INTERACTIVE_TRUE + "}"):
        return stripped[: -len(_INTERACTIVE_TRUE) - 1] + _INTERACTIVE_FALSE + "}"
    return stripped


def compute(argv: list[str], env: dict[str, str], names: tuple[str, ...]) -> str:
    """The hex cache key for running ``argv`` with identity ``env``."""
    parts = [VERSION, str(len(argv))]
    parts.extend(argv)
    for name in sorted(set(names)):
        value = env.get(name)
        parts.append(name)
        parts.append("\x00unset" if value is None else "=" + value)
    parts.append(normalize_exec_info(env.get("KUBERNETES_EXEC_INFO", "")))
    digest = sha256()
    for part in parts:
        raw = part.encode("utf-8", "surrogateescape")
        digest.update(b"%d:" % len(raw))
        digest.update(raw)
    return digest.hexdigest()
