"""Batch prediction over photo collections: ``python -m model.batch INPUT... --out OUT.parquet``.

``inputs`` turns folders, zip archives, image files and path lists into one item per photo;
``rows`` turns a photo into table rows (one per face, or one error row); ``runner`` runs the
items in this process or on a Dask cluster, each task writing its own Parquet part; ``report``
summarises the table. Needs ``requirements-batch.txt``.
"""
