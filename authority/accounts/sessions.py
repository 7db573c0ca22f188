"""Login sessions in the database that a copy of the database cannot use (SESSION_ENGINE).

Django's database sessions keep the cookie's value as the row's key, and the session's content
signed but readable. Whoever can read the table (a read-only account, a replica, a backup)
could then copy a key into a cookie and be logged in, second factor passed, as anyone who is,
administrators included; and read the secrets a session holds on its way: an invitation's
token, a password reset's.

Here a row is found by the SHA-256 of the cookie's value, never by the value itself, and its
content is encrypted (AES-256-GCM) under a key derived from the cookie's value. The server
keeps neither; the browser brings the value with each request. A row read from the database
is then good for nothing: its key is not a cookie that works, and its content does not open.

No server secret is needed for either: a session key is 32 random characters from 36
(Django's), about 165 bits, so its hash cannot be turned back into it, and rotating
SECRET_KEY leaves sessions alone (their content is also signed with it, as Django's are,
fallbacks accepted). Kept in the database, not in Redis: nothing evicts a session under memory
pressure or logs everyone out when the cache restarts, and the embedded run needs no server.
Rows live in Django's own table (django_session), expire and are cleared the same way
(`clearsessions`, nightly); the accounts migration that switched to this store deleted the
rows kept the old way. docs/upgrading.md says what the switch means for people logged in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.contrib.sessions.backends import db
from django.contrib.sessions.base_session import AbstractBaseSession
from django.contrib.sessions.models import Session
from django.utils import timezone

# A row's key: 40 hex digits (the table's column), 160 bits of the SHA-256.
_ROW_KEY_PURPOSE = b"authority.accounts.sessions row key\x00"
_CONTENT_KEY_INFO = b"authority.accounts.sessions content key"
_FORMAT = "v1:"
_NONCE_BYTES = 12


def row_key(session_key: str) -> str:
    """The key of the row that holds the session whose cookie value is `session_key`."""
    digest = hashlib.sha256(_ROW_KEY_PURPOSE + session_key.encode()).hexdigest()
    return digest[: Session._meta.get_field("session_key").max_length]


def _content_cipher(session_key: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_CONTENT_KEY_INFO).derive(
        session_key.encode()
    )
    return AESGCM(key)


def seal(content: str, *, session_key: str) -> str:
    """`content` (Django's signed encoding) encrypted for the row of `session_key`."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _content_cipher(session_key).encrypt(
        nonce, content.encode(), row_key(session_key).encode()
    )
    return _FORMAT + base64.b64encode(nonce + sealed).decode()


def unseal(stored: str, *, session_key: str) -> str | None:
    """The content of a row, or None when `session_key` does not open it."""
    if not stored.startswith(_FORMAT):
        return None
    try:
        raw = base64.b64decode(stored.removeprefix(_FORMAT), validate=True)
        opened = _content_cipher(session_key).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], row_key(session_key).encode()
        )
    except (binascii.Error, InvalidTag, ValueError):
        return None
    return opened.decode()


class SessionStore(db.SessionStore):
    """Django's database store, each row under the hash of its cookie and sealed with it."""

    def _get_session_from_db(self) -> AbstractBaseSession | None:
        if self.session_key is None:  # SessionBase has refused a malformed one
            return None
        try:
            return self.model.objects.get(
                session_key=row_key(self.session_key), expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None
            return None

    async def _aget_session_from_db(self) -> AbstractBaseSession | None:
        if self.session_key is None:
            return None
        try:
            return await self.model.objects.aget(
                session_key=row_key(self.session_key), expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None
            return None

    def _content_of(self, row: AbstractBaseSession | None) -> dict[str, Any]:
        if row is None or self.session_key is None:
            return {}
        content = unseal(row.session_data, session_key=self.session_key)
        if content is None:  # not made by this store, or tampered with: a new session
            self._session_key = None
            return {}
        return self.decode(content)

    def load(self) -> dict[str, Any]:
        return self._content_of(self._get_session_from_db())

    async def aload(self) -> dict[str, Any]:
        return self._content_of(await self._aget_session_from_db())

    def exists(self, session_key: str) -> bool:
        return self.model.objects.filter(session_key=row_key(session_key)).exists()

    async def aexists(self, session_key: str) -> bool:
        return await self.model.objects.filter(session_key=row_key(session_key)).aexists()

    def create_model_instance(self, data: dict[str, Any]) -> AbstractBaseSession:
        # SessionBase's own, as db.SessionStore calls it (django-stubs leave it out).
        session_key = self._get_or_create_session_key()  # type: ignore[attr-defined]
        return self.model(
            session_key=row_key(session_key),
            session_data=seal(self.encode(data), session_key=session_key),
            expire_date=self.get_expiry_date(),
        )

    async def acreate_model_instance(self, data: dict[str, Any]) -> AbstractBaseSession:
        session_key = await self._aget_or_create_session_key()  # type: ignore[attr-defined]
        return self.model(
            session_key=row_key(session_key),
            session_data=seal(self.encode(data), session_key=session_key),
            expire_date=await self.aget_expiry_date(),
        )

    def delete(self, session_key: str | None = None) -> None:
        session_key = self.session_key if session_key is None else session_key
        if session_key is not None:
            self.model.objects.filter(session_key=row_key(session_key)).delete()

    async def adelete(self, session_key: str | None = None) -> None:
        session_key = self.session_key if session_key is None else session_key
        if session_key is not None:
            await self.model.objects.filter(session_key=row_key(session_key)).adelete()
