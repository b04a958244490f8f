#!/usr/bin/env python
"""ELEx, the Energy Label Exploration dashboard.

    python elex.py --results results/ ../shared/reference/mlee-imagenet-results [--host 127.0.0.1] [--port 8050] [--debug]
"""

from __future__ import annotations

import logging
import os
import sys

from mlel.cli import ArgumentParser, check_listen_address, run_main, setup_logging

log = logging.getLogger("elex")


def main(argv=None) -> int:
    parser = ArgumentParser(prog="elex.py", description="Explore energy ratings and labels of ML experiments.")
    parser.add_argument("--results", nargs="+", default=["results"], metavar="PATH",
                        help="merged results (files or folders; mlel merged JSON and MLEE logs); default: results")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (reloader, error pages)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"argument --port: must be 1..65535; got {args.port}")
    if os.environ.get("WERKZEUG_RUN_MAIN") != "true":  # --debug's reloader child reuses its parent's socket
        check_listen_address(args.host, args.port)
    setup_logging(args.debug)

    from mlel.elex import create_app

    app = create_app(args.results)
    log.info("ELEx on http://%s:%d/ (Ctrl+C stops)", args.host, args.port)
    if args.debug:
        app.run(host=args.host, port=args.port, debug=True)
    else:
        # a real WSGI server rather than Flask's development one, with a few threads for parallel callbacks
        from waitress import serve

        serve(app.server, host=args.host, port=args.port, threads=8)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="elex.py"))
