"""Suites as data, and their expansion over a data root (jobs and skipped datasets)."""

import pytest

from charbench.bench.plan import FALLBACK_MODELS, expand
from charbench.bench.suites import SUITES, Recipe, Suite
from charbench.datasets import DATASETS
from charbench.errors import OptionError, UnknownNameError
from charbench.models import MODELS
from charbench.targets import Target


def test_builtin_suites():
    names = set(SUITES.names())
    assert {"quick", "all", "mnist", "kmnist", "k49", "emnist", "hpl-tamil", "kuzushiji", "omniglot"} <= names
    quick = SUITES.get("quick")
    assert quick.models == ("simple_cnn",) and quick.recipe.optimizer == "adadelta" and quick.recipe.batch_size == 128


def test_every_suite_names_registered_models():
    for name in SUITES.names():
        for model in SUITES.get(name).models or ():
            MODELS.get(model)
    for model in FALLBACK_MODELS:
        MODELS.get(model)


def test_kmnist_paper_targets_come_from_the_converters():
    def target(name, model, **index):
        return DATASETS.get(name).target_for(model, {"num_classes": 10, **index})

    assert target("mnist", "simple_cnn").value == 99.06 and target("kmnist", "simple_cnn").value == 94.63
    assert target("k49", "simple_cnn", num_classes=49).metric == "balanced_accuracy"
    assert "1812.01718" in target("kmnist", "preact_resnet18").source
    assert target("emnist", "simple_cnn", config="letters").value == 95.36
    assert target("emnist", "simple_cnn", config="mnist") is None  # nothing published for that split


def test_recipe_overrides_by_model_pattern():
    suite = SUITES.get("all")
    assert suite.recipe_for("simple_cnn").optimizer == "adadelta"
    res = suite.recipe_for("preact_resnet18")
    assert res.optimizer == "sgd" and res.schedule == "cosine" and res.augment


@pytest.mark.parametrize("kwargs", [{"optimizer": "lbfgs"}, {"schedule": "warm"}, {"epochs": 0}])
def test_bad_recipe(kwargs):
    with pytest.raises(OptionError):
        Recipe(**kwargs)


@pytest.mark.parametrize("kwargs", [{"metric": "top3"}, {"split": "writer"}, {"kind": "blog"}, {"value": 101.0}])
def test_bad_target(kwargs):
    with pytest.raises(OptionError):
        Target(**{"model": "mlp", "value": 90.0, "source": "somewhere", "protocol": "p", **kwargs})


def test_target_protocol_difference_and_applicability():
    t = Target("omniglot_cnn", 69.5, "a notebook", "random 80/20", split="random", options=(("label", "alphabet"),),
               num_classes=30)
    assert t.protocol_difference({"method": "random"}) is None
    assert t.protocol_difference({"method": "group", "group_by": "drawer"}) == (
        "the source used a random split; this dataset has a split by drawer")
    assert t.applies(None, {"label": "alphabet"}, 30) and not t.applies(None, {"label": "character"}, 30)
    assert not t.applies(None, {"label": "alphabet"}, 50)


def test_expand_prepared_and_skipped(make_dataset, tmp_path):
    make_dataset("mnist")
    make_dataset("emnist-letters")
    root = tmp_path / "prepared"
    suite = Suite(
        "t", "test", datasets=("mnist", "kmnist", "emnist-*", "omniglot*"), models=("simple_cnn", "mlp"), seeds=(0, 1)
    )
    jobs, skipped = expand(suite, root)
    assert sorted({j.dataset for j in jobs}) == ["emnist-letters", "mnist"] and len(jobs) == 2 * 2 * 2
    by_name = {s.dataset: s for s in skipped}
    assert set(by_name) == {"kmnist", "omniglot*"}
    assert (
        by_name["kmnist"].command.startswith("charbench prepare kmnist --source")
        and str(root) in by_name["kmnist"].command
    )
    jobs, _ = expand(suite, root, datasets="mnist", models="mlp", seeds=[7])
    assert [(j.dataset, j.model, j.seed) for j in jobs] == [("mnist", "mlp", 7)]


def test_expand_all_uses_reference_models(make_dataset, tmp_path):
    make_dataset("kmnist", converter="kmnist", num_classes=10)
    jobs, skipped = expand(SUITES.get("all"), tmp_path / "prepared")
    assert [j.model for j in jobs] == list(DATASETS.get("kmnist").reference_models) and not skipped
    assert jobs[0].target.value == 94.63


def test_models_and_targets_follow_index_json_not_the_folder_name(make_dataset, tmp_path):
    make_dataset("kz500", converter="kmnist", num_classes=10)  # prepared as kmnist under another name
    make_dataset("mnist", converter="arrays", num_classes=10)  # called mnist, but no converter made it
    jobs, _ = expand(SUITES.get("all"), tmp_path / "prepared")
    by = {(j.dataset, j.model): j for j in jobs}
    assert {m for d, m in by if d == "kz500"} == set(DATASETS.get("kmnist").reference_models)
    assert by["kz500", "simple_cnn"].target.value == 94.63
    assert {m for d, m in by if d == "mnist"} == set(FALLBACK_MODELS) and by["mnist", "simple_cnn"].target is None
    kuzushiji_suite, _ = expand(SUITES.get("kmnist"), tmp_path / "prepared")
    assert {j.dataset for j in kuzushiji_suite} == {"kz500"}


def test_expand_empty_root_and_unknown_model(tmp_path):
    jobs, skipped = expand(SUITES.get("quick"), tmp_path / "nothing")
    assert not jobs and len(skipped) == 1 and "charbench prepare" in skipped[0].command
    (tmp_path / "p" / "x").mkdir(parents=True)
    with pytest.raises(UnknownNameError, match="simple_cnn"):
        expand(Suite("bad", "bad", models=("simple_cn",)), tmp_path / "p")
