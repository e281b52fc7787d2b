"""The facts of an ordinary certificate, read straight from its DER without ``cryptography``.

Why: ``cryptography`` costs a process about 13 MB of memory (its Rust extension and the
x509 modules) to read six facts that sit in fixed places of every certificate: subject
and issuer common names, serial, validity and SANs. Each probe worker would pay that
(issue 13: every worker is a Python process, and their summed memory is the goal).

This reader handles the ordinary case only and says so: for anything else — a name
without a common name that holds an attribute RFC 4514 has no short name for, string
types other than UTF8, Printable and IA5, a non-ASCII SAN, a duplicate extension, an
unusual version or time format, or DER it cannot walk — it returns ``None`` and the
caller asks ``cryptography``.
Tests check that whatever it does return equals what ``cryptography`` reads.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

_CN = bytes.fromhex("550403")  # 2.5.4.3 commonName
#: The attribute types RFC 4514 (and cryptography's ``rfc4514_string``) name by a short
#: name; a name holding any other is left to cryptography.
_SHORT_NAMES = {
    _CN: "CN",
    bytes.fromhex("550407"): "L",
    bytes.fromhex("550408"): "ST",
    bytes.fromhex("55040a"): "O",
    bytes.fromhex("55040b"): "OU",
    bytes.fromhex("550406"): "C",
    bytes.fromhex("550409"): "STREET",
    bytes.fromhex("0992268993f22c640119"): "DC",
    bytes.fromhex("0992268993f22c640101"): "UID",
}
_SAN = bytes.fromhex("551d11")  # 2.5.29.17 subjectAltName
_SEQUENCE, _SET, _OID, _INTEGER, _BOOLEAN, _OCTETS = 0x30, 0x31, 0x06, 0x02, 0x01, 0x04
_UTC_TIME, _GENERALIZED_TIME = 0x17, 0x18
#: UTF8String, PrintableString, IA5String: the string types read here.
_STRINGS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii"}
_DNS_NAME, _IP_ADDRESS = 0x82, 0x87
_UTC_FORMAT = re.compile(rb"\d{12}Z")
_GENERALIZED_FORMAT = re.compile(rb"\d{14}Z")

#: (oid, value) pairs per RDN: how ``cryptography`` compares two names (x509.Name.__eq__).
NameKey = tuple[frozenset[tuple[bytes, str]], ...]


class Unusual(Exception):
    """Not an ordinary certificate: leave it to ``cryptography``."""


def der_items(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(tag, content) of each DER TLV in ``data``, in order; definite lengths only.
    Raises Unusual where the DER does not parse (also used by :mod:`rawcert`)."""
    i, end = 0, len(data)
    while i < end:
        if i + 2 > end:
            raise Unusual
        tag, length = data[i], data[i + 1]
        i += 2
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 4 or i + count > end:
                raise Unusual
            length = int.from_bytes(data[i : i + count], "big")
            i += count
        if i + length > end:
            raise Unusual
        yield tag, data[i : i + length]
        i += length


def _one(data: bytes, tag: int) -> bytes:
    """The content of ``data``, which must be exactly one TLV with this tag."""
    items = list(der_items(data))
    if len(items) != 1 or items[0][0] != tag:
        raise Unusual
    return items[0][1]


def _string(tag: int, content: bytes) -> str:
    encoding = _STRINGS.get(tag)
    if encoding is None:
        raise Unusual
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        raise Unusual from None


def _escape(value: str) -> str:
    """An attribute value as RFC 4514 writes it (as cryptography's ``_escape_dn_value``)."""
    if not value:
        return ""
    for special in ("\\", '"', "+", ",", ";", "<", ">"):
        value = value.replace(special, "\\" + special)
    value = value.replace("\0", "\\00")
    if value[0] == "#" or (value[0] == " " and len(value) > 1):
        value = "\\" + value
    if value[-1] == " ":
        value = value[:-1] + "\\ "
    return value


def _name(content: bytes) -> tuple[str, NameKey]:
    """(how it is shown, comparison key) of a Name: its first common name, or else its
    RFC 4514 string (attributes with a short name only)."""
    common: str | None = None
    key = []
    shown = []
    for tag, rdn in der_items(content):
        if tag != _SET:
            raise Unusual
        attributes = set()
        parts = []
        for attribute_tag, attribute in der_items(rdn):
            if attribute_tag != _SEQUENCE:
                raise Unusual
            (oid_tag, oid), (value_tag, value) = der_items(attribute)
            if oid_tag != _OID:
                raise Unusual
            text = _string(value_tag, value)
            attributes.add((oid, text))
            if oid == _CN and common is None:
                common = text
            short = _SHORT_NAMES.get(oid)
            parts.append(None if short is None else f"{short}={_escape(text)}")
        key.append(frozenset(attributes))
        shown.append(parts)
    if common is not None:
        return common, tuple(key)
    if any(part is None for parts in shown for part in parts):
        raise Unusual  # a dotted OID in the string: cryptography's job
    return ",".join("+".join(p for p in parts if p) for parts in reversed(shown)), tuple(key)


def _time(tag: int, content: bytes) -> datetime:
    if tag == _UTC_TIME and _UTC_FORMAT.fullmatch(content):
        year = int(content[:2])
        year += 1900 if year >= 50 else 2000  # RFC 5280 4.1.2.5.1
        rest = content[2:]
    elif tag == _GENERALIZED_TIME and _GENERALIZED_FORMAT.fullmatch(content):
        year, rest = int(content[:4]), content[4:]
    else:
        raise Unusual
    month, day, hour, minute, second = (int(rest[i : i + 2]) for i in range(0, 10, 2))
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise Unusual from None


def _sans(extensions: bytes) -> list[str]:
    """DNS names, then IP addresses, of the subjectAltName extension (if any)."""
    seen: set[bytes] = set()
    dns: list[str] = []
    addresses: list[str] = []
    for tag, extension in der_items(extensions):
        if tag != _SEQUENCE:
            raise Unusual
        parts = list(der_items(extension))
        if not 2 <= len(parts) <= 3 or parts[0][0] != _OID or parts[-1][0] != _OCTETS:
            raise Unusual
        if len(parts) == 3 and parts[1][0] != _BOOLEAN:
            raise Unusual
        oid = parts[0][1]
        if oid in seen:
            raise Unusual  # a duplicate extension: cryptography refuses the certificate
        seen.add(oid)
        if oid != _SAN:
            continue
        for name_tag, value in der_items(_one(parts[-1][1], _SEQUENCE)):
            if name_tag == _DNS_NAME:
                if not value.isascii():
                    raise Unusual
                dns.append(value.decode("ascii"))
            elif name_tag == _IP_ADDRESS:
                if len(value) not in (4, 16):
                    raise Unusual
                addresses.append(str(ipaddress.ip_address(value)))
    return dns + addresses


def read_facts(der: bytes) -> tuple[tuple[str, Any], ...] | None:
    """The facts ``tls._static_facts`` gives, for an ordinary certificate; else None."""
    try:
        parts = list(der_items(_one(der, _SEQUENCE)))  # tbsCertificate, algorithm, signature
        if len(parts) != 3 or parts[0][0] != _SEQUENCE:
            return None
        return _read_tbs(list(der_items(parts[0][1])))
    except (Unusual, ValueError, StopIteration):
        return None


def _read_tbs(tbs: list[tuple[int, bytes]]) -> tuple[tuple[str, Any], ...]:
    fields = iter(tbs)
    tag, content = next(fields)
    if tag == 0xA0:  # [0] version: only v3 (2) is read here
        if _one(content, _INTEGER) != b"\x02":
            raise Unusual
        tag, content = next(fields)
    if tag != _INTEGER or not content or len(content) > 21 or content[0] & 0x80:
        raise Unusual  # a negative or oversized serial: leave it to cryptography
    serial = int.from_bytes(content, "big")
    if next(fields)[0] != _SEQUENCE:  # signature algorithm
        raise Unusual
    tag, issuer = next(fields)
    tag2, validity = next(fields)
    tag3, subject = next(fields)
    if (tag, tag2, tag3) != (_SEQUENCE, _SEQUENCE, _SEQUENCE) or next(fields)[0] != _SEQUENCE:
        raise Unusual
    (start_tag, start), (end_tag, end) = der_items(validity)
    issuer_cn, issuer_key = _name(issuer)
    subject_cn, subject_key = _name(subject)
    sans: list[str] = []
    for tag, content in fields:
        if tag == 0xA3:
            sans = _sans(_one(content, _SEQUENCE))
        elif tag not in (0x81, 0x82):  # issuer/subject unique IDs
            raise Unusual
    return (
        ("subject", subject_cn),
        ("issuer", issuer_cn),
        ("self_issued", subject_key == issuer_key),
        ("sans", tuple(sans)),
        ("serial", format(serial, "x")),
        ("not_before", _time(start_tag, start)),
        ("not_after", _time(end_tag, end)),
    )
