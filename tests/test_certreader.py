"""The plain DER reader (probe/certreader.py) reads what ``cryptography`` reads, or declines.

Every certificate here is built with ``cryptography``; whenever the reader answers, its
facts must equal ``cryptography``'s to the last field, and the ordinary certificates a
probe meets (trustme's, the lab's, a public CA's shape) must be answered, not declined.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
import sys

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatewatch.lab.certs import server_context
from gatewatch.probe.certreader import read_facts
from gatewatch.probe.tls import _facts_by_cryptography, cert_facts

_KEY = ec.generate_private_key(ec.SECP256R1())
_UTC = dt.UTC

_printable = st.text(
    alphabet=st.sampled_from("ABCXYZabcxyz0123456789 '()+,-./:=?"), min_size=1, max_size=20
)
_any_text = st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s)
_attribute = st.one_of(
    st.builds(lambda v: x509.NameAttribute(NameOID.COMMON_NAME, v), _any_text),
    st.builds(
        lambda v: x509.NameAttribute(NameOID.COMMON_NAME, v, _ASN1Type.PrintableString),
        _printable,
    ),
    st.builds(lambda v: x509.NameAttribute(NameOID.ORGANIZATION_NAME, v), _any_text),
    st.builds(lambda v: x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, v), _printable),
    st.builds(lambda v: x509.NameAttribute(NameOID.COUNTRY_NAME, v), st.sampled_from(["DE", "US"])),
    st.builds(
        lambda v: x509.NameAttribute(NameOID.COMMON_NAME, v, _ASN1Type.BMPString),
        _printable,
    ),
    st.just(x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ops@shop.test")),
)
_SHORT = {NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME}
_SHORT |= {NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.COUNTRY_NAME}
_rdn = st.lists(_attribute, min_size=1, max_size=2, unique_by=lambda a: (a.oid, a.value)).map(
    x509.RelativeDistinguishedName
)
_name = st.lists(_rdn, min_size=0, max_size=3).map(x509.Name)
_san = st.one_of(
    st.builds(x509.DNSName, st.from_regex(r"[a-z0-9*][a-z0-9.-]{0,20}", fullmatch=True)),
    st.builds(x509.IPAddress, st.ip_addresses().map(lambda a: ipaddress.ip_address(str(a)))),
    st.builds(x509.UniformResourceIdentifier, st.just("https://example.test/")),
    st.builds(x509.RFC822Name, st.just("ops@example.test")),
)
_when = st.datetimes(min_value=dt.datetime(1951, 1, 1), max_value=dt.datetime(9998, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=_UTC)
)


def _build(
    subject: x509.Name,
    issuer: x509.Name,
    sans: list[x509.GeneralName] | None,
    start: dt.datetime,
    end: dt.datetime,
    serial: int,
    extra: bool,
) -> bytes:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(_KEY.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
    )
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if extra:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    return builder.sign(_KEY, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=_name,
    issuer=_name,
    same=st.booleans(),
    sans=st.none() | st.lists(_san, max_size=4),
    start=_when,
    end=_when,
    serial=st.integers(min_value=1, max_value=2**159 - 1),
    extra=st.booleans(),
)
def test_whatever_the_reader_answers_equals_cryptography(
    subject: x509.Name,
    issuer: x509.Name,
    same: bool,
    sans: list[x509.GeneralName] | None,
    start: dt.datetime,
    end: dt.datetime,
    serial: int,
    extra: bool,
) -> None:
    issuer = subject if same else issuer
    start, end = min(start, end), max(start, end)
    der = _build(subject, issuer, sans, start, end, serial, extra)
    ours = read_facts(der)
    if ours is not None:
        assert ours == _facts_by_cryptography(der)
    # And it declines only what it says it does not read: a string type other than UTF8,
    # Printable or IA5, or a name without a common name that RFC 4514 writes with an OID.
    ordinary = all(
        all(a._type != _ASN1Type.BMPString for a in name)
        and (any(a.oid == NameOID.COMMON_NAME for a in name) or all(a.oid in _SHORT for a in name))
        for name in (subject, issuer)
    )
    assert (ours is not None) == ordinary


def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def _cn(value: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, value)])


def _ordinary(subject: str, issuer: str, sans: list[x509.GeneralName]) -> bytes:
    start = dt.datetime(2026, 1, 1, tzinfo=_UTC)
    end = dt.datetime(2051, 6, 1, 12, 30, 5, tzinfo=_UTC)  # GeneralizedTime from 2050
    return _build(_cn(subject), _cn(issuer), sans, start, end, 2**150 + 7, extra=True)


def test_ordinary_certificates_are_read_without_cryptography() -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost", "*.shop.test")
    pems = [leaf.cert_chain_pems[0].bytes(), ca.cert_pem.bytes()]
    ders = [
        x509.load_pem_x509_certificate(p).public_bytes(serialization.Encoding.DER) for p in pems
    ]
    ders.append(_ordinary("shop.test", "Lab CA", [x509.DNSName("shop.test")]))
    ders.append(_ordinary("Lab CA", "Lab CA", []))
    ders.append(_ordinary("v6.test", "R3", [x509.IPAddress(ipaddress.ip_address("::1"))]))
    for der in ders:
        ours = read_facts(der)
        assert ours is not None, der.hex()
        assert ours == _facts_by_cryptography(der)
    facts = dict(read_facts(ders[-3]) or ())
    assert facts["not_after"] == dt.datetime(2051, 6, 1, 12, 30, 5, tzinfo=_UTC)
    assert facts["serial"] == format(2**150 + 7, "x") and facts["self_issued"] is False
    assert dict(read_facts(ders[-2]) or ())["self_issued"] is True


def test_unusual_certificates_are_left_to_cryptography() -> None:
    email = x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ops@shop.test")
    no_cn = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Shop"), email])
    start, end = dt.datetime(2026, 1, 1, tzinfo=_UTC), dt.datetime(2027, 1, 1, tzinfo=_UTC)
    der = _build(no_cn, no_cn, None, start, end, 5, extra=False)
    assert read_facts(der) is None  # a dotted OID in its RFC 4514 string
    assert dict(cert_facts(der))["subject"] == "1.2.840.113549.1.9.1=ops@shop.test,O=Shop"
    assert read_facts(b"\x30\x03\x02\x01") is None  # truncated DER
    assert read_facts(b"") is None


def test_a_probe_worker_does_not_load_cryptography_for_an_ordinary_certificate() -> None:
    """The memory this saves is per worker process; check it in a fresh interpreter."""
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    der = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).public_bytes(
        serialization.Encoding.DER
    )
    code = (
        "import sys; from gatewatch.probe.tls import cert_facts;"
        f"facts = cert_facts(bytes.fromhex({der.hex()!r}));"
        "assert facts['sans'] == ['127.0.0.1'], facts;"
        "print('cryptography' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert server_context is not None  # the lab itself still builds certificates with it
