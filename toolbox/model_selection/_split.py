"""Splitters whose folds are index arrays on the data's own device."""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._labels import encode_labels
from ..backends import (
    Compute,
    Generator,
    check_random_state,
    check_same_library,
    framework_of,
    namespace_kind,
    resolve,
    to_backend,
)

__all__ = ["KFold", "StratifiedKFold", "check_cv", "train_test_split"]


def _num_samples(x: Any) -> int:
    if not hasattr(x, "shape") and not hasattr(x, "__len__") and hasattr(x, "__array__"):
        x = np.asarray(x)  # an array-like that only converts (scikit-learn's _num_samples)
    shape = getattr(x, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    if hasattr(x, "__len__"):
        return len(x)
    raise TypeError(f"Expected an array-like with a length; got {type(x).__name__}.")


def _index_dtype(compute: Compute) -> Any:
    return compute.xp.__array_namespace_info__().default_dtypes(device=compute.device)["indexing"]


def _host_rng(compute: Compute, random_state: Any) -> np.random.RandomState | None:
    """scikit-learn's own random stream (a ``RandomState``) when the split is computed with NumPy.

    Host data then gets scikit-learn's folds and splits for the same seed, draw for draw; other
    backends draw from their own generator (on the device).
    """
    if namespace_kind(compute.xp) != "numpy":
        return None
    from sklearn.utils import check_random_state as sk_random_state

    return sk_random_state(random_state)


def _arange(n: int, compute: Compute) -> Any:
    return compute.xp.arange(n, dtype=_index_dtype(compute), device=compute.device)


def _take(a: Any, idx: Any) -> Any:
    """Rows ``idx`` of ``a``; ``idx`` is moved to ``a``'s library when they differ (host labels)."""
    if a is None:
        return None
    if hasattr(a, "iloc"):  # pandas (and look-alikes): rows by position, the type kept
        return a.iloc[np.asarray(to_backend(idx, "numpy"))]
    if type(a).__module__.startswith("scipy.sparse"):  # SciPy sparse: CSR rows, as scikit-learn's indexable
        return a.tocsr()[np.asarray(to_backend(idx, "numpy"))]
    if isinstance(a, list):  # a list stays a list (scikit-learn's _safe_indexing)
        return [a[i] for i in np.asarray(to_backend(idx, "numpy")).tolist()]
    fw = framework_of(a)
    if fw is None:
        a = np.asarray(a)
        fw = framework_of(a)
    if framework_of(idx) is not fw:
        idx = to_backend(idx, fw.name, fw.device_of(a))
    return fw.xp.take(a, idx, axis=0)


def _class_codes(y: Any, compute: Compute) -> tuple[Any, int]:
    """Integer codes of ``y`` (0..k-1, in sorted label order) on ``compute``'s device, and k."""
    classes, codes = encode_labels(y, compute=compute, estimator_name="Stratified splitting",
                                   min_classes=1)
    return codes, int(classes.shape[0])


def _counts(codes: Any, k: int, compute: Compute) -> np.ndarray:
    from ..backends import primitives

    counts = primitives.bincount(codes, length=k, xp=compute.xp)
    return np.asarray(to_backend(counts, "numpy")).astype(np.int64)  # k ints: metadata


def _rank_within_class(codes: Any, order_key: Any, k: int, compute: Compute) -> Any:
    """Each sample's rank within its class, ordering the class's samples by ``order_key``."""
    xp = compute.xp
    n = int(codes.shape[0])
    within = xp.argsort(order_key, stable=True)
    by_class = xp.take(within, xp.argsort(xp.take(codes, within), stable=True))
    counts = xp.astype(_bincount_dev(codes, k, compute), _index_dtype(compute))
    starts = xp.cumulative_sum(counts) - counts
    sorted_codes = xp.take(codes, by_class)
    rank_sorted = _arange(n, compute) - xp.take(starts, sorted_codes)
    # scatter ranks back to sample order: inverse permutation via argsort
    inverse = xp.argsort(by_class, stable=True)
    return xp.take(rank_sorted, inverse)


def _bincount_dev(codes: Any, k: int, compute: Compute) -> Any:
    from ..backends import primitives

    return primitives.bincount(codes, length=k, xp=compute.xp)


def _split_sizes(n: int, test_size: Any, train_size: Any) -> tuple[int, int]:
    """scikit-learn's rules for ``test_size``/``train_size`` (floats are fractions, ints counts)."""
    if test_size is None and train_size is None:
        test_size = 0.25
    for name, value in (("test_size", test_size), ("train_size", train_size)):
        if value is None:
            continue
        if isinstance(value, numbers.Integral) and not 0 < value < n:
            raise ValueError(f"{name}={value} should be either positive and smaller than the number "
                             f"of samples {n} or a float in the (0, 1) range.")
        if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral) and not 0 < value < 1:
            raise ValueError(f"{name}={value} should be a float in the (0, 1) range or an integer.")
    if isinstance(test_size, float) and isinstance(train_size, float) and train_size + test_size > 1:
        raise ValueError(f"The sum of test_size and train_size = {train_size + test_size}, should be in the (0, 1) "
                         "range. Reduce test_size and/or train_size.")
    n_test = (int(np.ceil(test_size * n)) if isinstance(test_size, float) else
              int(test_size) if test_size is not None else None)
    n_train = (int(np.floor(train_size * n)) if isinstance(train_size, float) else
               int(train_size) if train_size is not None else None)
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n:
        raise ValueError(f"The sum of train_size and test_size = {n_train + n_test}, should be smaller "
                         f"than the number of samples {n}. Reduce test_size and/or train_size.")
    if n_train == 0:
        raise ValueError(f"With n_samples={n}, test_size={test_size} and train_size={train_size}, the "
                         "resulting train set will be empty. Adjust any of the aforementioned parameters.")
    return n_train, n_test


def _allocate(counts: np.ndarray, n_draw: int, rng: np.random.Generator) -> np.ndarray:
    """Split ``n_draw`` among classes proportionally to ``counts`` (largest remainders, random ties)."""
    exact = counts * (n_draw / counts.sum())
    out = np.floor(exact).astype(np.int64)
    left = n_draw - int(out.sum())
    if left > 0:
        remainder = exact - out
        keys = rng.random(len(counts))
        order = np.lexsort((keys, -remainder))
        out[order[:left]] += 1
    return np.minimum(out, counts)


def train_test_split(*arrays: Any, test_size: Any = None, train_size: Any = None, random_state: Any = None,
                     shuffle: bool = True, stratify: Any = None) -> list[Any]:
    """Split arrays into random train and test subsets, on their own devices.

    Parameters
    ----------
    *arrays : sequence of arrays with the same first dimension
        Any backend; NumPy labels may accompany device arrays.
    test_size, train_size : float, int or None
        Fractions in (0, 1) or absolute counts (scikit-learn's rules; default test 0.25).
    random_state : int, RandomState or None
    shuffle : bool, default=True
    stratify : array of shape (n_samples,) or None
        Keep class proportions of these labels in both subsets.

    Returns
    -------
    list of length 2 * len(arrays): ``train, test`` for each input, same library and device.
    """
    if not arrays:
        raise ValueError("At least one array required as input")
    n = _num_samples(arrays[0])
    for i, a in enumerate(arrays[1:], 1):
        if a is not None and _num_samples(a) != n:
            raise ValueError(f"Found input variables with inconsistent numbers of samples: array 0 has "
                             f"{n} samples but array {i} has {_num_samples(a)}.")
    n_train, n_test = _split_sizes(n, test_size, train_size)
    device_arrays = [a for a in (*arrays, stratify) if a is not None and framework_of(a) is not None
                     and not isinstance(a, np.ndarray)]
    check_same_library(**{f"array {i}": a for i, a in enumerate(device_arrays)})
    compute = resolve(*device_arrays) if device_arrays else resolve(np.empty(0))
    xp = compute.xp
    host_rng = _host_rng(compute, random_state) if shuffle else None
    if stratify is not None and not shuffle:
        raise ValueError("Stratified train/test split is not implemented for shuffle=False")
    if host_rng is not None:  # NumPy: scikit-learn's ShuffleSplit / StratifiedShuffleSplit, draw for draw
        if stratify is None:
            perm = host_rng.permutation(n)
            train, test = perm[n_test:n_test + n_train], perm[:n_test]
        else:
            from sklearn.model_selection import StratifiedShuffleSplit

            labels = np.asarray(to_backend(stratify, "numpy")) if framework_of(stratify) else np.asarray(stratify)
            splitter = StratifiedShuffleSplit(test_size=n_test, train_size=n_train, random_state=host_rng)
            train, test = next(splitter.split(np.zeros((n, 1)), labels))
        return [part for a in arrays for part in (_take(a, train), _take(a, test))]
    seed = check_random_state(random_state)
    gen = Generator(seed, xp=xp, device=compute.device)
    if stratify is not None:
        stratify = stratify if framework_of(stratify) is not None else np.asarray(stratify)
        codes, k = _class_codes(stratify, compute)
        counts = _counts(codes, k, compute)
        if counts.min() < 2:
            raise ValueError("The least populated class in y has only 1 member, which is too few. "
                             "The minimum number of groups for any class cannot be less than 2.")
        host_rng = np.random.default_rng(seed)
        n_train_k = _allocate(counts, n_train, host_rng)
        n_test_k = _allocate(counts - n_train_k, n_test, host_rng)
        rank = _rank_within_class(codes, gen.random((n,)), k, compute)
        tr_k = xp.asarray(n_train_k, device=compute.device)
        te_k = xp.asarray(n_test_k, device=compute.device)
        limit_train = xp.take(xp.astype(tr_k, rank.dtype), codes)
        limit_test = limit_train + xp.take(xp.astype(te_k, rank.dtype), codes)
        # 0 = train, 1 = test, 2 = unused; stable sort groups them with static sizes
        zero = xp.zeros_like(rank)
        group = xp.where(rank < limit_train, zero, xp.where(rank < limit_test, zero + 1, zero + 2))
        order = xp.argsort(group, stable=True)
        train = order[:n_train]
        test = order[n_train:n_train + n_test]
        train = xp.take(train, xp.argsort(gen.random((n_train,))))
        test = xp.take(test, xp.argsort(gen.random((n_test,))))
    else:
        perm = gen.permutation(n) if shuffle else _arange(n, compute)
        perm = xp.astype(perm, _index_dtype(compute))
        train, test = perm[:n_train], perm[n_train:n_train + n_test]
    out: list[Any] = []
    for a in arrays:
        out.extend([_take(a, train), _take(a, test)])
    return out


def _warn_groups(splitter: Any, groups: Any) -> None:
    if groups is not None:
        import warnings

        warnings.warn(f"The groups parameter is ignored by {type(splitter).__name__}", UserWarning, stacklevel=3)


class _BaseKFold:
    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state: Any = None) -> None:
        if not isinstance(n_splits, numbers.Integral) or n_splits < 2:
            raise ValueError(f"k-fold cross-validation requires at least one train/test split by setting "
                             f"n_splits=2 or more, got n_splits={n_splits}.")
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False; got {shuffle}")
        if not shuffle and random_state is not None:
            raise ValueError("Setting a random_state has no effect since shuffle is False. You should "
                             "leave random_state to its default (None), or set shuffle=True.")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of splitting iterations (``n_splits``)."""
        return self.n_splits

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_splits={self.n_splits}, random_state={self.random_state!r}, "
                f"shuffle={self.shuffle})")

    def _check_n(self, n: int) -> None:
        if self.n_splits > n:
            raise ValueError(f"Cannot have number of splits n_splits={self.n_splits} greater than the "
                             f"number of samples: n_samples={n}.")


class KFold(_BaseKFold):
    """K-fold cross-validation; folds are index arrays on ``X``'s device.

    The folds are those of scikit-learn's ``KFold`` (the first ``n % n_splits`` folds have one
    sample more); shuffled folds too when the data are computed with NumPy (scikit-learn's random
    stream); other backends shuffle with their own generator.
    """

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        """Yield ``(train_index, test_index)`` integer arrays of ``X``'s library and device."""
        _warn_groups(self, groups)  # at the call, as scikit-learn's (not when iterated)
        return self._split(X)

    def _split(self, X: Any) -> Iterator[tuple[Any, Any]]:
        n = _num_samples(X)
        self._check_n(n)
        compute = resolve(X)
        xp = compute.xp
        idx = _arange(n, compute)
        host_rng = _host_rng(compute, self.random_state) if self.shuffle else None
        if host_rng is not None:  # scikit-learn's shuffle of the indices, draw for draw
            idx = np.arange(n)
            host_rng.shuffle(idx)
        elif self.shuffle:
            gen = Generator(self.random_state, xp=xp, device=compute.device)
            idx = xp.astype(gen.permutation(n), idx.dtype)
        sizes = np.full(self.n_splits, n // self.n_splits, dtype=np.int64)
        sizes[: n % self.n_splits] += 1
        start = 0
        for size in sizes:
            stop = start + int(size)
            train, test = xp.concat([idx[:start], idx[stop:]]), idx[start:stop]
            if self.shuffle:  # scikit-learn's folds list their indices in increasing order
                train, test = xp.sort(train), xp.sort(test)
            yield train, test
            start = stop


class StratifiedKFold(_BaseKFold):
    """Stratified K-fold: each fold keeps the class proportions of ``y``.

    The folds equal scikit-learn's ``StratifiedKFold``'s: without shuffling always, with
    shuffling for data computed with NumPy (scikit-learn's random stream, draw for draw); on
    other backends samples are shuffled within each class with the backend's own generator.
    """

    def _test_folds(self, X: Any, y: Any) -> tuple[Any, np.ndarray, Compute]:
        n = _num_samples(X)
        self._check_n(n)
        compute = resolve(X)
        xp = compute.xp
        if y is None:
            raise ValueError("StratifiedKFold.split needs y: the labels to stratify on.")
        y = y if framework_of(y) is not None else np.asarray(y)
        if getattr(y, "ndim", 1) == 2 and y.shape[1] == 1:  # a column vector, as scikit-learn accepts
            y = y[:, 0]
        if getattr(y, "ndim", 1) != 1:
            h = np.asarray(to_backend(y, "numpy"))
            kind = "multilabel-indicator" if h.ndim == 2 and np.isin(h, (0, 1)).all() else "multiclass-multioutput"
            raise ValueError(f"Supported target types are: ('binary', 'multiclass'). Got {kind!r} instead. "
                             f"(StratifiedKFold needs a 1-D y; got shape {tuple(y.shape)}.)")
        if _num_samples(y) != n:
            raise ValueError(f"X has {n} samples but y has {_num_samples(y)}.")
        codes, k = _class_codes(y, compute)
        codes = compute.asarray(codes)
        # scikit-learn numbers classes by first appearance
        first = _first_index(codes, k, compute)
        by_appearance = np.argsort(first, kind="stable")
        relabel = np.empty(k, dtype=np.int64)
        relabel[by_appearance] = np.arange(k)
        codes = xp.take(xp.asarray(relabel, device=compute.device), codes)
        counts = _counts(codes, k, compute)
        if np.all(self.n_splits > counts):
            raise ValueError(f"n_splits={self.n_splits} cannot be greater than the number of members in "
                             "each class.")
        if self.n_splits > counts.min():
            import warnings

            warnings.warn(f"The least populated class in y has only {counts.min()} members, which is less "
                          f"than n_splits={self.n_splits}.", UserWarning, stacklevel=3)
        # allocation[i, c]: samples of class c in y_sorted[i::n_splits] (scikit-learn's rule)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        i = np.arange(self.n_splits)[:, None]
        first_pos = starts[None, :] + (i - starts[None, :]) % self.n_splits
        last = (starts + counts - 1)[None, :]
        alloc = np.where(first_pos <= last, (last - first_pos) // self.n_splits + 1, 0).astype(np.int64)
        cum = np.cumsum(alloc, axis=0)  # (n_splits, k)
        host_rng = _host_rng(compute, self.random_state) if self.shuffle else None
        if host_rng is not None:
            # scikit-learn shuffles each class's fold labels in turn (classes by first appearance): the
            # j-th sample of class c takes fold label perm_c[j] of the unshuffled sequence
            rank = np.empty(n, dtype=np.int64)
            rank[np.argsort(np.asarray(codes), kind="stable")] = np.concatenate(
                [host_rng.permutation(int(c)) for c in counts])
        else:
            key = (Generator(self.random_state, xp=xp, device=compute.device).random((n,)) if self.shuffle
                   else _arange(n, compute))
            rank = _rank_within_class(codes, key, k, compute)
        cum_dev = xp.asarray(cum.T, device=compute.device)  # (k, n_splits)
        cum_dev = xp.astype(cum_dev, rank.dtype)
        fold = xp.sum(xp.astype(xp.take(cum_dev, codes, axis=0) <= rank[:, None], rank.dtype), axis=1)
        return fold, alloc.sum(axis=1), compute

    def split(self, X: Any, y: Any, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        """Yield ``(train_index, test_index)`` integer arrays of ``X``'s library and device."""
        _warn_groups(self, groups)  # at the call, as scikit-learn's (not when iterated)
        return self._split(X, y)

    def _split(self, X: Any, y: Any) -> Iterator[tuple[Any, Any]]:
        fold, sizes, compute = self._test_folds(X, y)
        xp = compute.xp
        n = int(fold.shape[0])
        for i, size in enumerate(sizes):
            size = int(size)
            is_test = fold == i
            test = xp.argsort(xp.astype(~is_test, xp.int8), stable=True)[:size]
            train = xp.argsort(xp.astype(is_test, xp.int8), stable=True)[: n - size]
            yield xp.astype(train, _index_dtype(compute)), xp.astype(test, _index_dtype(compute))


def _first_index(codes: Any, k: int, compute: Compute) -> np.ndarray:
    """Index of each class's first sample (k ints, returned to the host as metadata)."""
    from ..backends.primitives import chunk_rows

    xp = compute.xp
    n = int(codes.shape[0])
    classes = _arange(k, compute)
    best = None
    step = chunk_rows(n, 8 * k)
    for start in range(0, n, step):
        c = codes[start:min(start + step, n)]
        pos = _arange(int(c.shape[0]), compute) + start
        cand = xp.min(xp.where(c[:, None] == classes[None, :], pos[:, None], n), axis=0)
        best = cand if best is None else xp.minimum(best, cand)
    return np.asarray(to_backend(best, "numpy"))


def check_cv(cv: Any = 5, y: Any = None, *, classifier: bool = False) -> Any:
    """Turn ``cv`` (None, int, splitter or iterable of splits) into a splitter.

    An int gives ``StratifiedKFold`` for classifiers with a binary or
    multiclass ``y`` and ``KFold`` otherwise, as scikit-learn does.
    """
    if cv is None:
        cv = 5
    if isinstance(cv, numbers.Integral):
        shape = tuple(getattr(y, "shape", (len(y),) if y is not None and hasattr(y, "__len__") else ()))
        if classifier and y is not None and (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
            return StratifiedKFold(int(cv))  # a column vector is still one target, as scikit-learn reads it
        return KFold(int(cv))
    if hasattr(cv, "split") and hasattr(cv, "get_n_splits"):
        return cv
    if hasattr(cv, "__iter__") and not isinstance(cv, str):
        return _CVIterable(list(cv))
    raise ValueError(f"Expected `cv` as an integer, a cross-validation object (with split and get_n_splits) "
                     f"or an iterable of (train, test) splits. Got {cv!r}.")


class _CVIterable:
    def __init__(self, splits: list[tuple[Any, Any]]) -> None:
        self.splits = splits

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return len(self.splits)

    def split(self, X: Any = None, y: Any = None, groups: Any = None) -> Iterator[tuple[Any, Any]]:
        yield from self.splits
