"""ELEx, the Energy Label Exploration dashboard (Dash).

``create_app(results_paths)`` builds the app; ``elex.py`` at the top of the repository parses the
command line and serves it. Layout: ``ids`` (every component id), ``sections`` (one module per view,
each with ``layout`` and ``register``), ``figures`` (pure figure builders), ``data`` (the read-only,
cached results), ``rating`` (ELEx's use of ``mlel.ratings``), ``synthetic`` (tables for tests and benchmarks).
"""


def create_app(*args, **kwargs):
    """See ``mlel.elex.app.create_app`` (imported on first use: importing ``mlel.elex`` stays cheap)."""
    from mlel.elex.app import create_app as _create_app

    return _create_app(*args, **kwargs)


__all__ = ["create_app"]
