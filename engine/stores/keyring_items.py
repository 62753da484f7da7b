"""How kubewarm names and encodes its OS keyring items; shared by the keyring store (writes) and
the lean readers (the shim's hit path), so both agree byte for byte.

Import budget: nothing at load time (``binascii`` only for a non-UTF-8 blob).

Names: service ``kubewarm``; username = the hex cache key for an entry, ``<key>.meta`` for its
metadata, ``index`` for the list of keys, ``<name>.<gen><i>`` for a chunk. Nothing secret is in
a name. Values (strings, as ``keyring`` stores them):

- ``=`` + the blob as text, when the blob is UTF-8 without a NUL (every ExecCredential is);
- ``~`` + base64 of the blob otherwise: keyring's macOS backend (and any C string on the way)
  cuts a value at its first NUL, so such a blob is never stored as text (readers take both);
- ``*<gen> <count> <bytes>``: a manifest; the value above is split over ``count`` chunk items
  ``<name>.<gen>0`` … (generation ``a`` or ``b``, alternating), ``bytes`` long in UTF-8. Used
  where an item is small (Windows Credential Manager: 2,560 bytes of UTF-16). No chunk starts
  with U+FEFF or U+FFFE: keyring reads an item with ``decode("utf-16")``, which takes either
  for a byte-order mark (dropping it, or reading the rest byte-swapped).
"""

SERVICE = "kubewarm"
INDEX = "index"
META_SUFFIX = ".meta"
RAW, BASE64, MANIFEST = "=", "~", "*"
GENERATIONS = ("a", "b")
MAX_CHUNKS = 64
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    Fetch = Callable[[str], bytes | None]


class LayoutError(ValueError):
    """An item's value is not in any layout kubewarm writes."""


def check_key(key: str) -> str:
    if not key or len(key) > 128 or not all(c in "0123456789abcdef" for c in key):
        raise ValueError("cache keys are lowercase hex")
    return key


def meta_name(key: str) -> str:
    return check_key(key) + META_SUFFIX


def chunk_name(name: str, generation: str, index: int) -> str:
    return f"{name}.{generation}{index}"


def encode(blob: bytes) -> str:
    """The item value for ``blob``: text when it is UTF-8 without a NUL, else base64."""
    if b"\x00" not in blob:
        try:
            return RAW + blob.decode("utf-8")
        except UnicodeDecodeError:
            pass
    import binascii  # lazy: start-up (only for a blob that is not UTF-8, or holds a NUL)

    return BASE64 + binascii.b2a_base64(blob, newline=False).decode("ascii")


def decode(value: bytes) -> bytes:
    """The blob in an (unchunked) item value given as UTF-8 bytes."""
    head = value[:1]
    if head == b"=":
        return value[1:]
    if head == b"~":
        import binascii  # lazy: start-up (only for a blob that is not UTF-8)

        try:
            return binascii.a2b_base64(value[1:])
        except binascii.Error as exc:
            raise LayoutError("bad base64 in a keyring item") from exc
    raise LayoutError("a keyring item in an unknown layout")


def parse_manifest(value: bytes) -> tuple[str, int, int]:
    """(generation, chunk count, total UTF-8 length) of a manifest value."""
    fields = value[1:].split(b" ")
    if len(fields) != 3 or fields[0].decode("ascii", "replace") not in GENERATIONS:
        raise LayoutError("a keyring chunk manifest in an unknown layout")
    count, total = int(fields[1]), int(fields[2])
    if not 0 < count <= MAX_CHUNKS or total < 0:
        raise LayoutError("a keyring chunk manifest out of range")
    return fields[0].decode("ascii"), count, total


def manifest(generation: str, count: int, total: int) -> str:
    return f"{MANIFEST}{generation} {count} {total}"


def read_value(fetch: "Fetch", name: str) -> bytes | None:
    """The blob stored under ``name`` (reassembling chunks), or None if there is no item.

    ``fetch(name)`` returns an item's value as UTF-8 bytes, or None. A chunked value whose chunks
    change while being read (a concurrent rewrite) is read again once.
    """
    for _attempt in range(2):
        value = fetch(name)
        if value is None:
            return None
        if value[:1] != b"*":
            return decode(value)
        generation, count, total = parse_manifest(value)
        parts = []
        for index in range(count):
            part = fetch(chunk_name(name, generation, index))
            if part is None:
                break
            parts.append(part)
        joined = b"".join(parts)
        if len(parts) == count and len(joined) == total:
            return decode(joined)
    raise LayoutError(f"keyring item {name}: its chunks changed while it was read")


def utf16_units(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what Windows Credential Manager counts)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


BYTE_ORDER_MARKS = "\ufeff\ufffe"  # what a UTF-16 decoder takes for a BOM at a chunk's start


def split(text: str, max_units: int) -> list[str]:
    """``text`` cut into pieces of at most ``max_units`` UTF-16 code units, never mid-character
    and never just before U+FEFF or U+FFFE (the cut moves back to the character before a run of
    them). Raises LayoutError when a run of them is too long to stay inside one piece."""
    pieces: list[str] = []
    start = units = 0
    i = 0
    while i < len(text):
        width = 2 if ord(text[i]) > 0xFFFF else 1
        if units + width > max_units:
            cut = i
            while cut > start and text[cut] in BYTE_ORDER_MARKS:
                cut -= 1
            if cut == start:
                raise LayoutError("a run of U+FEFF/U+FFFE longer than a keyring item")
            pieces.append(text[start:cut])
            start, units, i = cut, 0, cut
            continue
        units += width
        i += 1
    pieces.append(text[start:])
    return pieces
