"""The tray menu without a display: items, labels, checked and enabled states built from the
engine's state, and what each action does to the engine (real warmer, shim, store, kubeconfig
files, autostart entry, xdg-open)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from kubewarm.engine import __version__
from kubewarm.engine.cache import stats as cache_stats
from kubewarm.engine.core import events_log
from kubewarm.engine.system import autostart
from kubewarm.engine.warmer.warmer import Warmer
from kubewarm.tray.actions import MenuActions
from kubewarm.tray.menu_model import Item, MenuView, build, find, saved_line

from tests.fixtures_core import fake_plugin_argv
from tests.shim_helpers import exec_info, run_shim, wait_for
from tests.tray_helpers import (
    cred_files,
    kubewarm,
    linux_only,
    plugin_runs,
    posix_only,
    write_config,
)

pytestmark = posix_only


class Ui:
    """Stands in for the icon: records notifications and Quit."""

    def __init__(self) -> None:
        self.notifications: list[tuple[str, str]] = []
        self.quit_called = False

    def notify(self, title: str, message: str) -> None:
        self.notifications.append((title, message))

    def quit(self) -> None:
        self.quit_called = True


@pytest.fixture
def world(kw_env, tmp_path, monkeypatch, plugin_log):
    """prod (wrapped, pinned, cached), dev (wrapped), legacy (not wrapped), static (token),
    and a pinned context 'gone' that no kubeconfig defines."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    argv = fake_plugin_argv(log=plugin_log)
    path = write_config(
        Path(kw_env["HOME"]) / ".kube" / "config",
        {"prod": argv, "dev": argv, "legacy": argv, "static": None},
    )
    original = path.read_bytes()
    kw_env = {**kw_env, "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config")}
    kubewarm("inject", "--context", "prod", "--context", "dev", env=kw_env)
    kubewarm("pin", "prod", env=kw_env)
    kubewarm("pin", "--force", "gone", env=kw_env)
    shim = run_shim(argv, kw_env, KUBEWARM_USER="prod", KUBERNETES_EXEC_INFO=exec_info())
    assert shim.returncode == 0, shim.stderr
    return {"path": path, "original": original, "argv": argv, "env": kw_env}


@pytest.fixture
def menu(world):
    """(build(), actions, ui, warmer): a started warmer and the actions over it."""
    ui = Ui()
    warmer = Warmer(heartbeat=0.5)
    actions = MenuActions(warmer, ui.notify, ui.quit)
    warmer.start()

    def items():
        view = MenuView(
            states=warmer.states(),
            summary=warmer.summary(),
            problem=warmer.problem,
            start_at_login=autostart.is_enabled(),
            version=__version__,
            last_result=actions.last_result,
            saved=saved_line(*cache_stats.saved_this_week()),
        )
        return build(view, actions)

    yield items, actions, ui, warmer
    warmer.stop(wait=True)


def _click(item: Item) -> None:
    """What choosing ``item`` in the menu does (an item without an action fails the test)."""
    assert item.action is not None, f"menu item {item.text!r} has no action"
    item.action()


def _texts(items) -> list[str]:
    return ["---" if i.separator else i.text for i in items]


def test_menu_items_labels_and_states(menu):
    items, _, _, warmer = menu
    assert wait_for(lambda: warmer.states(), 5)
    menu_items = items()
    prod_state = next(s for s in warmer.states() if s.name == "prod")
    clock = time.strftime("%H:%M", time.localtime(prod_state.expires))
    assert _texts(menu_items) == [
        "gone — not in kubeconfig",  # the summary: a pinned context has a problem
        "Nothing served from the cache this week yet",  # one kubectl call, the plugin ran
        "---",
        "Pinned: kept warm",
        "gone — not in kubeconfig",
        f"prod — warm until {clock}",
        "Other contexts",
        "dev — not cached",
        "legacy — not wrapped",
        "---",
        "Refresh all pinned",
        "Clear all cached credentials",
        "---",
        "Wrap kubeconfig (1 not wrapped)",
        "Restore kubeconfig",
        "---",
        "Start at login",
        "Open log",
        "Check setup (doctor)…",
        f"kubewarm {__version__}",
        "Uninstall kubewarm…",
        "Quit",
    ]
    for caption in (*menu_items[0:2], menu_items[3], find(menu_items, "Other contexts")):
        assert not caption.enabled and caption.action is None and not caption.submenu
    prod = find(menu_items[2:], "prod")
    assert prod.enabled and prod.checked is None  # pinned-ness is shown by the caption
    assert [(i.text, i.checked, i.enabled) for i in prod.submenu] == [
        ("Pin (keep warm)", True, True),
        ("Refresh now", None, True),
        ("Clear cached credential", None, True),
    ]
    dev = find(menu_items, "dev")
    assert dev.find("Pin (keep warm)").checked is False
    legacy = find(menu_items, "legacy")
    assert not legacy.find("Refresh now").enabled  # kubectl does not use the cache for it
    gone = find(menu_items[3:], "gone")
    assert gone.find("Pin (keep warm)").checked is True
    assert not gone.find("Refresh now").enabled and not gone.find("Clear cached credential").enabled
    assert find(menu_items, "Refresh all pinned").enabled
    assert find(menu_items, "Start at login").checked is False
    assert not find(menu_items, f"kubewarm {__version__}").enabled
    assert warmer.overall() == "failing"


def test_pin_and_unpin_from_the_menu(menu, world, plugin_log):
    items, _, _, warmer = menu
    assert wait_for(lambda: warmer.states(), 5)
    runs = len(plugin_runs(plugin_log))
    _click(find(items(), "dev").find("Pin (keep warm)"))
    settings = Path(world["env"]["KUBEWARM_CONFIG_DIR"]) / "settings.conf"
    assert 'KUBEWARM_PINS=["prod", "gone", "dev"]' in settings.read_text()
    assert find(items(), "dev").find("Pin (keep warm)").checked is True
    texts = _texts(items())
    dev_at = next(i for i, t in enumerate(texts) if t.startswith("dev — "))
    assert texts.index("Pinned: kept warm") < dev_at < texts.index("Other contexts")
    # pinning a cold context warms it
    assert wait_for(lambda: len(plugin_runs(plugin_log)) == runs + 1, 10)
    assert wait_for(lambda: "warm until" in find(items(), "dev").text, 5)
    _click(find(items()[1:], "gone").find("Pin (keep warm)"))
    assert 'KUBEWARM_PINS=["prod", "dev"]' in settings.read_text()
    assert _texts(items())[0].startswith("All 2 pinned contexts warm")
    assert warmer.overall() == "warm"


def test_recently_used_contexts_show_why_they_are_kept_warm(menu, world):
    """KUBEWARM_WARM_RECENT: a context kubectl used is kept warm under its own caption, its
    Pin box unticked (the user did not pin it); ticking it pins it for good."""
    items, _, _, warmer = menu
    used = run_shim(
        world["argv"], world["env"], KUBEWARM_USER="dev", KUBERNETES_EXEC_INFO=exec_info()
    )
    assert used.returncode == 0, used.stderr
    settings = Path(world["env"]["KUBEWARM_CONFIG_DIR"]) / "settings.conf"
    settings.write_text(settings.read_text() + "KUBEWARM_WARM_RECENT=on\n")
    warmer.sync("test")
    texts = _texts(items())
    dev_at = next(i for i, t in enumerate(texts) if t.startswith("dev — "))
    assert texts.index("Pinned: kept warm") < texts.index("Kept warm: used recently") < dev_at
    assert dev_at < texts.index("Other contexts"), texts
    assert find(items(), "dev").find("Pin (keep warm)").checked is False
    _click(find(items(), "dev").find("Pin (keep warm)"))
    assert 'KUBEWARM_PINS=["prod", "gone", "dev"]' in settings.read_text()
    warmer.sync("test")
    texts = _texts(items())
    assert "Kept warm: used recently" not in texts
    assert texts.index("Pinned: kept warm") < texts.index(
        next(t for t in texts if t.startswith("dev — "))
    )
    assert find(items(), "dev").find("Pin (keep warm)").checked is True


def test_saved_this_week_line(menu, world):
    """The line under the summary says what the cache saved in the last 7 days, from the same
    counters as `kubewarm stats` (each hit times the plugin's measured run time)."""
    items, _, _, _ = menu
    assert _texts(items())[1] == "Nothing served from the cache this week yet"
    debug = {**world["env"], "KUBEWARM_DEBUG": "1"}
    hit = run_shim(
        world["argv"],
        debug,
        own_parent=True,
        KUBEWARM_USER="prod",
        KUBERNETES_EXEC_INFO=exec_info(),
    )
    assert hit.returncode == 0 and b" hit " in hit.stderr, hit.stderr
    assert _texts(items())[1].endswith(" this week (1 call from the cache)")
    # a plugin that takes 65 s, and 12 more calls served from the cache today: 12 x 65 s
    today = time.strftime("%Y-%m-%d", time.gmtime())
    counters = Path(cache_stats.stats_dir()) / today
    with open(counters, "a", encoding="utf-8") as fh:
        fh.write("r\tk0\tother\tslow-plugin\tfg\t65000\t1\n" + "h\tk0\tother\n" * 12)
    texts = _texts(items())
    assert texts[1].startswith("Saved 13 min this week (13 calls from the cache)"), texts[1]
    json_stats = kubewarm("stats", "-o", "json", env=world["env"]).stdout
    assert '"from_cache": 13' in json_stats


def test_doctor_from_the_menu_notifies_what_the_cli_finds(menu, world):
    """Check setup (doctor)… runs `kubewarm doctor`'s checks in the background: the same
    problems, each with its fix, in one notification; every finding in the log."""
    items, actions, ui, _ = menu
    _click(find(items(), "Check setup (doctor)…"))
    assert wait_for(lambda: ui.notifications, 30), "no notification from the doctor"
    title, message = ui.notifications[-1]
    cli = kubewarm("doctor", "-o", "json", env=world["env"], check=False)
    assert cli.returncode == 1, cli.stdout  # 'gone' is pinned but defined nowhere
    problems = [c for c in json.loads(cli.stdout)["checks"] if c["status"] == "problem"]
    assert title == f"kubewarm doctor: {len(problems)} problem{'s' if len(problems) > 1 else ''}"
    for problem in problems[:4]:
        assert f"{problem['check']}: {problem['message']}" in message, (problem, message)
        assert not problem["fix"] or f"fix: {problem['fix']}" in message
    assert "tray: doctor: problem: " in Path(events_log.log_file()).read_text()
    assert actions.last_result == title


def test_refresh_and_clear_actions(menu, world, plugin_log):
    items, actions, ui, warmer = menu
    assert wait_for(lambda: warmer.states(), 5)
    runs = len(plugin_runs(plugin_log))
    _click(find(items(), "dev").find("Refresh now"))
    assert wait_for(lambda: len(plugin_runs(plugin_log)) == runs + 1, 10)
    assert wait_for(lambda: "warm until" in find(items(), "dev").text, 5)
    assert len(cred_files(world["env"])) == 2
    _click(find(items(), "dev").find("Clear cached credential"))
    assert len(cred_files(world["env"])) == 1
    assert find(items(), "dev").text == "dev — not cached"
    assert actions.last_result == "Cleared 1 cached credential of dev"
    # the result goes to a notification (and the tooltip), never into the menu
    assert "Cleared 1 cached credential of dev" not in _texts(items())
    assert ui.notifications[-1] == ("kubewarm", "Cleared 1 cached credential of dev")
    _click(find(items(), "Refresh all pinned"))
    assert actions.last_result == "Refreshing 1 pinned context"
    assert wait_for(lambda: len(plugin_runs(plugin_log)) == runs + 2, 10)
    assert wait_for(lambda: "warm until" in find(items(), "prod").text, 10)
    _click(find(items(), "Clear all cached credentials"))
    assert actions.last_result.startswith("Cleared 1 cached credential")
    # prod is pinned: warmed again at once
    assert wait_for(lambda: len(plugin_runs(plugin_log)) == runs + 3, 10)


def test_wrap_and_restore_report_and_change_the_kubeconfig(menu, world):
    items, actions, ui, warmer = menu
    assert wait_for(lambda: warmer.states(), 5)
    path = world["path"]
    _click(find(items(), "Wrap kubeconfig"))
    assert "legacy — not wrapped" not in _texts(items())
    title, message = ui.notifications[-1]
    assert title == "kubewarm: wrap kubeconfig"
    assert message.startswith("Wrapped 1 user (legacy) in ~/.kube/config.")
    assert "Backup of ~/.kube/config: " in message and "/kubeconfig-backups/" in message
    assert actions.last_result == "Wrapped 1 user in 1 file"
    assert find(items(), "Wrap kubeconfig").text == "Wrap kubeconfig"
    _click(find(items(), "Wrap kubeconfig"))  # again: nothing to do, and it says so
    assert actions.last_result == "Nothing to wrap (3 users already wrapped)"
    _click(find(items(), "Restore kubeconfig"))
    assert path.read_bytes() == world["original"]
    assert ui.notifications[-1][1].startswith("Restored 3 users (dev, legacy, prod)")
    assert wait_for(lambda: find(items(), "prod").text == "prod — not wrapped", 5)
    assert not find(items(), "Restore kubeconfig").enabled
    assert warmer.overall() == "failing"  # a pinned context that kubectl no longer wraps


def test_wrap_reports_a_broken_kubeconfig(menu, world):
    items, actions, ui, warmer = menu
    world["path"].write_text("users: [unclosed\n")
    _click(find(items(), "Wrap kubeconfig"))
    title, message = ui.notifications[-1]
    assert title == "kubewarm: cannot wrap kubeconfig"
    assert "~/.kube/config" in message and "line" in message
    assert actions.last_result.startswith("Wrap failed: kubeconfig ~/.kube/config")
    warmer.sync()
    assert warmer.problem.startswith("kubeconfig ")
    assert _texts(items())[1].startswith("⚠ kubeconfig ")


@linux_only
def test_start_at_login_checkbox(menu, tmp_path):
    items, actions, _, _ = menu
    entry = tmp_path / "home" / ".config" / "autostart" / "kubewarm.desktop"
    _click(find(items(), "Start at login"))
    assert entry.exists() and find(items(), "Start at login").checked is True
    assert actions.last_result == "Will start at login"
    entry.unlink()  # removed behind the tray's back: the checkbox follows the system
    assert find(items(), "Start at login").checked is False
    _click(find(items(), "Start at login"))
    _click(find(items(), "Start at login"))
    assert not entry.exists() and find(items(), "Start at login").checked is False


def test_open_log_uses_the_desktops_default_application(menu, desktop, monkeypatch, tmp_path):
    items, _, _, _ = menu
    home = tmp_path / "home"
    opened = tmp_path / "opened.txt"
    apps = home / ".local" / "share" / "applications"
    apps.mkdir(parents=True)
    # a script, not `sh -c '…'`: xdg-open's generic mode splits Exec on spaces, quotes or not
    viewer = tmp_path / "viewer.sh"
    viewer.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    viewer.chmod(0o755)
    (apps / "kwtest-viewer.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Test viewer\nMimeType=text/plain;\n"
        f"Exec={viewer} %f\n"
    )
    (home / ".config" / "mimeapps.list").parent.mkdir(parents=True, exist_ok=True)
    (home / ".config" / "mimeapps.list").write_text(
        "[Default Applications]\ntext/plain=kwtest-viewer.desktop\n"
    )
    for name, value in desktop.session.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    _click(find(items(), "Open log"))
    assert wait_for(opened.exists, 15), "xdg-open did not start the default application"
    assert opened.read_text().strip().endswith("log/kubewarm.log")


@linux_only
def test_open_log_without_an_opener_says_where_the_log_is(menu, monkeypatch, tmp_path):
    items, actions, ui, _ = menu
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    _click(find(items(), "Open log"))
    assert "no program to open files with" in actions.last_result
    assert "kubewarm.log" in ui.notifications[-1][1]


def test_quit(menu):
    items, _, ui, _ = menu
    _click(find(items(), "Quit"))
    assert ui.quit_called


def test_uninstall_asks_for_confirmation_then_undoes_everything_and_quits(menu, world):
    items, _, ui, _ = menu
    _click(find(items(), "Uninstall kubewarm…"))
    texts = _texts(items())
    assert "Uninstall kubewarm…" not in texts and not ui.quit_called
    assert world["path"].read_bytes() != world["original"], "nothing done before confirming"
    _click(find(items(), "Cancel uninstall"))
    assert "Uninstall kubewarm…" in _texts(items()) and "Cancel uninstall" not in _texts(items())
    _click(find(items(), "Uninstall kubewarm…"))
    _click(find(items(), "Confirm: restore kubeconfig, remove cache and login item, quit"))
    assert world["path"].read_bytes() == world["original"]
    assert not cred_files(world["env"])
    assert ui.quit_called
    title, message = ui.notifications[-1]
    assert title == "kubewarm: uninstalled" and "restore " in message
