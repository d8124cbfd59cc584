"""Partition SHAP (Owen values) of an image function, over the image's halving partition.

This is the algorithm of shap's ``PartitionExplainer`` with its ``Image`` masker: the pixels
are split in two (``halves``: the longer of height and width is halved, the height on a tie,
then the channels), recursively, down to single values; the explainer walks that tree from
the root, most promising node first, evaluating each node's two halves shown over hidden and
over shown context, until the budget of evaluations is spent; whatever a node has not handed
down stays spread evenly over its pixels. The result is the same map
(``tests/model/test_partition_shap.py`` checks it against shap 0.51's own explainer).

Why not the shap package itself: importing it loads numba, llvmlite, scipy, scikit-learn
and pandas, about 320 MB of memory and 1.6 s in every server process, for a search whose
regions here are plain boxes of an array. A box is a pair of corners, so a node's pixels are
one slice, the tree never needs to be built, a node's context is the few boxes shown around
it (not a mask of the whole image per node), and the map is a sum of a few hundred boxes.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Region = tuple[tuple[int, int], ...]
"""A box of the image: ``(start, stop)`` along each axis."""


def halves(region: Region) -> tuple[Region, Region]:
    """The two halves shap's Image masker splits a region into: along the first axis if it is at least as wide as the second (and wider than 1), else the second if wider than 1, else the third."""
    widths = [stop - start for start, stop in region]
    axis = 0 if widths[0] >= widths[1] and widths[0] > 1 else 1 if widths[1] > 1 else 2
    start, stop = region[axis]
    middle = start + widths[axis] // 2
    left, right = list(region), list(region)
    left[axis], right[axis] = (start, middle), (middle, stop)
    return tuple(left), tuple(right)


def slices(region: Region) -> tuple[slice, ...]:
    return tuple(slice(start, stop) for start, stop in region)


def size(region: Region) -> int:
    return int(np.prod([stop - start for start, stop in region]))


@dataclass
class _Node:
    shown: tuple[Region, ...]
    """The context: the regions shown while this one is hidden."""
    without: float
    """The output with the context shown and the region hidden."""
    with_: float
    """The output with the context and the region shown."""
    region: Region
    weight: float


def partition_shap_values(
    evaluate: Callable[[np.ndarray], np.ndarray], image: np.ndarray, background: np.ndarray, max_evals: int, batch_size: int
) -> np.ndarray:
    """Each value's share of ``evaluate(image) - evaluate(background)``, in the image's shape.

    ``evaluate`` maps a batch of images to one number each; a hidden value is taken from
    ``background``. ``max_evals`` counts every image evaluated, the two ends included;
    ``batch_size`` is how many masked images each step evaluates at once, which also sets how
    far ahead of the results the search commits, as in shap. The shares always add up to the
    whole difference; a larger budget only resolves them into smaller regions.
    """
    if image.shape != background.shape or image.ndim != 3:
        raise ValueError(f"image and background must share one (height, width, channels) shape, got {image.shape} and {background.shape}")
    values = np.zeros(image.shape, np.float64)
    without, with_ = (float(output) for output in evaluate(np.stack([background, image])))
    tie = itertools.count()  # shap breaks ties at random; first come, first served keeps maps reproducible
    queue = [(0.0, next(tie), _Node((), without, with_, tuple((0, length) for length in image.shape), 1.0))]
    evals, budget = 0, max_evals - 2

    def credit(node: _Node) -> None:
        values[slices(node.region)] += (node.with_ - node.without) * node.weight / size(node.region)

    while queue and evals < budget:
        steps = []
        while queue and 2 * len(steps) < batch_size and evals + 2 * len(steps) < budget:
            node = heapq.heappop(queue)[2]
            if size(node.region) == 1:
                credit(node)
                continue
            left, right = halves(node.region)
            steps.append((node, left, right, (*node.shown, left), (*node.shown, right)))
        if not steps:
            continue
        masks = np.zeros((2 * len(steps), *image.shape), bool)
        for mask, shown in zip(masks, (shown for step in steps for shown in step[3:]), strict=True):
            for region in shown:
                mask[slices(region)] = True
        outputs = evaluate(np.where(masks, image, background)).astype(np.float64)
        evals += len(masks)
        for (node, left, right, shown_left, shown_right), with_left, with_right in zip(steps, outputs[0::2], outputs[1::2], strict=True):
            weight = node.weight / 2
            for child in (
                _Node(node.shown, node.without, with_left, left, weight),  # the left half over the context alone
                _Node(node.shown, node.without, with_right, right, weight),
                _Node(shown_right, with_right, node.with_, left, weight),  # the left half over the context and the right half
                _Node(shown_left, with_left, node.with_, right, weight),
            ):
                heapq.heappush(queue, (-abs(child.with_ - child.without) * weight, next(tie), child))
    for _, _, node in queue:
        credit(node)
    return values
