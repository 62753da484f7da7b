"""kubewarm's tray app: a thin pystray shell over ``kubewarm.engine``."""
