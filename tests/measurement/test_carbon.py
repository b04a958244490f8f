"""Carbon from energy with CodeCarbon's offline grid data."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from mlel.errors import UserInputError
from mlel.measurement.carbon import CODECARBON_DEFAULT_COUNTRY, co2eq, countries, default_country, intensity_g_per_kwh


def codecarbon_mix():
    return json.loads(files("codecarbon").joinpath("data/private_infra/global_energy_mix.json").read_text())


def test_one_kwh_in_germany():
    result = co2eq(3.6e6, "deu")
    assert result.country == "DEU"
    assert result.intensity_g_per_kwh == pytest.approx(codecarbon_mix()["DEU"]["carbon_intensity"])
    assert result.co2eq_g == pytest.approx(result.intensity_g_per_kwh)
    assert result.source.startswith("CodeCarbon offline data")
    assert result.to_dict()["country"] == "DEU"


def test_emissions_scale_with_energy():
    assert co2eq(7.2e6, "FRA").co2eq_g == pytest.approx(2 * co2eq(3.6e6, "FRA").co2eq_g)
    assert co2eq(0.0, "FRA").co2eq_g == 0.0


def test_matches_codecarbons_own_computation():
    from codecarbon.core.emissions import Emissions
    from codecarbon.core.units import Energy
    from codecarbon.external.geography import GeoMetadata
    from codecarbon.input import DataSource

    kg = Emissions(DataSource()).get_country_emissions(Energy.from_energy(kWh=2.0), GeoMetadata(country_iso_code="USA", country_name="United States"))
    assert co2eq(2 * 3.6e6, "USA").co2eq_g == pytest.approx(kg * 1000)


def test_default_is_codecarbons(monkeypatch):
    monkeypatch.delenv("CODECARBON_COUNTRY_ISO_CODE", raising=False)
    assert default_country() == CODECARBON_DEFAULT_COUNTRY == "CAN"
    assert co2eq(1.0).country == "CAN"
    monkeypatch.setenv("CODECARBON_COUNTRY_ISO_CODE", "swe")
    assert co2eq(1.0).country == "SWE"


def test_unknown_country_is_a_user_error():
    with pytest.raises(UserInputError, match="'country' parameter must be .*got 'XYZ'"):
        co2eq(1.0, "XYZ")
    assert "DEU" in countries() and len(countries()) > 100
    assert intensity_g_per_kwh("FRA") < intensity_g_per_kwh("POL")
