"""Composed photos of the faces detectors miss, with every face's true place: the recall benchmark's cases.

Each scene blends UTKFace val crops (``paste_face``'s soft oval) into a real photograph with no
person in it, then applies the case's difficulty. A face's truth is the square its crop covers
in the scene, clipped to the frame (a UTKFace crop is the face, forehead to chin), so a detector
whatever its box convention is judged by the same overlap rule (``benchmarks.recall``).

Cases, as users' photos have them:

- ``frontal``: whole, upright faces of 120-320 px, the easy case as a control;
- ``cut by the frame``: a quarter to a half of the face outside the left, right, top or bottom edge;
- ``close-up``: one face taller than 60% of the photo (up to 95%), off-centre;
- ``rotated``: in-plane rotation of 15-40 degrees either way;
- ``turned``: heads turned 35-55 degrees sideways or tilted down, approximated by a perspective
  warp of the frontal crop (the far side foreshortened), since UTKFace has few profiles;
- ``covered``: an object over 30-45% of the face (a band of another photo: a hand, a scarf, a cup);
- ``small``: faces of 16-40 px in a 640x480 photo, which every detector reads at full size;
- ``dark``: the whole photo at 15-30% brightness with sensor noise;
- ``blurred``: the whole photo out of focus (Gaussian blur of 2-4% of the face);
- ``no face``: scikit-image's sample photographs with no person (textures, machines, animals,
  a room-sized still life, the sky), each as is, mirrored and enlarged: false positives only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import skimage.data
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from support.photos import paste_face

SCENE_SIZE = (1280, 960)
"""A phone photo's shape, at a size detection reads as 640x480 (``model.detect.working_scale`` = 1/2)."""
SMALL_SCENE_SIZE = (640, 480)

FACE_FREE = {
    "brick": skimage.data.brick,
    "grass": skimage.data.grass,
    "gravel": skimage.data.gravel,
    "coffee": skimage.data.coffee,
    "chelsea (a cat)": skimage.data.chelsea,
    "rocket": skimage.data.rocket,
    "motorcycle": lambda: skimage.data.stereo_motorcycle()[0],
    "hubble deep field": skimage.data.hubble_deep_field,
    "immunohistochemistry": skimage.data.immunohistochemistry,
    "moon": skimage.data.moon,
    "page": skimage.data.page,
    "clock": skimage.data.clock,
    "coins": skimage.data.coins,
    "colorwheel": skimage.data.colorwheel,
    "retina": skimage.data.retina,
    "cell": skimage.data.cell,
    "logo": lambda: skimage.data.logo()[..., :3],
}
"""scikit-image's sample photographs in which there is no face (its astronaut and camera man are left out)."""
BACKGROUNDS = ("coffee", "chelsea (a cat)", "rocket", "motorcycle", "hubble deep field", "brick", "grass", "immunohistochemistry")


@dataclass
class Scene:
    """One composed photo, the case it belongs to, and the box ``(x, y, width, height)`` of every face in it.

    A face's box is the square its crop covers (the rectangle it was warped to, for a turned face).
    """

    case: str
    image: Image.Image
    faces: list[tuple[float, float, float, float]] = field(default_factory=list)

    def truth_boxes(self) -> np.ndarray:
        """The faces' boxes clipped to the photo, ``(n, 4)`` as ``x, y, width, height``."""
        boxes = []
        for x, y, width, height in self.faces:
            x1, y1 = max(0.0, x), max(0.0, y)
            x2, y2 = min(float(self.image.width), x + width), min(float(self.image.height), y + height)
            boxes.append((x1, y1, x2 - x1, y2 - y1))
        return np.array(boxes, dtype=np.float64).reshape(-1, 4)


def face_free_photos() -> dict[str, Image.Image]:
    """Each face-free sample photograph as RGB, mirrored, and enlarged to a phone photo's 1280 px width."""
    photos = {}
    for name, load in FACE_FREE.items():
        image = Image.fromarray(np.asarray(load()).astype(np.uint8)).convert("RGB")
        photos[name] = image
        photos[f"{name}, mirrored"] = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        photos[f"{name}, enlarged"] = image.resize((1280, round(1280 * image.height / image.width)), Image.Resampling.BICUBIC)
    return photos


def backgrounds(size: tuple[int, int] = SCENE_SIZE) -> list[Image.Image]:
    return [
        Image.fromarray(np.asarray(FACE_FREE[name]()).astype(np.uint8)).convert("RGB").resize(size, Image.Resampling.BICUBIC) for name in BACKGROUNDS
    ]


def _place(scene: Scene, face: Image.Image, x: float, y: float, side: int) -> None:
    paste_face(scene.image, face, round(x), round(y), side)
    scene.faces.append((float(round(x)), float(round(y)), float(side), float(side)))


def _spread(scene: Scene, faces: list[Image.Image], sides: list[int], rng: np.random.Generator) -> list[tuple[int, int]]:
    """Top-left corners for ``faces`` in columns across the scene, not overlapping."""
    width, height = scene.image.size
    columns = len(faces)
    corners = []
    for index, side in enumerate(sides):
        left, right = index * width // columns, (index + 1) * width // columns
        corners.append((int(rng.integers(left, max(left + 1, right - side))), int(rng.integers(0, max(1, height - side)))))
    return corners


def frontal(background: Image.Image, faces: list[Image.Image], rng: np.random.Generator) -> Scene:
    scene = Scene("frontal", background.copy())
    sides = [int(rng.integers(120, 321)) for _ in faces[:3]]
    for face, side, (x, y) in zip(faces[:3], sides, _spread(scene, faces[:3], sides, rng), strict=True):
        _place(scene, face, x, y, side)
    return scene


def cut_by_the_frame(background: Image.Image, faces: list[Image.Image], rng: np.random.Generator) -> Scene:
    """Two faces, each with 25-50% of its side beyond a different edge of the frame."""
    scene = Scene("cut by the frame", background.copy())
    width, height = scene.image.size
    for face, edge in zip(faces[:2], rng.choice(["left", "right", "top", "bottom"], 2, replace=False), strict=True):
        side = int(rng.integers(180, 361))
        outside = rng.uniform(0.25, 0.5) * side
        along_x, along_y = rng.uniform(0.1, 0.9) * (width - side), rng.uniform(0.1, 0.9) * (height - side)
        x, y = {
            "left": (-outside, along_y),
            "right": (width - side + outside, along_y),
            "top": (along_x, -outside),
            "bottom": (along_x, height - side + outside),
        }[edge]
        _place(scene, face, x, y, side)
    return scene


def close_up(background: Image.Image, faces: list[Image.Image], rng: np.random.Generator) -> Scene:
    """One face 60-95% of the photo's height, anywhere across it (the edges may cut it a little)."""
    scene = Scene("close-up", background.copy())
    width, height = scene.image.size
    side = int(rng.uniform(0.6, 0.95) * height)
    _place(scene, faces[0], rng.uniform(-0.1 * side, width - 0.9 * side), rng.uniform(-0.05 * side, height - 0.95 * side), side)
    return scene


def _oval_layer(face: Image.Image, side: int) -> Image.Image:
    """The face at ``side`` px as RGBA, outside the soft oval transparent (as ``paste_face`` blends it)."""
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).ellipse((side * 0.08, 0, side * 0.92, side), fill=255)
    layer = face.resize((side, side), Image.Resampling.LANCZOS).convert("RGBA")
    layer.putalpha(mask.filter(ImageFilter.GaussianBlur(max(1, side / 25))))
    return layer


def _paste_layer(scene: Scene, layer: Image.Image, centre: tuple[float, float], size: tuple[int, int]) -> None:
    """A transformed face layer centred at ``centre``; its truth is the upright ``size`` box there."""
    corner = (round(centre[0] - layer.width / 2), round(centre[1] - layer.height / 2))
    scene.image.paste(layer.convert("RGB"), corner, layer)
    scene.faces.append((float(round(centre[0] - size[0] / 2)), float(round(centre[1] - size[1] / 2)), float(size[0]), float(size[1])))


def rotated(background: Image.Image, faces: list[Image.Image], rng: np.random.Generator) -> Scene:
    scene = Scene("rotated", background.copy())
    width, height = scene.image.size
    for index, face in enumerate(faces[:2]):
        side = int(rng.integers(140, 301))
        angle = rng.uniform(15, 40) * rng.choice([-1, 1])
        layer = _oval_layer(face, side).rotate(angle, Image.Resampling.BICUBIC, expand=True)
        centre = ((index + rng.uniform(0.3, 0.7)) * width / 2, rng.uniform(0.3, 0.7) * height)
        _paste_layer(scene, layer, centre, (side, side))
    return scene


def turn(face: Image.Image, degrees: float, sideways: bool) -> Image.Image:
    """A frontal crop seen from ``degrees`` aside (or from above): the far half foreshortened, the near edge kept."""
    side = face.width
    squeeze = math.cos(math.radians(degrees))
    far = 1 - 0.35 * math.sin(math.radians(degrees))  # the far edge looks shorter; the near edge keeps its height
    shrunk = side * squeeze
    if sideways:  # output corners (0,0) (shrunk,0) (shrunk,side) (0,side) <- input, near edge on the left
        corners = [(0, 0), (shrunk, side * (1 - far) / 2), (shrunk, side * (1 + far) / 2), (0, side)]
        size = (max(1, round(shrunk)), side)
    else:
        corners = [(side * (1 - far) / 2, 0), (side * (1 + far) / 2, 0), (side, shrunk), (0, shrunk)]
        size = (side, max(1, round(shrunk)))
    coefficients = _perspective(corners, [(0, 0), (side, 0), (side, side), (0, side)])
    return face.transform(size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC)


def _perspective(output: list[tuple[float, float]], source: list[tuple[float, float]]) -> tuple[float, ...]:
    """Pillow's 8 perspective coefficients mapping each ``output`` corner back to its ``source`` corner."""
    rows, values = [], []
    for (x, y), (u, v) in zip(output, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return tuple(np.linalg.solve(np.array(rows, dtype=np.float64), np.array(values, dtype=np.float64)))


def turned(background: Image.Image, faces: list[Image.Image], rng: np.random.Generator) -> Scene:
    scene = Scene("turned", background.copy())
    width, height = scene.image.size
    for index, face in enumerate(faces[:2]):
        side = int(rng.integers(160, 301))
        sideways = bool(rng.random() < 0.7)
        view = turn(face.resize((side, side), Image.Resampling.LANCZOS), rng.uniform(35, 55), sideways)
        if sideways and rng.random() < 0.5:
            view = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        layer = _oval_layer(view.resize((side, side)), side).resize(view.size, Image.Resampling.BICUBIC)
        centre = ((index + rng.uniform(0.3, 0.7)) * width / 2, rng.uniform(0.3, 0.7) * height)
        _paste_layer(scene, layer, centre, layer.size)
    return scene


def covered(background: Image.Image, faces: list[Image.Image], rng: np.random.Generator) -> Scene:
    """Two faces, each with 30-45% of its square under a band cut from another photograph."""
    scene = frontal(background, faces[:2], rng)
    scene.case = "covered"
    others = backgrounds((400, 400))
    for x, y, size, _ in scene.faces:
        side = int(size)
        share = rng.uniform(0.3, 0.45)
        where = rng.choice(["lower", "upper", "left", "right"])
        extent = int(share * side)
        box = {
            "lower": (0, side - extent, side, side),
            "upper": (0, int(0.15 * side), side, int(0.15 * side) + extent),
            "left": (0, 0, extent, side),
            "right": (side - extent, 0, side, side),
        }[where]
        patch = others[int(rng.integers(len(others)))].resize((box[2] - box[0], box[3] - box[1]))
        scene.image.paste(patch, (int(x) + box[0], int(y) + box[1]))
    return scene


def small(background: Image.Image, faces: list[Image.Image], rng: np.random.Generator) -> Scene:
    """A grid of faces of 16-40 px in a 640x480 photo."""
    scene = Scene("small", background.resize(SMALL_SCENE_SIZE))
    side = int(rng.integers(16, 41))
    cell = int(side * 1.6)
    columns, rows = SMALL_SCENE_SIZE[0] // cell, SMALL_SCENE_SIZE[1] // cell
    for index, face in enumerate(faces[: min(12, columns * rows)]):
        cell_index = int(rng.integers(columns * rows)) if index else 0
        x = (cell_index % columns) * cell + int(rng.integers(0, cell - side + 1))
        y = (cell_index // columns) * cell + int(rng.integers(0, cell - side + 1))
        if not any(abs(x - ox) < side and abs(y - oy) < side for ox, oy, _, _ in scene.faces):
            _place(scene, face, x, y, side)
    return scene


def dark(background: Image.Image, faces: list[Image.Image], rng: np.random.Generator) -> Scene:
    scene = frontal(background, faces, rng)
    scene.case = "dark"
    dimmed = np.asarray(ImageEnhance.Brightness(scene.image).enhance(rng.uniform(0.15, 0.3)), np.float32)
    noisy = dimmed + rng.normal(0, 3, dimmed.shape)
    scene.image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    return scene


def blurred(background: Image.Image, faces: list[Image.Image], rng: np.random.Generator) -> Scene:
    scene = frontal(background, faces, rng)
    scene.case = "blurred"
    smallest = min(side for _, _, side, _ in scene.faces)
    scene.image = scene.image.filter(ImageFilter.GaussianBlur(rng.uniform(0.02, 0.04) * smallest))
    return scene


CASES: dict[str, Callable[[Image.Image, list[Image.Image], np.random.Generator], Scene]] = {
    "frontal": frontal,
    "cut by the frame": cut_by_the_frame,
    "close-up": close_up,
    "rotated": rotated,
    "turned": turned,
    "covered": covered,
    "small": small,
    "dark": dark,
    "blurred": blurred,
}


def compose_scenes(faces: list[Image.Image], scenes_per_case: int, seed: int = 0) -> list[Scene]:
    """``scenes_per_case`` scenes of every case, drawing faces in turn from ``faces`` (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    pictures = backgrounds()
    scenes, drawn = [], 0
    for make in CASES.values():
        for index in range(scenes_per_case):
            chosen = [faces[(drawn + offset) % len(faces)] for offset in range(12)]
            scene = make(pictures[index % len(pictures)], chosen, rng)
            drawn += len(scene.faces)
            scenes.append(scene)
    return scenes
