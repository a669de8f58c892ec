"""A software WebAuthn authenticator (P-256, "none" attestation) with every knob the tests need:
user verification, backup flags, counters, the origin and RP id it signs for, the user handle
it returns, and tampering. It answers with the JSON a browser's `PublicKeyCredential.toJSON()`
gives, so the server sees what the browser script posts."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID = bytes(range(16))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """Holds credentials by id; `create` and `get` take the options JSON the server made."""

    origin: str
    uv: bool = True
    backup: bool = False
    counter_step: int = 1
    credentials: dict[bytes, Credential] = field(default_factory=dict)

    def create(self, options: str | dict[str, Any], **overrides: Any) -> dict[str, Any]:
        """Register a new credential; `overrides`: origin, rp_id, uv, challenge."""
        o = json.loads(options) if isinstance(options, str) else options
        rp_id = overrides.get("rp_id", o["rp"]["id"])
        key = ec.generate_private_key(ec.SECP256R1())
        cred_id = os.urandom(16)
        self.credentials[cred_id] = Credential(key, rp_id, unb64(o["user"]["id"]))
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        auth_data = (
            self._head(rp_id, AT | self._flags(overrides), 0)
            + AAGUID
            + struct.pack(">H", len(cred_id))
            + cred_id
            + cose
        )
        client = self._client("webauthn.create", o, overrides)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64(cred_id),
            "rawId": b64(cred_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(client),
                "attestationObject": b64(attestation),
                "transports": ["internal", "hybrid"],
            },
        }

    def get(self, options: str | dict[str, Any], **overrides: Any) -> dict[str, Any]:
        """Sign an assertion; `overrides`: credential_id, origin, rp_id, uv, challenge,
        user_handle (None to leave it out), sign_count."""
        o = json.loads(options) if isinstance(options, str) else options
        cred_id = overrides.get("credential_id") or next(iter(self.credentials))
        cred = self.credentials[cred_id]
        cred.sign_count = overrides.get("sign_count", cred.sign_count + self.counter_step)
        rp_id = overrides.get("rp_id", o["rpId"])
        auth_data = self._head(rp_id, self._flags(overrides), cred.sign_count)
        client = self._client("webauthn.get", o, overrides)
        signed = auth_data + hashlib.sha256(client).digest()
        signature = cred.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        handle = overrides.get("user_handle", cred.user_handle)
        response = {
            "clientDataJSON": b64(client),
            "authenticatorData": b64(auth_data),
            "signature": b64(signature),
        }
        if handle is not None:
            response["userHandle"] = b64(handle)
        return {
            "id": b64(cred_id),
            "rawId": b64(cred_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        }

    def _flags(self, overrides: dict[str, Any]) -> int:
        flags = UP | (UV if overrides.get("uv", self.uv) else 0)
        return flags | ((BE | BS) if self.backup else 0)

    @staticmethod
    def _head(rp_id: str, flags: int, count: int) -> bytes:
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", count)

    def _client(self, kind: str, options: dict[str, Any], overrides: dict[str, Any]) -> bytes:
        client = {
            "type": kind,
            "challenge": overrides.get("challenge", options["challenge"]),
            "origin": overrides.get("origin", self.origin),
            "crossOrigin": False,
        }
        return json.dumps(client).encode()
