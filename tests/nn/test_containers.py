"""ModuleList, ModuleDict and Identity hold modules as PyTorch's do: their parts' parameters
belong to the holder under PyTorch's dotted names, so optimizers and state dicts see them."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from autonet import Value, nn, optim


class Tower(nn.Module):
    def __init__(self) -> None:
        self.blocks = nn.ModuleList([nn.Linear(3, 3, rng=0) for _ in range(2)])
        self.heads = nn.ModuleDict({"even": nn.Linear(3, 2, rng=1), "odd": nn.Linear(3, 2, rng=2)})
        self.skip = nn.Identity()

    def forward(self, x, head):
        for block in self.blocks:
            x = block(x).tanh()
        return self.heads[head](self.skip(x))


def test_the_parts_parameters_belong_to_the_holder_under_pytorchs_names():
    tower = Tower()
    names = [name for name, _ in tower.named_parameters()]
    assert names == [
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.weight",
        "blocks.1.bias",
        "heads.even.weight",
        "heads.even.bias",
        "heads.odd.weight",
        "heads.odd.bias",
    ]
    state = {name: np.full(array.shape, 0.5) for name, array in tower.state_dict().items()}
    tower.load_state_dict(state)
    assert np.all(tower.blocks[1].weight.data == 0.5) and np.all(tower.heads["odd"].bias.data == 0.5)


def test_an_optimizer_over_the_holder_trains_every_part_it_used():
    tower = Tower()
    optimizer = optim.SGD(tower.parameters(), lr=0.1)
    before = {name: array.copy() for name, array in tower.state_dict().items()}
    (tower(np.ones((4, 3)), "odd") ** 2).sum().backward()
    optimizer.step()
    after = tower.state_dict()
    changed = {name for name in before if not np.array_equal(before[name], after[name])}
    assert changed == {name for name in before if not name.startswith("heads.even")}


def test_a_module_list_appends_extends_indexes_and_slices():
    blocks = nn.ModuleList()
    assert len(blocks) == 0
    first, second, third = nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 1)
    assert blocks.append(first).extend([second, third]) is blocks
    assert list(blocks) == [first, second, third] and blocks[-1] is third
    part = blocks[1:]
    assert type(part) is nn.ModuleList and list(part) == [second, third]
    with pytest.raises(IndexError, match="ModuleList: index 3 is out of range for 3 parts"):
        blocks[3]
    with pytest.raises(TypeError, match="ModuleList: part 3 is a function, not a Module"):
        blocks.append(lambda x: x)
    assert len(blocks) == 3  # the refused part changed nothing


def test_a_module_dict_keeps_its_order_and_names_what_is_missing():
    heads = nn.ModuleDict()
    heads["b"], heads["a"] = nn.Linear(2, 1), nn.Linear(2, 1)
    replacement = nn.Linear(2, 3)
    heads["b"] = replacement
    assert heads.keys() == ["b", "a"] and list(heads) == ["b", "a"] and len(heads) == 2
    assert heads["b"] is replacement and heads.values()[0] is replacement and "a" in heads
    assert [name for name, _ in heads.items()] == ["b", "a"]
    with pytest.raises(KeyError, match=r"no module 'c'; it has \['b', 'a'\]"):
        heads["c"]
    with pytest.raises(ValueError, match="a name is a public attribute name"):
        heads["with.dot"] = nn.Linear(2, 1)
    with pytest.raises(ValueError, match="'keys' is the name of a ModuleDict method"):
        heads["keys"] = nn.Linear(2, 1)
    with pytest.raises(TypeError, match="'x' is a int, not a Module"):
        heads["x"] = 3


def test_identity_passes_its_input_through_and_keeps_the_graph():
    x = Value(np.array([1.0, -2.0]), requires_grad=True)
    assert nn.Identity()(x) is x
    model = nn.Sequential(nn.Identity(), nn.Tanh())
    model(x).sum().backward()
    np.testing.assert_allclose(x.grad, 1 - np.tanh([1.0, -2.0]) ** 2)


def test_pytorchs_inplace_and_identity_arguments_are_taken_and_change_no_number():
    # Code written for PyTorch: nn.ReLU(inplace=True), nn.Identity(54, unused=0.1).
    x = np.array([[-1.0, 2.0, -3.0, 4.0]])
    pairs = [
        (nn.ReLU(inplace=True), nn.ReLU()),
        (nn.LeakyReLU(0.2, inplace=True), nn.LeakyReLU(0.2)),
        (nn.Dropout(0.5, True, rng=4), nn.Dropout(0.5, rng=4)),
    ]
    for given, plain in pairs:
        np.testing.assert_array_equal(given(x).data, plain(x).data)
    assert x.tolist() == [[-1.0, 2.0, -3.0, 4.0]]  # the input is left as it was
    assert nn.Identity(54, unused_argument=0.1)(x) is x


@pytest.mark.parametrize("name", ["BatchNorm1d", "Conv2d", "ReLU", "MSELoss"])
def test_module_signatures_are_their_constructors_own(name: str):
    # inspect.signature (help(), editors) reads the constructor; before Python 3.11 a __new__ on
    # the base class would have hidden an inherited __init__ behind (*args, **kwargs).
    module = getattr(nn, name)
    constructor = list(inspect.signature(module.__init__).parameters)[1:]  # without self
    assert list(inspect.signature(module).parameters) == constructor and "args" not in constructor
