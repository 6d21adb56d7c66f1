"""The ``notebooks`` suite: the experiments this field's people ran and published in notebooks, re-run honestly.

Each experiment runs twice: on data prepared the way the notebook prepared it (its split, its balancing), to
reproduce the notebook's figure, and on data prepared leakage-free (group split by writer, drawer or page; balancing
after the split), so the report shows how much of the published number was leakage. Each needs datasets prepared
as its specs say; one that is not prepared is skipped with the command that prepares it.
"""

from __future__ import annotations

from charbench.bench.suites import DatasetSpec, Experiment, Recipe, Suite, register_suite

SOURCE_DIR = "RAW_DIR"  # placeholder in the prepare commands: the raw files' folder


def _official_all_train(dataset: str, name: str) -> DatasetSpec:
    """The official split with every training image trained on (no validation part), prepared as ``name``."""
    return DatasetSpec(dataset, (("split.method", "official"), ("split.val_fraction", 0.0)),
                       f"charbench prepare {dataset} --source {SOURCE_DIR} --val-fraction 0 --name {name}")


MNIST_ALL_TRAIN = _official_all_train("mnist", "mnist-all-train")
EMNIST_DIGITS_ALL_TRAIN = _official_all_train("emnist/digits", "emnist-digits-all-train")

OMNIGLOT = Experiment(
    name="omniglot-alphabets",
    description="Omniglot's 30 background alphabets as classes, the four-convolution LeakyReLU CNN at 64x64",
    model="omniglot_cnn",
    recipe=Recipe(epochs=10, batch_size=128, optimizer="adam", lr=1e-3, schedule="constant", augment=True,
                  inputs="unit", augmentation=(("degrees", 10.0), ("translate", 0.0625), ("scale_low", 1.0),
                                               ("scale_high", 1.0), ("shear", 0.0), ("blur", 1.0))),
    notebook=DatasetSpec("omniglot", (("options.label", "alphabet"), ("num_classes", 30), ("image_size", 64),
                                      ("split.method", "random"), ("split.fractions", [0.8, 0.0, 0.2])),
                         f"charbench prepare omniglot --source {SOURCE_DIR} --set background --label alphabet "
                         "--size 64 --split random --fractions 0.8,0,0.2 --name omniglot-alphabets-random"),
    leakage_free=DatasetSpec("omniglot", (("options.label", "alphabet"), ("num_classes", 30), ("image_size", 64),
                                          ("split.method", "group"), ("split.group_by", "drawer"),
                                          ("split.fractions", [0.8, 0.0, 0.2])),
                             f"charbench prepare omniglot --source {SOURCE_DIR} --set background --label alphabet "
                             "--size 64 --split group --group-by drawer --fractions 0.8,0,0.2 "
                             "--name omniglot-alphabets-drawers"),
    figure=69.5,
    source="the Omniglot alphabet-classification notebook this project grew out of: Adam 1e-3, batch 128, 10 epochs, "
           "random 80/20 split, rotation +-10 deg, random crop and blur augmentation; 69.5% test accuracy",
    note="random crop is a shift of up to 4 px at 64x64; blur a Gaussian of sigma up to 1 px",
)

MNIST_MLP = Experiment(
    name="mnist-mlp",
    description="MNIST with the PyTorch tutorial MLP 784-128-64-10 (ReLU, Tanh, log-softmax)",
    model="mlp",
    recipe=Recipe(epochs=15, batch_size=64, optimizer="sgd", lr=0.01, momentum=0.9, nesterov=False,
                  schedule="constant", inputs="half"),
    notebook=MNIST_ALL_TRAIN,
    leakage_free=MNIST_ALL_TRAIN,
    figure=97.2,
    source="the PyTorch MNIST MLP notebook: SGD lr 0.01 momentum 0.9, batch 64, 15 epochs, inputs normalised to "
           "[-1, 1] (Normalize(0.5, 0.5)); 'over 97.2%' on the official test set",
    note="MNIST's official train and test writers are disjoint, so the notebook's protocol is already leakage-free: "
         "both columns are the same run",
)

EMNIST_MLP = Experiment(
    name="emnist-digits-mlp",
    description="EMNIST digits with a 128-128 ReLU MLP and softmax, Adam, 3 epochs (the Keras write-up)",
    model="mlp_128_128",
    recipe=Recipe(epochs=3, batch_size=32, optimizer="adam", lr=1e-3, schedule="constant", inputs="unit"),
    notebook=EMNIST_DIGITS_ALL_TRAIN,
    leakage_free=EMNIST_DIGITS_ALL_TRAIN,
    figure=None,
    source="the Keras EMNIST-digits write-up (Dense 128 ReLU, Dense 128 ReLU, softmax; Adam, 3 epochs, Keras's "
           "batch 32, pixels / 255); its figure could not be recovered from any stored copy",
    note="EMNIST's official split keeps NIST's writer-disjoint partition: both columns are the same run",
)

HPL_RESNET = Experiment(
    name="hpl-tamil-resnet34",
    description="HPL isolated Tamil characters with ResNet-34 and a one-cycle schedule (the fastai notebook)",
    model="resnet34",
    recipe=Recipe(epochs=8, batch_size=64, optimizer="adamw", lr=3e-3, weight_decay=1e-2, schedule="onecycle",
                  augment=True, inputs="dataset"),
    notebook=DatasetSpec("hpl-tamil", (("split.method", "random"), ("split.fractions", [0.8, 0.0, 0.2]),
                                       ("image_size", 64)),
                         f"charbench prepare hpl-tamil --source {SOURCE_DIR} --split random --fractions 0.8,0,0.2 "
                         "--name hpl-tamil-random"),
    leakage_free=DatasetSpec("hpl-tamil", (("split.method", "group"), ("split.group_by", "writer"),
                                           ("split.fractions", [0.8, 0.0, 0.2]), ("image_size", 64)),
                             f"charbench prepare hpl-tamil --source {SOURCE_DIR} --split group --group-by writer "
                             "--fractions 0.8,0,0.2 --name hpl-tamil-writers"),
    figure=96.7,
    source="the fastai HPL Tamil notebook: ResNet-34 from ImageNet weights, from_name_re over 154t05.usr_26.tiff "
           "names, random 80/20 split, one-cycle; 92.7% after 4 frozen epochs, 95.4% / 96.7% after fine-tuning",
    note="charbench cannot download ImageNet weights at run time: it trains ResNet-34 from scratch, one-cycle "
         "AdamW for 8 epochs (the notebook's 4 frozen + 4 fine-tuning), at 64x64 (the notebook's input size could "
         "not be recovered; fastai's lessons used 224)",
)

KUZUSHIJI_CNN = Experiment(
    name="kuzushiji-cnn-500",
    description="Kuzushiji page crops, the stride-2 conv-ReLU-BatchNorm CNN at 32x32, classes balanced to 500",
    model="kuzushiji_cnn",
    recipe=Recipe(epochs=7, batch_size=16, optimizer="adam", lr=1e-3, schedule="onecycle", inputs="unit"),
    notebook=DatasetSpec("kuzushiji", (("balance.target", 500), ("balance.scope", "all"), ("image_size", 32),
                                       ("split.fractions", [0.7, 0.0, 0.3])),
                         f"charbench prepare kuzushiji --source {SOURCE_DIR} --balance 500 --balance-scope all "
                         "--split random --fractions 0.7,0,0.3 --name kuzushiji-500-leaky"),
    leakage_free=DatasetSpec("kuzushiji", (("balance.target", 500), ("balance.scope", "train"), ("image_size", 32),
                                           ("split.method", "group"), ("split.group_by", "page"),
                                           ("split.fractions", [0.7, 0.0, 0.3])),
                             f"charbench prepare kuzushiji --source {SOURCE_DIR} --balance 500 --split group "
                             "--group-by page --fractions 0.7,0,0.3 --name kuzushiji-500-pages"),
    figure=98.3,
    source="the Kaggle Kuzushiji crops notebook: classes balanced to 500 with oversampled copies, then a 70/30 "
           "split (copies of one crop in train and validation alike), batch 16, 7 epochs one-cycle at 1e-3; 98.3%",
    note="the notebook's number is leaked: its validation held varied copies of training crops",
)

EXPERIMENTS = (OMNIGLOT, MNIST_MLP, EMNIST_MLP, HPL_RESNET, KUZUSHIJI_CNN)

register_suite(Suite(
    name="notebooks",
    description="the five published notebook experiments, each with the notebook's protocol and leakage-free",
    experiments=EXPERIMENTS,
))
