"""An independent reader of published batches: zipfile, the generated protobuf module and
cryptography, nothing from the codec under test."""

from __future__ import annotations

import io
import zipfile

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from authority.formats.gaen import export_pb2


def read_batch(
    zip_bytes: bytes,
) -> tuple[bytes, export_pb2.TemporaryExposureKeyExport, export_pb2.TEKSignatureList]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        assert archive.namelist() == ["export.bin", "export.sig"]
        export_bin = archive.read("export.bin")
        export_sig = archive.read("export.sig")
    assert export_bin[:16] == b"EK Export v1    "
    export = export_pb2.TemporaryExposureKeyExport()
    export.ParseFromString(export_bin[16:])
    signatures = export_pb2.TEKSignatureList()
    signatures.ParseFromString(export_sig)
    return export_bin, export, signatures


def signature_verifies(export_bin: bytes, signature: bytes, public_key_pem: str) -> bool:
    public_key = serialization.load_pem_public_key(public_key_pem.encode())
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    try:
        public_key.verify(signature, export_bin, ec.ECDSA(hashes.SHA256()))
    except Exception:
        return False
    return True
