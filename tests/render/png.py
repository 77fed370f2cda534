"""A small PNG decoder (stdlib ``zlib`` + numpy) for checking browser screenshots: 8-bit RGB or RGBA, no interlace."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}  # colour type -> bytes per pixel at bit depth 8


def decode_png(data: bytes) -> npt.NDArray[np.uint8]:
    """The image as an array of shape (height, width, channels)."""
    assert data.startswith(SIGNATURE), "not a PNG file"
    position, chunks = len(SIGNATURE), []
    width = height = bpp = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8, depth
            assert colour in CHANNELS, colour
            assert interlace == 0, interlace
            bpp = CHANNELS[colour]
        elif kind == b"IDAT":
            chunks.append(body)
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    assert len(raw) == height * (stride + 1)
    image = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        row_filter = raw[start]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=start + 1)
        if row_filter == 0:
            current = line.copy()
        elif row_filter == 1:  # Sub: a running sum along the row, per channel
            current = (np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.int64) % 256).astype(np.uint8).ravel()
        elif row_filter == 2:  # Up
            current = line + previous
        else:
            current = _sequential(row_filter, bytearray(line.tobytes()), previous.tobytes(), bpp)
        image[y] = current
        previous = current
    return image.reshape(height, width, bpp)


def _sequential(kind: int, row: bytearray, above: bytes, bpp: int) -> npt.NDArray[np.uint8]:
    """Average (3) and Paeth (4) depend on the byte just decoded to their left: one byte at a time."""
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        up = above[i]
        if kind == 3:
            row[i] = (row[i] + ((left + up) >> 1)) & 255
            continue
        corner = above[i - bpp] if i >= bpp else 0
        estimate = left + up - corner
        to_left, to_up, to_corner = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
        if to_left <= to_up and to_left <= to_corner:
            predictor = left
        elif to_up <= to_corner:
            predictor = up
        else:
            predictor = corner
        row[i] = (row[i] + predictor) & 255
    return np.frombuffer(bytes(row), dtype=np.uint8)
