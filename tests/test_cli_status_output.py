"""Issue 12 item 7 and ``-o json``: ``kubewarm status`` fits 100 columns with EKS ARN names,
exits 3 when a user needs ``kubewarm inject``, and speaks JSON; ``pins`` and ``entries`` too."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from kubewarm.engine.cli.text import fit, shorten

from tests import kubeconfig_helpers
from tests.fixtures_core import EXEC_API, fake_plugin_argv
from tests.kubeconfig_helpers import CORPUS, run_cli

kw_data = kubeconfig_helpers.kw_data  # fixture: kw_env plus a private data dir

ARN = "arn:aws:eks:ap-southeast-2:123456789012:cluster/platform-production-blue"


def _eks_config(path: Path) -> Path:
    """Two EKS-shaped users named by ARN, as `aws eks update-kubeconfig` writes them, with a
    plugin that runs here (so the PLUGIN column is not flagged)."""
    plugin = fake_plugin_argv()
    users, contexts = [], []
    for name in (ARN, ARN.replace("ap-southeast-2", "eu-central-1").replace("blue", "green")):
        users.append(
            {
                "name": name,
                "user": {
                    "exec": {"apiVersion": EXEC_API, "command": plugin[0], "args": plugin[1:]}
                },
            }
        )
        contexts.append({"name": name, "context": {"cluster": "c", "user": name}})
    doc = {"apiVersion": "v1", "kind": "Config", "users": users, "contexts": contexts,
           "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
           "current-context": ARN}  # fmt: skip
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_shorten_keeps_what_tells_names_apart():
    assert shorten("short", 20) == "short"
    assert shorten(ARN, 60) == "eks:ap-southeast-2:cluster/platform-production-blue"
    assert shorten(ARN, 45) == "ap-southeast-2/platform-production-blue"
    cut = shorten(ARN, 30)
    assert len(cut) == 30 and cut.startswith("ap-sou") and cut.endswith("production-blue")
    gke = "gke_my-company-platform-prod_europe-west1_main-cluster"
    assert len(shorten(gke, 24)) == 24 and shorten(gke, 24).endswith("main-cluster")


def test_fit_narrows_the_widest_shrinkable_column_first():
    rows = [("A", "B", "C"), ("x" * 50, "y" * 50, "z" * 10)]
    fitted = fit(rows, {0: 10, 1: 10}, 60)
    assert [len(c) for c in fitted[1]] == [23, 23, 10]  # 23 + 2 + 23 + 2 + 10 = 60
    assert fit(rows, {}, 60) == [list(r) for r in rows]  # nothing shrinkable: unchanged


def test_status_fits_100_columns_and_exit_codes(kw_data, tmp_path):
    config = _eks_config(tmp_path / "kubeconfig")
    unwrapped = run_cli("status", "--kubeconfig", str(config), env=kw_data)
    assert unwrapped.returncode == 3, unwrapped.stderr
    table = unwrapped.stdout.split("\n\n")[0].splitlines()
    assert max(len(line) for line in table) <= 100, unwrapped.stdout
    row = next(r for r in table if r.startswith("*"))
    assert "ap-south" in row and "production-blue" in row and "123456789012" not in row, row
    assert "--wide or -o json shows everything" in unwrapped.stdout
    assert "Run `kubewarm inject` to wrap or repair them." in unwrapped.stdout

    wide = run_cli("status", "--kubeconfig", str(config), "--wide", env=kw_data)
    assert wide.returncode == 3 and ARN in wide.stdout.splitlines()[1]

    assert run_cli("inject", "--kubeconfig", str(config), env=kw_data).returncode == 0
    wrapped = run_cli("status", "--kubeconfig", str(config), env=kw_data)
    assert wrapped.returncode == 0, wrapped.stdout
    assert max(len(line) for line in wrapped.stdout.splitlines()) <= 100, wrapped.stdout

    # drift: the shim moved away
    text = config.read_text()
    launcher = str(Path(kw_data["KUBEWARM_DATA_DIR"]) / "bin" / "kubewarm-exec")
    config.write_text(text.replace(launcher, str(tmp_path / "gone" / "kubewarm-exec"), 1))
    drifted = run_cli("status", "--kubeconfig", str(config), env=kw_data)
    assert drifted.returncode == 3 and "DRIFT" in drifted.stdout, drifted.stdout
    # only the context asked about counts
    other = ARN.replace("ap-southeast-2", "eu-central-1").replace("blue", "green")
    one = run_cli("status", "--kubeconfig", str(config), "--context", other, env=kw_data)
    assert one.returncode == 0, one.stdout


def test_status_json(kw_data, tmp_path):
    config = shutil.copy(CORPUS / "several-users.yaml", tmp_path / "kubeconfig")
    result = run_cli("status", "--kubeconfig", str(config), "-o", "json", env=kw_data)
    assert result.returncode == 3, result.stderr  # several-users has unwrapped exec users
    doc = json.loads(result.stdout)
    assert doc["format_version"] == 1
    by_name = {c["context"]: c for c in doc["contexts"]}
    assert by_name["tok"]["kind"] == "token" and by_name["tok"]["wrapped"] is None
    exec_ones = [c for c in doc["contexts"] if c["kind"] == "exec"]
    assert exec_ones and all(c["wrapped"] is False and c["cached"] is False for c in exec_ones)
    assert all(isinstance(c["plugin_found"], bool) for c in exec_ones)


@pytest.mark.parametrize("command", [["pins"], ["entries"], ["entries", "--expired"]])
def test_pins_and_entries_json_when_empty(kw_data, command):
    result = run_cli(*command, "-o", "json", env=kw_data)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc[command[0]] == []


def test_pins_and_entries_json_with_content(kw_data, tmp_path):
    config = _eks_config(tmp_path / "kubeconfig")
    env = {**kw_data, "KUBECONFIG": str(config)}
    assert run_cli("inject", env=env).returncode == 0
    assert run_cli("pin", ARN, env=env).returncode == 0
    pins = json.loads(run_cli("pins", "-o", "json", env=env).stdout)["pins"]
    assert [(p["context"], p["user"], p["phase"]) for p in pins] == [(ARN, ARN, "cold")]
    argv = yaml.safe_load(config.read_text())["users"][0]["user"]["exec"]
    shim = [argv["command"], *argv["args"]]  # what kubectl runs for the user
    ran = subprocess.run(
        shim, env={**env, "KUBEWARM_USER": ARN}, capture_output=True, timeout=60, check=False
    )
    assert ran.returncode == 0, ran.stderr
    entries = json.loads(run_cli("entries", "-o", "json", env=env).stdout)
    assert entries["store"] == "file"
    assert [(e["user"], e["valid"]) for e in entries["entries"]] == [(ARN, True)]
    assert "token" not in json.dumps(entries).replace("token_", "")
