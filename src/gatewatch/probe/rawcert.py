"""The SANs of a certificate that ``cryptography`` refuses to parse, read from the raw DER.

Why: a server may present a certificate with a non-ASCII byte in a SAN dNSName (RFC 5280
says IA5String). OpenSSL's verification accepts it, ``cryptography`` raises ValueError, and
that used to end `gatewatch probe` with exit 2 as if the engineer had typed something
wrong. A hostile certificate is a finding about the tls hop: this module reads the names
with a minimal DER walker that never raises, and spells every byte outside printable
ASCII as ``\\xNN``, so the bad byte is visible and cannot reach a terminal raw.
"""

from __future__ import annotations

from gatewatch.probe.certreader import Unusual, der_items

_SAN_OID = bytes.fromhex("0603551d11")  # OID 2.5.29.17, subjectAltName, as DER
_DNS_NAME, _IP_ADDRESS = 0x82, 0x87


def visible_bytes(raw: bytes) -> str:
    """``raw`` as text: printable ASCII as is, every other byte (and ``\\``) as ``\\xNN``."""
    return "".join(chr(b) if 0x20 < b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in raw)


def raw_sans(der: bytes) -> tuple[list[str], list[str]]:
    """(names, problems): the SAN dNSNames (bytes made visible) and IP addresses of a DER
    certificate, and one line per name that is not ASCII. Never raises."""
    names: list[str] = []
    problems: list[str] = []
    try:
        (_, certificate), *_ = der_items(der)
        (_, tbs), *_ = der_items(certificate)
        for tag, field in der_items(tbs):
            if tag != 0xA3:  # [3] extensions
                continue
            (_, extensions), *_ = der_items(field)
            for _, extension in der_items(extensions):
                if not extension.startswith(_SAN_OID):
                    continue
                *_, (_, value) = der_items(extension)  # the OCTET STRING, after `critical`
                (_, general_names), *_ = der_items(value)
                for name_tag, content in der_items(general_names):
                    if name_tag == _DNS_NAME:
                        shown = visible_bytes(content)
                        names.append(shown)
                        if not content.isascii() or shown != content.decode("ascii"):
                            problems.append(f"SAN dNSName {shown} is not plain ASCII (RFC 5280)")
                    elif name_tag == _IP_ADDRESS:
                        names.append(_address(content))
    except (Unusual, ValueError):
        problems.append("the certificate's DER does not parse")
    return names, problems


def _address(content: bytes) -> str:
    import ipaddress

    if len(content) in (4, 16):
        return str(ipaddress.ip_address(content))
    return visible_bytes(content)
