"""Every component id of ELEx in one place, so layout, callbacks and browser tests agree.

Repeated widgets (one per metric) use pattern-matching ids built by the helpers at the end.
"""

# page furniture
NAVBAR = "navbar"
TABS = "tabs"
TAB_TRADEOFF = "tab-tradeoff"
TAB_EXPERIMENT = "tab-experiment"
TAB_HARDWARE = "tab-hardware"
TAB_SCALING = "tab-scaling"
TAB_SEARCH = "tab-search"

# per-user state (dcc.Store)
STORE_UPLOADS = "store-uploads"  # rows (and merged logs) the user uploaded
STORE_SELECTED = "store-selected"  # run_id of the clicked point

# filters
FILTER_TASK = "filter-task"
FILTER_MODEL = "filter-model"
FILTER_BACKEND = "filter-backend"
FILTER_ENVIRONMENT = "filter-environment"
FILTER_DATASET = "filter-dataset"

# axes
AXIS_X = "axis-x"
AXIS_Y = "axis-y"
AXIS_VALUES = "axis-values"  # "index" | "value"
AXIS_SCALE_X = "axis-scale-x"  # "linear" | "log"
AXIS_SCALE_Y = "axis-scale-y"

# rating settings
RATING_REFERENCE = "rating-reference"
RATING_MODE = "rating-mode"
BOUNDARIES_FROM_QUANTILES = "boundaries-from-quantiles"
SETTINGS_SAVE_BOUNDARIES = "settings-save-boundaries"
SETTINGS_SAVE_WEIGHTS = "settings-save-weights"
SETTINGS_DOWNLOAD = "settings-download"
SETTINGS_LOAD = "settings-load"
SETTINGS_MESSAGE = "settings-message"
RATING_WIDGETS = "rating-widgets"  # container of the per-metric weight and boundary widgets

# trade-off view
SCATTER = "scatter"
PARETO_TABLE = "pareto-table"
RATING_BARS = "rating-bars"
SUMMARY_TEXT = "summary-text"

# one experiment
EXPERIMENT_TITLE = "experiment-title"
EXPERIMENT_LABEL = "experiment-label"
EXPERIMENT_LABEL_PDF = "experiment-label-pdf"
EXPERIMENT_METRICS = "experiment-metrics"
EXPERIMENT_TRACE = "experiment-trace"
EXPERIMENT_DOWNLOAD_SUMMARY = "experiment-download-summary"
EXPERIMENT_DOWNLOAD_LOG = "experiment-download-log"
EXPERIMENT_DOWNLOAD = "experiment-download"  # the dcc.Download the three buttons share

# hardware comparison
HARDWARE_MODEL = "hardware-model"
HARDWARE_DATASET = "hardware-dataset"
HARDWARE_GRAPH = "hardware-graph"
HARDWARE_TABLE = "hardware-table"

# scaling
SCALING_GRAPH = "scaling-graph"
SCALING_FITS = "scaling-fits"

# trade-off search
SEARCH_ID = "search-id"
SEARCH_NOTE = "search-note"
SEARCH_GRAPH = "search-graph"
SEARCH_HYPERVOLUME = "search-hypervolume"

# upload of merged logs
UPLOAD = "upload"
UPLOAD_MESSAGE = "upload-message"
UPLOAD_CLEAR = "upload-clear"

WEIGHT = "weight"  # pattern-matching type of the per-metric weight sliders
BOUNDARY = "boundary"  # pattern-matching type of the per-metric boundary range sliders


def weight(metric: str) -> dict:
    return {"type": WEIGHT, "metric": metric}


def boundary(metric: str) -> dict:
    return {"type": BOUNDARY, "metric": metric}
