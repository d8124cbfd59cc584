"""The Batch tab: many photos (or a .zip of them) at once, a table of every face and the collection's make-up.

The work runs as a Dash background callback: the browser polls for progress, so a large
batch never meets gunicorn's request timeout, and Cancel stops it. ``dashboard.jobs`` says
where it runs (a forked process, or Celery workers when Redis is configured) and where its
progress and results live; the photos are never written to disk.
"""

from __future__ import annotations

import importlib.util
import io

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.background_callback.managers import BaseBackgroundCallbackManager

from dashboard.alt_text import summary_texts
from dashboard.components import alert, graph, upload_zone
from dashboard.figures import image_data_uri
from dashboard.jobs import queue_error
from dashboard.settings import Settings
from dashboard.tabs.batch_photos import MAX_PHOTOS, BatchRefused, uploaded_photos
from model.batch.rows import photo_rows, probability_columns
from model.batch.summary import ASSUMPTION, summarise, summary_figures
from model.config import MODEL_DIR, ModelConfig
from model.predictor import Predictor, get_predictor

GRID_COLUMNS = (
    # (field, header, cell renderer, width): who is in the photo first, then how the row was read
    ("file", "file", None, 150),
    ("face", "face", None, 70),
    ("age", "age", "OneDecimal", 75),
    ("age_range", "80% range", None, 95),
    ("gender", "gender", None, 90),
    ("gender_probability", "p(gender)", "Percent", 95),
    ("race", "race", None, 85),
    ("race_probability", "p(race)", "Percent", 85),
    ("detected", "detected", None, 95),
    ("error", "error", None, 200),
)


def grid_row(row: dict, thumbnail: str | None) -> dict:
    """One table row of the grid: a batch row (``model.batch.rows``) with its top labels' probabilities."""
    has_face = row.get("face") is not None
    return {
        "thumbnail": thumbnail,
        **{field: row.get(field) for field in ("file", "face", "age", "gender", "race", "detected", "error")},
        "age_range": f"{row['age_low']}-{row['age_high']}" if has_face else None,
        "gender_probability": row[f"p_{row['gender']}"] if has_face else None,
        "race_probability": row[f"p_{row['race']}"] if has_face else None,
    }


def parquet_available() -> bool:
    """Parquet needs pyarrow (requirements-batch.txt), which the serving slug leaves out."""
    return importlib.util.find_spec("pyarrow") is not None


def results_grid() -> dag.AgGrid:
    columns = [
        {"field": "thumbnail", "headerName": "crop", "cellRenderer": "FaceThumbnail", "width": 70, "sortable": False, "filter": False},
        *(
            {"field": field, "headerName": header, "width": width, **({"cellRenderer": renderer} if renderer else {})}
            for field, header, renderer, width in GRID_COLUMNS
        ),
    ]
    return dag.AgGrid(
        id="batch-grid",
        columnDefs=columns,
        rowData=[],
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 60},
        dashGridOptions={"rowHeight": 56, "pagination": True, "paginationPageSize": 20},
        csvExportParams={"fileName": "face2data-batch.csv", "columnKeys": [field for field, *_ in GRID_COLUMNS]},
        style={"height": "560px"},
    )


def batch_tab(settings: Settings) -> html.Div:
    downloads = html.Div(
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
    )
    return html.Div(
        [
            upload_zone(
                "batch-upload",
                f"Drop up to {MAX_PHOTOS} photos, or a .zip of them, here, or ",
                f"JPEG, PNG, WebP or HEIC; {settings.batch_max_mb:.0f} MB in all",
                multiple=True,  # no `accept`: a stray file should show as an error row, not vanish in the browser
            ),
            html.Div(
                [
                    html.Div(
                        html.Div(
                            id="batch-progress",
                            role="progressbar",
                            className="progress-bar progress-bar-striped progress-bar-animated",
                            style={"width": "0%"},
                            **{"aria-label": "Batch progress", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0"},
                        ),
                        className="progress flex-grow-1 me-2",
                        style={"height": "1.4rem"},
                    ),
                    dbc.Button("Cancel", id="batch-cancel", color="secondary", size="sm", outline=True, disabled=True),
                ],
                id="batch-progress-row",
                className="d-flex align-items-center my-2",
                style={"display": "none"},
            ),
            html.Div(id="batch-message", className="my-2"),
            html.Div(id="batch-queue-error", className="my-2"),
            dbc.RadioItems(
                id="batch-faces",
                options=[{"label": "Count every face", "value": "all"}, {"label": "Count the largest face of each photo", "value": "largest"}],
                value="all",
                inline=True,
                className="small mb-2",
            ),
            dbc.Row([dbc.Col([results_grid(), downloads], lg=8), dbc.Col(html.Div(id="batch-summary"), lg=4)], className="g-3"),
            dcc.Store(id="batch-rows", data=[]),
        ]
    )


def progress_of(done: int, total: int) -> tuple[dict, str, str]:
    """The progress bar's width, its words and its value for screen readers."""
    percent = round(100 * done / total)
    return {"width": f"{percent}%"}, f"{done} of {total} photos", str(percent)


def process_batch(set_progress, contents: list[str] | None, filenames: list[str] | None, max_bytes: int) -> tuple:
    """The background job: every photo through a predictor of its own (LiteRT interpreters do not survive a fork)."""
    if not contents:
        return no_update, no_update, no_update
    try:
        photos = uploaded_photos(contents, filenames, max_bytes)
    except BatchRefused as refusal:
        return [], alert(str(refusal)), []
    predictor = Predictor(MODEL_DIR)
    rows, grid = [], []
    for done, (name, read) in enumerate(photos, start=1):
        photo, faces = photo_rows(name, read, predictor)
        thumbnails = [image_data_uri(face.crop, 64) for face in faces] or [None]
        for row, thumbnail in zip(photo, thumbnails, strict=False):
            rows.append(row)
            grid.append(grid_row(row, thumbnail))
        set_progress(progress_of(done, len(photos)))
    errors = sum(1 for row in rows if row.get("error"))
    faces = sum(1 for row in rows if row.get("face") is not None)
    message = html.P(f"{len(photos)} photos, {faces} faces, {errors} error{'s' if errors != 1 else ''}.", id="batch-summary-line")
    return grid, message, rows


def summary_view(rows: list[dict], faces: str) -> list:
    """The collection's make-up from the rows (``model.batch.summary``): the assumption in a sentence, then the charts."""
    if not rows:
        return []
    artifacts = get_predictor().artifacts
    columns = {key: [row.get(key) for row in rows] for key in ("file", "face", "box", "age", "error", *probability_columns(artifacts.config))}
    summary = summarise(columns, artifacts.config, artifacts.references, faces)
    texts = summary_texts(summary)
    charts = [graph(figure, texts[section], className=f"batch-{section}-chart") for section, figure in summary_figures(summary, height=260).items()]
    return [html.P(ASSUMPTION, className="small text-muted", id="batch-assumption"), *charts]


def parquet_bytes(rows: list[dict], config: ModelConfig) -> bytes:
    """The rows as the batch CLI writes them (``model.batch.table``); only where pyarrow is installed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from model.batch.table import schema

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema(config)), buffer)
    return buffer.getvalue()


def register_batch_callbacks(app: Dash, manager: BaseBackgroundCallbackManager, settings: Settings) -> None:
    max_bytes = settings.batch_max_bytes

    def explain_unreachable_queue(_contents: list[str] | None) -> object:
        """Said beside the upload when the job cannot even be queued (Redis down): the background callback itself fails unseen."""
        reason = queue_error(manager)
        return alert(reason) if reason else None

    def run_batch_job(set_progress, contents: list[str] | None, filenames: list[str] | None) -> tuple:
        return process_batch(set_progress, contents, filenames, max_bytes)

    app.callback(
        Output("batch-grid", "rowData"),
        Output("batch-message", "children"),
        Output("batch-rows", "data"),
        Input("batch-upload", "contents"),
        State("batch-upload", "filename"),
        background=True,
        manager=manager,
        progress=[Output("batch-progress", "style"), Output("batch-progress", "children"), Output("batch-progress", "aria-valuenow")],
        running=[
            (Output("batch-upload", "disabled"), True, False),
            (Output("batch-cancel", "disabled"), False, True),
            (Output("batch-progress-row", "style"), {"display": "flex"}, {"display": "none"}),
        ],
        cancel=[Input("batch-cancel", "n_clicks")],
        prevent_initial_call=True,
    )(run_batch_job)
    app.callback(Output("batch-queue-error", "children"), Input("batch-upload", "contents"), prevent_initial_call=True)(explain_unreachable_queue)
    app.callback(Output("batch-summary", "children"), Input("batch-rows", "data"), Input("batch-faces", "value"))(summary_view)
    app.callback(Output("batch-grid", "exportDataAsCsv"), Input("batch-csv", "n_clicks"), prevent_initial_call=True)(lambda _clicks: True)
    app.callback(Output("batch-download", "data"), Input("batch-parquet", "n_clicks"), State("batch-rows", "data"), prevent_initial_call=True)(
        lambda _clicks, rows: dcc.send_bytes(parquet_bytes(rows, get_predictor().config), "face2data-batch.parquet") if rows else no_update
    )
