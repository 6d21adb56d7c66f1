"""Every registered converter, checked against its own synthetic source: declared files, configs, a prepare that
verifies, and the reference models and targets ``charbench run`` finds through index.json."""

from __future__ import annotations

import pytest

from charbench.bench.plan import Prepared
from charbench.datasets import DATASETS, catalogue_names, dataset_ids, resolve
from charbench.datasets.base import converter_of
from charbench.manifest import load_manifest
from charbench.models import MODELS
from charbench.prepare import PrepareConfig, prepare
from charbench.shards.index import read_index
from charbench.shards.verify import verify_dataset

MANIFEST = load_manifest()
# Catalogue entries that are raw-file downloads of another converter's dataset, not datasets of their own.
FETCH_ONLY = {"hpl-tamil-online": "the online form of hpl-tamil: charbench prepare hpl-tamil --from strokes"}


@pytest.mark.parametrize("dataset", dataset_ids())
def test_converter_prepares_its_synthetic_source(dataset, tmp_path):
    cls, config = resolve(dataset)
    converter = cls(tmp_path, config=config)
    source = converter.write_synthetic(tmp_path / "raw")
    path = prepare(PrepareConfig(name=dataset, source=source, out=tmp_path / "out", progress=False, workers=1))
    assert verify_dataset(path) == []
    index = read_index(path)
    assert (index["converter"], index["config"], index["converter_version"]) == (
        cls.name, config.name if config else None, cls.VERSION)
    assert path.name == cls.catalogue_name(config) and converter_of(index) == (cls, config)
    prepared = Prepared(path, index)
    assert prepared.reference_models() == cls.reference_models
    for model in cls.reference_models:
        target = prepared.target(model)
        assert target is None or (target.model == model and target.applies(index["config"], index["options"],
                                                                             index["num_classes"]))


@pytest.mark.parametrize("dataset", dataset_ids())
def test_declared_files_are_manifest_roles(dataset, tmp_path):
    cls, config = resolve(dataset)
    roles = cls(tmp_path, config=config).roles()
    name = cls.catalogue_name(config)
    if roles:
        assert name in MANIFEST, f"{name} declares raw files by role but has no data_manifest.yaml entry"
        assert set(roles) <= MANIFEST[name].roles(), f"{name}: roles missing from the manifest"


@pytest.mark.parametrize("name", DATASETS.names())
def test_models_targets_and_configs_are_declared_consistently(name):
    cls = DATASETS.get(name)
    assert cls.VERSION and cls.__doc__ and cls.reference_models
    for model in cls.reference_models:
        MODELS.get(model)
    config_names = {c.name for c in cls.configs}
    assert len(config_names) == len(cls.configs)
    for target in cls.targets:
        assert target.model in cls.reference_models, f"{name}: target for {target.model}, not a reference model"
        assert target.source and target.protocol
        assert target.config is None or target.config in config_names


def test_every_catalogue_entry_has_a_converter():
    names = set(catalogue_names())
    for entry in MANIFEST:
        assert entry in names or entry in FETCH_ONLY, f"{entry} is in data_manifest.yaml but no converter makes it"


@pytest.mark.parametrize("spelling", ["emnist/letters", "emnist-letters", "EMNIST_letters", "emnist"])
def test_dataset_names_resolve_in_every_spelling(spelling):
    cls, config = resolve(spelling)
    assert cls.name == "emnist" and config.name == ("byclass" if spelling == "emnist" else "letters")
