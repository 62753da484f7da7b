# gi.repository's modules (GLib, Gtk, ...) are generated at run time from GObject
# introspection data: there is nothing static to describe, so each one is Any.
from typing import Any

def __getattr__(name: str) -> Any: ...
