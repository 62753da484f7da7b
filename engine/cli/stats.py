"""``kubewarm stats``: a thin adaptor over ``cache.stats`` (what the cache saved, per context)."""

from __future__ import annotations

from kubewarm.engine.cache import stats as cache_stats
from kubewarm.engine.cli.output import add_output_option, print_json
from kubewarm.engine.cli.text import fail, format_duration, plural, shorten, table
from kubewarm.engine.kubeconfig import files as kubeconfig_files
from kubewarm.engine.kubeconfig import merge as kubeconfig_merge
from kubewarm.engine.kubeconfig.model import KubeconfigError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="requests served from the cache vs plugin runs, and the time saved",
        description=(
            "Counts, per context and in total, the credential requests kubectl made through"
            " kubewarm: served from the cache, or by running the plugin while kubectl waited;"
            " plus the plugin runs made in the background. Time saved is each hit times that"
            " plugin's measured run time. Counts are kept per day for 92 days."
        ),
    )
    parser.add_argument(
        "--days", type=int, default=7, metavar="N", help="the last N days, today included (7)"
    )
    add_output_option(parser)
    parser.set_defaults(func=run_stats)


def _contexts_by_user() -> dict[str, list[str]]:
    """Which contexts use each kubeconfig user, in the files kubectl would read ({} if none
    can be read: the counts stand without names)."""
    try:
        contexts = kubeconfig_merge.merge_contexts(
            kubeconfig_merge.load(kubeconfig_files.resolve())
        )
    except KubeconfigError:
        return {}
    found: dict[str, list[str]] = {}
    for c in contexts:
        found.setdefault(c.user_name, []).append(c.name)
    return found


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.1f}s" if value < 60 else format_duration(value)


def run_stats(ns) -> int:
    if ns.days < 1:
        return fail("--days must be 1 or more")
    cache_stats.prune()
    report = cache_stats.collect(ns.days, contexts=_contexts_by_user())
    if ns.output == "json":
        print_json(
            {
                "since": report.since,
                "until": report.until,
                "days": report.days,
                "total": {
                    "requests": report.hits + report.runs,
                    "from_cache": report.hits,
                    "plugin_runs": report.runs,
                    "background_runs": report.background_runs,
                    "saved_seconds": round(report.saved_seconds, 3),
                    "warm_recent": {
                        "plugin_runs": report.recent_runs,
                        "waits_saved": report.recent_saves,
                        "saved_seconds": round(report.recent_saved_seconds, 3),
                    },
                },
                "users": [
                    {
                        "user": u.user or None,
                        "contexts": u.contexts,
                        "plugin": u.plugin or None,
                        "requests": u.requests,
                        "from_cache": u.hits,
                        "plugin_runs": u.runs,
                        "background_runs": u.background_runs,
                        "failed_runs": u.failed_runs,
                        "warm_recent_runs": u.recent_runs,
                        "warm_recent_waits_saved": u.recent_saves,
                        "run_seconds": None if u.run_seconds is None else round(u.run_seconds, 3),
                        "saved_seconds": None
                        if u.saved_seconds is None
                        else round(u.saved_seconds, 3),
                    }
                    for u in report.users
                ],
            }
        )
        return 0
    period = f"{report.since} to {report.until}" if report.days > 1 else report.until
    if not report.users:
        print(f"No credential requests went through kubewarm in {period} (UTC).")
        return 0
    requests = report.hits + report.runs
    print(
        f"{period} (UTC): {plural(requests, 'credential request')}, {report.hits} served from"
        f" the cache, {plural(report.runs, 'plugin run')} while kubectl waited,"
        f" {report.background_runs} in the background; saved"
        f" {format_duration(report.saved_seconds)}."
    )
    rows = [("CONTEXT", "USER", "PLUGIN", "FROM CACHE", "PLUGIN RUNS", "RUN TIME", "SAVED")]
    for u in report.users:
        rows.append(
            (
                shorten(", ".join(u.contexts) or "-", 30),
                shorten(u.user or "(not from a kubeconfig)", 30),
                u.plugin or "-",
                str(u.hits),
                f"{u.runs}+{u.background_runs}" if u.background_runs else str(u.runs),
                _seconds(u.run_seconds),
                "?" if u.saved_seconds is None else format_duration(u.saved_seconds),
            )
        )
    print("\n".join(table(rows)))
    if report.background_runs:
        print("(PLUGIN RUNS: while kubectl waited + in the background)")
    if report.recent_runs:
        print(
            f"Kept warm because used recently: {plural(report.recent_runs, 'plugin run')} in the"
            f" background saved kubectl {plural(report.recent_saves, 'wait')} for the plugin"
            f" ({format_duration(report.recent_saved_seconds)})."
        )
    if any(u.saved_seconds is None for u in report.users):
        print("(?: the plugin has not run here yet, so its run time is unknown)")
    return 0
