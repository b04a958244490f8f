import io
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from labels.conftest import A100_TF, estimated_training_row, rated_row
from mlel.errors import UserInputError
from mlel.labels import RATING_LETTERS, label_data_from_row, render_label
from mlel.labels.draw import HEIGHT_MM, MARKER_FONT_SIZE, RATING_COLORS, WIDTH_MM


def pdf_text(pdf: bytes) -> tuple[str, list[tuple[str, float]]]:
    """The page's text, and each text run with its font size."""
    runs: list[tuple[str, float]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            runs.append((text.strip(), float(font_size)))

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return page.extract_text(visitor_text=visit), runs


def compound_letter_in(runs) -> list[str]:
    return [text for text, size in runs if size == pytest.approx(MARKER_FONT_SIZE)]


def test_pdf_text_has_model_rating_figures_and_provenance():
    pdf = render_label(label_data_from_row(rated_row()), "pdf")
    assert pdf.startswith(b"%PDF")
    text, runs = pdf_text(pdf)
    for expected in ("ResNet101", "Inference", "imagenet", A100_TF, "12.3 mJ", "420 µs", "77.1 %", "44.6 M",
                     "171 MB", "CO\u2082 per sample", "248 µg", "2022-03-03", "Energy measured (sampled power): GPU (NVML) + CPU (RAPL)", "MEASURED",
                     "Ratings relative to ResNet50"):
        assert expected in text, expected
    assert compound_letter_in(runs) == ["B"]
    assert "ESTIMATE" not in text and "\u2248" not in text


def test_estimate_is_marked_as_such():
    text, runs = pdf_text(render_label(label_data_from_row(estimated_training_row()), "pdf"))
    assert "ESTIMATE" in text and "MEASURED" not in text
    flat = " ".join(text.split())
    assert "Energy estimated: CPU (CodeCarbon TDP x load) + RAM (CodeCarbon RAM model)" in flat
    assert "\u2248 123 J" in text  # the energy figure itself carries the mark
    assert "Training energy" in text and "3.20 s" in text
    assert compound_letter_in(runs) == ["D"]


@pytest.mark.parametrize("rating", range(5))
def test_every_compound_letter(rating):
    letter = RATING_LETTERS[rating]
    label = label_data_from_row(rated_row(compound_rating=rating, compound_rating_letter=letter))
    _, runs = pdf_text(render_label(label, "pdf"))
    assert compound_letter_in(runs) == [letter]
    # the black marker sits level with its letter's bar: find the marker row in the PNG
    image = np.asarray(Image.open(io.BytesIO(render_label(label, "png", dpi=100))).convert("RGB")).astype(int)
    image = image[: int(0.55 * image.shape[0])]  # the scale block (the code and the icons lie below)
    x_marker = int(0.92 * image.shape[1])
    dark_rows = np.flatnonzero((image[:, x_marker] < 40).all(axis=1))
    x_bar = int(0.2 * image.shape[1])  # inside every bar, right of its letter
    bar_colour = np.array([int(RATING_COLORS[rating][i:i + 2], 16) for i in (1, 3, 5)])
    bar_rows = np.flatnonzero((np.abs(image[:, x_bar] - bar_colour) < 6).all(axis=1))
    assert dark_rows.size and bar_rows.size
    assert abs(np.median(dark_rows) - np.median(bar_rows)) < 3


def test_png_size_and_header_colour():
    png = render_label(label_data_from_row(rated_row()), "png", dpi=150)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (int(WIDTH_MM / 25.4 * 150), int(HEIGHT_MM / 25.4 * 150))  # matplotlib truncates
    assert image.convert("RGB").getpixel((image.size[0] // 2, 5)) == (0x1D, 0x4F, 0x91)


def test_svg_is_vector_xml_of_the_label_size():
    svg = render_label(label_data_from_row(rated_row()), "svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert float(root.get("width").removesuffix("pt")) == pytest.approx(WIDTH_MM / 25.4 * 72, rel=1e-3)
    assert b"<image" not in svg  # nothing rasterised
    assert b"Energy label: ResNet101" in svg


def test_pdf_is_reproducible_and_thread_safe():
    labels = [label_data_from_row(rated_row(compound_rating=r)) for r in range(5)]
    alone = [render_label(label, "pdf") for label in labels]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda label: render_label(label, "pdf"), labels * 2))
    assert together == alone * 2


def test_long_names_still_fit_and_render():
    row = rated_row(model="EfficientNetB7-with-a-very-long-experimental-suffix",
                    environment="Intel Xeon Platinum 8375C CPU @ 2.90GHz (64 threads) - ONNX Runtime (PT export) 1.10.0")
    text, _ = pdf_text(render_label(label_data_from_row(row), "pdf"))
    assert "EfficientNetB7-with-a-very-long-experimental-suffix" in text
    assert "ONNX Runtime (PT export) 1.10.0" in text


def test_unknown_format_is_a_user_error():
    with pytest.raises(UserInputError, match="'png', 'pdf', 'svg'"):
        render_label(label_data_from_row(rated_row()), "jpeg")


def test_mixed_provenance_names_both_parts_and_counts_as_estimate():
    row = rated_row(energy_is_estimate=True,
                    energy_provenance_text="measured (hardware counter): GPU (NVML energy counter); estimated: CPU (CodeCarbon TDP x load) + RAM (CodeCarbon RAM model)")
    text, _ = pdf_text(render_label(label_data_from_row(row), "pdf"))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    at = next(i for i, line in enumerate(lines) if line.endswith("Energy measured (hardware counter): GPU (NVML energy counter);"))
    # the estimated part follows on its own lines, broken before " + ", never inside a meter's name
    assert lines[at + 1:at + 3] == ["estimated: CPU (CodeCarbon TDP x load)", "+ RAM (CodeCarbon RAM model)"]
    assert "ESTIMATE" in text and "\u2248 12.3 mJ" in text


def test_svg_keeps_its_text():
    label = label_data_from_row(rated_row())
    svg = render_label(label, "svg").decode()
    assert svg.count("<text") > 20 and "ResNet101" in svg and "MEASURED" in svg  # text, not glyph outlines


def test_names_too_long_for_the_label_are_cut_short_not_run_off_it():
    env = "A100-SXM4-80GB x8 (NVLink, driver 550.54.15) - PyTorch 2.13.0+cu124 with TensorRT 10.0.1 and CUDAExecutionProvider"
    label = label_data_from_row(rated_row(environment=env * 2, model="M" * 80))
    text, _ = pdf_text(render_label(label, "pdf"))
    flat = text.replace("\n", "")
    assert "\u2026" in flat and "M" * 80 not in flat and env * 2 not in flat
    assert render_label(label_data_from_row(rated_row()), "pdf")  # short names are untouched (other tests)
    assert "\u2026" not in pdf_text(render_label(label_data_from_row(rated_row()), "pdf"))[0]
