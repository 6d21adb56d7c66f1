"""Suites as data, and their expansion over a data root (jobs and skipped datasets)."""

import pytest

from charbench.bench.plan import expand
from charbench.bench.suites import SUITES, Recipe, Suite, Target, reference_models
from charbench.errors import OptionError, UnknownNameError
from charbench.models import MODELS


def test_builtin_suites():
    names = set(SUITES.names())
    assert {"quick", "all", "mnist", "kmnist", "k49", "emnist", "hpl-tamil", "kuzushiji", "omniglot"} <= names
    quick = SUITES.get("quick")
    assert quick.models == ("simple_cnn",) and quick.recipe.optimizer == "adadelta" and quick.recipe.batch_size == 128


def test_every_suite_names_registered_models_and_sourced_targets():
    for name in SUITES.names():
        suite = SUITES.get(name)
        for model in suite.models or ():
            MODELS.get(model)
        for (dataset, model), target in suite.targets.items():
            MODELS.get(model)
            assert target.source and 0 < target.value <= 100
    for models in map(reference_models, ["mnist", "k49", "emnist-letters", "omniglot", "unknown-set"]):
        for model in models:
            MODELS.get(model)


def test_kmnist_paper_targets():
    t = SUITES.get("quick").targets
    assert t[("mnist", "simple_cnn")].value == 99.06 and t[("kmnist", "simple_cnn")].value == 94.63
    assert t[("k49", "simple_cnn")].metric == "balanced_accuracy"
    assert "1812.01718" in t[("kmnist", "preact_resnet18")].source


def test_recipe_overrides_by_model_pattern():
    suite = SUITES.get("all")
    assert suite.recipe_for("simple_cnn").optimizer == "adadelta"
    res = suite.recipe_for("preact_resnet18")
    assert res.optimizer == "sgd" and res.schedule == "cosine" and res.augment


@pytest.mark.parametrize("kwargs", [{"optimizer": "lbfgs"}, {"schedule": "warm"}, {"epochs": 0}])
def test_bad_recipe(kwargs):
    with pytest.raises(OptionError):
        Recipe(**kwargs)


def test_bad_target_metric():
    with pytest.raises(OptionError):
        Target(90.0, "somewhere", metric="top3")


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
    make_dataset("kmnist")
    jobs, skipped = expand(SUITES.get("all"), tmp_path / "prepared")
    assert [j.model for j in jobs] == list(reference_models("kmnist")) and not skipped
    assert jobs[0].target.value == 94.63


def test_expand_empty_root_and_unknown_model(tmp_path):
    jobs, skipped = expand(SUITES.get("quick"), tmp_path / "nothing")
    assert not jobs and len(skipped) == 1 and "charbench prepare" in skipped[0].command
    (tmp_path / "p" / "x").mkdir(parents=True)
    with pytest.raises(UnknownNameError, match="simple_cnn"):
        expand(Suite("bad", "bad", models=("simple_cn",)), tmp_path / "p")
