"""Minutes given as a file: .txt and .md read as text, .docx read to its paragraphs' text."""

from __future__ import annotations

import io
import zipfile
from typing import BinaryIO
from xml.etree import ElementTree

from workflow.i18n import _l

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TEXT_CHARS = 200_000  # what a docx unpacks to is bounded too (a zip bomb stops here)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class UploadError(ValueError):
    """A file that cannot be read as minutes; the message says why."""


def minutes_text(filename: str, stream: BinaryIO) -> str:
    """The text of an uploaded minutes file (UploadError when too large or not .txt/.md/.docx)."""
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UploadError(_l("the file is larger than %(mb)s MB", mb=MAX_FILE_BYTES // (1024 * 1024)))
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix in ("txt", "md"):
        return _decoded(data)[:MAX_TEXT_CHARS]
    if suffix == "docx":
        return _docx(data)
    raise UploadError(_l("give the minutes as a .txt, .md or .docx file"))


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # Windows Notepad's default in Sweden


def _docx(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_TEXT_CHARS * 20:
                raise UploadError(_l("the file is larger than %(mb)s MB", mb=MAX_FILE_BYTES // (1024 * 1024)))
            root = ElementTree.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        raise UploadError(_l("the .docx file cannot be read")) from None
    paragraphs = ["".join(t.text or "" for t in p.iter(f"{_W}t")) for p in root.iter(f"{_W}p")]
    return "\n".join(paragraphs).strip()[:MAX_TEXT_CHARS]
