"""A small QR decoder for the tests (no zbar/opencv here): reads a clean module matrix back to text.

It follows ISO/IEC 18004 independently of the encoder in mlel.labels.qr: format information,
function-pattern map, unmasking, zigzag bit order, block de-interleaving, numeric / alphanumeric /
byte segments. It does no error correction: a rendered label has no damage, so any wrong module
shows up as a wrong or undecodable payload. Only two standard tables come from the qrcode
package: the alignment-pattern positions and the Reed-Solomon block structure.
"""

from __future__ import annotations

import numpy as np

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_MASKS = {
    0: lambda i, j: (i + j) % 2 == 0,
    1: lambda i, j: i % 2 == 0,
    2: lambda i, j: j % 3 == 0,
    3: lambda i, j: (i + j) % 3 == 0,
    4: lambda i, j: (i // 2 + j // 3) % 2 == 0,
    5: lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    6: lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    7: lambda i, j: ((i * j) % 3 + (i + j) % 2) % 2 == 0,
}
_FORMAT_XOR = 0b101010000010010


def decode_matrix(matrix) -> str:
    m = np.asarray(matrix, dtype=bool)
    n = m.shape[0]
    if m.shape != (n, n) or (n - 17) % 4 or not 21 <= n <= 177:
        raise ValueError(f"not a QR module matrix: shape {m.shape}")
    version = (n - 17) // 4

    # format information, copy beside the top-left finder (vertical strip, bit 0 at the top)
    rows = list(range(6)) + [7, 8] + list(range(n - 7, n))
    bits = sum(int(m[r, 8]) << i for i, r in enumerate(rows)) ^ _FORMAT_XOR
    ec_level, mask = (bits >> 13) & 0b11, (bits >> 10) & 0b111

    function = _function_patterns(n, version)
    data_bits = []
    col, upward = n - 1, True
    while col > 0:
        if col == 6:  # the vertical timing pattern is skipped
            col -= 1
        for r in (range(n - 1, -1, -1) if upward else range(n)):
            for c in (col, col - 1):
                if not function[r, c]:
                    data_bits.append(bool(m[r, c]) ^ _MASKS[mask](r, c))
        upward = not upward
        col -= 2

    codewords = [int("".join("1" if b else "0" for b in data_bits[k:k + 8]), 2) for k in range(0, len(data_bits) - 7, 8)]
    data = _deinterleave(codewords, version, ec_level)
    return _parse_segments(data, version)


def _function_patterns(n: int, version: int) -> np.ndarray:
    f = np.zeros((n, n), dtype=bool)
    f[:9, :9] = True  # top-left finder, separator, format info
    f[:9, n - 8:] = True  # top-right
    f[n - 8:, :9] = True  # bottom-left (and the dark module)
    f[6, :] = True  # timing
    f[:, 6] = True
    from qrcode.util import pattern_position

    centres = pattern_position(version)
    for r in centres:
        for c in centres:
            if f[r, c] and not (r == 6 or c == 6):  # overlaps a finder
                continue
            if (r <= 8 and c <= 8) or (r <= 8 and c >= n - 9) or (r >= n - 9 and c <= 8):
                continue
            f[r - 2:r + 3, c - 2:c + 3] = True
    if version >= 7:
        f[:6, n - 11:n - 8] = True
        f[n - 11:n - 8, :6] = True
    return f


def _deinterleave(codewords: list[int], version: int, ec_level: int) -> list[int]:
    from qrcode.base import rs_blocks

    blocks = rs_blocks(version, ec_level)
    data_blocks: list[list[int]] = [[] for _ in blocks]
    k = 0
    for i in range(max(b.data_count for b in blocks)):
        for b, out in zip(blocks, data_blocks):
            if i < b.data_count:
                out.append(codewords[k])
                k += 1
    return [c for block in data_blocks for c in block]


def _parse_segments(data: list[int], version: int) -> str:
    bits = "".join(f"{c:08b}" for c in data)
    pos = 0

    def take(count: int) -> int:
        nonlocal pos
        if pos + count > len(bits):
            raise ValueError("payload runs past the data codewords")
        value = int(bits[pos:pos + count], 2)
        pos += count
        return value

    size_class = 0 if version <= 9 else 1 if version <= 26 else 2
    count_bits = {1: (10, 12, 14), 2: (9, 11, 13), 4: (8, 16, 16)}
    out = bytearray()
    while pos + 4 <= len(bits):
        mode = take(4)
        if mode == 0:
            break
        if mode not in count_bits:
            raise ValueError(f"unsupported segment mode {mode:04b}")
        count = take(count_bits[mode][size_class])
        if mode == 1:  # numeric: 3 digits per 10 bits
            digits = ""
            while count >= 3:
                digits += f"{take(10):03d}"
                count -= 3
            if count == 2:
                digits += f"{take(7):02d}"
            elif count == 1:
                digits += f"{take(4):01d}"
            out += digits.encode("ascii")
        elif mode == 2:  # alphanumeric: 2 characters per 11 bits
            chars = ""
            while count >= 2:
                value = take(11)
                chars += _ALNUM[value // 45] + _ALNUM[value % 45]
                count -= 2
            if count:
                chars += _ALNUM[take(6)]
            out += chars.encode("ascii")
        else:  # byte
            out += bytes(take(8) for _ in range(count))
    return out.decode("utf-8")
