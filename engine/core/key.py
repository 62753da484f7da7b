"""The cache key: which cached credential a shim invocation may be served.

A SHA-256 over, each length-prefixed: the plugin argv; the value (or absence) of every
identity-selecting environment variable (``IDENTITY_ENV`` plus ``KUBEWARM_KEY_ENV``); and
``KUBERNETES_EXEC_INFO`` (requested apiVersion and, with ``provideClusterInfo``, the cluster's
server and CA) with ``spec.interactive`` normalised, so a terminal and a script share one
entry. Nothing secret is readable from the key. The tray computes keys with this same function
from the recipe the shim recorded, so both always agree. Implemented in ``hotpath``.
"""

from __future__ import annotations

from kubewarm.engine.hotpath import IDENTITY_ENV, identity_env_names, normalize_exec_info, sha256
from kubewarm.engine.hotpath import KEY_VERSION as VERSION
from kubewarm.engine.hotpath import compute_key as compute

__all__ = [
    "IDENTITY_ENV",
    "VERSION",
    "compute",
    "identity_env_names",
    "normalize_exec_info",
    "sha256",
]
