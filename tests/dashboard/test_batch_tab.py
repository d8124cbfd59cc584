"""The Batch tab's job, run in this process: caps, zip archives, rows, progress and the Parquet download."""

import base64
import io
import zipfile

import pyarrow.parquet as pq
import pytest

from dashboard.settings import Settings
from dashboard.tabs.batch import parquet_bytes, process_batch, summary_view
from dashboard.tabs.batch_photos import BatchRefused, uploaded_photos
from model.predictor import get_predictor

CAP = Settings().batch_max_bytes


def data_url(data: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()


def test_zip_archives_open_in_memory_and_the_caps_say_how_to_fit(fixture_bytes):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("party/b.jpg", fixture_bytes("group.jpg"))
        bundle.writestr("party/a.jpg", fixture_bytes("group.jpg"))
        bundle.writestr("party/.DS_Store", b"junk")
        bundle.writestr(".trash/c.jpg", fixture_bytes("group.jpg"))
    photos = uploaded_photos([data_url(archive.getvalue()), data_url(b"hello")], ["party.zip", "notes.txt"], CAP)
    assert [name for name, _ in photos] == ["party.zip!party/a.jpg", "party.zip!party/b.jpg", "notes.txt"]  # as the CLI reads it
    with pytest.raises(BatchRefused, match="up to 100"):
        uploaded_photos([data_url(b"x")] * 101, [f"{index}.jpg" for index in range(101)], CAP)
    small = Settings.from_environ({"BATCH_MAX_MB": "0.1"}).batch_max_bytes
    with pytest.raises(BatchRefused, match="BATCH_MAX_MB"):
        uploaded_photos([data_url(fixture_bytes("group.jpg"))], ["group.jpg"], small)


def test_the_job_reports_progress_and_returns_rows_charts_and_errors(fixture_bytes):
    progress = []
    names = ["group.jpg", "astronaut.png", "notes.txt"]
    contents = [data_url(fixture_bytes("group.jpg")), data_url(fixture_bytes("astronaut.png")), data_url(b"not a photo")]
    grid, message, rows = process_batch(progress.append, contents, names, CAP)
    assert [value for _, _, value in progress] == ["33", "67", "100"] and progress[-1][:2] == ({"width": "100%"}, "3 of 3 photos")
    assert len(grid) == len(rows) == 8 and sum(row["file"] == "group.jpg" for row in rows) == 6
    assert [row["file"] for row in rows if row.get("error")] == ["notes.txt"]
    assert all(row["thumbnail"].startswith("data:image/jpeg") for row in grid if row["face"] is not None)
    assert "3 photos, 7 faces, 1 error." in message.children
    every, largest = summary_view(rows, "all"), summary_view(rows, "largest")
    assert "UTKFace val" in every[0].children and len(every) == 1 + 5  # the assumption, then ages, gender, race, age groups, faces per photo
    chart, caption = every[2].children  # each chart comes with its words
    gender = chart.figure
    assert caption.children.startswith("Gender, adjusted shares")
    assert [trace.name for trace in gender.data] == ["adjusted", "expected"]
    assert sum(largest[3].children[0].figure.data[1].y) == pytest.approx(1) and largest != every
    table = pq.read_table(io.BytesIO(parquet_bytes(rows, get_predictor().config)))
    assert table.num_rows == 8 and {"p_male", "p_White", "age_low", "error"} <= set(table.column_names)
