import dataclasses
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labels.conftest import A100_TF, estimated_training_row, rated_row
from mlel.errors import UserInputError
from mlel.labels import LabelData, label_data_from_row
from mlel.labels.data import (
    format_bytes, format_count, format_energy_j, format_fraction, format_mass_g, format_time_s,
)


def test_label_from_hand_checked_row():
    label = label_data_from_row(rated_row())
    assert (label.model, label.task, label.dataset, label.environment) == ("ResNet101", "infer", "imagenet", A100_TF)
    assert label.compound_rating == 1 and label.compound_letter == "B"
    assert label.task_name == "Inference"
    shown = {m.metric: (m.text, m.letter, m.icon) for m in label.metrics}
    assert shown == {
        "energy_per_sample_j": ("12.3 mJ", "B", "energy"),
        "time_per_sample_s": ("420 µs", "C", "time"),
        "accuracy": ("77.1 %", "A", "accuracy"),
        "parameters": ("44.6 M", "D", "parameters"),
        "model_size_bytes": ("171 MB", "E", "size"),
    }
    assert [m.title for m in label.metrics][:2] == ["Energy per sample", "Time per sample"]
    assert label.co2eq_text == "248 µg" and label.co2eq_per_sample  # 12.4 g for the run x 0.0123 J / 615 J per sample
    assert label.date == "2022-03-03"
    assert label.energy_provenance_text == "measured (sampled power): GPU (NVML) + CPU (RAPL)"
    assert label.energy_is_estimate is False
    assert label.reference_model == "ResNet50"


def test_training_label_shows_total_energy_and_time():
    label = label_data_from_row(estimated_training_row())
    assert [m.metric for m in label.metrics] == ["energy_j", "time_s", "accuracy", "parameters", "model_size_bytes"]
    assert [m.text for m in label.metrics][:2] == ["123 J", "3.20 s"]
    assert label.energy_is_estimate is True
    assert label.energy_provenance_text.startswith("estimated: CPU")


def test_label_data_is_frozen():
    label = label_data_from_row(rated_row())
    with pytest.raises(dataclasses.FrozenInstanceError):
        label.model = "other"  # type: ignore[misc]


def test_missing_values_show_na_and_no_rating():
    label = label_data_from_row(rated_row(model_size_bytes=math.nan, model_size_bytes_rating=math.nan, co2eq_g=None))
    size = label.metrics[-1]
    assert (size.value, size.text, size.rating, size.letter) == (None, "n/a", None, None)
    assert label.co2eq_text == "n/a"
    assert "model_size_bytes" not in json.loads(label.qr_payload)


def test_unrated_row_is_refused_with_a_hint():
    row = rated_row()
    del row["compound_rating"]
    with pytest.raises(UserInputError, match="rate_results"):
        label_data_from_row(row)


def test_unknown_task_is_refused():
    with pytest.raises(UserInputError, match="'infer', 'train'"):
        label_data_from_row(rated_row(task="predict"))


def test_compound_rating_must_be_a_letter_index():
    label = label_data_from_row(rated_row())
    with pytest.raises(UserInputError):
        dataclasses.replace(label, compound_rating=5)


def test_qr_payload_carries_the_key_data():
    label = label_data_from_row(rated_row(), link="https://elex.example.org/run/{run_id}")
    payload = json.loads(label.qr_payload)
    assert payload == {
        "v": "mlel.label/2", "run": "infer_resnet101_1", "model": "ResNet101", "task": "infer", "dataset": "imagenet", "env": A100_TF,
        "rating": "B", "energy_per_sample_j": 0.0123, "time_per_sample_s": 0.00042, "accuracy": 0.7712,
        "parameters": 44600000, "model_size_bytes": 171000000, "co2eq_per_sample_g": 0.000248, "energy": "sampled power",
        "date": "2022-03-03", "url": "https://elex.example.org/run/infer_resnet101_1",
    }
    assert label.link == "https://elex.example.org/run/infer_resnet101_1"
    # every value is URL-encoded: an environment has spaces, parentheses and "+"
    env = label_data_from_row(rated_row(environment="AMD EPYC (2 threads) - PyTorch 2.13.0+cpu"), link="x?e={environment}")
    assert env.link == "x?e=AMD%20EPYC%20%282%20threads%29%20-%20PyTorch%202.13.0%2Bcpu"


def test_qr_payload_says_estimated_and_rounds_to_four_digits():
    label = label_data_from_row(estimated_training_row(energy_j=123.456789))
    payload = json.loads(label.qr_payload)
    assert payload["energy"] == "estimate"
    assert payload["energy_j"] == 123.5
    assert "compared" not in payload
    assert json.loads(label_data_from_row(estimated_training_row(rated_alone=True)).qr_payload)["compared"] is False
    assert payload["co2eq_g"] == 12.4 and not label.co2eq_per_sample  # training: the whole run's CO2
    counter = json.loads(label_data_from_row(estimated_training_row(energy_is_estimate=False,
                                                                    energy_provenance="hardware counter")).qr_payload)
    assert counter["energy"] == "hardware counter"  # the kind of measurement, not only "measured"
    assert "url" not in payload


def test_bad_link_template_is_a_user_error():
    with pytest.raises(UserInputError, match="run_id"):
        label_data_from_row(rated_row(), link="https://x/{nope}")


@pytest.mark.parametrize("value, text", [
    (0.0123, "12.3 mJ"), (1.5, "1.50 J"), (999.0, "999 J"), (4_200.0, "4.20 kJ"), (3.6e6, "1.00 kWh"),
    (2.5e-6, "2.50 µJ"), (999.6, "1.00 kJ"), (None, "n/a"),
])
def test_format_energy(value, text):
    assert format_energy_j(value) == text


@pytest.mark.parametrize("value, text", [
    (0.00042, "420 µs"), (0.0158, "15.8 ms"), (3.2, "3.20 s"), (600.0, "10.0 min"), (5.2 * 3600, "5.20 h"),
])
def test_format_time(value, text):
    assert format_time_s(value) == text


def test_format_other_units():
    assert format_fraction(0.7712) == "77.1 %"
    assert format_count(44.6e6) == "44.6 M"
    assert format_count(812) == "812"
    assert format_count(1.2e9) == "1.20 G"
    assert format_bytes(171e6) == "171 MB"
    assert format_bytes(512) == "512 B"
    assert format_mass_g(12.4) == "12.4 g"
    assert format_mass_g(8.926e-10) == "893 pg" and format_mass_g(2.5e-8) == "25.0 ng"  # one inference's share
    assert format_mass_g(0.0021) == "2.10 mg"
    assert format_mass_g(2500.0) == "2.50 kg"


def test_label_from_real_rated_mlee_table(reference_dir):
    from mlel.ratings import rate_results
    from mlel.results import load_results

    table = load_results([reference_dir])
    rated = rate_results(table, "infer", "ResNet101", missing_reference="drop")
    row = rated[(rated["model"] == "ResNet50") & (rated["environment"] == A100_TF)].iloc[0]
    label = label_data_from_row(row)
    assert isinstance(label, LabelData)
    assert label.model == "ResNet50" and label.environment == A100_TF
    assert label.compound_letter == row["compound_rating_letter"]
    energy = label.metrics[0]
    assert energy.value == pytest.approx(row["energy_per_sample_j"])
    assert energy.rating == row["energy_per_sample_j_rating"]
    assert label.energy_provenance_text == row["energy_provenance_text"] and "NVML" in label.energy_provenance_text
    assert label.reference_model == "ResNet101"


_ENERGY_UNITS = {"µJ": 1e-6, "mJ": 1e-3, "J": 1.0, "kJ": 1e3, "MJ": 1e6, "kWh": 3.6e6}
_TIME_UNITS = {"ns": 1e-9, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-6, 1e12))
def test_energy_text_reads_back_within_rounding(value):
    number, unit = format_energy_j(value).split(" ")
    assert float(number) * _ENERGY_UNITS[unit] == pytest.approx(value, rel=0.01)
    assert "e" not in number  # never scientific notation on a label


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-9, 1e7))
def test_time_text_reads_back_within_rounding(value):
    number, unit = format_time_s(value).split(" ")
    assert float(number) * _TIME_UNITS[unit] == pytest.approx(value, rel=0.01)
    assert "e" not in number
