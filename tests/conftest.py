"""Shared fixtures. Under ``CI`` a skipped test is an error, unless it is skipped because it
belongs to another operating system (reason starting with ``other platform:``)."""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.fixtures_core",
    "tests.fixtures_keyring",
    "tests.fixtures_desktop",
]

PLATFORM_SKIP = "other platform:"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not os.environ.get("CI") or not report.skipped:
        return
    reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
    if PLATFORM_SKIP in reason:
        return
    report.outcome = "failed"
    report.longrepr = f"skipped under CI, which must have every real component: {reason}"
