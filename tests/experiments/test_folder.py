import json
import os
import signal

import pytest

from mlel.errors import IncompleteExperimentError, UserInputError
from mlel.experiments.folder import ExperimentFolder, RunInterrupted, check_output_dir, load_experiment


def status(folder) -> dict:
    return json.loads((folder.path / "status.json").read_text())


def test_a_new_folder_is_named_by_the_contract_and_starts_running(tmp_path):
    folder = ExperimentFolder.create(tmp_path, "train", "svm", "csv:/data/heart disease.csv", "sklearn")
    assert folder.path.parent == tmp_path
    assert folder.path.name.startswith("train_svm_csv-heart_disease_sklearn_2")
    assert [p.name for p in folder.path.iterdir()] == ["status.json"]
    assert status(folder)["state"] == "running" and status(folder)["reason"] is None


def test_complete_marker_is_written_last(tmp_path):
    folder = ExperimentFolder.create(tmp_path, "train", "svm", "iris", "sklearn")
    folder.write_json("config.json", {"schema": "mlel.experiment/1", "task": "train"})
    folder.mark_complete()
    assert status(folder)["state"] == "complete"
    complete = (folder.path / "COMPLETE").stat().st_mtime_ns
    assert all(p.stat().st_mtime_ns <= complete for p in folder.path.iterdir())
    assert "finished" in json.loads((folder.path / "COMPLETE").read_text())


def test_an_exception_leaves_the_folder_failed_with_the_reason(tmp_path):
    folder = ExperimentFolder.create(tmp_path, "train", "svm", "iris", "sklearn")
    folder.write_json("config.json", {"schema": "mlel.experiment/1", "task": "train"})
    with pytest.raises(ZeroDivisionError):
        with folder.guard():
            1 / 0
    assert status(folder) | {"updated": None} == {"state": "failed", "reason": "ZeroDivisionError: division by zero",
                                                 "updated": None}
    assert "run failed" in (folder.path / "run.log").read_text()
    with pytest.raises(IncompleteExperimentError, match="incomplete .*status failed: ZeroDivisionError"):
        load_experiment(folder.path)


def test_sigterm_marks_the_folder_interrupted_and_restores_the_handler(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    folder = ExperimentFolder.create(tmp_path, "infer", "svm", "iris", "onnx")
    with pytest.raises(RunInterrupted) as caught:
        with folder.guard():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs between bytecodes
                pass
    assert caught.value.signum == signal.SIGTERM and caught.value.folder == folder.path
    assert status(folder)["state"] == "interrupted" and "SIGTERM" in status(folder)["reason"]
    assert signal.getsignal(signal.SIGTERM) == before
    assert not (folder.path / "COMPLETE").exists()


def test_unwritable_output_dir_is_a_user_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(UserInputError, match="not writable"):
        check_output_dir(blocker / "runs")
    with pytest.raises(UserInputError, match="not writable"):
        ExperimentFolder.create(blocker, "train", "svm", "iris", "sklearn")


def test_load_experiment_rejects_what_is_not_a_finished_folder(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        load_experiment(tmp_path / "nothing")
    with pytest.raises(UserInputError, match="not an experiment folder"):
        load_experiment(tmp_path)
