"""WeCom callback crypto (the official `WXBizMsgCrypt` scheme) on top of `cryptography`.

Scheme (wecom.md §1.4–1.6): msg_signature = sha1(sorted(token, timestamp, nonce, encrypt)) in lower-case hex;
AES-256-CBC with key = b64decode(EncodingAESKey + "="), IV = key[:16], PKCS#7 padding to **32**-byte blocks;
plaintext = 16 random bytes + 4-byte big-endian length + msg + ReceiveId (the corp id for a self-built app).

Every error carries the official library's numeric code so logs read like the WeCom docs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_BLOCK = 32  # WeCom pads to 32 bytes, not the AES block size of 16 (pad values up to 32 occur, vector B: 22)


class WeComCryptoError(Exception):
    """Base of all crypto failures. `code` is the official WXBizMsgCrypt error number."""

    code = -40000

    def __init__(self, message: str) -> None:
        super().__init__(f"{message} ({self.code})")


class SignatureError(WeComCryptoError):
    code = -40001


class AesKeyError(WeComCryptoError):
    code = -40004


class ReceiveIdError(WeComCryptoError):
    code = -40005


class DecryptError(WeComCryptoError):
    code = -40007


class IllegalBufferError(WeComCryptoError):
    """Bad padding, impossible length field, or a plaintext that is not UTF-8."""

    code = -40008


class Base64Error(WeComCryptoError):
    code = -40010


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """msg_signature: SHA-1 over the four *values* sorted as strings and concatenated."""
    joined = "".join(sorted([token, timestamp, nonce, encrypt]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def _aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise AesKeyError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AesKeyError("EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise AesKeyError("EncodingAESKey does not decode to 32 bytes")
    return key


def _pad(data: bytes) -> bytes:
    n = _BLOCK - len(data) % _BLOCK  # 1..32; an exact multiple gets a whole block of 0x20
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    if not data:
        raise IllegalBufferError("empty plaintext")
    n = data[-1]
    # The official decoder silently treats an out-of-range pad as 0; we reject it, because a genuine WeCom
    # ciphertext always has a valid pad and anything else is tampering or a wrong key.
    if not 1 <= n <= _BLOCK or n > len(data) or data[-n:] != bytes([n]) * n:
        raise IllegalBufferError("bad PKCS#7 padding")
    return data[:-n]


class WeComCrypto:
    """Verify, decrypt and encrypt callbacks for one app (token, EncodingAESKey, receive id = corp id)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        self._token = token
        self._key = _aes_key(encoding_aes_key)
        self._receive_id = receive_id

    # -- signature -----------------------------------------------------------------------------------------

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return signature(self._token, timestamp, nonce, encrypt)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = self.sign(timestamp, nonce, encrypt)
        # constant-time: the official library uses ==, which leaks how many leading chars matched
        if not hmac.compare_digest(expected, (msg_signature or "").lower()):
            raise SignatureError("msg_signature mismatch")

    # -- AES -----------------------------------------------------------------------------------------------

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, msg: str, *, random_prefix: bytes | None = None) -> str:
        """Encrypt `msg` into the base64 `Encrypt` value. `random_prefix` is only for reproducible tests."""
        prefix = os.urandom(16) if random_prefix is None else random_prefix
        if len(prefix) != 16:
            raise ValueError("random_prefix must be 16 bytes")
        body = msg.encode("utf-8")
        plain = prefix + struct.pack(">I", len(body)) + body + self._receive_id.encode("utf-8")
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(_pad(plain)) + enc.finalize()).decode("ascii")

    def decrypt(self, encrypt: str) -> str:
        """Decrypt an `Encrypt`/`echostr` value, check the trailing receive id, return the msg part."""
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Base64Error("ciphertext is not base64") from exc
        if not raw or len(raw) % 16:
            raise DecryptError("ciphertext length is not a multiple of the AES block")
        dec = self._cipher().decryptor()
        plain = _unpad(dec.update(raw) + dec.finalize())
        if len(plain) < 20:
            raise IllegalBufferError("plaintext shorter than its header")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise IllegalBufferError("length field exceeds plaintext")
        receive_id = plain[20 + length :]
        if not hmac.compare_digest(receive_id, self._receive_id.encode("utf-8")):
            raise ReceiveIdError("receive id (corp id) mismatch")
        try:
            return plain[20 : 20 + length].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise IllegalBufferError("message is not UTF-8") from exc

    # -- both together -------------------------------------------------------------------------------------

    def verify_and_decrypt(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        # signature first: never spend AES work (or leak padding-oracle timing) on an unsigned blob
        self.verify(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)

    def reply_envelope(self, msg: str, *, timestamp: str | None = None, nonce: str | None = None) -> str:
        """Encrypted passive-reply XML (§1.6) for answering a POST inline."""
        ts = timestamp or str(int(time.time()))
        nn = nonce or str(int.from_bytes(os.urandom(4), "big"))
        encrypt = self.encrypt(msg)
        sig = self.sign(ts, nn, encrypt)
        return (
            f"<xml>\n<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n<MsgSignature><![CDATA[{sig}]]></MsgSignature>\n"
            f"<TimeStamp>{ts}</TimeStamp>\n<Nonce><![CDATA[{nn}]]></Nonce>\n</xml>"
        )
