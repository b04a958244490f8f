"""Figures for people: energies, times, counts, sizes and masses in three significant digits with SI
prefixes, as the labels print them, and as ELEx and the command-line summaries show them too."""

from __future__ import annotations


def _si(value: float, unit: str, prefixes: tuple[tuple[float, str], ...]) -> str:
    mag = abs(value)
    if mag == 0:
        return f"0 {unit}"
    for factor, prefix in prefixes:
        if mag >= factor * 0.9995:  # 999.6 J shows as "1.00 kJ", not "1000 J"
            return f"{_three_digits(value / factor)} {prefix}{unit}"
    factor, prefix = prefixes[-1]
    return f"{_three_digits(value / factor)} {prefix}{unit}"


def _three_digits(x: float) -> str:
    """Three significant digits without scientific notation for the ranges the label uses."""
    mag = abs(x)
    if mag == 0:
        return "0"
    if mag >= 100:
        return f"{x:.0f}"
    if mag >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


_ENERGY_PREFIXES = ((1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"))
_TIME_PREFIXES = ((1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"))
_COUNT_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""))


def format_energy_j(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 3.6e5:  # from 0.1 kWh on, people think in kWh
        return f"{_three_digits(value / 3.6e6)} kWh"
    return _si(value, "J", _ENERGY_PREFIXES)


def format_time_s(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 2 * 3600:
        return f"{_three_digits(value / 3600)} h"
    if abs(value) >= 120:
        return f"{_three_digits(value / 60)} min"
    return _si(value, "s", _TIME_PREFIXES)


def format_power_w(value: float | None) -> str:
    if value is None:
        return "n/a"
    return _si(value, "W", ((1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ")))


def format_fraction(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def format_count(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) < 1e3:
        return f"{value:.0f}"
    return _si(value, "", _COUNT_PREFIXES).strip()


def format_bytes(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) < 1e3:
        return f"{value:.0f} B"
    return _si(value, "B", _COUNT_PREFIXES)


def format_mass_g(value: float | None) -> str:
    if value is None:
        return "n/a"
    # down to picograms: one inference's share of CO2 is nanograms
    return _si(value, "g", ((1e6, "t "), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"),
                            (1e-12, "p"))).replace("t g", "t")
