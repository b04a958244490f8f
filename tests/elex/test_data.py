"""The read-only data layer, uploads, settings conversions and the command line."""

from __future__ import annotations

import base64
import json
import socket
import subprocess

import pandas as pd
import pytest

from mlel.elex.data import MAX_UPLOAD_BYTES, RatingSettings, ResultsData, parse_upload, uploads_from_store, uploads_to_store
from mlel.elex.rating import default_reference, read_settings_file, references, settings_file
from mlel.elex.synthetic import COLUMNS, synthetic_results
from mlel.elex.view import boundaries_to_slider, filter_table, settings_from_controls, slider_to_boundaries
from mlel.errors import UserInputError


def _data_url(raw: bytes) -> str:
    return "data:application/json;base64," + base64.b64encode(raw).decode()


def test_synthetic_table_has_the_contract_columns():
    from mlel.results import COLUMNS as CONTRACT

    df = synthetic_results(50)
    assert tuple(df.columns) == COLUMNS == CONTRACT
    assert df["energy_is_estimate"].any() and not df["energy_is_estimate"].all()
    assert (df.loc[df["task"] == "infer", "energy_per_sample_j"] > 0).all()


def test_rated_tables_are_cached_and_never_change_the_loaded_table(small_table):
    data = ResultsData(small_table)
    before = data.table.copy()
    settings = RatingSettings("infer", default_reference(small_table, "infer"), "optimistic median")
    first = data.rated(settings)
    assert data.rated(settings) is first  # cached per setting
    assert {"energy_per_sample_j_index", "compound_rating", "compound_rating_letter"} <= set(first.columns)
    assert set(first["task"]) == {"infer"}
    pd.testing.assert_frame_equal(data.table, before)
    other = data.rated(RatingSettings("infer", settings.reference, "worst"))
    assert (other["compound_rating"].to_numpy() >= first["compound_rating"].to_numpy()).all()


def test_reference_falls_back_per_environment(small_table):
    chosen = references(small_table, "infer", "CNN")
    torch_envs = {e for e in chosen if "PyTorch" in e}
    sklearn_envs = {e for e in chosen if "scikit-learn" in e}
    assert torch_envs and all(chosen[e] == "CNN" for e in torch_envs)
    assert sklearn_envs and all(chosen[e] != "CNN" for e in sklearn_envs)  # CNN never runs on scikit-learn


def test_upload_of_a_merged_log(demo_logs):
    path = sorted(demo_logs.glob("*.json"))[0]
    upload = parse_upload(path.name, _data_url(path.read_bytes()))
    (row,) = upload.rows
    assert row["run_id"].startswith("upload-") and row["source"].startswith("upload")
    assert upload.logs[row["run_id"]]["trace"]
    again = uploads_from_store(json.loads(json.dumps(uploads_to_store([upload]))))
    assert again == (upload,) and hash(again[0]) == hash(upload)


def test_an_upload_of_a_loaded_run_is_recognised(demo_logs):
    paths = sorted(demo_logs.glob("*.json"))
    data = ResultsData.from_paths([str(p) for p in paths[1:]])
    loaded = parse_upload(paths[1].name, _data_url(paths[1].read_bytes()))
    other = parse_upload(paths[0].name, _data_url(paths[0].read_bytes()))
    assert data.already_loaded(loaded) and not data.already_loaded(other)


@pytest.mark.parametrize("name, raw, message", [
    ("notes.txt", b"hello", "not JSON"),
    ("other.json", b'{"foo": 1}', "neither"),
    ("future.json", json.dumps({"schema_version": "mlel.results/99"}).encode(), "mlel.results/99"),
    ("huge.json", b" " * (MAX_UPLOAD_BYTES + 1), "too large"),
])
def test_bad_uploads_are_refused_with_a_reason(name, raw, message):
    with pytest.raises(UserInputError, match=message):
        parse_upload(name, _data_url(raw))


def test_slider_positions_round_trip():
    bounds = [3.0, 2.0, 1.0, 0.5]
    assert slider_to_boundaries(boundaries_to_slider(bounds)) == pytest.approx(bounds, rel=1e-2)


def test_settings_from_controls_ignores_other_tasks_widgets():
    ids_w = [{"metric": m} for m in ("energy_j", "time_s", "accuracy", "parameters", "model_size_bytes")]
    settings = settings_from_controls("train", "mlp", "best", [1, 0, 1, 0, 0], ids_w, [], [])
    assert settings.weights == {"energy_j": 1.0, "time_s": 0.0, "accuracy": 1.0, "parameters": 0.0, "model_size_bytes": 0.0}
    assert settings.boundaries is None  # no sliders yet: the defaults (quantiles)
    stale = settings_from_controls("infer", "mlp", "best", [1, 0, 1, 0, 0], ids_w, [], [])
    assert stale.weights is None


def test_filter_table_treats_empty_as_all(small_table):
    assert len(filter_table(small_table, {"model": [], "dataset": None})) == len(small_table)
    only = filter_table(small_table, {"model": ["CNN", "SVC"]})
    assert set(only["model"]) == {"CNN", "SVC"}


def test_settings_files_round_trip_in_the_ratings_format():
    bounds = {"energy_j": [2, 1.5, 1, 0.5], "time_s": [2, 1.5, 1, 0.5], "accuracy": [1.1, 1.0, 0.9, 0.8],
              "parameters": [2, 1, 0.5, 0.2], "model_size_bytes": [2, 1, 0.5, 0.2]}
    kind, values = read_settings_file(settings_file("boundaries", bounds, "train"), "train")
    assert kind == "boundaries" and values["accuracy"] == [1.1, 1.0, 0.9, 0.8]
    kind, values = read_settings_file(settings_file("weights", {"energy_j": 1.0}, "train"), "train")
    assert kind == "weights" and values["energy_j"] == 1.0
    with pytest.raises(UserInputError):
        read_settings_file(b"[1, 2]", "train")
    # MLEE's own boundaries.json is read in its metric names, from memory (no file written)
    mlee = {"train_power_draw": [4, 3, 2, 1], "train_time": [4, 3, 2, 1], "top1_val": [1.1, 1.0, 0.9, 0.8],
            "parameters": [2, 1, 0.5, 0.2], "fsize": [2, 1, 0.5, 0.2], "gflops": [9, 8, 7, 6]}
    kind, values = read_settings_file(json.dumps(mlee).encode(), "train")
    assert kind == "boundaries" and values["accuracy"] == [1.1, 1.0, 0.9, 0.8] and "gflops" not in values
    with pytest.raises(UserInputError, match="no entry for 'energy_per_sample_j'"):
        read_settings_file(json.dumps(mlee).encode(), "infer")


def test_cli_user_errors_are_one_line(python_exe, repo_root, cli_env, tmp_path):
    for args, needle in ((["--port", "0"], "--port"), (["--port", "70000"], "must be 1..65535; got 70000"),
                         (["--results", str(tmp_path / "nope")], "not found"),
                         (["--host", "no-such-host.invalid"], "--host 'no-such-host.invalid' is not an address")):
        proc = subprocess.run([python_exe, "elex.py", *args], cwd=repo_root, env=cli_env, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 2
        assert needle in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_debug_mode_starts_despite_its_reloader(python_exe, repo_root, cli_env, tmp_path):
    """--debug's reloader runs the script again in a child that inherits the listening socket: the port
    check must not refuse the child's own parent."""
    import os
    import signal
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([python_exe, "elex.py", "--debug", "--port", str(port), "--results", str(tmp_path)],
                            cwd=repo_root, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline, status = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                    status = page.status
                    break
            except OSError:
                time.sleep(0.5)
        assert status == 200, (proc.poll(), proc.stderr.read() if proc.poll() is not None else "")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_cli_port_in_use_is_one_line(python_exe, repo_root, cli_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([python_exe, "elex.py", "--port", str(port)], cwd=repo_root, env=cli_env,
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"elex.py: error: port {port} on 127.0.0.1 is already in use; choose another with --port"


def test_an_experiment_alone_in_its_environment_is_flagged_for_its_label():
    from mlel.elex.sections.experiment import with_alone_flag

    table = pd.DataFrame({"task": ["train"] * 3, "environment": ["A", "A", "B"], "dataset": ["d"] * 3,
                          "model": ["svm", "knn", "svm"]})
    alone = pd.Series({"task": "train", "environment": "B", "dataset": "d", "model": "svm", "reference_model": "svm"})
    crowded = alone.copy()
    crowded["environment"] = "A"
    assert with_alone_flag(alone, table)["rated_alone"] and not with_alone_flag(crowded, table)["rated_alone"]
    assert "rated_alone" not in alone  # a copy: the cached rated table is never changed


def test_an_unreadable_merged_log_is_read_again_next_time(small_table, tmp_path):
    data = ResultsData(small_table)
    path = tmp_path / "run.json"
    assert data.merged_log(str(path)) is None  # not there yet (a merge still running)
    path.write_text(json.dumps({"trace": {"estimate:cpu": {"elapsed_s": [0.0], "power_w": [1.0], "samples": 1}}}))
    assert data.merged_log(str(path))["trace"]  # the failure was not cached
    path.write_text("{ damaged")
    assert data.merged_log(str(path))["trace"]  # a good read is
    assert data.merged_log("") is None


def test_rating_settings_text_names_what_differs_from_the_default():
    from mlel.elex.view import rating_settings_text
    from mlel.ratings import DEFAULT_WEIGHTS

    defaults = {"accuracy": [1.2, 1.1, 1.0, 0.9]}
    plain = RatingSettings("infer", "ref", "optimistic median", RatingSettings.canonical({"accuracy": [1.2001, 1.1, 1.0, 0.9]}),
                           RatingSettings.canonical({m: 2 * w for m, w in DEFAULT_WEIGHTS["infer"].items()}))
    assert rating_settings_text(plain, defaults) == ""  # slider rounding, and weights in proportion, are the defaults
    custom = RatingSettings("infer", "ref", "worst", RatingSettings.canonical({"accuracy": [1.5, 1.1, 1.0, 0.9]}),
                            RatingSettings.canonical({**DEFAULT_WEIGHTS["infer"], "accuracy": 0.0}))
    assert rating_settings_text(custom, defaults) == "worst, custom boundaries, custom weights"
    assert rating_settings_text(RatingSettings("train", None, "optimistic_median"), {}) == ""
