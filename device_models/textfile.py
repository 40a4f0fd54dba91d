"""Reading a user's TOML file as UTF-8 text, with errors that name the file (one reader for
device files, ``device_models.presets.get_device``, and hardware files,
``crossbar.chip.read_fields``). ``decode_utf8`` is also the decoder of
``analogff.boundary.read_text``, which reads run config and sweep files."""

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
    return decode_utf8(raw, str(p), what, error)


def decode_utf8(raw: bytes, name: str, what: str, error: type[Exception]) -> str:
    """``raw`` (the bytes of the ``what`` file ``name``) as UTF-8 text; ``error`` naming the
    first bad byte and its line if it is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise error(f"{what} {name!r} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at "
                    f"line {line}); save it as UTF-8") from None
