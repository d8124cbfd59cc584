"""The Batch tab: many photos (or a .zip of them) at once, a table of every face and the collection's make-up.

The work runs as a Dash background callback: the browser polls for progress, so a large
batch never meets gunicorn's request timeout, and Cancel stops it. The photos stay in memory:
they reach the job in the forked process's memory, and only the results (rows and 64 px
thumbnails) go to the callback manager's cache, which lives in RAM (``/dev/shm``) and expires.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from collections.abc import Callable
from functools import partial

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import diskcache
from dash import Dash, DiskcacheManager, Input, Output, State, dcc, html, no_update

from dashboard.components import alert, graph, upload_zone
from dashboard.figures import image_data_uri
from dashboard.security import max_batch_bytes
from model.batch.inputs import ZIP_SEPARATOR, archive_members
from model.batch.rows import photo_rows, probability_columns
from model.batch.summary import summarise, summary_figures
from model.config import MODEL_DIR, ModelConfig
from model.decode import ImageError, decode_data_url, refuse_oversize
from model.predictor import Predictor, get_predictor

MAX_PHOTOS = 100
RESULT_EXPIRY_S = 600
"""A finished batch's rows stay in the manager's cache this long, then are dropped."""
TABLE_COLUMNS = ("file", "face", "age", "age_low", "age_high", "gender", "race", "detected", "error")


class BatchRefused(ValueError):
    """A batch over the caps: the message says which and how to fit."""


def uploaded_photos(contents: list[str], filenames: list[str]) -> list[tuple[str, Callable[[], bytes]]]:
    """(name, reader) of every photo of the upload, zip archives opened in memory; refused over the caps.

    A reader returns the photo's bytes or raises the API's ``ImageError`` (unreadable, over
    ``MAX_BYTES``), which ``photo_rows`` turns into an error row, as the batch CLI does.
    """
    total = sum(len(content.partition(",")[2]) * 3 // 4 for content in contents)  # base64 carries 3 bytes in 4 characters
    if total > max_batch_bytes():
        raise BatchRefused(
            f"These files add up to {total / 2**20:.0f} MB; a batch takes up to {max_batch_bytes() / 2**20:.0f} MB (BATCH_MAX_MB). Send fewer or smaller photos."
        )
    photos = []
    for content, name in zip(contents, filenames, strict=True):
        read = partial(decode_data_url, content)
        archive = _zip_archive(name, read)
        photos += _members(name, archive) if archive else [(name, read)]
    if len(photos) > MAX_PHOTOS:
        raise BatchRefused(
            f"This batch holds {len(photos)} photos; a batch takes up to {MAX_PHOTOS}. Split it, or use `python -m model.batch` for collections."
        )
    return photos


def _zip_archive(name: str, read: Callable[[], bytes]) -> zipfile.ZipFile | None:
    """The upload as an open zip archive, if it is named and made like one."""
    if not name.lower().endswith(".zip"):
        return None
    try:
        data = io.BytesIO(read())
    except ImageError:
        return None
    return zipfile.ZipFile(data) if zipfile.is_zipfile(data) else None


def _members(name: str, archive: zipfile.ZipFile) -> list[tuple[str, Callable[[], bytes]]]:
    """A reader per photo of ``archive`` (``archive_members``: as the CLI reads it), refusing a member over ``MAX_BYTES`` before reading it."""

    def reader(info: zipfile.ZipInfo) -> Callable[[], bytes]:
        def read() -> bytes:
            refuse_oversize(info.file_size)
            return archive.read(info)

        return read

    return [(f"{name}{ZIP_SEPARATOR}{info.filename}", reader(info)) for info in archive_members(archive)]


def batch_tab() -> html.Div:
    cap = max_batch_bytes() / 2**20
    return html.Div(
        [
            upload_zone(
                "batch-upload",
                "Drop up to 100 photos, or a .zip of them, here, or ",
                f"JPEG, PNG, WebP or HEIC; {cap:.0f} MB in all",
                multiple=True,  # no `accept`: a stray file should show as an error row, not vanish in the browser
            ),
            html.Div(
                [
                    dbc.Progress(id="batch-progress", value=0, striped=True, animated=True, className="flex-grow-1 me-2", style={"height": "1.4rem"}),
                    dbc.Button("Cancel", id="batch-cancel", color="secondary", size="sm", outline=True, disabled=True),
                ],
                id="batch-progress-row",
                className="d-flex align-items-center my-2",
                style={"display": "none"},
            ),
            html.Div(id="batch-message", className="my-2"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dag.AgGrid(
                                id="batch-grid",
                                columnDefs=[
                                    {
                                        "field": "thumbnail",
                                        "headerName": "",
                                        "cellRenderer": "FaceThumbnail",
                                        "width": 70,
                                        "sortable": False,
                                        "filter": False,
                                    },
                                    *({"field": column, "headerName": column} for column in TABLE_COLUMNS),
                                ],
                                rowData=[],
                                defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 80},
                                dashGridOptions={"rowHeight": 56, "pagination": True, "paginationPageSize": 20},
                                csvExportParams={"fileName": "face2data-batch.csv", "columnKeys": list(TABLE_COLUMNS)},
                                style={"height": "560px"},
                            ),
                            html.Div(
                                [
                                    dbc.Button("Download CSV", id="batch-csv", size="sm", className="me-2"),
                                    dbc.Button(
                                        "Download Parquet",
                                        id="batch-parquet",
                                        size="sm",
                                        disabled=not parquet_available(),
                                        title="" if parquet_available() else "Parquet needs pyarrow: pip install -r requirements-batch.txt",
                                    ),
                                    dcc.Download(id="batch-download"),
                                ],
                                className="mt-2",
                            ),
                        ],
                        lg=8,
                    ),
                    dbc.Col(html.Div(id="batch-summary"), lg=4),
                ],
                className="g-3",
            ),
            dcc.Store(id="batch-rows", data=[]),
        ]
    )


def parquet_available() -> bool:
    """Parquet needs pyarrow (requirements-batch.txt), which the serving slug leaves out."""
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


def process_batch(set_progress, contents: list[str] | None, filenames: list[str] | None) -> tuple:
    """The background job: every photo through a predictor of its own (LiteRT interpreters do not survive a fork)."""
    if not contents:
        return no_update, no_update, no_update, no_update
    try:
        photos = uploaded_photos(contents, filenames)
    except BatchRefused as refusal:
        return [], [], alert(str(refusal)), []
    predictor = Predictor(MODEL_DIR)
    rows, grid = [], []
    for done, (name, read) in enumerate(photos, start=1):
        photo, faces = photo_rows(name, read, predictor)
        thumbnails = [image_data_uri(face.crop, 64) for face in faces] or [None]
        for row, thumbnail in zip(photo, thumbnails, strict=False):
            rows.append(row)
            grid.append({"thumbnail": thumbnail, **{column: row.get(column) for column in TABLE_COLUMNS}})
        set_progress((round(100 * done / len(photos)), f"{done} of {len(photos)} photos"))
    columns = {key: [row.get(key) for row in rows] for key in ("file", "face", "age", "error", *probability_columns(predictor.config))}
    summary = summarise(columns, list(predictor.config.genders), list(predictor.config.races))
    charts = [graph(figure, className=f"batch-{section}-chart") for section, figure in summary_figures(summary, height=260).items()]
    errors = len(summary.errors)
    message = html.P(f"{len(photos)} photos, {summary.faces} faces, {errors} error{'s' if errors != 1 else ''}.", id="batch-summary-line")
    return grid, charts, message, rows


def parquet_bytes(rows: list[dict], config: ModelConfig) -> bytes:
    """The rows as the batch CLI writes them (``model.batch.table``); only where pyarrow is installed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from model.batch.table import schema

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema(config)), buffer)
    return buffer.getvalue()


def background_manager() -> DiskcacheManager:
    """Results kept in RAM where the platform has /dev/shm, expiring after ``RESULT_EXPIRY_S``."""
    folder = tempfile.mkdtemp(prefix="face2data-jobs-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    return DiskcacheManager(diskcache.Cache(folder), expire=RESULT_EXPIRY_S)


def register_batch_callbacks(app: Dash, manager: DiskcacheManager) -> None:
    app.callback(
        Output("batch-grid", "rowData"),
        Output("batch-summary", "children"),
        Output("batch-message", "children"),
        Output("batch-rows", "data"),
        Input("batch-upload", "contents"),
        State("batch-upload", "filename"),
        background=True,
        manager=manager,
        progress=[Output("batch-progress", "value"), Output("batch-progress", "label")],
        running=[
            (Output("batch-upload", "disabled"), True, False),
            (Output("batch-cancel", "disabled"), False, True),
            (Output("batch-progress-row", "style"), {"display": "flex"}, {"display": "none"}),
        ],
        cancel=[Input("batch-cancel", "n_clicks")],
        prevent_initial_call=True,
    )(process_batch)
    app.callback(Output("batch-grid", "exportDataAsCsv"), Input("batch-csv", "n_clicks"), prevent_initial_call=True)(lambda _clicks: True)
    app.callback(Output("batch-download", "data"), Input("batch-parquet", "n_clicks"), State("batch-rows", "data"), prevent_initial_call=True)(
        lambda _clicks, rows: dcc.send_bytes(parquet_bytes(rows, get_predictor().config), "face2data-batch.parquet") if rows else no_update
    )
