"""shap without numba: the tree kernels done in numpy give what shap's own functions give."""

import json
import os
import subprocess
import sys

import pytest

from support import ROOT

# Runs in a fresh process where shap is imported plainly (its own kernels, as Python), before
# model.shap_without_numba replaces two of them in the same modules.
COMPARE = """
import json
import numpy as np
import shap
from shap.explainers import _partition

shape = (7, 5, 3)  # all three axes split, unevenly
theirs = shap.maskers.Image(np.zeros(shape), shape).clustering
leaves = len(theirs) + 1
rng = np.random.default_rng(0)
values = {"theirs": rng.normal(size=(2 * leaves - 1,))}
values["ours"] = values["theirs"].copy()
shap_masks, shap_credit = _partition.make_masks, _partition.lower_credit
shap_credit(2 * leaves - 2, 0.5, leaves, values["theirs"], theirs)  # recursive: it calls the module's lower_credit

from model.shap_without_numba import import_shap, partition_tree

import_shap()
ours = partition_tree(shape)
_partition.lower_credit(2 * leaves - 2, 0.5, leaves, values["ours"], ours)
print(json.dumps({
    "patched": _partition.lower_credit is not shap_credit and _partition.make_masks is not shap_masks,
    "same_tree": bool(np.array_equal(ours, theirs)),
    "same_masks": all(
        np.array_equal(getattr(shap_masks(theirs), part), getattr(_partition.make_masks(ours), part)) for part in ("indptr", "indices", "data")
    ),
    "masks_reused": _partition.make_masks(ours) is _partition.make_masks(ours),
    "credit_difference": float(np.abs(values["ours"] - values["theirs"]).max()),
}))
"""


@pytest.mark.subprocesses
def test_tree_kernels_match_shaps_own():
    environment = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    output = subprocess.run([sys.executable, "-c", COMPARE], cwd=ROOT, env=environment, capture_output=True, text=True, check=True)
    result = json.loads(output.stdout.strip().splitlines()[-1])
    assert result.pop("credit_difference") < 1e-12  # the same sums; shap divides after multiplying, we multiply by a share
    assert result == {"patched": True, "same_tree": True, "same_masks": True, "masks_reused": True}


def test_lower_credit_refuses_a_start_other_than_the_root():
    from model.shap_without_numba import import_shap, lower_credit, partition_tree

    import_shap()
    tree = partition_tree((2, 2, 1))
    with pytest.raises(ValueError, match="root"):
        lower_credit(0, 1.0, 4, [0.0] * 7, tree)
