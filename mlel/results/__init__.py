"""Merged results (schema, merge) and the one results table (``load_results``).

``mlel.results.load_results(paths)`` reads our merged JSON and the original MLEE logs into one
``pandas.DataFrame``; ``mlel.results.merge`` compacts experiment folders into merged JSON.
"""

from mlel.results.schema import RESULTS_SCHEMA
from mlel.results.table import ALL_COLUMNS, COLUMNS, EXTRA_COLUMNS, load_results

__all__ = ["ALL_COLUMNS", "COLUMNS", "EXTRA_COLUMNS", "RESULTS_SCHEMA", "load_results"]
