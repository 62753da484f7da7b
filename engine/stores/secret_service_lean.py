"""Reads what ``keyring`` stored in the Secret Service, without keyring: the shim's Linux hit path.

Import budget: ``os`` and ``_socket`` (the C module: ``socket`` itself costs ~11 ms), nothing
else: no json, re, struct, jeepney or keyring. A small D-Bus client over the session bus's unix
socket: SASL EXTERNAL, ``Hello``, ``OpenSession("plain")`` and ``SearchItems`` pipelined, then
``GetSecrets`` — two round trips per read.

It reads exactly the items python-keyring's SecretService backend writes: attributes
``service``/``username``, secret bytes as stored (see ``SecretServiceReader`` for which
collection). Calls carry NO_AUTO_START, so a read never starts a daemon. Anything it
cannot handle (no bus, no daemon, locked collection, ambiguous or unknown layout, timeout) raises
:class:`StoreUnavailable` with the reason, and the caller takes the full path instead.
"""

import _socket
import os
import time

from kubewarm.engine.hotpath import mark_keyring_stalled
from kubewarm.engine.stores import StoreUnavailable

TYPE_CHECKING = False  # pyright reads the block below; at run time typing would cost an import
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Literal

    ByteOrder = Literal["little", "big"]

SECRETS = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
ALIAS_PREFIX = "/org/freedesktop/secrets/aliases/"
SERVICE_IFACE = "org.freedesktop.Secret.Service"
COLLECTION_IFACE = "org.freedesktop.Secret.Collection"
TIMEOUT = 2.0  # seconds for the whole exchange; a stuck daemon must not hang kubectl
NO_ALIAS_PAUSES = (0.1, 0.2, 0.0)  # collection_state: asks again after these (a starting daemon)
_MAX_MESSAGE = 1 << 24
_NO_AUTO_START = 2
_METHOD_RETURN, _ERROR = 2, 3
_ERRORS = {
    "org.freedesktop.DBus.Error.ServiceUnknown": "no Secret Service is running on the session bus",
    "org.freedesktop.DBus.Error.NameHasNoOwner": "no Secret Service is running on the session bus",
    "org.freedesktop.DBus.Error.NoReply": "the Secret Service did not answer",
    "org.freedesktop.Secret.Error.IsLocked": "the keyring collection is locked",
    "org.freedesktop.Secret.Error.NoSession": "the Secret Service dropped the session",
    "org.freedesktop.Secret.Error.NoSuchObject": "the keyring item disappeared while being read",
}


# --- addresses -------------------------------------------------------------------------------


def bus_addresses(environ: "Mapping[str, str] | None" = None) -> list[bytes]:
    """Socket addresses of the session bus (``unix:path=`` / ``unix:abstract=``), in order."""
    env = os.environ if environ is None else environ
    spec = env.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not spec:
        runtime = env.get("XDG_RUNTIME_DIR", "")
        return [os.fsencode(runtime + "/bus")] if runtime else []
    found = []
    for address in spec.split(";"):
        kind, _, params = address.partition(":")
        if kind != "unix":
            continue
        for param in params.split(","):
            name, _, value = param.partition("=")
            if name == "path":
                found.append(_unescape(value))
            elif name == "abstract":
                found.append(b"\0" + _unescape(value))
    return found


def _unescape(value: str) -> bytes:
    raw = value.encode("utf-8")
    if b"%" not in raw:
        return raw
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i] == 0x25:  # %XX
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


# --- marshalling (little endian out; either endianness in) ------------------------------------


def _pad(buf: bytearray, n: int) -> None:
    buf += bytes(-len(buf) % n)


def _u32(buf: bytearray, value: int) -> None:
    _pad(buf, 4)
    buf += value.to_bytes(4, "little")


def _str(buf: bytearray, text: str) -> None:
    data = text.encode("utf-8")
    _u32(buf, len(data))
    buf += data
    buf.append(0)


def _sig(buf: bytearray, text: str) -> None:
    buf.append(len(text))
    buf += text.encode("ascii")
    buf.append(0)


def _dict_ss(buf: bytearray, items: dict[str, str]) -> None:
    _u32(buf, 0)
    at = len(buf) - 4
    _pad(buf, 8)
    start = len(buf)
    for name, value in items.items():
        _pad(buf, 8)
        _str(buf, name)
        _str(buf, value)
    buf[at : at + 4] = (len(buf) - start).to_bytes(4, "little")


def _paths(buf: bytearray, paths: list[str]) -> None:
    _u32(buf, 0)
    at = len(buf) - 4
    start = len(buf)
    for path in paths:
        _str(buf, path)
    buf[at : at + 4] = (len(buf) - start).to_bytes(4, "little")


def message(
    serial: int,
    dest: str,
    path: str,
    iface: str,
    member: str,
    sig: str = "",
    body: bytes | bytearray = b"",
    flags: int = 0,
) -> bytes:
    """A METHOD_CALL message."""
    fields = bytearray()
    for code, kind, value in ((1, "o", path), (2, "s", iface), (3, "s", member), (6, "s", dest)):
        _pad(fields, 8)
        fields.append(code)
        _sig(fields, kind)
        _str(fields, value)
    if sig:
        _pad(fields, 8)
        fields.append(8)
        _sig(fields, "g")
        _sig(fields, sig)
    head = bytearray(b"l\x01")
    head.append(flags)
    head.append(1)
    head += len(body).to_bytes(4, "little") + serial.to_bytes(4, "little")
    head += len(fields).to_bytes(4, "little") + fields
    _pad(head, 8)
    return bytes(head) + body


def _type_end(sig: str, i: int) -> int:
    """Index just past the single complete type that starts at ``sig[i]``."""
    c = sig[i]
    if c == "a":
        return _type_end(sig, i + 1)
    if c in "({":
        depth = 0
        while True:
            if sig[i] in "({":
                depth += 1
            elif sig[i] in ")}":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
    return i + 1


_ALIGN = {"y": 1, "g": 1, "v": 1, "n": 2, "q": 2, "x": 8, "t": 8, "d": 8, "(": 8, "{": 8}


def _signature(data: bytes, pos: int) -> tuple[str, int]:
    """Unmarshal a signature (type ``g``) from ``data[pos:]``: (text, new position)."""
    n = data[pos]
    return data[pos + 1 : pos + 1 + n].decode("ascii"), pos + n + 2


def _value(sig: str, i: int, data: bytes, pos: int, order: "ByteOrder") -> tuple[object, int]:
    """Unmarshal the complete type at ``sig[i]`` from ``data[pos:]``: (value, new position)."""
    c = sig[i]
    size = {"b": 4, "u": 4, "i": 4, "h": 4, "n": 2, "q": 2, "x": 8, "t": 8}.get(c)
    if size:
        pos += -pos % size
        if pos + size > len(data):
            raise ValueError("truncated D-Bus message")
        number = int.from_bytes(data[pos : pos + size], order, signed=c in "inx")
        return (bool(number) if c == "b" else number), pos + size
    if c == "y":
        return data[pos], pos + 1
    if c in "so":
        pos += -pos % 4
        n = int.from_bytes(data[pos : pos + 4], order)
        end = pos + 4 + n
        if end >= len(data):
            raise ValueError("truncated D-Bus string")
        return data[pos + 4 : end].decode("utf-8"), end + 1
    if c == "g":
        return _signature(data, pos)
    if c == "v":
        inner, pos = _signature(data, pos)
        if not inner or _type_end(inner, 0) != len(inner):
            raise ValueError("bad variant signature")
        return _value(inner, 0, data, pos, order)
    if c == "a":
        pos += -pos % 4
        n = int.from_bytes(data[pos : pos + 4], order)
        pos += 4
        elem = sig[i + 1 : _type_end(sig, i + 1)]
        pos += -pos % _ALIGN.get(elem[0], 4)
        end = pos + n
        if end > len(data):
            raise ValueError("truncated D-Bus array")
        if elem == "y":
            return bytes(data[pos:end]), end
        if elem[0] == "{":
            result: dict = {}
            while pos < end:
                pos += -pos % 8
                key, pos = _value(elem, 1, data, pos, order)
                result[key], pos = _value(elem, _type_end(elem, 1), data, pos, order)
            return result, end
        items = []
        while pos < end:
            item, pos = _value(elem, 0, data, pos, order)
            items.append(item)
        return items, end
    if c == "(":
        pos += -pos % 8
        fields = []
        j = i + 1
        while sig[j] != ")":
            field, pos = _value(sig, j, data, pos, order)
            fields.append(field)
            j = _type_end(sig, j)
        return tuple(fields), pos
    raise ValueError(f"unsupported D-Bus type {c!r}")


def unmarshal(sig: str, data: bytes, order: "ByteOrder" = "little") -> list:
    """Every value of the body ``data`` whose signature is ``sig``."""
    values, pos, i = [], 0, 0
    while i < len(sig):
        value, pos = _value(sig, i, data, pos, order)
        values.append(value)
        i = _type_end(sig, i)
    return values


# --- the connection ---------------------------------------------------------------------------


class Bus:
    """One authenticated session-bus connection; messages are queued, then sent in one write."""

    sock: "_socket.socket | None"
    serial: int
    replies: "dict[int, tuple[int, str, list]]"  # serial -> (type, error, body)
    buffer: bytes
    outgoing: "list[bytes]"
    authenticated: bool

    def __init__(
        self, environ: "Mapping[str, str] | None" = None, timeout: float = TIMEOUT
    ) -> None:
        addresses = bus_addresses(environ)
        if not addresses:
            raise StoreUnavailable("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
        if os.name == "nt":  # no unix sockets, no uid: the session bus is for Linux and BSD
            raise StoreUnavailable("no D-Bus session bus on Windows")
        self.sock = None
        problem = ""
        for address in addresses:
            sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(address)
            except OSError as exc:
                sock.close()
                problem = exc.strerror or type(exc).__name__
                continue
            self.sock = sock
            break
        if self.sock is None:
            raise StoreUnavailable(f"cannot connect to the D-Bus session bus: {problem}")
        self.serial = 1
        self.replies = {}
        self.buffer = b""
        uid = str(os.getuid()).encode("ascii").hex().encode("ascii")
        self.outgoing = [b"\0AUTH EXTERNAL " + uid + b"\r\nBEGIN\r\n"]
        self.authenticated = False
        self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def call(
        self,
        dest: str,
        path: str,
        iface: str,
        member: str,
        sig: str = "",
        body: bytes | bytearray = b"",
    ) -> int:
        """Queue a method call; returns its serial."""
        serial = self.serial
        self.serial += 1
        flags = _NO_AUTO_START if dest == SECRETS else 0
        self.outgoing.append(message(serial, dest, path, iface, member, sig, body, flags))
        return serial

    def _connected(self) -> _socket.socket:
        if self.sock is None:
            raise StoreUnavailable("the D-Bus connection is closed")
        return self.sock

    def flush(self) -> None:
        """Send every queued message in one write."""
        if self.outgoing:
            self._connected().sendall(b"".join(self.outgoing))
            self.outgoing = []

    def result(self, serial: int) -> list:
        """The body of the reply to ``serial`` (sending what is queued first)."""
        self.flush()
        while serial not in self.replies:
            self._receive()
        kind, error, body = self.replies.pop(serial)
        if kind == _ERROR:
            raise StoreUnavailable(_ERRORS.get(error, f"the Secret Service answered {error}"))
        return body

    def _fill(self) -> None:
        chunk = self._connected().recv(65536)
        if not chunk:
            raise StoreUnavailable("the D-Bus session bus closed the connection")
        self.buffer += chunk

    def _receive(self) -> None:
        if not self.authenticated:
            while b"\r\n" not in self.buffer:
                if len(self.buffer) > 4096:
                    raise StoreUnavailable("unexpected D-Bus authentication reply")
                self._fill()
            line, _, self.buffer = self.buffer.partition(b"\r\n")
            if not line.startswith(b"OK "):
                raise StoreUnavailable("the D-Bus session bus refused authentication")
            self.authenticated = True
        while len(self.buffer) < 16:
            self._fill()
        head = self.buffer
        order = "little" if head[0:1] == b"l" else "big"
        if head[0:1] not in (b"l", b"B") or head[3] != 1:
            raise StoreUnavailable("unknown D-Bus message layout")
        body_len = int.from_bytes(head[4:8], order)
        fields_len = int.from_bytes(head[12:16], order)
        body_at = 16 + fields_len + (-fields_len % 8)
        total = body_at + body_len
        if total > _MAX_MESSAGE:
            raise StoreUnavailable("oversized D-Bus message")
        while len(self.buffer) < total:
            self._fill()
        data, self.buffer = self.buffer[:total], self.buffer[total:]
        if data[1] not in (_METHOD_RETURN, _ERROR):
            return  # a signal (NameAcquired) or a call: not ours
        fields = _value("a(yv)", 0, data[: 16 + fields_len], 12, order)[0]
        if not isinstance(fields, list):  # "a(yv)" always unmarshals to a list; this tells pyright
            raise ValueError("bad D-Bus header fields")
        reply_to, sig, error = 0, "", ""
        for code, value in fields:
            if code == 5:
                reply_to = value
            elif code == 8:
                sig = value
            elif code == 4:
                error = value
        body = unmarshal(sig, data[body_at:], order) if sig and not error else []
        self.replies[reply_to] = (data[1], error, body)


# --- Secret Service -------------------------------------------------------------------------


class SecretServiceReader:
    """Reads keyring-written secrets over one connection.

    ``start`` connects and sends the session set-up (auth, ``Hello``, ``OpenSession``) without
    waiting, so the daemons work on it while the caller gets ready; ``read`` adds the search
    and waits.

    The search covers every collection (resolving the ``default`` alias would cost another
    request, ~0.2 ms): exactly one unlocked match is read; none is a miss; several, or a match
    in a locked collection, are refused, and the caller's full path (keyring, which looks in
    the default collection only) decides. With ``KEYRING_PROPERTY_PREFERRED_COLLECTION`` set,
    only that collection counts, as for keyring.
    """

    def __init__(
        self, environ: "Mapping[str, str] | None" = None, timeout: float = TIMEOUT
    ) -> None:
        self.environ = environ
        self.timeout = timeout
        self.bus: Bus | None = None
        self.session = ""
        self.collection = ""
        self._opened = self._alias = 0

    def close(self) -> None:
        if self.bus is not None:
            self.bus.close()
            self.bus = None
        self.session = ""

    def start(self) -> Bus:
        """Connect and send the session set-up, if not done yet; returns the connection."""
        if self.bus is not None:
            return self.bus
        try:
            bus = Bus(self.environ, self.timeout)
            self.bus = bus
            body = bytearray()
            _str(body, "plain")
            _sig(body, "s")
            _str(body, "")
            self._opened = bus.call(SECRETS, SERVICE_PATH, SERVICE_IFACE, "OpenSession", "sv", body)
            self._alias, self.collection = self._collection_call(bus, preferred_only=True)
            bus.flush()
        except OSError as exc:
            self.close()
            if isinstance(exc, TimeoutError):
                mark_keyring_stalled()
            raise StoreUnavailable(f"cannot talk to the session bus ({exc})") from None
        return bus

    def _collection_call(self, bus: Bus, preferred_only: bool = False) -> tuple[int, str]:
        """(serial of a ReadAlias call or 0, collection path or '') for keyring's collection;
        with ``preferred_only``, ('', 0) unless KEYRING_PROPERTY_PREFERRED_COLLECTION is set."""
        env = os.environ if self.environ is None else self.environ
        preferred = env.get("KEYRING_PROPERTY_PREFERRED_COLLECTION", "")
        if preferred and not preferred.startswith(ALIAS_PREFIX):
            return 0, preferred
        if preferred_only and not preferred:
            return 0, ""
        alias = preferred[len(ALIAS_PREFIX) :] if preferred else "default"
        body = bytearray()
        _str(body, alias)
        return bus.call(SECRETS, SERVICE_PATH, SERVICE_IFACE, "ReadAlias", "s", bytes(body)), ""

    def read(self, attributes: dict[str, str]) -> bytes | None:
        """The secret of the one unlocked item with ``attributes`` (see the class docstring)."""
        try:
            return self._read(attributes)
        except StoreUnavailable:
            self.close()
            raise
        except (OSError, ValueError, IndexError, KeyError, TypeError, UnicodeDecodeError) as exc:
            self.close()
            if isinstance(exc, TimeoutError):
                mark_keyring_stalled()  # later kubectl calls skip it for a while
                raise StoreUnavailable("the Secret Service did not answer in time") from None
            raise StoreUnavailable(
                f"unexpected Secret Service reply ({type(exc).__name__})"
            ) from None

    def _read(self, attributes: dict[str, str]) -> bytes | None:
        bus = self.start()
        body = bytearray()
        _dict_ss(body, attributes)
        searched = bus.call(SECRETS, SERVICE_PATH, SERVICE_IFACE, "SearchItems", "a{ss}", body)
        if not self.session:
            self.session = bus.result(self._opened)[1]
            if self._alias:
                self.collection = bus.result(self._alias)[0]
            if self.collection == "/":
                raise StoreUnavailable("the Secret Service has no default keyring")
        unlocked, locked = bus.result(searched)
        prefix = self.collection + "/" if self.collection else "/"
        mine = [path for path in unlocked if path.startswith(prefix)]
        if any(path.startswith(prefix) for path in locked):
            raise StoreUnavailable("the keyring collection is locked")
        if not mine:
            return None
        if len(mine) > 1:
            raise StoreUnavailable(f"{len(mine)} keyring items match one name")
        body = bytearray()
        _paths(body, mine)
        _str(body, self.session)
        fetched = bus.call(SECRETS, SERVICE_PATH, SERVICE_IFACE, "GetSecrets", "aoo", bytes(body))
        secret = bus.result(fetched)[0].get(mine[0])
        if secret is None:
            raise StoreUnavailable("the keyring item is locked")
        _session, parameters, value, _content_type = secret
        if parameters:
            raise StoreUnavailable("the Secret Service session is not plain")
        return value


def collection_state(environ: "Mapping[str, str] | None" = None, timeout: float = TIMEOUT) -> str:
    """'unlocked' or 'locked' for keyring's collection; raises StoreUnavailable if unreachable."""
    reader = SecretServiceReader(environ, timeout)
    try:
        bus = Bus(environ, timeout)
        reader.bus = bus
        path = "/"
        for pause in NO_ALIAS_PAUSES:  # '/' for a moment while the daemon sets up its keyrings
            alias_call, path = reader._collection_call(bus)
            if alias_call:
                path = bus.result(alias_call)[0]
            if path != "/":
                break
            time.sleep(pause)
        if path == "/":
            raise StoreUnavailable("the Secret Service has no default keyring")
        body = bytearray()
        _str(body, COLLECTION_IFACE)
        _str(body, "Locked")
        asked = bus.call(SECRETS, path, "org.freedesktop.DBus.Properties", "Get", "ss", bytes(body))
        return "locked" if bus.result(asked)[0] else "unlocked"
    except (OSError, ValueError, IndexError, TypeError) as exc:
        raise StoreUnavailable(f"Secret Service unreachable ({type(exc).__name__})") from None
    finally:
        reader.close()
