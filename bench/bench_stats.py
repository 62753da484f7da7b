"""What counting a hit for ``kubewarm stats`` costs the shim's hit path (issue 12: at most
~0.2 ms). Prints a Markdown table.

    python bench/bench_stats.py [--calls 2000] [--rounds 15]

Measures, in this process, ``hotpath.count_hit`` (open with O_APPEND, a ~30-byte write, close,
into a fresh temporary cache dir) against the same loop without it, ``--rounds`` times of
``--calls`` calls each, and reports the median per call; then the size of the day's counter
file. The import of kubewarm is the installed one (``pip install .`` first). Bounded in count;
starts no process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time


def main() -> int:
    parser = argparse.ArgumentParser(description="what counting a hit costs the hit path")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KUBEWARM_CACHE_DIR"] = tmp
        from kubewarm.engine import hotpath

        env = {"KUBEWARM_USER": "arn:aws:eks:eu-west-1:123456789012:cluster/prod"}
        key = "0123456789abcdef" * 4
        hotpath.count_hit(key, env)  # creates the folder, as the first hit of a day does
        with_count, without = [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            for _ in range(args.calls):
                env.get("KUBEWARM_USER", "")
            without.append((time.perf_counter() - started) / args.calls)
            started = time.perf_counter()
            for _ in range(args.calls):
                hotpath.count_hit(key, env)
            with_count.append((time.perf_counter() - started) / args.calls)
        size = os.path.getsize(hotpath.stats_path())
        lines = 1 + args.rounds * args.calls
    cost = statistics.median(with_count) - statistics.median(without)
    print("| what | per hit |")
    print("|---|---|")
    print(f"| count_hit (open O_APPEND, write, close) | {cost * 1e6:.1f} µs |")
    print(f"| slowest round | {max(with_count) * 1e6:.1f} µs |")
    print(f"| counter file | {size / lines:.0f} bytes per hit ({lines} hits, {size} bytes) |")
    print(f"\n{sys.platform}, Python {sys.version.split()[0]}, median of {args.rounds} rounds")
    _tray_line(args.rounds)
    return 0


def _tray_line(rounds: int, days: int = 92, hits_per_day: int = 5000) -> None:
    """What the tray's "Saved … this week" line costs (read once a minute): ``days`` kept
    counter files of a heavy user (``hits_per_day`` hits and 96 plugin runs a day)."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KUBEWARM_CACHE_DIR"] = tmp
        from kubewarm.engine.cache import stats

        folder = stats.stats_dir()
        os.makedirs(folder)
        now = time.time()
        user = "arn:aws:eks:eu-west-1:123456789012:cluster/prod"
        run = f"r\t0123456789ab\t{user}\taws\tbg\t512\t1\n"
        hit = f"h\t0123456789ab\t{user}\n"
        for day in range(days):
            name = time.strftime("%Y-%m-%d", time.gmtime(now - day * 86400))
            with open(os.path.join(folder, name), "w", encoding="utf-8") as fh:
                fh.write((run + hit * (hits_per_day // 96)) * 96)
        size = sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            stats.saved_this_week(now)
            times.append(time.perf_counter() - started)
    print(f"\n| the tray's line (saved_this_week), {days} days kept ({size >> 20} MiB) | time |")
    print("|---|---|")
    print(f"| median of {rounds} reads | {statistics.median(times) * 1e3:.1f} ms |")


if __name__ == "__main__":
    sys.exit(main())
