"""The launcher kubeconfig's exec.command points to: shape, stability, fallbacks, speed."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubewarm.engine.kubeconfig import launcher

from tests import kubeconfig_helpers
from tests.fixtures_core import fake_plugin_argv, plugin_runs

kw_data = kubeconfig_helpers.kw_data  # fixture: kw_env plus a private data dir


def _run(argv: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, capture_output=True, timeout=60, check=False, **kwargs)


def test_default_launcher_lives_in_the_data_dir_and_runs_this_python_with_IS(kw_data):
    path = launcher.write_launcher()
    assert path == os.path.join(kw_data["KUBEWARM_DATA_DIR"], "bin", "kubewarm-exec")
    lines = Path(path).read_text().splitlines()
    assert lines[0] == "#!/bin/sh", "sh checks the interpreter is still there (uninstall)"
    run = f'exec \'{sys.executable}\' -IS "$0" "$@"'
    assert any(line.endswith(run) for line in lines), "this interpreter, with -IS"
    assert os.access(path, os.X_OK)
    result = _run([path, "--version"], kw_data)
    assert result.returncode == 0 and result.stdout.startswith(b"kubewarm-exec ")


def test_rewriting_an_unchanged_launcher_leaves_the_file_alone(kw_data, tmp_path):
    path = Path(launcher.write_launcher(str(tmp_path / "bin" / "kubewarm-exec")))
    before = path.stat()
    time.sleep(0.01)
    assert launcher.write_launcher(str(path)) == str(path)
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    path.write_text("#!/bin/sh\nexit 3\n")  # damaged or from an older kubewarm: rewritten
    launcher.write_launcher(str(path))
    assert _run([str(path), "--version"], kw_data).returncode == 0


def test_cache_hit_through_the_launcher_does_not_run_the_plugin(kw_data, tmp_path):
    path = launcher.write_launcher()
    log = tmp_path / "runs.log"
    argv = [path, *fake_plugin_argv(log=log)]
    first = _run(argv, {**kw_data, "KUBEWARM_USER": "alice"})
    assert first.returncode == 0, first.stderr
    second = _run(argv, {**kw_data, "KUBEWARM_USER": "alice"})
    assert second.returncode == 0 and second.stdout == first.stdout
    assert plugin_runs(log) == 1


def test_interpreter_path_with_spaces_goes_through_sh(kw_data, tmp_path):
    spaced = tmp_path / "my python"
    spaced.mkdir()
    (spaced / "python").symlink_to(sys.executable)
    path = launcher.write_launcher(str(tmp_path / "kubewarm-exec"), python=str(spaced / "python"))
    assert Path(path).read_text().startswith("#!/bin/sh\n")
    result = _run([path, "--version"], kw_data)
    assert result.returncode == 0, result.stderr


def test_moved_installation_falls_back_to_site_packages_or_says_what_to_do(kw_data, tmp_path):
    moved = tmp_path / "moved"
    moved.write_text(launcher.launcher_text(sys.executable, str(tmp_path / "gone"), []))
    moved.chmod(0o755)
    result = _run([str(moved), "--version"], kw_data)
    assert result.returncode == 0, result.stderr  # this venv still has kubewarm installed
    bare = "/usr/bin/python3"
    if not os.path.exists(bare):
        pytest.skip("needs /usr/bin/python3")
    orphan = tmp_path / "orphan"
    orphan.write_text(launcher.launcher_text(bare, str(tmp_path / "gone"), []))
    orphan.chmod(0o755)
    # kubewarm gone, interpreter kept (a package removed): the plugin runs, with one line
    log = tmp_path / "runs.log"
    result = _run([str(orphan), *fake_plugin_argv(log=log)], kw_data, text=True)
    assert result.returncode == 0 and '"kind":"ExecCredential"' in result.stdout.replace(" ", "")
    assert plugin_runs(log) == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and f"cannot start kubewarm ({tmp_path / 'gone'}" in lines[0]
    assert "run `kubewarm uninstall`" in lines[0]
    result = _run([str(orphan), "no-such-plugin-kw"], kw_data, text=True)
    assert result.returncode == 127 and "cannot run no-such-plugin-kw" in result.stderr


def test_launcher_whose_interpreter_is_gone_runs_the_plugin_itself(kw_data, tmp_path):
    """A deleted venv or a Python upgraded under pipx: the shebang's interpreter is gone, yet
    kubectl keeps working, with one stderr line saying how to clean up."""
    venv_python = tmp_path / "venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.symlink_to(sys.executable)
    path = launcher.write_launcher(str(tmp_path / "kubewarm-exec"), python=str(venv_python))
    log = tmp_path / "runs.log"
    argv = [path, *fake_plugin_argv(log=log)]
    env = {**kw_data, "KUBEWARM_USER": "alice"}
    assert _run(argv, env).returncode == 0 and _run(argv, env).returncode == 0
    assert plugin_runs(log) == 1, "cached while installed"
    venv_python.unlink()  # rm -rf the venv
    result = _run(argv, env, text=True)
    assert result.returncode == 0 and "ExecCredential" in result.stdout
    assert plugin_runs(log) == 2, "the plugin itself answered"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"kubewarm: this launcher ({path}) cannot start kubewarm")
    assert f"({venv_python} is gone)" in lines[0] and "kubewarm uninstall" in lines[0]


def test_launcher_message_survives_odd_characters_in_paths(kw_data, tmp_path):
    odd = tmp_path / 'a "$HOME` b\\n'
    text = launcher.launcher_text(str(odd / "python"), str(odd), [])
    path = tmp_path / "kubewarm-exec"
    path.write_text(text)
    path.chmod(0o755)
    result = _run([str(path), "true"], kw_data, text=True)
    assert result.returncode == 0
    assert f"({odd / 'python'} is gone)" in result.stderr, result.stderr


def _spawn(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; CPU (user + system, which the kernel accounts exactly)
    is what the launcher costs, without the noise of other processes on a busy machine."""
    if sys.platform == "win32":  # posix_spawn and wait4 are POSIX's
        pytest.skip("other platform: measures the POSIX launcher script with posix_spawn")
    quiet = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=quiet)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    assert os.waitstatus_to_exitcode(status) == 0, argv
    return wall, usage.ru_utime + usage.ru_stime


@pytest.mark.slow
def test_warm_hit_costs_at_most_1_3x_the_interpreter_floor(kw_data):
    path = launcher.write_launcher()
    env = {**kw_data, "KUBEWARM_USER": "bench"}
    argv = [path, *fake_plugin_argv(ttl=3600)]
    assert _run(argv, env).returncode == 0  # fill the cache
    floor = [sys.executable, "-I", "-S", "-c", "pass"]
    rounds = []
    for _ in range(3):  # noise only ever slows a run down: keep the best of three rounds
        floor_runs = [_spawn(floor, env) for _ in range(5)]  # warm up
        floor_runs, hit_runs = [], []
        for _ in range(40):
            floor_runs.append(_spawn(floor, env))
            hit_runs.append(_spawn(argv, env))
        ratios = tuple(
            statistics.median(r[i] for r in hit_runs) / statistics.median(r[i] for r in floor_runs)
            for i in (0, 1)
        )
        rounds.append(ratios)
        if ratios[1] <= 1.3:
            break
    assert min(cpu for _, cpu in rounds) <= 1.3, f"launcher / floor (wall, CPU): {rounds}"
