"""The lab's certificates: one trusted CA, leaves that each fail verification one way.

Made at run time (trustme for CA-signed leaves, cryptography for the self-signed one) and
written into a directory the Lab owns, so no key material ships in the repository. Each
variant gets one server SSLContext, built once: per-connection context creation costs
tens of milliseconds and would distort the benchmarks.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import weakref
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: Names and addresses every "good" leaf is valid for: the lab's zone, localhost, both loopbacks.
LEAF_DNS_NAMES: tuple[str, ...] = ("app.lab.test", "*.lab.test", "localhost")
LEAF_IPS: tuple[str, ...] = ("127.0.0.1", "::1")
LEAF_IDENTITIES: tuple[str, ...] = LEAF_DNS_NAMES + LEAF_IPS

#: Certificate variant → what a verifying client says about it (OpenSSL verify_code).
CERT_VARIANTS: dict[str, str] = {
    "valid": "verifies against ca_bundle",
    "expired": "expired yesterday (verify_code 10)",
    "not_yet_valid": "valid from tomorrow (verify_code 9)",
    "wrong_host": "issued for other.example only (verify_code 62)",
    "self_signed": "self-signed leaf (verify_code 18)",
    "unknown_ca": "signed by a CA nobody trusts (verify_code 20)",
    "expiring": "valid, but expires in 5 days",
}

# Server-side SNI as seen in the handshake, keyed by the connection's SSLObject.
_SNI_SEEN: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def _remember_sni(ssl_object: object, server_name: str | None, _ctx: ssl.SSLContext) -> None:
    if server_name is not None:
        _SNI_SEEN[ssl_object] = server_name


def sni_of(ssl_object: object | None) -> str | None:
    """The server name the client sent in its ClientHello, or None (no SNI, or plain TCP)."""
    if ssl_object is None:
        return None
    return _SNI_SEEN.get(ssl_object)


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """A TLS server context offering only HTTP/1.1 via ALPN, recording the SNI it sees."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert_file), str(key_file))
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.sni_callback = _remember_sni
    return ctx


@dataclass(frozen=True)
class LeafFiles:
    """Where one server certificate (chain first) and its key were written."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class LabCertificates:
    """Every PEM the lab wrote, and a server context per variant."""

    ca_bundle: Path
    unknown_ca_bundle: Path
    leaves: dict[str, LeafFiles]
    contexts: dict[str, ssl.SSLContext]

    @classmethod
    def create(cls, directory: Path) -> LabCertificates:
        """Mint the CAs and every variant's leaf into ``directory``."""
        now = dt.datetime.now(dt.UTC)
        day = dt.timedelta(days=1)
        ca = trustme.CA(organization_name="gatewatch lab CA")
        other_ca = trustme.CA(organization_name="gatewatch lab unknown CA")
        ca_bundle = directory / "lab-ca.pem"
        ca.cert_pem.write_to_path(str(ca_bundle))
        unknown_ca_bundle = directory / "unknown-ca.pem"
        other_ca.cert_pem.write_to_path(str(unknown_ca_bundle))

        # The valid leaf began long ago, so that a peer whose clock is far behind ours
        # still accepts it: tests compare against Go binaries (blackbox_exporter) that
        # datefudge cannot move when the suite runs with the date a year ahead.
        issued = {
            "valid": ca.issue_cert(
                *LEAF_IDENTITIES, not_before=now - 400 * day, not_after=now + 365 * day
            ),
            "expired": ca.issue_cert(
                *LEAF_IDENTITIES, not_before=now - 30 * day, not_after=now - day
            ),
            "not_yet_valid": ca.issue_cert(
                *LEAF_IDENTITIES, not_before=now + day, not_after=now + 30 * day
            ),
            "wrong_host": ca.issue_cert(
                "other.example", not_before=now - day, not_after=now + 365 * day
            ),
            "unknown_ca": other_ca.issue_cert(
                *LEAF_IDENTITIES, not_before=now - day, not_after=now + 365 * day
            ),
            "expiring": ca.issue_cert(
                *LEAF_IDENTITIES, not_before=now - 85 * day, not_after=now + 5 * day
            ),
        }
        leaves: dict[str, LeafFiles] = {}
        for name, leaf in issued.items():
            files = LeafFiles(directory / f"{name}.crt.pem", directory / f"{name}.key.pem")
            with files.cert.open("wb") as out:
                for blob in leaf.cert_chain_pems:  # leaf first, then the issuing CA
                    out.write(blob.bytes())
            leaf.private_key_pem.write_to_path(str(files.key))
            leaves[name] = files
        leaves["self_signed"] = _write_self_signed(directory, now)
        contexts = {name: server_context(f.cert, f.key) for name, f in leaves.items()}
        return cls(ca_bundle, unknown_ca_bundle, leaves, contexts)


def _write_self_signed(directory: Path, now: dt.datetime) -> LeafFiles:
    """A leaf that is its own issuer: what a forgotten default install presents."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "app.lab.test")])
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in LEAF_DNS_NAMES]
    sans += [x509.IPAddress(ipaddress.ip_address(n)) for n in LEAF_IPS]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    files = LeafFiles(directory / "self_signed.crt.pem", directory / "self_signed.key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files
