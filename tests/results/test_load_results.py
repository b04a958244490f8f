"""load_results over the MLEE reference logs and over our merged JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mlel.errors import SchemaError
from mlel.measurement.provenance import Provenance
from mlel.results import ALL_COLUMNS, COLUMNS, load_results
from mlel.results.merge import merge_experiments
from mlel.results.synthetic import write_experiment_folder


REFERENCE_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "mlee-imagenet-results"


@pytest.fixture(scope="module")
def mlee():
    if not REFERENCE_DIR.is_dir():
        pytest.fail(f"reference data missing: {REFERENCE_DIR}")
    return load_results(REFERENCE_DIR)


def test_all_232_mlee_logs_import_with_every_column(mlee):
    assert len(mlee) == 232
    assert list(mlee.columns) == list(ALL_COLUMNS) and set(COLUMNS) <= set(mlee.columns)
    assert mlee["task"].value_counts().to_dict() == {"infer": 176, "train": 56}
    assert mlee["model"].nunique() == 31
    assert set(mlee["source"]) == {"mlee"} and set(mlee["dataset"]) == {"imagenet"}
    assert mlee["run_id"].is_unique


def test_mlee_environments_and_hardware_names(mlee):
    assert set(mlee["hardware"]) == {"A100-SXM4-40GB x8", "Quadro RTX 5000", "Intel Xeon W-2155"}
    assert set(mlee["environment"]) == {
        "A100-SXM4-40GB x8 - TensorFlow 2.8.0", "A100-SXM4-40GB x8 - PyTorch 1.10.2+cu113",
        "Quadro RTX 5000 - TensorFlow 2.4.1", "Quadro RTX 5000 - PyTorch 1.10.2+cu113",
        "Intel Xeon W-2155 - TensorFlow 2.4.1", "Intel Xeon W-2155 - PyTorch 1.10.2+cu113",
        "Intel Xeon W-2155 - ONNX Runtime (TF export) 1.10.0", "Intel Xeon W-2155 - ONNX Runtime (PT export) 1.10.0",
    }


def test_mlee_energy_follows_the_published_method(mlee):
    infer = mlee[mlee.task == "infer"]
    assert (infer["energy_per_sample_j"] * 50_000).to_numpy() == pytest.approx(infer["energy_j"].to_numpy())
    assert (infer["time_per_sample_s"] * 50_000).to_numpy() == pytest.approx(infer["time_s"].to_numpy())
    assert infer["accuracy"].between(0.3, 0.9).all()
    assert (mlee["energy_provenance"] == Provenance.SAMPLED.value).all() and not mlee["energy_is_estimate"].any()
    texts = set(mlee["energy_provenance_text"])
    assert texts == {"measured (sampled power): GPU (NVML)", "measured (sampled power): GPU (NVML) + CPU (RAPL)",
                     "measured (sampled power): CPU (RAPL)"}
    # the paper's Table: ResNet101 on A100 x8 TensorFlow, 0.859 Ws per sample, 1.579 ms per sample
    r101 = infer[(infer.model == "ResNet101") & (infer.environment == "A100-SXM4-40GB x8 - TensorFlow 2.8.0")].iloc[0]
    assert r101["energy_per_sample_j"] == pytest.approx(0.859, abs=5e-4)
    assert r101["time_per_sample_s"] * 1000 == pytest.approx(1.579, abs=5e-4)
    assert r101["parameters"] == pytest.approx(44.7e6, rel=1e-3)
    train = mlee[mlee.task == "train"]
    assert train["energy_per_sample_j"].isna().all() and (train["energy_j"] > 0).all()
    assert (train["power_mean_w"] > 0).all() and (mlee["parameters"] > 0).all()
    assert mlee["date"].str.match(r"2022-\d\d-\d\dT").all()


def test_numeric_columns_are_float(mlee):
    for column in ("energy_j", "parameters", "threads", "co2eq_g", "n_train_samples"):
        assert mlee[column].dtype == np.float64


def test_our_merged_files_and_mlee_logs_in_one_table(tmp_path, reference_dir):
    for i in range(3):
        write_experiment_folder(tmp_path / "runs", i, task=("infer", "train")[i % 2], device=("cpu", "cuda")[i // 2])
    merge_experiments([tmp_path / "runs"], tmp_path / "results")
    df = load_results([tmp_path / "results", reference_dir])
    ours = df[df.source == "mlel"].set_index("run_id")
    assert len(ours) == 3 and len(df) == 235
    cpu_infer = ours.iloc[0]
    assert cpu_infer["hardware"] == "Intel Xeon Platinum 8375C (2 threads)"
    assert cpu_infer["environment"] == "Intel Xeon Platinum 8375C (2 threads) - scikit-learn 1.9.1"
    assert cpu_infer["energy_provenance"] == "estimate" and cpu_infer["energy_is_estimate"]
    assert cpu_infer["energy_per_sample_j"] == pytest.approx(cpu_infer["energy_j"] / 3000)
    assert cpu_infer["power_mean_w"] == pytest.approx(cpu_infer["energy_j"] / cpu_infer["time_s"])
    assert set(ours["hardware"]) == {"Intel Xeon Platinum 8375C (2 threads)", "A100-SXM4-40GB"}


def test_unknown_schema_version_is_refused_clearly(tmp_path):
    (tmp_path / "new.json").write_text(json.dumps({"schema_version": "mlel.results/2", "config": {}}))
    with pytest.raises(SchemaError, match=r"new.json: results schema 'mlel.results/2' cannot be read .*mlel.results/1"):
        load_results(tmp_path)
    assert load_results(tmp_path, on_error="warn").empty
    with pytest.raises(SchemaError, match="new.json"):  # named directly, the user meant that file
        load_results(tmp_path / "new.json", on_error="warn")


def test_unrelated_json_in_a_folder_is_skipped_but_refused_when_named(tmp_path):
    (tmp_path / "other.json").write_text("[1, 2]")
    (tmp_path / ".results.json.tmp").write_text("{half")       # an interrupted merge's temp file
    assert load_results(tmp_path).empty
    with pytest.raises(SchemaError, match="neither"):
        load_results(tmp_path / "other.json")
    empty = load_results([])
    assert list(empty.columns) == list(ALL_COLUMNS) and len(empty) == 0


def test_a_search_runs_energy_objective_reaches_the_table(tmp_path):
    from mlel.results.merge import read_experiment
    from mlel.results.table import result_row

    record = read_experiment(write_experiment_folder(tmp_path / "runs", 1, task="infer"))
    plain = result_row(record, "plain.json")
    record["config"].update(search_id="s-1", search_index=7, search_energy="train+infer", search_predictions=1000000)
    row = result_row(record, "search.json")
    assert (row["search_id"], row["search_index"], row["search_energy"], row["search_predictions"]) == \
        ("s-1", 7.0, "train+infer", 1e6)
    assert plain["search_energy"] == "" and np.isnan(plain["search_index"]) and np.isnan(plain["search_predictions"])
    table = load_results(REFERENCE_DIR)
    assert {"search_index", "search_energy", "search_predictions"} <= set(table.columns)
    assert (table["search_energy"] == "").all() and table["search_index"].isna().all()


def test_onnx_runs_are_grouped_by_where_their_model_was_exported_from(tmp_path):
    from mlel.results.merge import read_experiment
    from mlel.results.table import result_row

    record = read_experiment(write_experiment_folder(tmp_path / "runs", 1, task="infer"))
    rows = {}
    for trained in ("torch", "sklearn"):
        record["config"].update(backend="onnx", train_backend=trained)
        rows[trained] = result_row(record, f"{trained}.json")
    assert rows["torch"]["backend"] == "onnx_pytorch" and rows["sklearn"]["backend"] == "onnx_sklearn"
    assert "ONNX Runtime (PT export)" in rows["torch"]["environment"]
    assert "ONNX Runtime (scikit-learn export)" in rows["sklearn"]["environment"]
    assert rows["torch"]["environment"] != rows["sklearn"]["environment"]  # never repeats of one model
