"""shap, imported with numba's compiler off and its three partition-tree kernels done in numpy.

shap compiles its kernels with numba the first time each runs: about 10 s in every new
process, which the first explanation after a server start paid (or a warm-up had to hide).
Numba's on-disk cache cannot help, since loading shap's recursive ``lower_credit`` from it
crashed the process. Without the compiler, shap's kernels run as plain Python; all but three
are cheap at our sizes (a few loops over one batch of masks). The three that walk the whole
partition tree (2 x 76,800 nodes for a 160x160x3 face) are redone with numpy arrays, which
also brings the first explanation of a new process from about 12 s to about 2 s:

- the tree itself (``partition_tree``) is built once per image shape, level by level;
- ``make_masks`` (which pixels each tree node covers) is built with array operations, once per tree;
- ``lower_credit`` (handing each node's credit down to its pixels, in proportion to their
  count) becomes one vectorised step per tree level instead of a recursion per node.

``tests/model/test_shap_without_numba.py`` checks them against shap's own functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

_setting_up = threading.RLock()
"""The warm-up thread and a first request may both ask for shap or a tree: the second waits for the first's work instead of repeating it."""


def import_shap() -> ModuleType:
    """shap with plain-Python kernels (numba's JIT is off only while shap's modules are decorated)."""
    with _setting_up:
        return _import_shap()


@cache
def _import_shap() -> ModuleType:
    import numba

    jit_was_off = numba.config.DISABLE_JIT
    numba.config.DISABLE_JIT = True
    try:
        import shap
        from shap.explainers import _partition
    finally:
        numba.config.DISABLE_JIT = jit_was_off
    _partition.make_masks = once_per_tree(tree_masks)
    _partition.lower_credit = lower_credit
    return shap


def partition_tree(shape: tuple[int, int, int]) -> np.ndarray:
    """shap's Image masker hierarchy for an image shape (halves along the longest side, down to single values), its masks and levels ready."""
    with _setting_up:
        return _partition_tree(shape)


@cache
def _partition_tree(shape: tuple[int, int, int]) -> np.ndarray:
    import_shap()
    from shap.explainers import _partition

    tree = split_tree(shape)
    _partition.make_masks(tree)
    _levels_of(tree)
    return tree


def split_tree(shape: tuple[int, int, int]) -> np.ndarray:
    """shap's Image-masker tree (``_jit_build_partition_tree``), built a level at a time.

    shap halves a region along its first axis if that is the widest (and wider than 1),
    else along the second, else the third, down to single values, and numbers the nodes in
    the order a heap pops them: larger regions first, ties by their bounds. Every region is
    generated here, then sorted once by that same key.
    """
    leaves = int(np.prod(shape))
    starts, ends = [np.zeros((1, 3), int)], [np.array([shape])]
    parents, lefts = [np.array([-1])], [np.array([False])]
    first = 0
    while True:
        low, high = starts[-1], ends[-1]
        split = ((high - low) > 1).any(axis=1)
        if not split.any():
            break
        ids = first + np.nonzero(split)[0]
        first += len(low)
        low, high = low[split], high[split]
        width = high - low
        axis = np.where((width[:, 0] >= width[:, 1]) & (width[:, 0] > 1), 0, np.where(width[:, 1] > 1, 1, 2))
        rows = np.arange(len(low))
        middle = low[rows, axis] + width[rows, axis] // 2
        left_high, right_low = high.copy(), low.copy()
        left_high[rows, axis] = middle
        right_low[rows, axis] = middle
        starts.append(np.concatenate([low, right_low]))
        ends.append(np.concatenate([left_high, high]))
        parents.append(np.concatenate([ids, ids]))
        lefts.append(np.repeat([True, False], len(ids)))
    low, high, parent, left = map(np.concatenate, (starts, ends, parents, lefts))
    size = np.prod(high - low, axis=1)
    popped = np.lexsort((high[:, 2], low[:, 2], high[:, 1], low[:, 1], high[:, 0], low[:, 0], -size))
    index = np.empty(len(popped), int)
    index[popped] = leaves - 2 - np.arange(len(popped))  # shap's numbering: leaves come out negative, then + leaves
    tree = np.zeros((leaves - 1, 4))
    child = parent >= 0
    tree[index[parent[child]], np.where(left[child], 0, 1)] = index[child] + leaves
    internal = index >= 0
    tree[index[internal], 3] = size[internal]
    return tree


def once_per_tree(build: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], Any]:
    """``build(tree)``, computed once per tree object: model.explain reuses one partition tree per image shape."""
    lock, kept = threading.Lock(), {}

    def reused(tree: np.ndarray) -> Any:
        with lock:
            if id(tree) not in kept or kept[id(tree)][0] is not tree:
                kept[id(tree)] = (tree, build(tree))
            return kept[id(tree)][1]

    return reused


def tree_levels(tree: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """The tree's internal nodes grouped by depth, root first: ``(nodes, left, right, left share, right share)`` per depth."""
    leaves = len(tree) + 1
    sizes = np.concatenate([np.ones(leaves), tree[:, 3]])
    children = tree[:, :2].astype(int)
    levels, nodes = [], np.array([2 * leaves - 2])
    while len(nodes):
        left, right = children[nodes - leaves, 0], children[nodes - leaves, 1]
        levels.append((nodes, left, right, sizes[left] / sizes[nodes], sizes[right] / sizes[nodes]))
        below = np.concatenate([left, right])
        nodes = below[below >= leaves]
    return levels


_levels_of = once_per_tree(tree_levels)


def tree_masks(tree: np.ndarray):
    """shap's ``make_masks``: a sparse matrix whose row for each node lists its leaves, the left subtree's first.

    Each node's leaves are a contiguous run of the tree's left-to-right leaf order, found one
    level at a time from the root, so the matrix is built with a few array operations instead
    of a recursion per node.
    """
    import scipy.sparse

    leaves = len(tree) + 1
    sizes = np.concatenate([np.ones(leaves, int), tree[:, 3].astype(int)])
    first = np.zeros(2 * leaves - 1, int)
    for nodes, left, right, _, _ in _levels_of(tree):
        first[left] = first[nodes]
        first[right] = first[nodes] + sizes[left]
    in_order = np.empty(leaves, int)
    in_order[first[:leaves]] = np.arange(leaves)
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    indices = in_order[np.arange(indptr[-1]) - np.repeat(indptr[:-1] - first, sizes)]
    return scipy.sparse.csr_matrix((np.ones(len(indices), bool), indices, indptr), shape=(2 * leaves - 1, leaves))


def lower_credit(node: int, value: float, leaves: int, values: np.ndarray, tree: np.ndarray) -> None:
    """shap's ``lower_credit`` from the root: each node's value is added to its children's, split by their sizes."""
    if node != 2 * leaves - 2:
        raise ValueError("lower_credit is only called on the partition tree's root")
    values[node] += value
    shape = (-1,) + (1,) * (values.ndim - 1)
    for nodes, left, right, left_share, right_share in _levels_of(tree):
        values[left] += values[nodes] * left_share.reshape(shape)
        values[right] += values[nodes] * right_share.reshape(shape)
