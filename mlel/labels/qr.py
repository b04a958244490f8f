"""QR codes as vectors: the ``qrcode`` package computes the module matrix; we draw it as one path.

One compound path (a rectangle per horizontal run of dark modules) keeps the PDF and SVG small and
crisp at any zoom, and it is far faster to render than thousands of separate squares.
"""

from __future__ import annotations

import numpy as np
from matplotlib.path import Path


def qr_matrix(payload: str) -> np.ndarray:
    """Boolean module matrix (True = dark) of the smallest QR code holding ``payload``, without quiet zone.

    Error correction level M: survives ~15 % damage, e.g. a crease on a printed label. The result
    is exactly what ``qrcode`` makes; only its mask choice is scored with numpy (see ``_QRCode``).
    """
    from qrcode.constants import ERROR_CORRECT_M  # imported here: nothing happens at import time

    code = _qrcode_class()(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(payload.encode("utf-8"))
    code.make(fit=True)
    return np.array(code.get_matrix(), dtype=bool)


def _qrcode_class():
    import qrcode

    class _QRCode(qrcode.QRCode):
        """``qrcode.QRCode`` with the mask choice done in numpy: same rules, same tie-break, same matrix.

        Choosing among the 8 masks by their penalty score is what keeps a code easy to scan, but
        qrcode places the data bits and scores each candidate in pure Python, which took two thirds
        of a label's PNG render time. Here the bits are placed once; each mask is an XOR.
        """

        _unmasked = None  # (key, data cells, data bits without mask)

        def map_data(self, data, mask_pattern):
            key = (self.version, id(data))
            cells = np.array(self.modules, dtype=object)  # None where data goes, bools elsewhere
            if self._unmasked is None or self._unmasked[0] != key:
                super().map_data(data, mask_pattern)
                placed = np.array(self.modules, dtype=bool)
                data_cells = cells == None  # noqa: E711 - elementwise
                self._unmasked = (key, data_cells, placed ^ (_mask(mask_pattern, placed.shape[0]) & data_cells))
                self._matrix = placed
                return
            _, data_cells, bits = self._unmasked
            self._matrix = np.where(data_cells, bits ^ _mask(mask_pattern, bits.shape[0]), cells.astype(bool))
            self.modules = self._matrix.tolist()

        def best_mask_pattern(self) -> int:
            # In test mode the format bits are blank, so the 8 candidates differ only in the data cells.
            self.makeImpl(True, 0)
            _, data_cells, bits = self._unmasked
            fixed = self._matrix & ~data_cells
            n = bits.shape[0]
            scores = [mask_penalty(np.where(data_cells, bits ^ _mask(mask, n), fixed)) for mask in range(8)]
            return int(np.argmin(scores))

    return _QRCode


def _mask(pattern: int, n: int) -> np.ndarray:
    """Where mask ``pattern`` flips a module (ISO/IEC 18004 table 10; i = row, j = column)."""
    i, j = np.indices((n, n))
    return {
        0: (i + j) % 2 == 0,
        1: i % 2 == 0,
        2: j % 3 == 0,
        3: (i + j) % 3 == 0,
        4: (i // 2 + j // 3) % 2 == 0,
        5: (i * j) % 2 + (i * j) % 3 == 0,
        6: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
        7: ((i * j) % 3 + (i + j) % 2) % 2 == 0,
    }[pattern]


_FINDER_LIKE = np.array(
    [[1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1]], dtype=bool
)


def mask_penalty(modules: np.ndarray) -> int:
    """The QR standard's penalty score (ISO/IEC 18004, N1..N4) as ``qrcode.util.lost_point`` computes it."""
    m = np.asarray(modules, dtype=bool)
    n = m.shape[0]
    # N1: runs of >= 5 same-coloured modules in a row or column cost (length - 2)
    lines = np.concatenate([m, m.T]).astype(np.int8)
    flat = np.concatenate([lines, np.full((2 * n, 1), 2, dtype=np.int8)], axis=1).ravel()
    starts = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
    lengths = np.diff(np.append(starts, flat.size))
    long_runs = lengths[lengths >= 5]
    score = int((long_runs - 2).sum())
    # N2: every 2x2 block of one colour costs 3
    corner = m[:-1, :-1]
    same = (corner == m[:-1, 1:]) & (corner == m[1:, :-1]) & (corner == m[1:, 1:])
    score += 3 * int(same.sum())
    # N3: finder-like 1:1:3:1:1 patterns with 4 light modules on one side cost 40
    if n >= 11:
        windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([m, m.T]), 11, axis=1)
        hits = (windows[..., None, :] == _FINDER_LIKE).all(axis=-1).any(axis=-1)
        score += 40 * int(hits.sum())
    # N4: 10 per full 5 % the dark share departs from 50 %
    score += 10 * int(abs(m.mean() * 100 - 50) / 5)
    return score


def qr_path(matrix: np.ndarray, x0: float, y0: float, size: float) -> Path:
    """A compound path covering the dark modules, the code filling the square (x0, y0)..(x0+size, y0+size).

    Row 0 of the matrix is the top of the code (y grows upwards in the drawing).
    """
    matrix = np.asarray(matrix, dtype=bool)
    n = matrix.shape[0]
    cell = size / n
    # runs of dark modules per row: +1 where a run starts, -1 just after it ends
    padded = np.zeros((n, n + 2), dtype=np.int8)
    padded[:, 1:-1] = matrix
    steps = np.diff(padded, axis=1)
    rows, starts = np.nonzero(steps == 1)
    _, stops = np.nonzero(steps == -1)  # row-major order pairs each start with its stop
    if rows.size == 0:
        return Path(np.zeros((0, 2)))
    left = x0 + starts * cell
    right = x0 + stops * cell
    top = y0 + size - rows * cell
    bottom = top - cell
    vertices = np.stack(
        [np.stack([left, bottom], 1), np.stack([right, bottom], 1), np.stack([right, top], 1),
         np.stack([left, top], 1), np.stack([left, bottom], 1)],
        axis=1,
    ).reshape(-1, 2)
    codes = np.tile(
        np.array([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY], dtype=Path.code_type), rows.size
    )
    return Path(vertices, codes)
