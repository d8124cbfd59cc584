import json
import subprocess
import sys
import threading

import numpy as np
from PIL import Image

from model.age import age_groups, age_interval, expected_age
from model.decode import decode_image
from model.predictor import get_predictor
from support import FIXTURES, ROOT


def test_age_summaries_of_a_known_distribution():
    distribution = np.zeros(117)
    distribution[30] = 0.5
    distribution[40] = 0.5
    assert expected_age(distribution[None])[0] == 35
    assert age_interval(distribution) == (30, 40)
    config = get_predictor().config
    groups = age_groups(distribution, config.age_groups)
    assert list(groups) == list(config.labels["age_group"]) and config.age_groups[-1] == ("70+", 70, 116)
    assert groups["30-39"] == 0.5 and groups["40-49"] == 0.5 and sum(groups.values()) == 1


def test_prediction_for_every_face_is_complete_and_consistent(fixture_bytes):
    faces = get_predictor().predict(decode_image(fixture_bytes("group.jpg")))
    assert len(faces) == 6
    for face in faces:
        result = face.to_dict()
        assert set(result) == {"box", "score", "landmarks", "age", "age_range", "age_groups", "gender", "race", "detected"}
        assert result["age_range"][0] <= result["age"] <= result["age_range"][1]
        for head, labels in (("gender", ["male", "female"]), ("race", ["White", "Black", "Asian", "Indian", "Others"])):
            probabilities = result[head]["probabilities"]
            assert list(probabilities) == labels and abs(sum(probabilities.values()) - 1) < 1e-3
            assert result[head]["label"] == max(probabilities, key=probabilities.get)
        assert abs(sum(result["age_groups"].values()) - 1) < 1e-3
        json.dumps(result)


def test_small_square_image_without_a_detected_face_is_read_whole(fixture_bytes):
    crop = decode_image(fixture_bytes("chelsea.png")).crop((100, 0, 400, 300)).resize((200, 200))
    (face,) = get_predictor().predict(crop)
    assert face.detected is False and face.score is None and face.box == (0.0, 0.0, 200.0, 200.0)
    assert get_predictor().predict(decode_image(fixture_bytes("chelsea.png"))) == []  # 451x300 is not crop-like


def test_skip_detection_reads_the_whole_image(fixture_bytes):
    (face,) = get_predictor().predict(decode_image(fixture_bytes("utkface_crop.jpg")), skip_detection=True)
    assert face.detected is False and face.box == (0.0, 0.0, 200.0, 200.0)


def test_a_photo_opened_lazily_is_read_like_a_decoded_one(fixture_bytes):
    """``Image.open`` defers decoding: a photo handed over unread gives the faces of the decoded one."""
    expected = [face.to_dict() for face in get_predictor().predict(decode_image(fixture_bytes("group.jpg")))]
    with Image.open(FIXTURES / "group.jpg") as lazy:
        assert [face.to_dict() for face in get_predictor().predict(lazy)] == expected


def test_predictor_is_safe_to_share_between_threads(fixture_bytes):
    image = decode_image(fixture_bytes("group.jpg"))
    expected = [face.to_dict() for face in get_predictor().predict(image)]
    results, errors = [], []

    def work():
        try:
            for _ in range(3):
                results.append([face.to_dict() for face in get_predictor().predict(image)])
        except Exception as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 12 and all(result == expected for result in results)


def test_serving_never_imports_tensorflow():
    code = (
        "import sys; from model.decode import decode_image; from model.predictor import get_predictor;"
        f"faces = get_predictor().predict(decode_image(open({str(FIXTURES / 'astronaut.png')!r}, 'rb').read()));"
        "assert faces; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert output == ["False", "False"]


def test_cli_prints_json_lines_for_files_and_folders(tmp_path):
    (tmp_path / "notes.jpg").write_text("not an image")
    Image.open(FIXTURES / "astronaut.png").save(tmp_path / "astronaut.png")
    result = subprocess.run(
        [sys.executable, "-m", "model.predict", str(tmp_path), str(FIXTURES / "group.jpg"), "--json"], cwd=ROOT, capture_output=True, text=True
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1  # one file could not be read
    by_name = {line["file"].rsplit("/", 1)[-1]: line for line in lines}
    assert len(by_name["astronaut.png"]["faces"]) == 1 and len(by_name["group.jpg"]["faces"]) == 6
    assert "error" in by_name["notes.jpg"]


def test_cli_table_and_help():
    table = subprocess.run(
        [sys.executable, "-m", "model.predict", str(FIXTURES / "utkface_crop.jpg"), "--skip-detection"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "1 face(s)" in table and "80% range" in table
    usage = subprocess.run([sys.executable, "-m", "model.predict", "--help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "--json" in usage and "--skip-detection" in usage


def test_a_face_cut_by_the_edge_of_a_group_selfie_reads_as_the_whole_face_does(fixture_bytes):
    """The eighth face of ``group_selfie_cut.jpg`` has 40% of itself beyond the right edge (``make_fixtures.write_cut_selfie``)."""
    from training.contract import GENDERS, RACES
    from training.dataset import parse_name

    truth = parse_name(json.loads((FIXTURES / "group_selfie.json").read_text())["cut"]["file"])
    faces = get_predictor().predict(decode_image(fixture_bytes("group_selfie_cut.jpg")))
    assert len(faces) == 8
    cut = max(faces, key=lambda face: face.box[0])
    assert cut.box[0] + cut.box[2] >= 1599  # the box reaches the frame's edge
    assert (cut.label("gender"), cut.label("race")) == (GENDERS[truth.gender], RACES[truth.race])
    assert abs(cut.age - truth.age) < 10


def test_one_predictor_per_model_folder_however_it_is_named():
    from model.config import MODEL_DIR

    assert get_predictor() is get_predictor(MODEL_DIR, 2) is get_predictor(str(MODEL_DIR / ".." / "shipped"))
