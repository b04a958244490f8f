"""ELEx's sections: each module has ``layout(...)`` (components) and ``register(app, data)`` (callbacks).

A new view (for example the trade-off search's) is one more module here, added in ``mlel.elex.app``.
"""
