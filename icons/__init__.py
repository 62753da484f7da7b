"""kubewarm's tray icons: ``kubewarm-<state>-<size>.png`` for the states warm, refreshing,
failing and idle at 16–128 px, drawn by ``packaging/draw_icons.py``."""
