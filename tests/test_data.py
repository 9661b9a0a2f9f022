"""Data sets and the minibatch iterators: shapes, labels, geometry, seeding, coverage; the digits
of scikit-learn, split and scaled, and a clear error without scikit-learn."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autonet.data import DataLoader, load_digits, make_moons, make_spirals, minibatches, xor

ROOT = Path(__file__).resolve().parent.parent


def test_xor_is_the_truth_table():
    inputs, targets = xor()
    assert inputs.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert targets.tolist() == [0, 1, 1, 0]
    assert targets.tolist() == [int(a) ^ int(b) for a, b in inputs]
    assert xor(np.float32)[0].dtype == np.float32


@given(st.integers(2, 300), st.integers(0, 2**31))
def test_moons_are_two_balanced_shuffled_classes(n, seed):
    inputs, labels = make_moons(n, noise=0.1, seed=seed)
    assert inputs.shape == (n, 2) and labels.shape == (n,) and labels.dtype.kind == "i"
    assert abs(int((labels == 0).sum()) - int((labels == 1).sum())) <= 1
    again = make_moons(n, noise=0.1, seed=seed)
    np.testing.assert_array_equal(inputs, again[0])
    np.testing.assert_array_equal(labels, again[1])


def test_noiseless_moons_lie_on_their_half_circles():
    inputs, labels = make_moons(50, noise=0.0, seed=0)
    top, bottom = inputs[labels == 0], inputs[labels == 1]
    np.testing.assert_allclose(np.hypot(top[:, 0], top[:, 1]), 1.0)
    assert np.all(top[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1.0)
    assert np.all(bottom[:, 1] <= 0.5 + 1e-12)


def test_moons_seeds_differ_and_noise_spreads_points():
    a, _ = make_moons(100, noise=0.1, seed=0)
    b, _ = make_moons(100, noise=0.1, seed=1)
    assert not np.array_equal(a, b)
    assert make_moons(10, seed=np.random.default_rng(0))[0].shape == (10, 2)


def test_spirals_have_equal_classes_within_the_unit_disc():
    inputs, labels = make_spirals(50, classes=4, noise=0.2, seed=0)
    assert inputs.shape == (200, 2)
    assert np.bincount(labels).tolist() == [50, 50, 50, 50]
    assert np.hypot(inputs[:, 0], inputs[:, 1]).max() <= 1.0 + 1e-12
    np.testing.assert_array_equal(inputs, make_spirals(50, classes=4, noise=0.2, seed=0)[0])


def test_spiral_arms_are_rotated_copies_without_noise():
    inputs, labels = make_spirals(30, classes=3, noise=0.0, seed=0)
    angle = np.arctan2(inputs[:, 0], inputs[:, 1])
    step = np.mod(angle[labels == 1][1:] - angle[labels == 0][1:], 2 * np.pi)
    np.testing.assert_allclose(step, 4.0 % (2 * np.pi))


@given(st.integers(1, 60), st.integers(1, 20), st.booleans(), st.booleans(), st.integers(0, 1000))
def test_minibatches_cover_every_row_once(n, batch_size, shuffle, drop_last, seed):
    inputs = np.arange(n * 2).reshape(n, 2)
    labels = np.arange(n)
    batches = list(
        minibatches(inputs, labels, batch_size=batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)
    )
    seen = np.concatenate([b[1] for b in batches]) if batches else np.array([], dtype=int)
    expected_count = n - n % batch_size if drop_last else n
    assert len(seen) == expected_count and len(set(seen.tolist())) == expected_count
    assert all(len(b[1]) == batch_size for b in batches[:-1])
    for x, y in batches:
        np.testing.assert_array_equal(x[:, 0], 2 * y)  # rows stay paired across arrays
    if not shuffle:
        assert seen.tolist() == list(range(expected_count))


def test_minibatches_shuffle_reproducibly():
    labels = np.arange(20)
    first = [b[0].tolist() for b in minibatches(labels, batch_size=5, seed=3)]
    assert first == [b[0].tolist() for b in minibatches(labels, batch_size=5, seed=3)]
    assert first != [b[0].tolist() for b in minibatches(labels, batch_size=5, seed=4)]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: list(minibatches(np.ones(3), np.ones(4))), ValueError, "different lengths"),
        (lambda: list(minibatches()), ValueError, "at least one array"),
        (
            lambda: list(minibatches(np.ones(3), batch_size=0)),
            ValueError,
            "batch_size must be a positive int",
        ),
        (lambda: make_moons(0), ValueError, "n must be a positive int"),
        (lambda: make_moons(10, noise=-1), ValueError, "noise"),
        (lambda: make_spirals(10, seed="x"), TypeError, "seed must be"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --------------------------------------------------------------------------- DataLoader


@given(st.integers(1, 60), st.integers(1, 20), st.booleans(), st.booleans(), st.integers(0, 1000))
def test_each_pass_of_a_loader_covers_every_row_once_in_batches_of_batch_size(
    n, batch_size, shuffle, drop_last, seed
):
    inputs, labels = np.arange(n * 2).reshape(n, 2), np.arange(n)
    loader = DataLoader(
        (inputs, labels), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed
    )
    expected_count = n - n % batch_size if drop_last else n
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader) == -(-expected_count // batch_size)
        assert all(len(yb) == batch_size for _, yb in batches[:-1])
        assert all(0 < len(yb) <= batch_size for _, yb in batches)
        seen = np.concatenate([yb for _, yb in batches]) if batches else np.array([], dtype=int)
        assert len(seen) == expected_count and len(set(seen.tolist())) == expected_count
        for xb, yb in batches:
            assert isinstance(xb, np.ndarray) and isinstance(yb, np.ndarray)
            np.testing.assert_array_equal(xb[:, 0], 2 * yb)  # rows stay paired
        if not shuffle:
            assert seen.tolist() == list(range(expected_count))


def epochs(loader: DataLoader, count: int) -> list[list[int]]:
    return [np.concatenate(list(loader)).tolist() for _ in range(count)]


def test_a_loader_reshuffles_each_epoch_and_the_same_seed_repeats_the_epochs():
    labels = np.arange(30)
    first = epochs(DataLoader(labels, batch_size=7, shuffle=True, seed=5), 3)
    assert first == epochs(DataLoader(labels, batch_size=7, shuffle=True, seed=5), 3)
    assert first[0] != first[1] != first[2]  # a new order each pass
    assert first != epochs(DataLoader(labels, batch_size=7, shuffle=True, seed=6), 3)
    assert all(sorted(order) == list(range(30)) for order in first)


def test_an_epoch_left_early_does_not_shift_the_next_ones():
    labels = np.arange(20)
    whole = epochs(DataLoader(labels, batch_size=4, shuffle=True, seed=1), 2)
    loader = DataLoader(labels, batch_size=4, shuffle=True, seed=1)
    next(iter(loader))  # the first epoch, abandoned after one batch
    assert epochs(loader, 1) == whole[1:]


def test_drop_last_drops_only_the_short_batch():
    loader = DataLoader((np.zeros((10, 3)), np.arange(10)), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(yb) for _, yb in loader] == [4, 4]
    assert len(DataLoader(np.arange(8), batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(np.arange(3), batch_size=4, drop_last=True)) == 0
    assert [b.tolist() for b in DataLoader(np.arange(3), batch_size=4)] == [[0, 1, 2]]


def test_minibatches_and_a_loader_give_the_same_batches_from_the_same_generator():
    labels = np.arange(23)
    loader = DataLoader(labels, batch_size=5, shuffle=True, seed=np.random.default_rng(9))
    from_minibatches = [
        b.tolist() for (b,) in minibatches(labels, batch_size=5, seed=np.random.default_rng(9))
    ]
    assert [b.tolist() for b in loader] == from_minibatches


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: DataLoader((np.ones(3), np.ones(4))),
            ValueError,
            "DataLoader: the arrays have different lengths",
        ),
        (lambda: DataLoader(()), ValueError, "at least one array"),
        (lambda: DataLoader(np.ones(3), batch_size=0), ValueError, "batch_size must be a positive int"),
        (lambda: DataLoader(np.float64(1.0)), ValueError, "axis 0 of rows"),
        (lambda: DataLoader(np.ones(3), seed="x"), TypeError, "seed must be"),
    ],
)
def test_bad_loader_arguments_raise_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --------------------------------------------------------------------------- digits


def test_digits_are_split_scaled_and_shaped():
    (X_train, y_train), (X_test, y_test) = load_digits(test_size=0.2, seed=0)
    assert X_train.shape == (1437, 64) and X_test.shape == (360, 64)  # ceil(0.2 * 1797) = 360
    assert y_train.shape == (1437,) and y_test.shape == (360,) and y_train.dtype == np.int64
    everything = np.concatenate([X_train, X_test])
    assert X_train.dtype == np.float64 and everything.min() == 0.0 and everything.max() == 1.0
    assert set(np.unique(everything * 16)) <= set(range(17))  # 0..16 scaled by 1/16
    assert sorted(set(y_train.tolist())) == list(range(10))
    counts = np.bincount(np.concatenate([y_train, y_test]))
    assert counts.sum() == 1797
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - 0.2 * counts) < 1)  # stratified


def test_the_digits_split_is_a_partition_of_the_data_set():
    (X_train, _), (X_test, _) = load_digits(test_size=0.3, seed=1)
    from sklearn.datasets import load_digits as sklearn_digits

    original = sklearn_digits(return_X_y=True)[0] / 16.0
    rows = lambda X: sorted(map(bytes, np.ascontiguousarray(X)))
    assert rows(np.concatenate([X_train, X_test])) == rows(original)
    assert len(X_test) == 540  # ceil(0.3 * 1797)


def test_the_digits_are_scikit_learns_images_with_their_labels():
    (X_train, y_train), (X_test, y_test) = load_digits(seed=2)
    from sklearn.datasets import load_digits as sklearn_digits

    images, labels = sklearn_digits(return_X_y=True)
    pairs = lambda X, y: sorted(zip(map(bytes, np.ascontiguousarray(X)), y.tolist(), strict=True))
    ours = pairs(np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test]))
    assert ours == pairs(images / 16.0, labels)


def test_the_digits_split_is_seeded_and_images_match_the_flat_rows():
    (a_train, a_labels), _ = load_digits(seed=3)
    (b_train, b_labels), _ = load_digits(seed=3)
    (c_train, _), _ = load_digits(seed=4)
    np.testing.assert_array_equal(a_train, b_train)
    np.testing.assert_array_equal(a_labels, b_labels)
    assert not np.array_equal(a_train, c_train)
    (images, image_labels), (test_images, _) = load_digits(seed=3, as_images=True, dtype=np.float32)
    assert images.shape == (1437, 1, 8, 8) and test_images.shape == (360, 1, 8, 8)
    assert images.dtype == np.float32
    np.testing.assert_array_equal(images.reshape(-1, 64), a_train.astype(np.float32))
    np.testing.assert_array_equal(image_labels, a_labels)


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.1, "0.2", True])
def test_a_bad_test_size_is_refused(test_size):
    with pytest.raises(ValueError, match="test_size"):
        load_digits(test_size=test_size)


def test_without_scikit_learn_load_digits_names_the_extra(tmp_path: Path):
    # A package named sklearn that fails to import stands in for a missing one.
    blocker = tmp_path / "sklearn"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('sklearn is blocked for this test')\n")
    code = (
        "import autonet.data\n"  # importing the module needs no scikit-learn
        "try:\n"
        "    autonet.data.load_digits()\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    paths = [str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'pip install "autonet[data]"' in done.stdout and "scikit-learn is not installed" in done.stdout


def test_a_list_of_samples_is_collated_field_by_field_as_pytorchs_default() -> None:
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    batches = list(DataLoader(list(zip(X, y, strict=True)), batch_size=2))
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    np.testing.assert_array_equal(batches[0][0], X[:2])

    class Squares:  # PyTorch's Dataset protocol: __len__ and __getitem__
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return np.full(2, float(index)), index * index

    assert [b[1].tolist() for b in DataLoader(Squares(), batch_size=2)] == [[0, 1], [4]]
    rows = DataLoader([[1.0, 2.0], [3.0, 4.0]], batch_size=1)  # a list of rows stays one array
    assert [b.tolist() for b in rows] == [[[1.0, 2.0]], [[3.0, 4.0]]]
    with pytest.raises(ValueError, match="sample 1 is not a tuple of 2 fields"):
        DataLoader([(1.0, 2), (3.0,)])
