"""CO2-equivalent emissions from energy, with CodeCarbon's offline grid-intensity data.

The intensity for a country (ISO 3166 alpha-3, e.g. ``DEU``) comes from CodeCarbon's
``global_energy_mix.json``: its ``carbon_intensity`` where present, otherwise CodeCarbon's own
computation from the country's generation mix and per-source intensities. Without a country,
:func:`default_country` gives CodeCarbon's default: ``CODECARBON_COUNTRY_ISO_CODE`` if set
(CodeCarbon's environment configuration), else Canada (``CAN``), which CodeCarbon falls back to
when it cannot locate the machine. Nothing is downloaded.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict, dataclass

from mlel.errors import UserInputError

J_PER_KWH = 3.6e6
CODECARBON_DEFAULT_COUNTRY = "CAN"
SOURCE = "CodeCarbon offline data"


@dataclass(frozen=True)
class CarbonResult:
    co2eq_g: float
    intensity_g_per_kwh: float
    country: str
    source: str

    def to_dict(self) -> dict:
        return asdict(self)


@functools.lru_cache(maxsize=1)
def _energy_mix() -> dict:
    from importlib.resources import files

    return json.loads(files("codecarbon").joinpath("data/private_infra/global_energy_mix.json").read_text(encoding="utf-8"))


def countries() -> list[str]:
    """ISO alpha-3 codes CodeCarbon has grid data for."""
    return sorted(_energy_mix())


def default_country() -> str:
    return os.environ.get("CODECARBON_COUNTRY_ISO_CODE", CODECARBON_DEFAULT_COUNTRY).strip().upper()


def intensity_g_per_kwh(country: str) -> float:
    """Grid carbon intensity of ``country`` in gCO2eq/kWh, as CodeCarbon computes it offline."""
    code = str(country).strip().upper()
    mix = _energy_mix().get(code)
    if mix is None:
        some = ", ".join(c for c in ("DEU", "FRA", "GBR", "USA", "CAN", "CHN", "IND") if c in _energy_mix())
        raise UserInputError(
            f"The 'country' parameter must be an ISO 3166 alpha-3 code in CodeCarbon's data ({len(_energy_mix())} countries, e.g. {some}); got {country!r}"
        )
    from codecarbon.core.emissions import Emissions

    # a static method: carbon_intensity where given, else the mix weighted by per-source intensities
    return float(Emissions._global_energy_mix_to_emissions_rate(mix).kgs_per_kWh * 1000.0)


def co2eq(energy_j: float, country: str | None = None) -> CarbonResult:
    """Emissions of ``energy_j`` joules drawn from the grid of ``country`` (default: CodeCarbon's)."""
    code = (country or default_country()).strip().upper()
    intensity = intensity_g_per_kwh(code)
    year = _energy_mix()[code].get("year")
    source = f"{SOURCE} (global_energy_mix.json{f', {year}' if year else ''})"
    return CarbonResult(co2eq_g=energy_j / J_PER_KWH * intensity, intensity_g_per_kwh=intensity, country=code, source=source)
