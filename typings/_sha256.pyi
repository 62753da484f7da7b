# CPython's built-in SHA-256 module (3.11 and older), which typeshed does not describe. The hit
# path imports it instead of hashlib, which would also load OpenSSL; its sha256 is hashlib's.
from hashlib import sha256 as sha256
