# The ward's own certificate authority: made once at enrolment, it signs the broker's and the console's certificates.
from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provisioning.errors import ProvisioningError

CA_YEARS = 20  # a ward CA outlives its devices; its key never leaves the hub
LEAF_YEARS = 10


@dataclass(frozen=True)
class WardCA:
    """The CA files in `folder`: ward-ca.pem (public, copied into every device's config) and ward-ca.key (root
    only, never copied anywhere)."""

    folder: Path

    @property
    def cert_path(self) -> Path:
        return self.folder / "ward-ca.pem"

    @property
    def key_path(self) -> Path:
        return self.folder / "ward-ca.key"

    def exists(self) -> bool:
        return self.cert_path.exists() and self.key_path.exists()

    def pem(self) -> str:
        return self.cert_path.read_text(encoding="ascii")


def make_ca(folder: str | Path, ward: str) -> WardCA:
    """Makes the ward CA in `folder` unless it is there already (never replaced: every device trusts it)."""
    ca = WardCA(Path(folder))
    if ca.exists():
        return ca
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "motcua"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"motcua ward {ward} CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    ca.folder.mkdir(parents=True, exist_ok=True)
    _write(ca.key_path, _key_pem(key), 0o600)
    _write(ca.cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return ca


def issue(ca: WardCA, names: list[str], cert_path: str | Path, key_path: str | Path,
          key_mode: int = 0o640) -> Path:
    """A server certificate for `names` (host names and IP addresses, as clients will dial them), signed by the
    ward CA; its key written with `key_mode`. Replaces an older one at the same paths."""
    if not ca.exists():
        raise ProvisioningError(f"no ward CA in {ca.folder}: enrol the hub first (motcua enrol hub --role hub ...)")
    if not names:
        raise ProvisioningError("a certificate needs at least one host name or address")
    ca_key = serialization.load_pem_private_key(ca.key_path.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365 * LEAF_YEARS))
            .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore
                           critical=False)
            .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]
    _write(Path(key_path), _key_pem(key), key_mode)
    _write(Path(cert_path), cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return Path(cert_path)


def names_in(cert_path: str | Path) -> list[str]:
    """The host names and addresses a certificate is good for."""
    cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(v) for v in san.get_values_for_type(x509.DNSName)] + \
        [str(v) for v in san.get_values_for_type(x509.IPAddress)]


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".new")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)  # never readable by others, even briefly
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    staged.chmod(mode)
    staged.replace(path)
