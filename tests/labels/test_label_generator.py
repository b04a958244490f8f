"""``python -m mlel.label_generator`` as a user runs it: subprocesses, exit codes, files left behind."""

import io
import json
import shutil
import subprocess
import sys

import pytest
from PIL import Image
from pypdf import PdfReader

from conftest import REFERENCE_DIR
from labels.conftest import A100_TF
from mlel.labels.draw import MARKER_FONT_SIZE


@pytest.fixture(scope="module")
def a100_tf_files(reference_dir_module):
    """The MLEE inference logs of one environment (a small, fast -d)."""
    from mlel.results import load_results

    table = load_results([reference_dir_module])
    chosen = table[(table["environment"] == A100_TF) & (table["task"] == "infer")]
    return sorted(chosen["path"])


@pytest.fixture(scope="module")
def reference_dir_module():
    from conftest import REFERENCE_DIR

    if not REFERENCE_DIR.is_dir():
        pytest.fail(f"reference data missing: {REFERENCE_DIR}")
    return REFERENCE_DIR


@pytest.fixture
def subset(tmp_path, a100_tf_files):
    folder = tmp_path / "mlee"
    folder.mkdir()
    for path in a100_tf_files:
        shutil.copy(path, folder)
    return folder


def generator(args, cwd, env):
    return subprocess.run([sys.executable, "-m", "mlel.label_generator", *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def marker_letter(pdf_bytes: bytes) -> str:
    runs = []
    PdfReader(io.BytesIO(pdf_bytes)).pages[0].extract_text(
        visitor_text=lambda text, cm, tm, fd, size: runs.append((text.strip(), size)) if text.strip() else None)
    letters = [text for text, size in runs if size == pytest.approx(MARKER_FONT_SIZE)]
    assert len(letters) == 1
    return letters[0]


def test_label_from_one_mlee_file(tmp_path, subset, cli_env):
    vgg = next(p for p in subset.iterdir() if json.loads(p.read_text())["config"]["model"] == "VGG16")
    out = tmp_path / "vgg.pdf"
    done = generator(["-f", vgg, "-o", out], tmp_path, cli_env)
    assert done.returncode == 0, done.stderr
    text = PdfReader(out).pages[0].extract_text()
    assert "VGG16" in text and A100_TF in text and "Energy measured (sampled power): GPU (NVML)" in text
    # rated among the logs of its folder, against ResNet101: the letter rate_results gives
    from mlel.ratings import rate_results
    from mlel.results import load_results

    rated = rate_results(load_results([subset]), "infer", "ResNet101")
    expected = rated.loc[rated["model"] == "VGG16", "compound_rating_letter"].item()
    assert marker_letter(out.read_bytes()) == expected
    assert str(out.name) in done.stderr  # says where it wrote


def test_a_run_alone_in_its_environment_is_labelled_with_a_warning(tmp_path, subset, cli_env):
    alone = tmp_path / "alone"
    alone.mkdir()
    vgg = next(p for p in subset.iterdir() if json.loads(p.read_text())["config"]["model"] == "VGG16")
    shutil.copy(vgg, alone)
    done = generator(["-f", alone / vgg.name, "-o", tmp_path / "alone.png"], tmp_path, cli_env)
    assert done.returncode == 0, done.stderr
    assert "VGG16 is the only model with infer runs" in done.stderr and "its ratings say nothing" in done.stderr
    pdf = generator(["-f", alone / vgg.name, "-o", tmp_path / "alone.pdf"], tmp_path, cli_env)
    text = " ".join(PdfReader(tmp_path / "alone.pdf").pages[0].extract_text().split())
    assert pdf.returncode == 0 and "Not compared: the only model in its environment" in text
    crowded = generator(["-f", vgg, "-o", tmp_path / "crowded.png"], tmp_path, cli_env)
    assert crowded.returncode == 0 and "its ratings say nothing" not in crowded.stderr


def test_label_by_model_and_environment_png(tmp_path, subset, cli_env):
    done = generator(["--task", "inference", "--model", "ResNet101", "--environment", A100_TF, "-d", subset,
                      "-o", "label.png", "--dpi", "100"], tmp_path, cli_env)
    assert done.returncode == 0, done.stderr
    image = Image.open(tmp_path / "label.png")
    assert image.format == "PNG" and image.size[0] == 393
    # by default a file label is drawn at 300 dpi, where its QR code is large enough to scan
    done = generator(["--task", "inference", "--model", "ResNet101", "--environment", A100_TF, "-d", subset,
                      "-o", "default.png"], tmp_path, cli_env)
    assert done.returncode == 0 and Image.open(tmp_path / "default.png").size == (1181, 2125)


def test_our_estimated_run_with_format_overriding_suffix(tmp_path, our_results, cli_env):
    file = next(our_results.glob("*MLP*.json"))
    done = generator(["-f", file, "-o", "label.svg", "--format", "pdf", "--reference", "LogisticRegression"],
                     tmp_path, cli_env)
    assert done.returncode == 0, done.stderr
    data = (tmp_path / "label.svg").read_bytes()
    assert data.startswith(b"%PDF")  # --format wins over the suffix
    text = " ".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    assert "MLP" in text and "ESTIMATE" in text
    assert "Energy estimated: CPU (CodeCarbon TDP x load) + RAM (CodeCarbon RAM model)" in text
    assert "Ratings relative to LogisticRegression" in text


def test_default_output_name_and_format(tmp_path, our_results, cli_env):
    done = generator(["--task", "infer", "--model", "KNN", "-d", our_results], tmp_path, cli_env)
    assert done.returncode == 0, done.stderr
    written = list(tmp_path.glob("label_infer_KNN_*.pdf"))
    assert len(written) == 1 and written[0].read_bytes().startswith(b"%PDF")


def test_rating_options_change_the_compound_rating(tmp_path, our_results):
    from mlel.label_generator import run

    def letter(*extra):
        out = tmp_path / "x.pdf"
        assert run(["--task", "infer", "--model", "MLP", "-d", str(our_results), "-o", str(out),
                    "--reference", "LogisticRegression", *extra]) == 0
        return marker_letter(out.read_bytes())

    best, worst = letter("--rating-mode", "best"), letter("--rating-mode", "worst")
    assert best < worst  # "A" < "E": best mode is never worse
    # all weight on accuracy: the most accurate model gets accuracy's rating, A
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"energy_per_sample_j": 0, "time_per_sample_s": 0, "accuracy": 1,
                                   "parameters": 0, "model_size_bytes": 0}))
    assert letter("--weights", str(weights)) == "A"
    # boundaries so strict that no index passes: everything rates E
    boundaries = tmp_path / "boundaries.json"
    boundaries.write_text(json.dumps({m: [1e9, 1e8, 1e7, 1e6] for m in
                                      ("energy_per_sample_j", "time_per_sample_s", "accuracy", "parameters", "model_size_bytes")}))
    assert letter("--boundaries", str(boundaries)) == "E"


def _bad_inputs(tmp, subset):
    (tmp / "notes.txt").write_text("not json")
    (tmp / "other.json").write_text('{"hello": "world"}')
    (tmp / "a_file").write_text("x")
    (tmp / "outdir").mkdir()
    one = sorted(subset.iterdir())[0]
    model_args = ["--task", "inference", "-d", subset]
    return {
        "missing file": (["-f", tmp / "nope.json", "-o", tmp / "out.pdf"], "not found"),
        "not json": (["-f", tmp / "notes.txt", "-o", tmp / "out.pdf"], "invalid JSON"),
        "not a results log": (["-f", tmp / "other.json", "-o", tmp / "out.pdf"], "neither an mlel results file nor an MLEE log"),
        "unknown model": ([*model_args, "--model", "ResNet9000", "-o", tmp / "out.pdf"], "'ResNet50'"),
        "unknown environment": ([*model_args, "--model", "ResNet101", "--environment", "TPU", "-o", tmp / "out.pdf"], A100_TF),
        "unknown reference": (["-f", one, "--reference", "AlexNet", "-o", tmp / "out.pdf"], "'ResNet101'"),
        "unwritable output": (["-f", one, "-o", tmp / "a_file" / "out.pdf"], "cannot write"),
        "output is a folder": (["-f", one, "-o", tmp / "outdir", "--format", "pdf"], "is a folder"),
        "unknown suffix": (["-f", one, "-o", tmp / "out.jpg"], ".png, .pdf, .svg"),
        "unknown mode": (["-f", one, "--rating-mode", "median-ish", "-o", tmp / "out.pdf"], "optimistic median"),
        "nothing to label": ([], "-f FILE"),
        "file and model disagree": (["-f", one, "--model", "NoSuchNet", "-o", tmp / "out.pdf"], "not 'NoSuchNet'"),
        "model in several environments": (["--task", "inference", "-d", REFERENCE_DIR, "--model", "VGG16", "-o", tmp / "out.pdf"],
                                          "ran infer in several environments, pick one with --environment"),
        "a folder given to -f": (["-f", subset, "-o", tmp / "out.pdf"], "is a folder (use -d for folders)"),
        "a training run as inference": (["-f", sorted(REFERENCE_DIR.glob("train_*.json"))[0], "--task", "infer",
                                         "-o", tmp / "out.pdf"], "holds a train run, not infer"),
        "dpi out of range": (["-f", one, "--dpi", "5", "-o", tmp / "out.png"], "--dpi must be between 20 and 1200"),
        "an empty folder": ([*model_args[:2], "-d", tmp / "outdir", "--model", "VGG16", "-o", tmp / "out.pdf"], "no results in"),
    }


@pytest.mark.parametrize("case", ["missing file", "not json", "not a results log", "unknown model",
                                  "unknown environment", "unknown reference", "unwritable output",
                                  "output is a folder", "unknown suffix", "unknown mode", "nothing to label",
                                  "file and model disagree", "model in several environments", "a folder given to -f",
                                  "a training run as inference", "dpi out of range", "an empty folder"])
def test_bad_input_is_one_line_and_exit_2_and_leaves_nothing(case, tmp_path, subset, cli_env):
    args, hint = _bad_inputs(tmp_path, subset)[case]
    before = set(tmp_path.rglob("*"))
    done = generator(args, tmp_path, cli_env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "error" in lines[0] and hint in lines[0], lines[0]
    assert set(tmp_path.rglob("*")) == before  # no label, no temporary file


def test_a_data_set_missing_from_an_existing_environment_is_named_as_such():
    import pandas as pd

    from mlel.errors import UserInputError
    from mlel.labels.generate import select_run

    table = pd.DataFrame({"task": ["train"] * 3, "model": ["cnn", "svm", "svm"], "dataset": ["digits", "wine", "digits"],
                          "environment": ["torch env", "sklearn env", "sklearn env"], "date": ["d1", "d2", "d3"]})
    with pytest.raises(UserInputError, match="no train run with data set 'wine' in 'torch env'; data sets there: 'digits'"):
        select_run(table, "train", "cnn", environment="torch env", dataset="wine")
    with pytest.raises(UserInputError, match="no train run with environment 'tpu env'"):
        select_run(table, "train", "cnn", environment="tpu env", dataset="digits")
    assert select_run(table, "train", "cnn", environment="torch env", dataset="digits")["date"] == "d1"


def test_the_default_reference_is_the_most_widespread_model_of_the_runs_environment():
    import pandas as pd

    from mlel.labels.generate import choose_reference

    table = pd.DataFrame({"task": ["train"] * 6, "dataset": ["d"] * 6,
                          "environment": ["A", "A", "B", "B", "C", "D"],
                          "model": ["svm", "logistic_regression", "knn", "logistic_regression", "ResNet101", "alone"]})
    run = table.iloc[0]
    assert choose_reference(table, "train", run, None) == "logistic_regression"  # in 2 groups; svm in 1
    assert choose_reference(table, "train", table.iloc[4], None) == "ResNet101"  # MLEE's, where it ran
    assert choose_reference(table, "train", table.iloc[5], None) == "alone"  # nothing else ran there
    assert choose_reference(table, "train", run, "svm") == "svm"


def test_by_model_a_run_of_its_own_is_labelled_rather_than_a_search_evaluation():
    import pandas as pd

    from mlel.labels.generate import select_run

    table = pd.DataFrame({"task": ["infer"] * 3, "model": ["mlp"] * 3, "dataset": ["digits"] * 3,
                          "environment": ["env"] * 3, "date": ["d1", "d2", "d3"], "run_id": ["grid", "trial-1", "trial-2"],
                          "search_id": ["", "search-a", "search-a"]})
    assert select_run(table, "infer", "mlp")["run_id"] == "grid"  # the search's trials are other configurations
    only_search = table[table["search_id"] != ""]
    assert select_run(only_search, "infer", "mlp")["run_id"] == "trial-2"  # else the most recent


def test_a_label_rated_with_other_settings_says_so(tmp_path, subset, cli_env):
    weights = tmp_path / "w.json"
    weights.write_text(json.dumps({"accuracy": 1}))
    args = ["--task", "inference", "--model", "ResNet101", "--environment", A100_TF, "-d", subset]
    done = generator([*args, "--rating-mode", "pessimistic mean", "--weights", weights, "-o", "custom.pdf"], tmp_path, cli_env)
    assert done.returncode == 0, done.stderr
    assert "Rated with pessimistic mean, custom weights" in PdfReader(tmp_path / "custom.pdf").pages[0].extract_text()
    plain = generator([*args, "-o", "plain.pdf"], tmp_path, cli_env)
    assert plain.returncode == 0 and "custom" not in PdfReader(tmp_path / "plain.pdf").pages[0].extract_text()

    from mlel.labels.generate import RatingOptions

    assert RatingOptions(mode="optimistic_median", boundaries={"x": [1]}).describe() == "custom boundaries"
    assert RatingOptions().describe() == ""
