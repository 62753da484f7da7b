"""inject / restore on real files: every file kubectl uses, backups, atomic writes keeping mode
and owner, symlinks, dry runs, all-or-nothing across files, drift repair, the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from kubewarm.engine.kubeconfig import write as kubeconfig_write
from kubewarm.engine.kubeconfig.inject import InjectError, backup_dir, inject, restore
from kubewarm.engine.kubeconfig.model import KubeconfigError

from tests import kubeconfig_helpers
from tests.kubeconfig_helpers import (
    CORPUS,
    as_other_user,
    kubectl_config,
    kubectl_view,
    read_exact,
    run_cli,
)

kw_data = kubeconfig_helpers.kw_data  # fixture: kw_env plus a private data dir

STAGING = "arn:aws:eks:eu-west-1:123456789012:cluster/staging"


def _copy(name: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CORPUS / name, target)
    return target


def _exec(path: Path, user: str) -> dict:
    doc = next(yaml.safe_load_all(read_exact(path)))
    return next(u for u in doc["users"] if u["name"] == user)["user"]["exec"]


def _home_config(env: dict, name: str = "aws-eks-update-kubeconfig.yaml") -> Path:
    return _copy(name, Path(env["HOME"]) / ".kube" / "config")


def test_default_file_inject_twice_then_restore_byte_identical(kw_data):
    config = _home_config(kw_data)
    original = config.read_bytes()
    report = inject()
    assert report.written and len(report.changes) == 2
    assert report.shim is not None
    launcher = report.shim.command
    assert launcher.startswith(kw_data["KUBEWARM_DATA_DIR"]) and os.access(launcher, os.X_OK)
    assert _exec(config, STAGING)["command"] == launcher
    assert kubectl_view(config).returncode == 0
    after_first = config.read_bytes()
    again = inject()
    assert again.changes == [] and not again.changed_files and again.backups == {}
    assert config.read_bytes() == after_first
    assert len(again.unchanged) == 2
    back = restore()
    assert back.written and len(back.changes) == 2
    assert config.read_bytes() == original


def test_every_file_in_kubeconfig_variable(kw_data, monkeypatch, tmp_path):
    a = _copy("multi/a.yaml", tmp_path / "k" / "a.yaml")
    b = _copy("multi/b.yaml", tmp_path / "k" / "b.yaml")
    missing = tmp_path / "k" / "missing.yaml"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(map(str, (a, missing, b))))
    originals = {p: p.read_bytes() for p in (a, b)}
    report = inject()
    assert {(Path(c.path).name, c.user) for c in report.changes} == {
        ("a.yaml", "alpha"),
        ("b.yaml", "beta"),
        ("b.yaml", "alpha"),
    }
    assert [f.path for f in report.missing] == [str(missing)]
    assert set(report.backups) == {str(a), str(b)}
    restore()
    assert {p: p.read_bytes() for p in (a, b)} == originals


def test_each_file_plan_holds_its_own_skipped_and_unchanged_users(kw_data, tmp_path):
    """The planners return what they left alone as data, file by file; the report lists it in
    file order. A user skipped in one file does not stop a namesake in another."""
    multi_line = "- name: {}\n  user:\n    exec:\n      command: my\n        plugin\n"
    fine = "- name: {}\n  user:\n    exec: {{command: aws, args: [eks]}}\n"
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("users:\n" + fine.format("u") + multi_line.format("bad"))
    b.write_text("users:\n" + multi_line.format("u") + fine.format("v"))
    report = inject([str(a), str(b)])
    assert [[s.user for s in p.skipped] for p in report.plans] == [["bad"], ["u"]]
    assert [(Path(s.path).name, s.user) for s in report.skipped] == [
        ("a.yaml", "bad"),
        ("b.yaml", "u"),
    ]
    assert "several lines" in report.skipped[0].reason
    assert [[c.user for c in p.changes] for p in report.plans] == [["u"], ["v"]]
    again = inject([str(a), str(b)])
    assert [[c.user for c in p.unchanged] for p in again.plans] == [["u"], ["v"]]
    assert [c.user for c in again.unchanged] == ["u", "v"]
    back = restore([str(a), str(b)])
    assert [[c.user for c in p.changes] for p in back.plans] == [["u"], ["v"]]
    assert [[c.user for c in p.unchanged] for p in back.plans] == [["bad"], ["u"]]
    assert back.skipped == []


def test_context_and_user_filters(kw_data, tmp_path):
    config = _copy("several-users.yaml", tmp_path / "config")
    report = inject(str(config), contexts=["gke"], users=["last"])
    assert sorted(c.user for c in report.changes) == ["gke", "last"]
    assert _exec(config, "eks")["command"] == "aws"
    with pytest.raises(InjectError, match=r"no context named 'nope' in .*config"):
        inject(str(config), contexts=["nope"])
    report = inject(str(config), contexts=["tok"])
    assert report.changes == []
    assert [s.reason for s in report.skipped] == ["it has no exec plugin (token)"]
    report = restore(str(config), users=["gke"])
    assert [c.user for c in report.changes] == ["gke"]
    assert _exec(config, "last")["args"][0] == "kubelogin"


def test_symlink_is_edited_at_its_target_and_stays_a_link(kw_data, tmp_path):
    real = _copy("gcloud-get-credentials.yaml", tmp_path / "dotfiles" / "kube.yaml")
    link = Path(kw_data["HOME"]) / ".kube" / "config"
    link.parent.mkdir()
    link.symlink_to(real)
    original = real.read_bytes()
    report = inject()
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert report.shim is not None and report.shim.command in real.read_text()
    restore()
    assert link.is_symlink() and real.read_bytes() == original


def test_mode_and_owner_are_kept(kw_data, tmp_path):
    config = _copy("kubelogin-oidc-login.yaml", tmp_path / "config")
    config.chmod(0o640)
    if os.name == "posix" and os.getuid() == 0:  # only root can give a file away
        os.chown(config, 4321, 4322)
    before = config.stat()
    inject(str(config))
    after = config.stat()
    assert after.st_ino != before.st_ino, "the file is replaced atomically (rename)"
    assert (after.st_mode, after.st_uid, after.st_gid) == (
        before.st_mode,
        before.st_uid,
        before.st_gid,
    )
    assert not [p for p in config.parent.iterdir() if p.name.startswith(".kubewarm-")]


def test_backups_are_private_timestamped_and_only_the_last_n_kept(kw_data, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEWARM_BACKUPS", "3")
    config = _copy("aws-vault.yaml", tmp_path / "config")
    original = config.read_bytes()
    first = inject(str(config)).backups[str(config)]
    assert Path(first).read_bytes() == original
    assert Path(first).stat().st_mode & 0o777 == 0o600
    assert Path(first).parent == Path(backup_dir(str(config)))
    assert (Path(first).parent / "SOURCE").read_text().strip() == str(config)
    for _ in range(3):
        restore(str(config))
        inject(str(config))
    kept = sorted(p.name for p in Path(first).parent.iterdir() if p.name != "SOURCE")
    assert len(kept) == 3
    assert Path(first).name not in kept and kept == sorted(kept)


def test_dry_run_writes_nothing_and_prints_a_diff(kw_data):
    config = _home_config(kw_data, "gcloud-get-credentials.yaml")
    original = config.read_bytes()
    result = run_cli("inject", "--dry-run", env=kw_data)
    assert result.returncode == 0, result.stderr
    assert "--- ~/.kube/config (now)" in result.stdout
    assert "+      - gke-gcloud-auth-plugin" in result.stdout
    assert "would have wrapped 1 user in 1 file" in result.stdout
    assert "Nothing was written (--dry-run)." in result.stdout
    assert config.read_bytes() == original
    assert not Path(kw_data["KUBEWARM_DATA_DIR"]).exists(), "no launcher, no backup"


def test_cli_says_what_changed_where_and_where_the_backup_is(kw_data):
    config = _home_config(kw_data)
    result = run_cli("inject", env=kw_data)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "kubewarm inject: wrapped 2 users in 1 file:" in out
    assert "  ~/.kube/config\n" in out
    assert "    wrapped   arn:aws:eks:us-east-1:123456789012:cluster/prod (aws)" in out
    backup = next(line for line in out.splitlines() if line.startswith("Backup of"))
    assert backup.startswith("Backup of ~/.kube/config: ")
    assert "kubectl now runs " in out and "Undo with: kubewarm restore" in out
    second = run_cli("inject", env=kw_data)
    assert "nothing to change (2 users already wrapped)" in second.stdout
    result = run_cli("restore", env=kw_data)
    assert "kubewarm restore: restored 2 users in 1 file:" in result.stdout
    assert config.read_bytes() == (CORPUS / "aws-eks-update-kubeconfig.yaml").read_bytes()


# --- bad input: clear errors, nothing written -----------------------------------------------


def test_multi_file_run_failing_on_one_file_writes_none(kw_data, monkeypatch, tmp_path):
    good = _copy("aws-vault.yaml", tmp_path / "good.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("users:\n- name: x\n  user:\n    exec:\n      command: aws\n      args: oops\n")
    monkeypatch.setenv("KUBECONFIG", f"{good}{os.pathsep}{bad}")
    before = good.read_bytes()
    result = run_cli("inject", env={**kw_data, "KUBECONFIG": os.environ["KUBECONFIG"]})
    assert result.returncode == 1
    assert f"kubeconfig {bad} line 6: user 'x' exec args must be a list" in result.stderr
    assert good.read_bytes() == before
    assert not (Path(kw_data["KUBEWARM_DATA_DIR"]) / "kubeconfig-backups").exists()


def test_lock_file_held_by_kubectl_stops_the_whole_run(kw_data, tmp_path):
    a = _copy("aws-vault.yaml", tmp_path / "a")
    b = _copy("kubelogin-oidc-login.yaml", tmp_path / "b")
    (tmp_path / "b.lock").write_text("")
    before = a.read_bytes(), b.read_bytes()
    with pytest.raises(InjectError, match=r"b\.lock exists: kubectl or another tool"):
        inject([str(a), str(b)])
    assert (a.read_bytes(), b.read_bytes()) == before
    assert not (tmp_path / "a.lock").exists()


def test_failed_write_puts_back_the_files_already_written(kw_data, tmp_path, monkeypatch):
    a = _copy("aws-vault.yaml", tmp_path / "a")
    b = _copy("kubelogin-oidc-login.yaml", tmp_path / "b")
    before = a.read_bytes(), b.read_bytes()
    real_replace = kubeconfig_write._replace
    calls = []

    def failing_second_write(target, data, st):  # fault injection: the disk fills up
        calls.append(target)
        if target == str(b) and data != before[1]:
            raise OSError(28, "No space left on device")
        real_replace(target, data, st)

    monkeypatch.setattr(kubeconfig_write, "_replace", failing_second_write)
    with pytest.raises(InjectError, match=r"No space left on device.*files already written"):
        inject([str(a), str(b)])
    assert (a.read_bytes(), b.read_bytes()) == before
    assert calls == [str(a), str(b), str(a)]


def test_missing_explicit_file_and_directory(kw_data, tmp_path):
    with pytest.raises(KubeconfigError, match=r"kubeconfig .*nope: no such file"):
        inject(str(tmp_path / "nope"))
    with pytest.raises(KubeconfigError, match="is a directory"):
        inject(str(tmp_path))
    result = run_cli("inject", env=kw_data)  # no ~/.kube/config at all
    assert result.returncode == 1
    assert "no kubeconfig file found (looked for ~/.kube/config)" in result.stderr


@pytest.fixture
def nobody_dir():
    """A directory an unprivileged user can reach (pytest's tmp dirs are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="kubewarm-test-"))
    path.chmod(0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.real
def test_unreadable_and_unwritable_files_as_an_ordinary_user(kw_data, nobody_dir):
    env = {**kw_data, "HOME": str(nobody_dir)}
    for key in ("KUBEWARM_CACHE_DIR", "KUBEWARM_CONFIG_DIR", "KUBEWARM_DATA_DIR"):
        env[key] = str(nobody_dir / key.lower())
    writable = _copy("aws-vault.yaml", nobody_dir / "kube" / "writable")
    readonly = _copy("kubelogin-oidc-login.yaml", nobody_dir / "kube" / "readonly")
    in_locked_dir = _copy("aws-vault.yaml", nobody_dir / "locked" / "config")
    secret = _copy("aws-vault.yaml", nobody_dir / "kube" / "secret")
    for path in (writable, in_locked_dir):
        path.chmod(0o666)
    readonly.chmod(0o444)
    secret.chmod(0o000)
    (nobody_dir / "kube").chmod(0o777)
    in_locked_dir.parent.chmod(0o555)
    if os.name == "posix" and os.getuid() == 0:  # only root can give a file away
        for path in (writable, readonly, secret, in_locked_dir, nobody_dir / "kube"):
            os.chown(path, 65534, 65534)
    kubewarm = str(Path(sys.executable).parent / "kubewarm")

    def run(kubeconfig: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            as_other_user([kubewarm, "inject"]),
            env={**env, "KUBECONFIG": kubeconfig},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    before = writable.read_bytes(), readonly.read_bytes(), in_locked_dir.read_bytes()
    result = run(os.pathsep.join(map(str, (writable, readonly))))
    assert result.returncode == 1, result.stdout
    assert "kubeconfig ~/kube/readonly is not writable" in result.stderr
    result = run(os.pathsep.join(map(str, (writable, in_locked_dir))))
    assert result.returncode == 1, result.stdout
    assert "~/locked/config: its directory ~/locked is not writable" in result.stderr
    assert (writable.read_bytes(), readonly.read_bytes(), in_locked_dir.read_bytes()) == before
    result = run(str(secret))
    assert result.returncode == 1
    assert "kubeconfig ~/kube/secret: cannot be read (Permission denied)" in result.stderr


# --- drift -------------------------------------------------------------------------------------


@pytest.mark.real
def test_kubectl_rewrite_keeps_wrapping_and_restore_still_unwraps(kw_data, tmp_path):
    config = _copy("comments-and-quoting.yaml", tmp_path / "config")
    inject(str(config))
    kubectl_config(config, "set-credentials", "new-user", "--token=not-a-real-token")
    text = config.read_text()
    assert "# kubewarm restore" not in text and "# the admin role" not in text  # kubectl
    report = inject(str(config))
    assert report.changes == [], "kubectl kept the wrapping: nothing drifted"
    restore(str(config))
    block = _exec(config, "prod-admin")
    assert block["command"] == "aws" and block["args"][0] == "--region"
    assert [e["name"] for e in block["env"]] == ["AWS_PROFILE", "AWS_STS_REGIONAL_ENDPOINTS"]
    assert not _exec(config, "it's-me").get("env")


def test_update_kubeconfig_rewrite_is_repaired_by_inject(kw_data, tmp_path):
    config = _copy("aws-eks-update-kubeconfig.yaml", tmp_path / "config")
    inject(str(config))
    # what `aws eks update-kubeconfig` does: load, replace the user entry, dump it all again
    doc = yaml.safe_load(config.read_text())
    doc["users"][0]["user"] = yaml.safe_load(
        (CORPUS / "aws-eks-update-kubeconfig.yaml").read_text()
    )["users"][0]["user"]
    config.write_text(yaml.safe_dump(doc, default_flow_style=False))
    result = run_cli("status", "--kubeconfig", str(config), env=kw_data)
    assert "not wrapped: kubectl runs the plugin on every call" in result.stdout
    assert "Run `kubewarm inject` to wrap or repair them." in result.stdout
    report = inject(str(config))
    assert [(c.user.split("/")[-1], c.action) for c in report.changes] == [("prod", "wrapped")]
    assert "DRIFT" not in run_cli("status", "--kubeconfig", str(config), env=kw_data).stdout


def test_copied_user_with_wrong_kubewarm_user_is_repaired(kw_data, tmp_path):
    config = _copy("several-users.yaml", tmp_path / "config")
    inject(str(config), users=["eks"])
    text = config.read_text()
    start = text.index("- name: eks\n", text.index("users:"))
    end = text.index("- name: gke\n", start)
    copied = text[start:end].replace("name: eks", "name: eks2")
    text = text[:end] + copied + text[end:]
    context = "- name: eks2\n  context: {cluster: c, user: eks2}\n"
    text = text.replace("contexts:\n", "contexts:\n" + context, 1)
    config.write_text(text)
    result = run_cli("status", "--kubeconfig", str(config), env=kw_data)
    assert "KUBEWARM_USER is 'eks', not 'eks2'" in result.stdout
    report = inject(str(config), users=["eks2"])
    assert [(c.user, c.action) for c in report.changes] == [("eks2", "repaired")]
    assert "not 'eks2' (copied from another user?)" in report.changes[0].detail
    assert _exec(config, "eks2")["env"][0] == {"name": "KUBEWARM_USER", "value": "eks2"}


def test_moved_shim_is_repaired_with_a_one_line_change(kw_data, tmp_path):
    config = _copy("kubelogin-oidc-login.yaml", tmp_path / "config")
    old = tmp_path / "old" / "kubewarm-exec"
    old.parent.mkdir()
    old.write_text("#!/bin/sh\n")
    old.chmod(0o755)
    inject(str(config), command=str(old))
    wrapped = config.read_text()
    old.unlink()
    result = run_cli("status", "--kubeconfig", str(config), env=kw_data)
    assert f"its shim {old} does not exist" in result.stdout
    report = inject(str(config))
    assert [c.action for c in report.changes] == ["repaired"]
    now = config.read_text().splitlines()
    assert len(now) == len(wrapped.splitlines())
    assert sum(a != b for a, b in zip(wrapped.splitlines(), now, strict=True)) == 1


@pytest.mark.real
def test_command_set_back_by_kubectl_leaves_stale_env_which_inject_cleans(kw_data, tmp_path):
    config = _copy("kubelogin-oidc-login.yaml", tmp_path / "config")
    inject(str(config))
    # kubectl sets the command back, drops args (it does that) and keeps env
    kubectl_config(config, "set-credentials", "oidc", "--exec-command=kubectl")
    block = _exec(config, "oidc")
    assert block["args"] is None and block["env"][0]["name"] == "KUBEWARM_USER"
    status = run_cli("status", "--kubeconfig", str(config), env=kw_data).stdout
    assert "but KUBEWARM_USER is still there" in status
    report = inject(str(config))
    assert [c.action for c in report.changes] == ["repaired"]
    assert report.shim is not None
    block = _exec(config, "oidc")
    assert block["command"] == report.shim.command and block["args"] == ["kubectl"]
    assert block["env"] == [{"name": "KUBEWARM_USER", "value": "oidc"}]


def test_command_override_must_be_a_kubewarm_shim(kw_data, tmp_path):
    config = _copy("aws-vault.yaml", tmp_path / "config")
    with pytest.raises(InjectError, match="must be a kubewarm shim"):
        inject(str(config), command="/usr/bin/env")
    result = run_cli(
        "inject", "--kubeconfig", str(config), "--command", "/nope/kubewarm-exec", env=kw_data
    )
    assert result.returncode == 1 and "no such file" in result.stderr


def test_cli_exit_status_and_messages_when_there_is_nothing_to_do(kw_data):
    config = _home_config(kw_data, "several-users.yaml")
    result = run_cli("inject", "--context", "tok", env=kw_data)
    assert result.returncode == 1, "a named context that cannot be wrapped is a failure"
    assert "skipped tok in ~/.kube/config: it has no exec plugin (token)" in result.stdout
    config.write_text("")
    result = run_cli("inject", env=kw_data)
    assert result.returncode == 0
    assert "no user with an exec plugin in ~/.kube/config; nothing to wrap" in result.stdout
    result = run_cli("restore", env=kw_data)
    assert "no user in ~/.kube/config is wrapped by kubewarm; nothing to do" in result.stdout
    assert run_cli("status", env=kw_data).stdout == "No contexts in ~/.kube/config.\n"
