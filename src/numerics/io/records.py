"""Versioned result records: JSON files that a later run may trust, and the checks that earn it.

A record is a JSON object ``{"format": "<name>/<version>", "digest": "sha256:…", …content}``.
The digest is the SHA-256 of the content's canonical JSON (sorted keys, no whitespace), so a row
edited by hand, a truncated file or a file of another kind is refused on load with
:class:`~flowtheory.errors.InvalidFileError` naming the file and the field — before any of it is
reused.  The content's own meaning (ranges, types) is checked by the caller's validator, which
raises through :func:`field_error` so that messages name the field the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping

from flowtheory.errors import InvalidFileError
from flowtheory.jsonable import to_jsonable
from numerics.io.provenance import write_json_atomic

MAX_RECORD_BYTES = 64 * 2**20
"""Larger files are refused before parsing (a record holds summaries, not data)."""


def content_digest(content: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``content`` (its ``format`` and ``digest`` excluded)."""
    body = {k: v for k, v in to_jsonable(dict(content)).items() if k not in ("format", "digest")}
    return "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def write_record(path: str | os.PathLike, fmt: str, content: Mapping[str, Any]) -> Path:
    """Write ``content`` with its format and digest atomically (see the module docstring)."""
    content = to_jsonable(dict(content))
    return write_json_atomic(path, {"format": fmt, "digest": content_digest(content), **content})


def read_record(path: str | os.PathLike, fmt: str, validate: Callable[[Path, dict], None] | None = None) -> dict:
    """Load a record written by :func:`write_record`; check its format, digest and ``validate(path, content)``.

    Raises:
        InvalidFileError: unreadable, not JSON, another format, a digest that does not match the
            content (the file was edited or damaged), or a field the validator rejects.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise InvalidFileError(path, f"larger than {MAX_RECORD_BYTES // 2**20} MiB; not a record of {fmt!r}")
        content = json.loads(path.read_bytes().decode("utf-8"))
    except InvalidFileError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidFileError(path, f"not a readable JSON record ({type(exc).__name__}: {exc})") from None
    if not isinstance(content, dict):
        raise InvalidFileError(path, f"a JSON {type(content).__name__}, not an object")
    if content.get("format") != fmt:
        raise InvalidFileError(path, f"is {content.get('format')!r}, expected {fmt!r}", field="format")
    if content.get("digest") != content_digest(content):
        raise InvalidFileError(path, "does not match the content: the file was edited or damaged; rerun with --overwrite", field="digest")
    if validate is not None:
        validate(path, content)
    return content


def field_error(path: Path, field: str, message: str) -> InvalidFileError:
    """The error a validator raises for one bad field."""
    return InvalidFileError(path, message, field=field)
