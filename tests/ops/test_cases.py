"""An op's registry entry holds its sample cases (``Op.cases``, an ``autonet.ops.Cases``).

The suite draws every op's arguments from its own entry: shared constants of ``autonet.ops.cases``
or cases written out with ``samples``. ``Cases`` refuses a definition that draws nothing, and the
old names (``KIND_CASES``, ``KindCases``, ``kind_cases``, ``Op.kind``, ``Op.extra``) still work
for a while, with a DeprecationWarning.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from autonet import call_op
from autonet.ops import REGISTRY, Cases, Domain, Edge, Op
from autonet.ops import cases as op_cases
from autonet.testing import cases

SHARED = {name: getattr(op_cases, name) for name in op_cases.__all__ if name.isupper() and name[:4] != "MAX_"}
EXP_EDGES = (Edge("x = 0", (0.0,), grads=(1.0,), value=1.0),)


def _probe(spec: Cases | None, name: str = "probe") -> Op:
    return Op(name, np.exp, (lambda g, out, x: g * out,), (Domain(),), cases=spec, edges=EXP_EDGES)


def _source(seed: int = 0) -> cases.RandomSource:
    return cases.RandomSource(np.random.default_rng(seed))


def test_every_shared_constant_is_a_cases_of_its_own_family() -> None:
    assert {"ELEMENTWISE", "REDUCTION", "AXIS", "CLIP", "WHERE", "MATMUL", "GETITEM"} <= set(SHARED)
    for name, spec in SHARED.items():
        assert isinstance(spec, Cases) and spec.shapes is not None, name
    families = [spec.family for spec in SHARED.values()]
    assert len(set(families)) == len(families), "two shared constants claim one family"


def test_every_registered_op_has_cases_and_shares_the_family_of_its_constant() -> None:
    by_family = {spec.family: spec for spec in SHARED.values()}
    for name, op in REGISTRY.items():
        assert isinstance(op.cases, Cases), name
        shared = by_family.get(op.cases.family)
        if shared is not None:
            # Either the constant itself, or the constant with a field changed (std's slice size).
            assert op.cases.shapes is shared.shapes and op.cases.params is shared.params, name
        else:
            assert op.cases.samples is not None, f"{name}: a family of its own needs written-out samples"


def test_ops_of_one_family_take_the_same_arguments() -> None:
    reductions = [name for name, op in REGISTRY.items() if op.cases.family == "reduction"]
    assert {"sum", "mean", "max", "min", "var", "std", "prod", "logsumexp"} <= set(reductions)
    for name in reductions:
        _, params = cases.op_case(name, _source())
        assert sorted(params) == ["axis", "keepdims"], name


def test_std_needs_two_elements_per_reduced_slice() -> None:
    assert REGISTRY["std"].cases.min_reduced_size == 2
    assert REGISTRY["sum"].cases.min_reduced_size == 1
    source = _source(5)
    for _ in range(50):
        (x,), params = cases.op_case("std", source)
        axis = params["axis"]
        axes = range(x.ndim) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
        if x.size:
            assert int(np.prod([x.shape[a] for a in axes])) >= 2, (x.shape, params)


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({}, ValueError, "draws nothing"),
        ({"family": ""}, ValueError, "needs a family name"),
        ({"shapes": "not callable"}, TypeError, "shapes must be callable"),
        ({"samples": lambda rng, dtype: [], "params": 3}, TypeError, "params must be callable"),
        ({"samples": lambda rng, dtype: [], "min_reduced_size": 0}, ValueError, "min_reduced_size"),
        ({"samples": lambda rng, dtype: [], "min_reduced_size": True}, ValueError, "min_reduced_size"),
    ],
    ids=["nothing", "no-family", "shapes", "params", "size-0", "size-bool"],
)
def test_cases_refuse_a_definition_the_suite_cannot_draw(
    fields: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Cases(**{"family": "probe", **fields})


def test_an_op_with_written_out_samples_is_drawn_from_them() -> None:
    written = [((np.array([0.5, 1.5]),), {}), ((np.array([[2.0]]),), {})]
    probe = _probe(Cases("probe", samples=lambda rng, dtype: written))
    source = _source(1)
    drawn = {cases.op_case(probe, source)[0][0].shape for _ in range(20)}
    assert drawn == {(2,), (1, 1)}


def test_an_op_with_a_shared_constant_is_drawn_like_the_ops_that_use_it() -> None:
    probe = _probe(op_cases.REDUCTION)
    inputs, params = cases.op_case(probe, _source(2))
    assert sorted(params) == ["axis", "keepdims"]
    np.testing.assert_allclose(call_op("sum", *inputs, **params).data, np.sum(inputs[0], **params))


def test_an_op_without_cases_cannot_be_drawn() -> None:
    with pytest.raises(ValueError, match="probe: the registry entry declares no cases"):
        cases.op_case(_probe(None), _source())
    with pytest.raises(ValueError, match="probe: the registry entry declares no cases"):
        cases.require_cases(_probe(None))


def test_op_takes_no_kind_or_extra_any_more() -> None:
    for old in ({"kind": "elementwise"}, {"extra": {"samples": None}}):
        with pytest.raises(TypeError):
            Op("probe", np.exp, (lambda g, out, x: g * out,), (Domain(),), **old)


# --------------------------------------------------------------------------- deprecated names


def test_kind_cases_names_warn_and_are_built_from_the_registry() -> None:
    with pytest.warns(DeprecationWarning, match="KIND_CASES is deprecated"):
        table = cases.KIND_CASES
    drawn_families = {op.cases.family for op in REGISTRY.values() if op.cases.shapes is not None}
    assert set(table) == drawn_families
    assert "reduction" in table and table["reduction"].params is op_cases.REDUCTION.params
    with pytest.warns(DeprecationWarning, match="kind_cases is deprecated"):
        kind_cases = cases.kind_cases
    entry = kind_cases(REGISTRY["sum"])
    assert (entry.shapes, entry.params, entry.accepts) == (
        op_cases.REDUCTION.shapes,
        op_cases.REDUCTION.params,
        op_cases.REDUCTION.accepts,
    )
    with pytest.raises(LookupError, match="einsum"):
        kind_cases(REGISTRY["einsum"])  # its cases are written out: nothing to look up by kind
    with pytest.warns(DeprecationWarning, match="KindCases is deprecated"):
        kind_type = cases.KindCases
    assert isinstance(entry, kind_type)
    assert kind_type(op_cases.AXIS.shapes, op_cases.AXIS.params).accepts([(2, 3)])


def test_deprecated_names_are_not_in_all_and_unknown_names_still_fail() -> None:
    assert not {"KIND_CASES", "KindCases", "kind_cases"} & set(cases.__all__)
    with pytest.raises(AttributeError, match="no attribute 'KIND_TABLE'"):
        cases.KIND_TABLE  # noqa: B018 - the lookup is the test


def test_op_kind_and_extra_warn_and_read_the_cases() -> None:
    with pytest.warns(DeprecationWarning, match="op.cases.family"):
        assert REGISTRY["sum"].kind == "reduction"
    with pytest.warns(DeprecationWarning, match="op.cases.samples"):
        assert REGISTRY["std"].extra == {"min_reduced_size": 2}
    with pytest.warns(DeprecationWarning):
        assert REGISTRY["einsum"].extra == {"samples": REGISTRY["einsum"].cases.samples}
    with pytest.warns(DeprecationWarning):
        assert REGISTRY["exp"].extra == {}


def test_replace_makes_a_variant_of_a_shared_constant() -> None:
    variant = replace(op_cases.REDUCTION, min_reduced_size=3)
    assert variant.family == "reduction" and variant.shapes is op_cases.REDUCTION.shapes
    assert op_cases.REDUCTION.min_reduced_size == 1
