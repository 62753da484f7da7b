"""A test plugin that notes which identity it minted for: runs tests/fake_plugin.py and appends
``<value of VAR or 'none'> <token>`` to LOG.

    python -I env_plugin.py LOG VAR TTL
"""

import json
import os
import subprocess
import sys

log, var, ttl = sys.argv[1:4]
plugin = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_plugin.py")
out = subprocess.run(
    [sys.executable, "-I", plugin, "--ttl", ttl], stdout=subprocess.PIPE, check=True
).stdout
token = json.loads(out)["status"]["token"]
with open(log, "a", encoding="utf-8") as fh:
    fh.write(os.environ.get(var, "none") + " " + token + "\n")
sys.stdout.buffer.write(out)
