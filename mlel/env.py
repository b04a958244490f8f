"""``python -m mlel.env``: which power meters work on this machine, and why the others don't.

Prints one row per backend in discovery order (NVML, RAPL, estimate), the meters a
``--device cpu`` run would use, and the default carbon-intensity country.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Sequence

from mlel.cli import ArgumentParser, run_main, setup_logging

logger = logging.getLogger(__name__)


def environment_report(powercap_root: str | None = None) -> dict:
    """Everything the command prints, as plain data."""
    from mlel.measurement.carbon import default_country, intensity_g_per_kwh
    from mlel.measurement.factory import backend_availability, discover_meters
    from mlel.measurement.rapl import DEFAULT_POWERCAP_ROOT

    root = powercap_root or DEFAULT_POWERCAP_ROOT
    backends = {name: {"available": a.available, "detail": a.reason} for name, a in backend_availability(root).items()}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the RAPL row already says what the warning would
        meters = discover_meters("cpu", powercap_root=root)
    country = default_country()
    return {
        "backends": backends,
        "meters": [{"meter": m.name, "component": m.component, "method": m.method, "provenance": m.provenance.value} for m in meters],
        "carbon": {"default_country": country, "intensity_g_per_kwh": intensity_g_per_kwh(country)},
    }


def format_report(report: dict) -> str:
    rows = [("backend", "status", "detail")]
    for name, b in report["backends"].items():
        rows.append((name, "ok" if b["available"] else "unavailable", b["detail"]))
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [f"{r[0]:<{width[0]}}  {r[1]:<{width[1]}}  {r[2]}" for r in rows]
    lines.insert(1, "-" * (width[0] + width[1] + 4 + max(len(r[2]) for r in rows)))
    lines.append("")
    lines.append("meters used (estimates are never shown as measurements):")
    for m in report["meters"]:
        lines.append(f"  {m['meter']:<18} {m['component'].upper():<4} {m['method']} [{m['provenance']}]")
    c = report["carbon"]
    lines.append("")
    lines.append(f"carbon intensity: {c['intensity_g_per_kwh']:.1f} gCO2eq/kWh for {c['default_country']} (CodeCarbon's default; train.py and infer.py take --country)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m mlel.env", description="Which power meters work on this machine, and why the others don't.")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--powercap-root", default=None, help="where RAPL zones live (default: /sys/class/powercap)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    if not args.verbose:
        logging.getLogger("mlel.measurement").setLevel(logging.ERROR)  # the table says it all
    report = environment_report(args.powercap_root)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="python -m mlel.env"))
