"""Output names and label orders shared by training and serving, defined here only.

Training writes these into ``model/config.json``; serving reads them back from there, so
the order a shipped model was trained with always travels with the model itself.
"""

GENDERS: tuple[str, ...] = ("male", "female")
RACES: tuple[str, ...] = ("White", "Black", "Asian", "Indian", "Others")
CLASSES: dict[str, int] = {"gender": len(GENDERS), "race": len(RACES)}
"""The classification outputs and their class counts; age is a distribution, targeted by the years themselves."""
OUTPUTS: tuple[str, ...] = ("age", *CLASSES)
"""The network's outputs by name, in the order every table and chart lists them."""
MAX_AGE: int = 116
"""Oldest age in UTKFace; the age head predicts a distribution over 0..MAX_AGE years."""
