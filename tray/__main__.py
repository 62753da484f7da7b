"""``python -m kubewarm.tray [tray [--no-icon]]``: the same as the ``kubewarm`` command."""

from kubewarm.tray.cli import main

main()
