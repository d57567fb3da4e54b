"""File: local paths and file:// URLs."""
import os
import pickle

import pytest

from parsl.data_provider.files import File


def test_plain_relative_path():
    f = File("data/in.txt")
    assert f.scheme == "file"
    assert f.url == "data/in.txt"
    assert f.path == "data/in.txt"
    assert f.filepath == "data/in.txt"
    assert f.filename == "in.txt"
    assert f.local_path is None
    assert os.fspath(f) == "data/in.txt"
    assert str(f) == "data/in.txt"


def test_file_url():
    f = File("file:///tmp/x/out.dat")
    assert f.scheme == "file"
    assert f.path == "/tmp/x/out.dat"
    assert f.filepath == "/tmp/x/out.dat"
    assert f.filename == "out.dat"
    assert f.netloc == ""


def test_pathlike_argument(tmp_path):
    p = tmp_path / "a.txt"
    f = File(p)
    assert f.filepath == str(p)
    assert open(f, "w")  # usable wherever a path is
    assert p.exists()


def test_not_a_path_is_a_type_error():
    with pytest.raises(TypeError, match="path or URL"):
        File(3)


def test_remote_file_has_no_local_path_until_staged():
    f = File("https://example.org/data/x.csv")
    assert f.scheme == "https" and f.netloc == "example.org" and f.filename == "x.csv"
    with pytest.raises(ValueError, match="staging"):
        f.filepath
    f.local_path = "/scratch/x.csv"
    assert f.filepath == "/scratch/x.csv"


def test_cleancopy_drops_staging_state():
    f = File("https://example.org/x.csv")
    f.local_path = "/scratch/x.csv"
    c = f.cleancopy()
    assert c is not f and c.url == f.url and c.local_path is None


def test_pickle_round_trip_keeps_local_path():
    f = File("ftp://host/p/q.bin")
    f.local_path = "/tmp/q.bin"
    g = pickle.loads(pickle.dumps(f))
    assert g.url == f.url and g.local_path == "/tmp/q.bin" and g.scheme == "ftp"


def test_equality_and_hash_follow_the_url():
    assert File("a.txt") == File("a.txt")
    assert hash(File("a.txt")) == hash(File("a.txt"))
    assert File("a.txt") != File("b.txt")
    assert len({File("a.txt"), File("a.txt")}) == 1


def test_repr_is_parsls_form_with_every_part_of_the_url():
    f = File("globus://ep/p/q.txt")
    assert repr(f) == (f"<File at {id(f):#x} url=globus://ep/p/q.txt scheme=globus netloc=ep"
                       " path=/p/q.txt filename=q.txt>")
    f.local_path = "/l/q.txt"
    assert repr(f).endswith(" filename=q.txt local_path=/l/q.txt>")
