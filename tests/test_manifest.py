"""data_manifest.yaml: every family present and valid, lookups, local status, the hashing script, real files."""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from charbench.errors import FormatError, UnknownNameError
from charbench.io.download import sha256sum
from charbench.manifest import (
    ACCESS,
    FORMATS,
    get_entry,
    load_manifest,
    manifest_path,
    prepared_status,
    raw_dir_for,
    raw_status,
)

FAMILIES = [
    "mnist", "fashion-mnist", "kmnist", "k49", "emnist-byclass", "emnist-bymerge", "emnist-balanced",
    "emnist-letters", "emnist-digits", "emnist-mnist", "qmnist", "hpl-tamil", "kuzushiji", "kuzushiji-kanji",
    "omniglot",
]  # fmt: skip
REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "hash_manifest.py"
ENTRIES = load_manifest()


def test_manifest_is_found_at_the_repository_root_in_a_checkout():
    assert manifest_path() == REPO / "data_manifest.yaml"


@pytest.mark.parametrize("name", FAMILIES)
def test_every_family_is_listed(name):
    assert name in ENTRIES


@pytest.mark.parametrize("name", list(ENTRIES))
def test_entry_fields_are_valid(name):
    entry = ENTRIES[name]
    assert entry.format in FORMATS and entry.access in ACCESS
    assert entry.num_classes > 0 and entry.license and entry.citation and entry.homepage.startswith("http")
    assert all(v is None or v > 0 for v in entry.splits.values())
    assert entry.required_files(), f"{name} has no required file"
    for f in entry.files:
        assert f.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", f.sha256)
        assert f.sha256 is None or f.checksum_source, f"{name}/{f.name}: sha256 without a source"
        assert f.size is None or f.size > 0
        assert all(u.startswith(("http://", "https://")) for u in f.urls)
        assert entry.access != "direct" or f.urls


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "kmnist", "qmnist", "emnist-letters"])
def test_published_checksums_are_recorded(name):
    idx_files = [f for f in get_entry(name).files if f.name.endswith((".gz", ".xz", ".zip"))]
    assert idx_files and all(f.sha256 and f.checksum_source for f in idx_files)


def test_omniglot_image_zips_have_size_and_sha256():
    entry = get_entry("omniglot")
    assert all(f.sha256 and f.size for f in entry.files if f.name.startswith("images_"))


def test_emnist_splits_share_one_archive_and_name_their_members():
    emnist = [ENTRIES[n] for n in FAMILIES if n.startswith("emnist-")]
    assert {e.raw_name for e in emnist} == {"emnist"}
    assert len({e.files[0].sha256 for e in emnist}) == 1
    for entry in emnist:
        split = entry.name.removeprefix("emnist-")
        assert entry.files[0].members["train_images"] == f"gzip/emnist-{split}-train-images-idx3-ubyte.gz"
        assert entry.role_name("class_table") == f"emnist-{split}-mapping.txt"


def test_kaggle_entry_has_no_url_and_says_how_to_get_the_files():
    entry = get_entry("kuzushiji")
    assert entry.access == "kaggle"
    assert entry.access_command == "kaggle competitions download -c kuzushiji-recognition"
    assert not any(f.urls for f in entry.files)


@pytest.mark.parametrize("alias", ["fashion_mnist", "FASHION-MNIST", "emnist/letters"])
def test_get_entry_accepts_registry_spellings(alias):
    assert get_entry(alias).name in ("fashion-mnist", "emnist-letters")


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownNameError, match="did you mean.*mnist"):
        get_entry("mnsit")


def test_raw_dir_is_shared_by_the_emnist_splits(tmp_path):
    assert raw_dir_for("emnist-letters", tmp_path) == raw_dir_for("emnist-digits", tmp_path) == tmp_path / "raw/emnist"


def test_raw_status_counts_required_files_and_unpacked_archives(tmp_path):
    entry = get_entry("omniglot")
    assert raw_status(entry, tmp_path) == "missing"
    (tmp_path / "images_background.zip").write_bytes(b"x")
    assert raw_status(entry, tmp_path) == "partial"
    (tmp_path / "images_evaluation").mkdir()  # unpacked by hand counts too
    assert raw_status(entry, tmp_path) == "present"


def test_prepared_status_looks_for_index_json(tmp_path):
    assert not prepared_status("mnist", tmp_path)
    (tmp_path / "prepared" / "mnist").mkdir(parents=True)
    (tmp_path / "prepared" / "mnist" / "index.json").write_text("{}")
    assert prepared_status("mnist", tmp_path)


def _write_manifest(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(manifest_path().read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["datasets"][0]["files"][0].update(sha256="ABC"), "sha256"),
        (lambda d: d["datasets"][0].update(colour="red"), "unknown field.*colour"),
        (lambda d: d["datasets"][0].pop("license"), "missing field.*license"),
        (lambda d: d["datasets"][0].update(format="jpeg"), "format"),
        (lambda d: d["datasets"].append(d["datasets"][0]), "listed twice"),
        (lambda d: d["datasets"][0]["files"][0].update(checksum_source=None), "checksum_source"),
        (lambda d: d["datasets"][0]["files"][0].update(name="../x"), "plain file name"),
        (lambda d: d["datasets"][0]["files"][0].update(urls=["ftp://x"]), "urls"),
    ],
)
def test_invalid_manifest_is_refused_naming_the_field(tmp_path, mutate, message):
    path = _write_manifest(tmp_path, mutate)
    with pytest.raises(FormatError, match=message) as info:
        load_manifest(path)
    assert str(path) in str(info.value)


@pytest.fixture
def hash_script():
    spec = importlib.util.spec_from_file_location("hash_manifest", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _unhashed_copy(tmp_path: Path) -> Path:
    def clear(data):
        for entry in data["datasets"]:
            for f in entry["files"]:
                f.update(sha256=None, size=None, checksum_source=None)

    return _write_manifest(tmp_path, clear)


def test_hash_script_records_a_real_file(tmp_path, hash_script):
    path = _unhashed_copy(tmp_path)
    raw = tmp_path / "kmnist_classmap.csv"
    raw.write_bytes(b"index,codepoint,char\n0,U+304A,o\n")
    assert hash_script.main([str(raw), "--source", "test file", "--manifest", str(path)]) == 0
    recorded = load_manifest(path)["kmnist"].file("kmnist_classmap.csv")
    assert (recorded.sha256, recorded.size, recorded.checksum_source) == (
        sha256sum(raw),
        raw.stat().st_size,
        "test file",
    )
    assert path.read_text().startswith("# charbench data catalogue")


def test_hash_script_needs_dataset_for_an_ambiguous_name_and_force_for_a_conflict(tmp_path, hash_script, capsys):
    path = _unhashed_copy(tmp_path)
    raw = tmp_path / "t10k-labels-idx1-ubyte.gz"
    raw.write_bytes(b"not the real labels")
    assert hash_script.main([str(raw), "--source", "s", "--manifest", str(path)]) == 1
    assert "pick one with --dataset" in capsys.readouterr().err
    assert hash_script.main([str(raw), "--dataset", "mnist", "--source", "s", "--manifest", str(path)]) == 0
    raw.write_bytes(b"other bytes")
    assert hash_script.main([str(raw), "--dataset", "mnist", "--source", "s", "--manifest", str(path)]) == 1
    assert "--force" in capsys.readouterr().err


def test_hash_script_imports_a_published_list_by_url(tmp_path, hash_script):
    path = _unhashed_copy(tmp_path)
    sha = "ab" * 32
    listing = tmp_path / "list.tsv"
    listing.write_text(f"# comment\nhttps://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/gzip.zip\t123\t{sha}\n")
    assert hash_script.main(["--from-tsv", str(listing), "--source", "a list", "--manifest", str(path)]) == 0
    entries = load_manifest(path)
    assert all(entries[n].file("gzip.zip").sha256 == sha for n in FAMILIES if n.startswith("emnist-"))
    assert entries["mnist"].files[0].sha256 is None


def test_datasets_command_prints_every_entry_with_local_status(tmp_path, capsys):
    from charbench.cli import datasets

    raw = raw_dir_for("mnist", tmp_path)
    raw.mkdir(parents=True)
    for f in get_entry("mnist").files:
        (raw / f.name).write_bytes(b"x")
    assert datasets._run(argparse.Namespace(data_root=str(tmp_path))) == 0
    out = capsys.readouterr().out
    assert "present" in out and "missing" in out
    assert all(name[:8] in out for name in FAMILIES)


@pytest.mark.realdata
def test_real_mnist_test_files_match_their_manifest_sha256(real_data):
    entry = get_entry("mnist")
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        path = real_data / "idx" / "MNIST" / "raw" / name
        assert sha256sum(path) == entry.file(name).sha256
        assert path.stat().st_size == entry.file(name).size


@pytest.mark.realdata
def test_real_omniglot_zips_match_their_manifest_sha256(real_data):
    entry = get_entry("omniglot")
    for name in ("images_background_small1.zip", "strokes_background_small1.zip"):
        assert sha256sum(real_data / "omniglot" / name) == entry.file(name).sha256
