"""Signed checkpoints: a chain head signed with an Ed25519 key the application does not hold.

A checkpoint pins the chain only if whoever could rewrite the store cannot forge it: signed
by a key kept away from the application process (an auditor's machine, a key service),
it is the "signed tree head" of Certificate Transparency for this trail. The signature
covers the canonical JSON of ``{"campaign", "format", "hash", "seq"}``. The cryptography
itself is the ``cryptography`` package's (the ``sign`` extra); it is loaded only here, when
a checkpoint is signed or checked, and never by the core.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import json
from os import PathLike
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from campaignflow._words.checks import refuse
from campaignflow.audit._chain import Checkpoint
from campaignflow.audit._encode import canonical_json
from campaignflow.errors import AuditTampered, ValidationError
from campaignflow.i18n import messages

__all__ = [
    "SIGNED_CHECKPOINT_FORMAT",
    "SignedCheckpoint",
    "read_signed_checkpoint",
    "sign_checkpoint",
    "verify_signed_checkpoint",
]

#: The format name a signed checkpoint carries (and signs): a later format gets a new name.
SIGNED_CHECKPOINT_FORMAT = "campaignflow-checkpoint/1"

KeySource = str | bytes | PathLike[str]


def _crypto(module: str) -> ModuleType:
    """A module of the ``cryptography`` package, or a ValidationError naming the extra."""
    try:
        return importlib.import_module(f"cryptography.hazmat.primitives.{module}")
    except ImportError:
        raise ValidationError(code="audit.sign_needs_cryptography") from None


def _key_bytes(key: KeySource, field: str) -> tuple[bytes, str]:
    """The PEM bytes of ``key`` (PEM text or bytes, or a file path) and what to call it."""
    if isinstance(key, bytes):
        return key, field
    if isinstance(key, str) and key.lstrip().startswith("-----BEGIN"):
        return key.encode("ascii", "replace"), field
    if isinstance(key, str | PathLike):
        path = Path(key)
        try:
            return path.read_bytes(), repr(str(path))
        except OSError as exc:
            raise ValidationError(
                code="audit.key_unusable",
                params={"path": repr(str(path)), "problem": exc.strerror or str(exc)},
            ) from None
    raise ValidationError(
        code="audit.key_unusable",
        params={"path": field, "problem": f"must be PEM text or bytes or a path, got {key!r}"},
    )


def _unusable(where: str, problem: str) -> ValidationError:
    return ValidationError(code="audit.key_unusable", params={"path": where, "problem": problem})


@attrs.frozen
class SignedCheckpoint:
    """A chain head ``(seq, hash)`` of campaign ``campaign``, signed with Ed25519.

    ``key_id`` is the first 16 hex digits of the SHA-256 of the raw public key, to tell
    keys apart; ``signature`` is base64. Write it with :meth:`to_json` and read it back
    with :func:`read_signed_checkpoint`; check it with :func:`verify_signed_checkpoint`,
    which gives the plain :class:`Checkpoint` to verify a store against.
    """

    campaign: str
    seq: int
    hash: str
    key_id: str
    signature: str
    format: str = SIGNED_CHECKPOINT_FORMAT

    @property
    def checkpoint(self) -> Checkpoint:
        """The checkpoint signed (not checked: see :func:`verify_signed_checkpoint`)."""
        return Checkpoint(seq=self.seq, hash=self.hash)

    def signed_bytes(self) -> bytes:
        """What the signature covers: canonical JSON of campaign, format, hash and seq."""
        return _message(self.campaign, self.seq, self.hash, self.format)

    def to_json(self) -> str:
        """The checkpoint as one JSON object (a file's whole text)."""
        return canonical_json(attrs.asdict(self)) + "\n"


def _message(campaign: str, seq: int, hash_: str, format_: str) -> bytes:
    body = {"campaign": campaign, "format": format_, "hash": hash_, "seq": seq}
    return canonical_json(body).encode("utf-8")


def _key_id(public_key: Any) -> str:
    serialization = _crypto("serialization")
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_checkpoint(
    checkpoint: Checkpoint, private_key: KeySource, *, campaign: str
) -> SignedCheckpoint:
    """Sign ``checkpoint`` of ``campaign`` with an Ed25519 private key (PEM, unencrypted).

    ``private_key``: the PEM file's path, or its text or bytes. Run this where the key is
    (an auditor's machine), not in the application process.

    Raises:
        ValidationError: the ``sign`` extra is missing, or the key is not an Ed25519
            private key in PEM.
    """
    if not isinstance(checkpoint, Checkpoint):
        refuse("checkpoint", checkpoint, "must be a Checkpoint")
    if not isinstance(campaign, str) or not campaign:
        refuse("campaign", campaign, "must be non-empty text")
    serialization = _crypto("serialization")
    ed25519 = _crypto("asymmetric.ed25519")
    data, where = _key_bytes(private_key, "private_key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise _unusable(where, f"not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise _unusable(where, "not an Ed25519 key")
    message = _message(campaign, checkpoint.seq, checkpoint.hash, SIGNED_CHECKPOINT_FORMAT)
    return SignedCheckpoint(
        campaign=campaign,
        seq=checkpoint.seq,
        hash=checkpoint.hash,
        key_id=_key_id(key.public_key()),
        signature=base64.b64encode(key.sign(message)).decode("ascii"),
    )


def verify_signed_checkpoint(signed: SignedCheckpoint, public_key: KeySource) -> Checkpoint:
    """The checkpoint ``signed`` holds, once its signature verifies with ``public_key``.

    Raises:
        AuditTampered: the signature does not verify (the checkpoint was altered, or was
            signed by another key).
        ValidationError: the ``sign`` extra is missing, or the key is not an Ed25519
            public key in PEM.
    """
    if not isinstance(signed, SignedCheckpoint):
        raise ValidationError(
            code="audit.signed_checkpoint_invalid",
            params={"path": "signed", "problem": f"must be a SignedCheckpoint, got {signed!r}"},
        )
    serialization = _crypto("serialization")
    ed25519 = _crypto("asymmetric.ed25519")
    exceptions = importlib.import_module("cryptography.exceptions")
    data, where = _key_bytes(public_key, "public_key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise _unusable(where, f"not a PEM public key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise _unusable(where, "not an Ed25519 key")
    try:
        signature = base64.b64decode(signed.signature, validate=True)
        key.verify(signature, signed.signed_bytes())
    except (binascii.Error, ValueError, exceptions.InvalidSignature):
        params = {"seq": signed.seq}
        raise AuditTampered(
            signed.seq,
            messages.render("audit.signature_invalid", params, "en"),
            reason_code="audit.signature_invalid",
            reason_params=params,
        ) from None
    return signed.checkpoint


def read_signed_checkpoint(path: str | PathLike[str]) -> SignedCheckpoint:
    """The signed checkpoint in the file ``path`` (as :meth:`SignedCheckpoint.to_json` wrote).

    Raises:
        ValidationError: the file cannot be read or does not hold a signed checkpoint.
    """
    where = repr(str(path))

    def bad(problem: str) -> ValidationError:
        return ValidationError(
            code="audit.signed_checkpoint_invalid", params={"path": where, "problem": problem}
        )

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise bad(exc.strerror or str(exc)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad(f"not JSON ({exc})") from None
    names = [field.name for field in attrs.fields(SignedCheckpoint)]
    if not isinstance(data, dict) or sorted(data) != sorted(names):
        raise bad(f"must be an object with exactly the keys {', '.join(sorted(names))}")
    if data["format"] != SIGNED_CHECKPOINT_FORMAT:
        raise bad(f"format must be {SIGNED_CHECKPOINT_FORMAT!r}, got {data['format']!r}")
    seq = data["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise bad(f"seq must be a whole number >= 0, got {seq!r}")
    for name in ("campaign", "hash", "key_id", "signature"):
        if not isinstance(data[name], str):
            raise bad(f"{name} must be text, got {data[name]!r}")
    return SignedCheckpoint(**data)
