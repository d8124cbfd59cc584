import zipfile

from model.batch.inputs import Item, collect, items_of


def test_folders_archives_and_lists_name_each_photo_once(tmp_path):
    (tmp_path / "photos" / "deeper").mkdir(parents=True)
    (tmp_path / "photos" / "a.jpg").write_bytes(b"a")
    (tmp_path / "photos" / "deeper" / "b.png").write_bytes(b"b")
    (tmp_path / "photos" / ".hidden.jpg").write_bytes(b"h")
    with zipfile.ZipFile(tmp_path / "more.zip", "w") as archive:
        archive.writestr("inside/c.jpg", b"c")
        archive.writestr("inside/", b"")
    (tmp_path / "list.txt").write_text("# my picks\nphotos/a.jpg\n\nmore.zip\n")
    items = collect([str(tmp_path / "photos"), str(tmp_path / "list.txt")])
    names = [item.file.removeprefix(str(tmp_path)) for item in items]
    assert names == ["/photos/a.jpg", "/photos/deeper/b.png", "/more.zip!inside/c.jpg"]
    assert [item.read() for item in items] == [b"a", b"b", b"c"]


def test_a_missing_path_is_an_item_that_fails_to_read(tmp_path):
    (item,) = items_of(tmp_path / "nowhere.jpg")
    assert item == Item(str(tmp_path / "nowhere.jpg"), str(tmp_path / "nowhere.jpg"))
