"""Length-prefixed frames over pipes, with deadlines.

Every process boundary of the evaluation path speaks this: controller <-> worker,
worker <-> zygote, zygote <-> sandbox child. A frame is an 8-byte little-endian length
followed by that many bytes. Readers never trust the length: callers pass a cap.
"""

from __future__ import annotations

import os
import select
import time

HEADER = 8


class FrameTooLarge(Exception):
    """A frame header announced more bytes than the reader accepts."""


def write_frame(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(HEADER, "little") + data)
    while view:
        view = view[os.write(fd, view):]


class FrameReader:
    """Reads length-prefixed frames from a pipe with a deadline (``None``: no deadline)."""

    def __init__(self, fd: int, max_frame: int | None = None) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.eof = False
        self.max_frame = max_frame

    def fill(self, timeout: float | None) -> bool:
        """Read what is available (waiting up to ``timeout``); False on timeout."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            self.eof = True
        self.buffer += chunk
        return True

    def pending(self) -> bool:
        """Whether bytes arrived that nobody asked for yet (EOF is not pending data)."""
        if not self.buffer and not self.eof and select.select([self.fd], [], [], 0)[0]:
            chunk = os.read(self.fd, 1 << 20)
            self.eof = not chunk
            self.buffer += chunk
        return bool(self.buffer)

    def read_frame(self, deadline: float | None = None) -> bytes | None:
        """The next frame; ``None`` at EOF. Raises TimeoutError past ``deadline`` and
        FrameTooLarge when the header announces more than ``max_frame`` bytes."""
        while True:
            if len(self.buffer) >= HEADER:
                size = int.from_bytes(self.buffer[:HEADER], "little")
                if self.max_frame is not None and size > self.max_frame:
                    raise FrameTooLarge(f"a frame of {size} bytes (limit {self.max_frame})")
                if len(self.buffer) >= HEADER + size:
                    frame = bytes(self.buffer[HEADER:HEADER + size])
                    del self.buffer[:HEADER + size]
                    return frame
            if self.eof:
                return None
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.fill(timeout) and deadline is not None:
                raise TimeoutError("no frame before the deadline")


def read_frame_blocking(fd: int) -> bytes | None:
    """A frame from ``fd`` without select (the sandbox child: one reader, no deadline)."""
    header = _read_exact(fd, HEADER)
    if header is None:
        return None
    return _read_exact(fd, int.from_bytes(header, "little"))


def _read_exact(fd: int, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, min(size - len(data), 1 << 20))
        if not chunk:
            return None
        data += chunk
    return bytes(data)
