"""Drawing one energy label: one vector drawing, saved as PNG, PDF or SVG.

The label is laid out in millimetres straight on the figure, so every position below reads like
a print layout. Only matplotlib's object API is used (a new ``Figure`` per call, saved through the
Agg, PDF or SVG canvas): no pyplot, no global state, so the dashboard may render labels from
several threads.
Fonts are DejaVu Sans, which ships with matplotlib; nothing is downloaded.
"""

from __future__ import annotations

import io
import textwrap
import threading

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Ellipse, FancyBboxPatch, PathPatch, Polygon, Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Affine2D

from mlel import __version__
from mlel.errors import UserInputError
from mlel.labels.data import DEFAULT_PNG_DPI, FORMATS, LabelData, MetricFigure
from mlel.labels.qr import qr_matrix, qr_path
from mlel.ratings.metrics import RATING_COLOURS, RATING_LETTERS

WIDTH_MM = 100.0
HEIGHT_MM = 180.0
MM_PER_INCH = 25.4
# zlib level 6 (PIL's default) spent ~25 ms per label for a few percent smaller files; flat colours compress well at 1.
PNG_COMPRESS_LEVEL = 1
_SVG_LOCK = threading.Lock()

# A (best) .. E (worst): the same green-to-red scale as ELEx (mlel.ratings.metrics.RATING_COLOURS).
RATING_COLORS = tuple(RATING_COLOURS[letter] for letter in RATING_LETTERS)
MARKER_FONT_SIZE = 22.0  # the compound rating letter; no other text on the label is this size
# Where the QR code sits (mm from the bottom-left corner); 65 modules (a typical payload) -> 0.42 mm each.
QR_SIZE_MM = 27.0
QR_X_MM = WIDTH_MM - 5 - QR_SIZE_MM
QR_Y_MM = 4.0
UNRATED_COLOR = "#9e9e9e"
HEADER_COLOR = "#1d4f91"
INK = "#1a1a1a"
MUTED = "#5f6368"
ESTIMATE_COLOR = "#c75000"
MEASURED_COLOR = "#00833e"

_FONT = "DejaVu Sans"
_REGULAR = FontProperties(family=_FONT)
_BOLD = FontProperties(family=_FONT, weight="bold")


def render_label(label: LabelData, fmt: str = "png", *, dpi: int = DEFAULT_PNG_DPI) -> bytes:
    """Draw ``label`` and return the file's bytes; ``fmt`` is one of 'png', 'pdf', 'svg'.

    ``dpi`` only matters for PNG (PDF and SVG are vectors). PDF and SVG carry no creation date,
    so the same label gives the same bytes.
    """
    fmt = str(fmt).lower().lstrip(".")
    if fmt not in FORMATS:
        raise UserInputError(f"The 'format' parameter must be one of {', '.join(repr(f) for f in FORMATS)}; got {fmt!r}")
    fig = build_figure(label)
    buffer = io.BytesIO()
    metadata = {
        "png": {"Software": f"mlel {__version__} (matplotlib)"},
        "pdf": {"Title": f"Energy label: {label.model}", "Creator": f"mlel {__version__}", "CreationDate": None},
        "svg": {"Title": f"Energy label: {label.model}", "Date": None},
    }[fmt]
    extra = {"pil_kwargs": {"compress_level": PNG_COMPRESS_LEVEL}} if fmt == "png" else {}
    if fmt != "svg":
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata, **extra)
        return buffer.getvalue()
    # SVG keeps its text as text (selectable, searchable, read aloud) rather than glyph outlines. The
    # setting is read from matplotlib's global rcParams: one SVG at a time (ELEx serves from threads).
    # (PDF keeps matplotlib's Type 3 fonts: TrueType subsetting made each PDF four times slower.)
    with _SVG_LOCK, rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata, **extra)
    return buffer.getvalue()


def build_figure(label: LabelData) -> Figure:
    """The label as a matplotlib ``Figure`` (savefig picks the Agg, PDF or SVG canvas per format)."""
    fig = Figure(figsize=(WIDTH_MM / MM_PER_INCH, HEIGHT_MM / MM_PER_INCH), facecolor="white")
    _Painter(_MmSurface(fig)).draw(label)
    return fig


class _MmSurface:
    """Draws straight onto the figure in millimetres from its bottom-left corner.

    No Axes: an Axes builds two axis objects with tick machinery that a label never shows, and
    that cost ~5 ms per render. The transform mm -> inches -> pixels follows the save dpi.
    """

    def __init__(self, fig: Figure):
        self.fig = fig
        self.transform = Affine2D().scale(1 / MM_PER_INCH) + fig.dpi_scale_trans

    def add_artist(self, artist):
        artist.set_transform(self.transform)
        self.fig.add_artist(artist)
        return artist

    def plot(self, xs, ys, **kwargs):
        return self.add_artist(Line2D(xs, ys, **kwargs))

    def text(self, x, y, s, **kwargs):
        return self.add_artist(Text(x, y, s, **kwargs))


class _Painter:
    """Draws the label's blocks top to bottom; coordinates are millimetres from the bottom-left corner."""

    def __init__(self, surface: _MmSurface):
        self.ax = surface  # named like an Axes: the icon functions take either

    # -- primitives --------------------------------------------------------------------------
    def text(self, x, y, s, size, *, bold=False, color=INK, ha="left", va="baseline", **kw):
        return self.ax.text(
            x, y, s, fontproperties=_BOLD if bold else _REGULAR, fontsize=size, color=color,
            ha=ha, va=va, parse_math=False, **kw,
        )

    def box(self, x, y, w, h, *, color, edge=None, radius=1.5, lw=0.0, **kw):
        patch = FancyBboxPatch(
            (x, y), w, h, boxstyle=f"round,pad=0,rounding_size={radius}",
            facecolor=color, edgecolor=edge or "none", linewidth=lw, **kw,
        )
        self.ax.add_artist(patch)
        return patch

    def fit_text_size(self, s: str, width_mm: float, size: float, *, bold=False, min_size=5.0) -> float:
        """Largest font size <= ``size`` for which ``s`` fits ``width_mm`` (DejaVu Sans: ~0.6 em per char)."""
        em_mm = 0.6 if bold else 0.56
        needed = len(s) * em_mm * size * MM_PER_INCH / 72
        return max(min_size, size * min(1.0, width_mm / needed)) if needed else size

    def fitted(self, s: str, width_mm: float, size: float, *, bold=False, min_size=5.0) -> tuple[str, float]:
        """``s`` and its font size as ``fit_text_size`` gives it; near the limit the text is measured
        (the estimate misjudges wide letters), made smaller down to ``min_size``, and cut short with an
        ellipsis where even that would not fit (a 130-character environment ran off the label)."""
        font = self.fit_text_size(s, width_mm, size, bold=bold, min_size=min_size)
        estimate_mm = len(s) * (0.6 if bold else 0.56) * font * MM_PER_INCH / 72
        if estimate_mm < 0.85 * width_mm:
            return s, font  # clear of the edge: no measuring (each costs about a millisecond)
        measured = _text_width_mm(s, font, bold)
        if measured > width_mm:
            font = max(min_size, font * width_mm / measured)
        if _text_width_mm(s, font, bold) <= width_mm:
            return s, font
        low, high = 1, len(s)  # the longest prefix that fits with its ellipsis
        while low < high:
            mid = (low + high + 1) // 2
            if _text_width_mm(s[:mid].rstrip() + "\u2026", font, bold) <= width_mm:
                low = mid
            else:
                high = mid - 1
        return s[:low].rstrip() + "\u2026", font

    # -- blocks --------------------------------------------------------------------------------
    def draw(self, label: LabelData) -> None:
        self.header(label)
        self.identity(label)
        self.scale(label)
        self.metrics(label)
        self.provenance(label)
        self.footer(label)
        # thin frame around the whole label, like a printed sticker
        self.ax.add_artist(Rectangle((0.3, 0.3), WIDTH_MM - 0.6, HEIGHT_MM - 0.6, fill=False, edgecolor="#b0b0b0", linewidth=0.6))

    def header(self, label: LabelData) -> None:
        self.ax.add_artist(Rectangle((0, HEIGHT_MM - 15), WIDTH_MM, 15, facecolor=HEADER_COLOR, edgecolor="none"))
        self.text(5, HEIGHT_MM - 7.5, "ML ENERGY LABEL", 14, bold=True, color="white", va="center")
        self.box(WIDTH_MM - 29, HEIGHT_MM - 11.5, 24, 8, color="white", radius=1.5)
        self.text(WIDTH_MM - 17, HEIGHT_MM - 7.5, label.task_name, 8.5, bold=True, color=HEADER_COLOR, ha="center", va="center")

    def identity(self, label: LabelData) -> None:
        top = HEIGHT_MM - 15
        model, model_size = self.fitted(label.model, 90, 17, bold=True)
        # The task is in the header; every text costs ~1 ms of a PNG render, so nothing is said twice.
        self.text(5, top - 9.5, model, model_size, bold=True)
        self.text(5, top - 16, "Data set", 6.5, color=MUTED)
        self.text(22, top - 16, *self.fitted(label.dataset, 73, 7.5, bold=True), bold=True)
        self.text(5, top - 21.5, "Environment", 6.5, color=MUTED)
        env_lines = textwrap.wrap(label.environment, 56) or [""]
        if len(env_lines) > 2:
            env_lines = [env_lines[0], " ".join(env_lines[1:])]
        for i, line in enumerate(env_lines):
            self.text(22, top - 21.5 - 3.4 * i, *self.fitted(line, 73, 7.5, bold=True), bold=True)
        self.ax.plot([5, WIDTH_MM - 5], [top - 27.5, top - 27.5], color="#d0d0d0", linewidth=0.6)

    def scale(self, label: LabelData) -> None:
        top = HEIGHT_MM - 48.5  # top edge of bar A
        bar_h, gap = 6.8, 1.2
        # captions clear of the marker, which stands 1 mm above bar A when the rating is A
        self.text(5, top + 2.3, "Energy efficiency", 6.5, color=MUTED)
        self.text(WIDTH_MM - 5, top + 2.3, "Compound rating", 6.5, color=MUTED, ha="right")
        for i, letter in enumerate(RATING_LETTERS):
            y = top - i * (bar_h + gap) - bar_h
            width = 26 + 7 * i
            x0, tip = 5, 4.0
            self.ax.add_artist(Polygon(
                [(x0, y), (x0 + width, y), (x0 + width + tip, y + bar_h / 2), (x0 + width, y + bar_h), (x0, y + bar_h)],
                closed=True, facecolor=RATING_COLORS[i], edgecolor="none",
            ))
            self.text(x0 + 3, y + bar_h / 2, letter, 15, bold=True, color=_ink_on(RATING_COLORS[i]), va="center_baseline")
            if i == label.compound_rating:
                self.marker(y, bar_h, letter)

    def marker(self, y: float, bar_h: float, letter: str) -> None:
        """The black arrow pointing at the compound rating's bar, carrying its letter (EU-label style)."""
        h = bar_h + 2.0
        yc = y + bar_h / 2
        right, left, tip = WIDTH_MM - 5, 70.0, 5.0
        self.ax.add_artist(Polygon(
            [(left, yc), (left + tip, yc + h / 2), (right, yc + h / 2), (right, yc - h / 2), (left + tip, yc - h / 2)],
            closed=True, facecolor="#111111", edgecolor="none",
        ))
        self.text((left + tip + right) / 2 + 0.5, yc, letter, MARKER_FONT_SIZE, bold=True, color="white", ha="center", va="center_baseline")

    def metrics(self, label: LabelData) -> None:
        # (icon, title, text, the rated metric or None, value derived from an energy estimate)
        cells: list[tuple[str, str, str, MetricFigure | None, bool]] = []
        for m in label.metrics:
            approx = label.energy_is_estimate and m.icon == "energy"
            cells.append((m.icon, m.title, m.text, m, approx))
        co2_title = "CO\u2082 per sample" if label.co2eq_per_sample else "CO\u2082-equivalent"
        cells.append(("co2", co2_title, label.co2eq_text, None, label.energy_is_estimate))
        top = HEIGHT_MM - 90.5
        row_h, col_w = 14.5, 45.0
        for k, (icon, title, text, metric, approx) in enumerate(cells):
            row, col = divmod(k, 2)
            x = 5 + col * col_w
            y = top - (row + 1) * row_h  # bottom of the cell
            self.metric_cell(x, y, col_w, row_h, icon, title, text, metric, approx)
        self.ax.plot([5, WIDTH_MM - 5], [top + 0.4, top + 0.4], color="#d0d0d0", linewidth=0.6)

    def metric_cell(self, x, y, w, h, icon, title, text, metric: MetricFigure | None, approx: bool) -> None:
        rating = metric.rating if metric is not None else None
        if metric is None:  # CO2: a consequence of the energy, not rated on its own
            color, ink = "#607d8b", "white"
        elif rating is None:
            color, ink = UNRATED_COLOR, "white"
        else:
            color, ink = RATING_COLORS[rating], _ink_on(RATING_COLORS[rating])
        cx, cy, r = x + 5.5, y + h / 2, 5.0
        self.ax.add_artist(Circle((cx, cy), r, facecolor=color, edgecolor="none"))
        ICONS[icon](self.ax, cx, cy, r * 0.82, ink, color)
        if metric is not None:  # the metric's own rating letter, on a tag at the badge's corner
            tag = metric.letter or "–"
            self.ax.add_artist(Circle((cx + r * 0.78, cy - r * 0.78), 2.0, facecolor="white", edgecolor=color, linewidth=1.0))
            self.text(cx + r * 0.78, cy - r * 0.78, tag, 6.5, bold=True, color=INK, ha="center", va="center_baseline")
        self.text(x + 12.5, y + h / 2 + 2.6, title, 6.3, color=MUTED)
        shown = ("\u2248 " + text) if approx and text != "n/a" else text
        self.text(x + 12.5, y + h / 2 - 3.2, shown, self.fit_text_size(shown, w - 14, 11.5, bold=True), bold=True, color=INK)

    def provenance(self, label: LabelData) -> None:
        x, y, w, h = 5, 34.0, WIDTH_MM - 10, 10.0
        estimate = label.energy_is_estimate
        color = ESTIMATE_COLOR if estimate else MEASURED_COLOR
        self.box(x, y, w, h, color="#fff4e5" if estimate else "#eaf6ee", edge=color, lw=1.0, radius=1.5)
        tag = "ESTIMATE" if estimate else "MEASURED"
        self.box(x + 2, y + h / 2 - 2.75, 17, 5.5, color=color, radius=1.0)
        self.text(x + 10.5, y + h / 2, tag, 6.3, bold=True, color="white", ha="center", va="center_baseline")
        lines = _provenance_lines("Energy " + label.energy_provenance_text)
        size = min(self.fit_text_size(line, w - 24, 7.0) for line in lines)
        n, spacing = len(lines), min(3.2, (h - 1.5) / max(len(lines), 1))
        for i, line in enumerate(lines):
            self.text(x + 22, y + h / 2 + (n - 1) * spacing / 2 - i * spacing, line, min(size, spacing * 2.2),
                      color=INK, va="center_baseline")

    def footer(self, label: LabelData) -> None:
        size, qx, qy = QR_SIZE_MM, QR_X_MM, QR_Y_MM
        matrix = qr_matrix(label.qr_payload)
        # quiet zone: white square around the code (the label is white anyway; this keeps it when printed on colour)
        self.ax.add_artist(Rectangle((qx - 1.5, qy - 1.5), size + 3, size + 3, facecolor="white", edgecolor="none"))
        self.ax.add_artist(PathPatch(qr_path(matrix, qx, qy, size), facecolor="black", edgecolor="none", linewidth=0))
        _icon_calendar(self.ax, 7.5, 24.5, 2.6, INK, "white")
        self.text(12, 24.5, label.date or "date unknown", 9.5, bold=True, va="center_baseline")
        if label.energy_is_estimate:
            note = "\u2248 marks values computed from estimated energy"
            self.text(5, 16.0, note, self.fit_text_size(note, qx - 8, 6.0), color=ESTIMATE_COLOR)
        if label.link:
            link = label.link if len(label.link) <= 48 else label.link[:47] + "\u2026"
            self.text(5, 11.0, link, self.fit_text_size(link, qx - 8, 6.0, min_size=4.0), color=HEADER_COLOR)
        reference = label.reference_model or "a reference model"
        if label.rated_alone:  # the letters say nothing: no other model to compare with
            footnote = f"Not compared: the only model in its environment \u00b7 mlel {__version__}"
            self.text(5, 5.0, footnote, self.fit_text_size(footnote, qx - 8, 5.2, min_size=3.5, bold=True), bold=True,
                      color=ESTIMATE_COLOR)
        else:
            footnote = f"Ratings relative to {reference}, same environment \u00b7 mlel {__version__}"
            self.text(5, 5.0, footnote, self.fit_text_size(footnote, qx - 8, 5.2, min_size=3.5), color=MUTED)
        if label.rating_settings:  # a line of its own: appended to the footnote it ran into the QR code
            rated = f"Rated with {label.rating_settings}"
            self.text(5, 8.0, rated, self.fit_text_size(rated, qx - 8, 5.2, min_size=3.5), color=MUTED)


def _text_width_mm(s: str, size: float, bold: bool) -> float:
    from matplotlib.textpath import TextToPath

    prop = (_BOLD if bold else _REGULAR).copy()
    prop.set_size(size)
    width_pt, _, _ = TextToPath().get_text_width_height_descent(s, prop, ismath=False)
    return width_pt * MM_PER_INCH / 72


def _ink_on(colour: str) -> str:
    """White text on dark colours, near-black on light ones (WCAG relative luminance)."""
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    # Big bold letters on saturated colours: white reads best down to the amber (the EU label's choice);
    # only the light amber/yellow gets dark ink.
    return "#ffffff" if luminance < 0.45 else INK


def _provenance_lines(text: str, width: int = 52) -> list[str]:
    """Split the provenance sentence at its joints: after "; " (measured vs estimated parts), then
    before a " + " where a part is longer than ``width`` characters, never inside a meter's name."""
    parts = [p.strip() for p in text.split(";") if p.strip()]
    lines: list[str] = []
    for i, part in enumerate(parts):
        pieces = (part + (";" if i < len(parts) - 1 else "")).split(" + ")
        lines.append(pieces[0])
        for piece in pieces[1:]:
            if len(lines[-1]) + 3 + len(piece) <= width:
                lines[-1] += " + " + piece
            else:
                lines.append("+ " + piece)
    return lines


# ------------------------------------------------------------------------------ icons
# Each icon draws a glyph in ``ink`` inside a badge of radius ~r centred on (cx, cy); ``bg`` is the
# badge colour, used to cut shapes apart.


def _icon_energy(ax, cx, cy, r, ink, bg):
    pts = [(0.18, 0.95), (-0.5, -0.1), (-0.02, -0.1), (-0.2, -0.95), (0.5, 0.12), (0.03, 0.12)]
    ax.add_artist(Polygon([(cx + px * r, cy + py * r) for px, py in pts], closed=True, facecolor=ink, edgecolor="none"))


def _icon_time(ax, cx, cy, r, ink, bg):
    c = (cx, cy - 0.1 * r)
    ax.add_artist(Circle(c, 0.62 * r, facecolor="none", edgecolor=ink, linewidth=1.3))
    ax.add_artist(Rectangle((cx - 0.14 * r, cy + 0.55 * r), 0.28 * r, 0.28 * r, facecolor=ink, edgecolor="none"))
    ax.plot([c[0], c[0]], [c[1], c[1] + 0.42 * r], color=ink, linewidth=1.3, solid_capstyle="round")
    ax.plot([c[0], c[0] + 0.3 * r], [c[1], c[1] - 0.12 * r], color=ink, linewidth=1.3, solid_capstyle="round")


def _icon_accuracy(ax, cx, cy, r, ink, bg):
    ax.add_artist(Circle((cx, cy), 0.72 * r, facecolor="none", edgecolor=ink, linewidth=1.2))
    ax.add_artist(Circle((cx, cy), 0.42 * r, facecolor="none", edgecolor=ink, linewidth=1.2))
    ax.add_artist(Circle((cx, cy), 0.14 * r, facecolor=ink, edgecolor="none"))


def _icon_parameters(ax, cx, cy, r, ink, bg):
    left = [(-0.55, 0.5), (-0.55, 0.0), (-0.55, -0.5)]
    right = [(0.55, 0.27), (0.55, -0.27)]
    for lx, ly in left:
        for rx, ry in right:
            ax.plot([cx + lx * r, cx + rx * r], [cy + ly * r, cy + ry * r], color=ink, linewidth=0.6)
    for px, py in left + right:
        ax.add_artist(Circle((cx + px * r, cy + py * r), 0.15 * r, facecolor=ink, edgecolor="none"))


def _icon_size(ax, cx, cy, r, ink, bg):
    # three stacked discs: a "storage" symbol
    for dy in (-0.42, 0.0, 0.42):
        ax.add_artist(Ellipse((cx, cy + dy * r), 1.25 * r, 0.5 * r, facecolor=ink, edgecolor=bg, linewidth=0.8))


def _icon_co2(ax, cx, cy, r, ink, bg):
    # a cloud
    for (px, py, pr) in ((-0.38, -0.12, 0.3), (0.0, 0.12, 0.4), (0.38, -0.1, 0.3)):
        ax.add_artist(Circle((cx + px * r, cy + py * r), pr * r, facecolor=ink, edgecolor="none"))
    ax.add_artist(Rectangle((cx - 0.38 * r, cy - 0.42 * r), 0.76 * r, 0.32 * r, facecolor=ink, edgecolor="none"))


def _icon_calendar(ax, cx, cy, r, ink, bg):
    ax.add_artist(Rectangle((cx - r, cy - r), 2 * r, 1.8 * r, facecolor="none", edgecolor=ink, linewidth=0.9))
    ax.add_artist(Rectangle((cx - r, cy + 0.35 * r), 2 * r, 0.45 * r, facecolor=ink, edgecolor="none"))
    for dx in (-0.5, 0.5):
        ax.plot([cx + dx * r, cx + dx * r], [cy + 0.65 * r, cy + 1.05 * r], color=ink, linewidth=0.9)


ICONS = {
    "energy": _icon_energy,
    "time": _icon_time,
    "accuracy": _icon_accuracy,
    "parameters": _icon_parameters,
    "size": _icon_size,
    "co2": _icon_co2,
}
