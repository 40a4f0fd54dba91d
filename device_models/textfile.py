"""Reading a user's TOML file as UTF-8 text, with errors that name the file (one reader for
device files, ``device_models.presets.get_device``, and hardware files,
``crossbar.chip.read_fields``)."""

from __future__ import annotations

from pathlib import Path


def read_utf8(path: str | Path, what: str, error: type[Exception],
              missing: type[Exception] | None = None) -> str:
    """The text of ``path``; raises ``missing`` (default ``error``) when it is a directory or
    does not exist, ``error`` when it cannot be read or is not UTF-8. ``what`` names the file
    kind in the message (``"device file"``)."""
    p = Path(path)
    missing = missing or error
    if p.is_dir():
        raise missing(f"{what} {str(p)!r} is a directory; give a file")
    if not p.is_file():
        raise missing(f"{what} {str(p)!r} does not exist")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise error(f"{what} {str(p)!r} cannot be read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise error(f"{what} {str(p)!r} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                    f"line {line}); save it as UTF-8") from None
