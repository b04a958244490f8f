"""Energy labels: one rated results-table row in, one label (PNG, PDF or SVG) out.

``label_data_from_row(row)`` turns a row rated by ``mlel.ratings.rate_results`` into a frozen
``LabelData``; ``render_label(label_data, fmt)`` draws it and returns the file's bytes. The
command-line tool is ``python -m mlel.label_generator``.
"""

from mlel.labels.data import LabelData, MetricFigure, RATING_LETTERS, label_data_from_row
from mlel.labels.draw import FORMATS, render_label

__all__ = ["FORMATS", "LabelData", "MetricFigure", "RATING_LETTERS", "label_data_from_row", "render_label"]
