"""The emulator's uploaded files, each visible only to the API key that uploaded it.

Ids are random (`file-` and 24 hex digits), not a counter another caller could walk. A file
belongs to the key that uploaded it (kept as a SHA-256, never the key itself): any other key
is told there is no such file, as the API does. Uploads are capped in number and in total
bytes held (`ServerSettings.max_files`, `max_stored_bytes`), and `DELETE /v1/files/{id}`
frees a file.
"""

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from toolkit.api_checks import ApiError


def owner_of(authorization: str) -> str:
    """Who a request speaks for: a digest of its `Authorization` header (empty: nobody)."""
    return hashlib.sha256(authorization.encode("utf-8", "surrogateescape")).hexdigest()


def new_id(prefix: str) -> str:
    """An unguessable object id (`file-…`, `batch_…`)."""
    return prefix + secrets.token_hex(12)


@dataclass(frozen=True)
class StoredFile:
    owner: str
    meta: dict[str, Any]  # the API's file object
    content: bytes


class FileStore:
    """Files by id, scoped to their owner, within a count and a byte budget; thread-safe."""

    def __init__(self, max_files: int, max_bytes: int):
        self.max_files, self.max_bytes = max_files, max_bytes
        self._files: dict[str, StoredFile] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def add(self, owner: str, filename: str, purpose: str, content: bytes) -> dict[str, Any]:
        """Store an upload and return its file object; a 400 when the store is full."""
        meta: dict[str, Any] = {
            "id": new_id("file-"),
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }
        with self._lock:
            if len(self._files) >= self.max_files or self._bytes + len(content) > self.max_bytes:
                raise ApiError(
                    400,
                    f"This emulator holds at most {self.max_files} files and "
                    f"{self.max_bytes} bytes; delete files (DELETE /v1/files/{{id}}) first.",
                    param="file",
                    code="storage_limit_exceeded",
                )
            self._files[meta["id"]] = StoredFile(owner, meta, content)
            self._bytes += len(content)
        return meta

    def get(self, owner: str, file_id: str) -> StoredFile | None:
        """The file, if it exists and belongs to `owner`."""
        with self._lock:
            stored = self._files.get(file_id)
        return stored if stored is not None and stored.owner == owner else None

    def delete(self, owner: str, file_id: str) -> bool:
        """Remove `owner`'s file; False when `owner` has no such file."""
        with self._lock:
            stored = self._files.get(file_id)
            if stored is None or stored.owner != owner:
                return False
            del self._files[file_id]
            self._bytes -= len(stored.content)
        return True
