"""A lock is released when ``hold`` ends, not whenever the OS gets round to the file's last
close (issue 10, item 7: Windows may release an msvcrt lock late). The POSIX form of "the close
does not release it": a child process that inherited the descriptor keeps a flock alive."""

import os
import subprocess
import sys

import pytest
from kubewarm.engine.core import locks

posix = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="other platform: finds the descriptor in /proc"
)


@posix
def test_the_lock_is_free_when_hold_ends_even_if_a_copy_of_its_file_lives_on(kw_env):
    child = None
    try:
        with locks.hold("release-test") as acquired:
            assert acquired
            path = os.path.join(locks.lock_dir(), "release-test.lock")
            holder = [f for f in os.listdir(f"/proc/{os.getpid()}/fd") if f.isdigit()]
            inherited = [
                int(f)
                for f in holder
                if os.path.realpath(f"/proc/{os.getpid()}/fd/{f}") == os.path.realpath(path)
            ]
            assert inherited
            child = subprocess.Popen(
                [sys.executable, "-c", "import sys; sys.stdin.read()"],
                stdin=subprocess.PIPE,
                pass_fds=inherited,
            )
        with locks.hold("release-test", blocking=False) as again:
            assert again, "the lock outlived hold() in the inherited descriptor"
    finally:
        if child is not None:
            child.communicate(b"", timeout=10)
