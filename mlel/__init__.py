"""mlel: the machine-learning energy lab.

Layers, arrows pointing one way:
measurement -> experiments -> results (merge, schema, table) -> ratings -> labels / elex / tradeoff.
Nothing happens at import time.
"""

__version__ = "0.1.0"
