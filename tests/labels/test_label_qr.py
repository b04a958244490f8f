import io
import json

import numpy as np
import pytest
import qrcode
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import lost_point

from labels.conftest import estimated_training_row, rated_row
from labels.qr_decode import decode_matrix
from mlel.labels import label_data_from_row, render_label
from mlel.labels.draw import HEIGHT_MM, MM_PER_INCH, QR_SIZE_MM, QR_X_MM, QR_Y_MM
from mlel.labels.qr import mask_penalty, qr_matrix, qr_path

PAYLOADS = ["hello", "0123456789" * 5, "HELLO WORLD 42", '{"model":"ResNet101 ✓","x":1}', "x" * 400]


def _reference_matrix(payload: str) -> np.ndarray:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(payload.encode("utf-8"))
    code.make(fit=True)
    return np.array(code.get_matrix(), dtype=bool)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_matrix_is_exactly_what_qrcode_makes(payload):
    assert np.array_equal(qr_matrix(payload), _reference_matrix(payload))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_matrix_decodes_to_the_payload(payload):
    assert decode_matrix(qr_matrix(payload)) == payload


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([21, 25, 33, 45]), st.integers(0, 2**32 - 1), st.floats(0.2, 0.8))
def test_mask_penalty_matches_qrcode(n, seed, dark_share):
    modules = np.random.default_rng(seed).random((n, n)) < dark_share
    assert mask_penalty(modules) == lost_point(modules.tolist())


def test_vector_path_covers_exactly_the_dark_modules():
    matrix = qr_matrix(label_data_from_row(rated_row()).qr_payload)
    n = matrix.shape[0]
    path = qr_path(matrix, x0=10.0, y0=20.0, size=float(n))
    centres = np.array([(10.0 + j + 0.5, 20.0 + n - i - 0.5) for i in range(n) for j in range(n)])
    assert np.array_equal(path.contains_points(centres).reshape(n, n), matrix)


@pytest.mark.parametrize("row, settings", [(rated_row(), ""), (estimated_training_row(), ""),
                                           (rated_row(reference_model="a_long_reference_model_name"),
                                            "pessimistic median, custom boundaries, custom weights")],
                         ids=["measured", "estimated", "every footer line"])
def test_qr_code_read_back_from_the_rendered_png(row, settings):
    """Render the label, sample the code's modules from the pixels and decode them: the label's payload
    (no text may run into the code)."""
    label = label_data_from_row(row, link="https://elex.example.org/?run={run_id}", rating_settings=settings)
    dpi = 300
    image = np.asarray(Image.open(io.BytesIO(render_label(label, "png", dpi=dpi))).convert("L"))
    n = qr_matrix(label.qr_payload).shape[0]
    px_per_mm = dpi / MM_PER_INCH
    cell = QR_SIZE_MM / n
    top_mm = HEIGHT_MM - (QR_Y_MM + QR_SIZE_MM)  # distance of the code's top edge from the image top
    rows = ((top_mm + (np.arange(n) + 0.5) * cell) * px_per_mm).astype(int)
    cols = ((QR_X_MM + (np.arange(n) + 0.5) * cell) * px_per_mm).astype(int)
    sampled = image[np.ix_(rows, cols)] < 128
    decoded = decode_matrix(sampled)
    assert decoded == label.qr_payload
    payload = json.loads(decoded)
    assert payload["model"] == label.model and payload["rating"] == label.compound_letter
    assert payload["energy"] == ("estimate" if label.energy_is_estimate else "sampled power")
    assert payload["url"] == label.link
