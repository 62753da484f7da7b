"""Item values as the OS keyrings keep them, decided without the OS: NUL-containing blobs
(cut at the NUL by keyring's macOS backend) and chunk boundaries before U+FEFF/U+FFFE (taken
for a byte-order mark by the UTF-16 decode on Windows). Issue 10, items 5 and 6.

The Credential Manager's side is played by what it really does to a value: pywin32-ctypes
writes the string as UTF-16-LE without a BOM; keyring and ``windows_lean`` decode it with
``decode("utf-16")``.
"""

import random

import pytest
from kubewarm.engine.stores import keyring_items as items
from kubewarm.engine.stores import windows_lean

CREDENTIAL = (
    b'{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1",'
    b'"spec":{},"status":{"token":"k8s-aws-v1.abc","expirationTimestamp":"2030-01-01T00:00:00Z"}}'
)


def test_text_blobs_keep_todays_layout():
    """What today's code writes, and reads back, is unchanged for every UTF-8 blob."""
    assert items.encode(CREDENTIAL) == "=" + CREDENTIAL.decode()
    assert items.decode(items.encode(CREDENTIAL).encode()) == CREDENTIAL
    assert items.encode(b"\xff\xfe") == "~//4="  # non-UTF-8: base64, as before


def test_a_blob_with_a_nul_is_stored_as_base64():
    blob = CREDENTIAL.replace(b"abc", b"a\x00c")
    value = items.encode(blob)
    assert value.startswith("~") and "\x00" not in value
    assert items.decode(value.encode()) == blob
    # an item an older kubewarm wrote as text (where the OS kept the NUL) still reads back
    assert items.decode(b"=" + blob) == blob


def keyring_round_trip(piece: str) -> str:
    """A chunk written to Credential Manager and read back as keyring (and we) read it."""
    return windows_lean._text(piece.encode("utf-16-le")).decode("utf-8")


@pytest.mark.parametrize("mark", ["\ufeff", "\ufffe"], ids=["FEFF", "FFFE"])
def test_no_chunk_starts_with_a_byte_order_mark(mark):
    text = "=" + "a" * 9 + mark + "bbb" + mark * 3 + "c" * 20
    for limit in range(4, 16):
        pieces = items.split(text, limit)
        assert "".join(pieces) == text
        for piece in pieces:
            assert piece and piece[0] not in "\ufeff\ufffe", (limit, pieces)
            assert items.utf16_units(piece) <= limit
            assert keyring_round_trip(piece) == piece


def test_chunked_values_survive_the_utf16_round_trip():
    """Random values with marks and astral characters at every position: split, stored as
    Credential Manager stores them, reassembled by ``read_value``."""
    rng = random.Random(10)
    alphabet = ["a", "é", "\ufeff", "\ufffe", "🚀", "\x00", "{"]
    for _ in range(300):
        blob = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120))).encode()
        value = items.encode(blob)
        limit = rng.randint(12, 40)
        pieces = items.split(value, limit)
        stored = {f"k.a{i}": p.encode("utf-16-le") for i, p in enumerate(pieces)}
        total = len(value.encode("utf-8"))
        stored["k"] = items.manifest("a", len(pieces), total).encode("utf-16-le")

        def fetch(name: str, stored: dict[str, bytes] = stored) -> bytes | None:
            raw = stored.get(name)
            return None if raw is None else windows_lean._text(raw)

        assert items.read_value(fetch, "k") == blob


def test_a_run_of_marks_longer_than_an_item_is_refused():
    with pytest.raises(items.LayoutError):
        items.split("=" + "\ufeff" * 10, 4)
