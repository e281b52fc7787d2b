"""The tls hop's facts: contexts built once, certificate facts, verification classes.

Building an SSLContext costs 20–30 ms (probe-engine-notes §7), more than a probe, so
contexts are made once per trust setup and reused. Certificate facts come from the leaf
in DER form, which stays readable when verification is off: that is how the engineer
learns *what* was wrong with a certificate the probe rejected.
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gatewatch.probe.certreader import read_facts
from gatewatch.probe.rawcert import raw_sans

if TYPE_CHECKING:
    from cryptography import x509

#: OpenSSL verify codes → our kinds (X509_V_ERR_*; measured in probe-engine-notes §3).
VERIFY_KINDS: dict[int, str] = {
    9: "not_yet_valid",  # CERT_NOT_YET_VALID
    10: "expired",  # CERT_HAS_EXPIRED
    18: "self_signed",  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: "self_signed",  # SELF_SIGNED_CERT_IN_CHAIN
    2: "unknown_ca",  # UNABLE_TO_GET_ISSUER_CERT
    20: "unknown_ca",  # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: "unknown_ca",  # UNABLE_TO_VERIFY_LEAF_SIGNATURE
    62: "hostname_mismatch",  # HOSTNAME_MISMATCH
    64: "hostname_mismatch",  # IP_ADDRESS_MISMATCH
}


#: What each ``http_version`` setting offers in ALPN, most wanted first: ``auto`` is
#: what browsers send (h2, then http/1.1).
ALPN: dict[str, tuple[str, ...]] = {
    "auto": ("h2", "http/1.1"),
    "2": ("h2",),
    "1.1": ("http/1.1",),
}


class FixedAlpnContext(ssl.SSLContext):
    """A client context whose ALPN offer is set once, when it is made.

    httpcore writes its own offer on the context before every handshake (http/1.1 first,
    and both protocols even when only HTTP/2 may be spoken). Ignoring those writes keeps
    our offer (h2 first, as browsers send it; only h2 for ``http_version = "2"``), and
    makes a context shared by many probes, loops or threads safe: nobody changes it.
    """

    _alpn_fixed = False

    def set_alpn_protocols(self, alpn_protocols: Iterable[str]) -> None:
        if not self._alpn_fixed:
            super().set_alpn_protocols(alpn_protocols)

    def fix_alpn(self, alpn_protocols: Iterable[str]) -> None:
        super().set_alpn_protocols(list(alpn_protocols))
        self._alpn_fixed = True


class ContextCache:
    """One SSLContext per (verify, ca_bundle, ALPN offer), shared by every probe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._contexts: dict[tuple[bool, str | None, tuple[str, ...]], ssl.SSLContext] = {}

    def get(
        self,
        *,
        verify: bool = True,
        ca_bundle: str | None = None,
        alpn: tuple[str, ...] = ALPN["1.1"],
    ) -> ssl.SSLContext:
        key = (verify, ca_bundle if verify else None, alpn)
        with self._lock:
            ctx = self._contexts.get(key)
            if ctx is None:
                ctx = make_context(verify=verify, ca_bundle=key[1], alpn=alpn)
                self._contexts[key] = ctx
            return ctx


def make_context(
    *, verify: bool = True, ca_bundle: str | None = None, alpn: tuple[str, ...] = ALPN["1.1"]
) -> ssl.SSLContext:
    """A client context: the system trust store (or ``ca_bundle``), or no verification.

    Built as ``ssl.create_default_context`` builds one, as a :class:`FixedAlpnContext`.
    """
    ctx = FixedAlpnContext(ssl.PROTOCOL_TLS_CLIENT)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif ca_bundle:
        ctx.load_verify_locations(cafile=ca_bundle)
    else:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
        if not ctx.get_ca_certs():  # a bare system: fall back to certifi's bundle
            try:
                import certifi

                ctx.load_verify_locations(certifi.where())
            except (ImportError, OSError):  # pragma: no cover - depends on the host
                pass
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:
        ctx.keylog_filename = keylog
    ctx.fix_alpn(alpn)
    return ctx


def _name(name: x509.Name) -> str:
    from cryptography.x509.oid import NameOID

    cn = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cn[0].value) if cn else name.rfc4514_string()


@functools.lru_cache(maxsize=2048)
def _static_facts(der: bytes) -> tuple[tuple[str, Any], ...]:
    """The facts that depend only on the certificate: parsed once per distinct DER.

    Nearly every probe of an endpoint sees the same certificate, and parsing it costs
    about 0.3 ms of a 1.9 ms https probe. An ordinary certificate is read without
    ``cryptography`` (:mod:`gatewatch.probe.certreader`: 13 MB less per probe worker);
    ``cryptography`` is imported for the others only.
    """
    return read_facts(der) or _facts_by_cryptography(der)


def _facts_by_cryptography(der: bytes) -> tuple[tuple[str, Any], ...]:
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        _, broken = raw_sans(der)
        return (("malformed", ("the certificate does not parse", *broken)),)
    sans: list[str] = []
    problems: list[str] = []
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        sans = [str(v) for v in ext.value.get_values_for_type(x509.DNSName)]
        sans += [str(v) for v in ext.value.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    except ValueError:  # e.g. a non-ASCII byte in a dNSName: read the raw bytes instead
        sans, problems = raw_sans(der)
    facts: tuple[tuple[str, Any], ...] = (
        ("subject", _safe_name(cert, "subject", problems)),
        ("issuer", _safe_name(cert, "issuer", problems)),
        ("self_issued", cert.subject == cert.issuer),
        ("sans", tuple(sans)),
        ("serial", format(cert.serial_number, "x")),
        ("not_before", cert.not_valid_before_utc),
        ("not_after", cert.not_valid_after_utc),
    )
    return (*facts, ("malformed", tuple(problems))) if problems else facts


def _safe_name(cert: x509.Certificate, which: str, problems: list[str]) -> str:
    try:
        return _name(cert.subject if which == "subject" else cert.issuer)
    except ValueError:
        problems.append(f"the {which} does not parse")
        return "(unreadable)"


def cert_facts(der: bytes, *, now: datetime | None = None) -> dict[str, Any]:
    """Subject, issuer, SANs, validity and days left of a DER certificate."""
    facts = dict(_static_facts(der))
    if "sans" in facts:
        facts["sans"] = list(facts["sans"])
    if "malformed" in facts:
        facts["malformed"] = list(facts["malformed"])
    if "not_after" in facts:
        now = now or datetime.now(UTC)
        facts["days_left"] = round((facts["not_after"] - now).total_seconds() / 86400, 1)
    return facts


def session_facts(ssl_object: Any) -> dict[str, Any]:
    """Version, cipher, ALPN and the leaf's facts from a live (or closed) SSLObject."""
    facts: dict[str, Any] = {
        "version": ssl_object.version(),
        "cipher": (ssl_object.cipher() or (None,))[0],
        "alpn": ssl_object.selected_alpn_protocol(),
    }
    facts["http_version"] = "2" if facts["alpn"] == "h2" else "1.1"
    der = ssl_object.getpeercert(binary_form=True)
    if der:
        facts.update(cert_facts(der))
    return facts


def verify_failure(exc: BaseException) -> tuple[str, str] | None:
    """(kind, message) when ``exc`` is a certificate verification failure."""
    if not isinstance(exc, ssl.SSLCertVerificationError):
        return None
    code = getattr(exc, "verify_code", None)
    message = getattr(exc, "verify_message", None) or str(exc)
    kind = VERIFY_KINDS.get(code or -1, "handshake_failed")
    return kind, f"certificate verify failed: {message}"


async def fetch_unverified_leaf(
    address: str, port: int, server_hostname: str, bound: float
) -> dict[str, Any] | None:
    """Handshake again without verification to read the certificate that was rejected.

    Costs one extra connection, and only after a verification failure, when the
    engineer most needs to know what the server presents.
    """
    ctx = _UNVERIFIED
    try:
        async with asyncio.timeout(bound):
            reader, writer = await asyncio.open_connection(
                address, port, ssl=ctx, server_hostname=server_hostname
            )
    except (OSError, TimeoutError, ssl.SSLError):
        return None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        return session_facts(ssl_object) if ssl_object is not None else None
    finally:
        writer.transport.abort()
        del reader


_UNVERIFIED = make_context(verify=False)
