"""The batch table's Parquet schema (pyarrow: ``requirements-batch.txt``)."""

from __future__ import annotations

import pyarrow as pa

from model.batch.rows import probability_columns
from model.config import ModelConfig


def schema(config: ModelConfig) -> pa.Schema:
    """Column names and types; the probability columns follow the model's own label order."""
    return pa.schema(
        [
            ("file", pa.string()),
            ("face", pa.int32()),
            ("box", pa.list_(pa.float64(), 4)),
            ("age", pa.float64()),
            ("age_low", pa.int32()),
            ("age_high", pa.int32()),
            *((column, pa.float64()) for column in probability_columns(config)),
            ("gender", pa.string()),
            ("race", pa.string()),
            ("detected", pa.bool_()),
            ("error", pa.string()),
        ]
    )
