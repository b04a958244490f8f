"""Energy labels: one rated results-table row in, one label (PNG, PDF or SVG) out.

``label_data_from_row(row)`` turns a row rated by ``mlel.ratings.rate_results`` into a frozen
``LabelData``; ``render_label(label_data, fmt)`` draws it and returns the file's bytes. The
command-line tool is ``python -m mlel.label_generator``.

The drawing module (and with it matplotlib) is imported on first use of ``render_label``, so
importing ``mlel.labels`` for the data model stays light.
"""

from mlel.labels.data import FORMATS, RATING_LETTERS, LabelData, MetricFigure, label_data_from_row

__all__ = ["FORMATS", "LabelData", "MetricFigure", "RATING_LETTERS", "label_data_from_row", "render_label"]


def __getattr__(name: str):
    if name == "render_label":
        from mlel.labels import draw

        return getattr(draw, name)
    raise AttributeError(f"module 'mlel.labels' has no attribute {name!r}")
