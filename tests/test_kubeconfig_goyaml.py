"""go-yaml emulation: the exec extension's config read as kubectl reads it, where PyYAML's own
reading differs (``y``/``n`` are booleans, timestamps stay strings, map keys become strings)."""

from __future__ import annotations

import pytest
import yaml
from kubewarm.engine.kubeconfig.goyaml import go_plain
from kubewarm.engine.kubeconfig.parse import compose

TEXT = """\
short: [y, Y, n, N]
long: [yes, no, on, off, true, False]
quoted: ['y', "n", '2001-12-14']
when: 2001-12-14
stamp: 2001-12-14t21:59:43.10-05:00
number: 1.50
nothing: ~
true: t
2: two
null: n
nested: {list: [3, {b: 2, a: 1}]}
"""


@pytest.mark.parametrize("exact", [True, False], ids=["python", "libyaml"])
def test_plain_data_as_go_yaml_reads_it(exact):
    data = go_plain(compose("/k/config", TEXT, exact=exact))
    assert data == {
        "short": [True, True, False, False],
        "long": [True, False, True, False, True, False],
        "quoted": ["y", "n", "2001-12-14"],
        "when": "2001-12-14",
        "stamp": "2001-12-14t21:59:43.10-05:00",
        "number": 1.5,
        "nothing": None,
        "true": "t",
        "2": "two",
        "null": False,
        "nested": {"list": [3, {"b": 2, "a": 1}]},
    }


def test_pyyaml_alone_would_read_it_differently():
    """Why the emulation exists: these are the values a plain PyYAML load gets wrong."""
    plain = yaml.safe_load(TEXT)
    assert plain["short"] == ["y", "Y", "n", "N"]
    assert not isinstance(plain["when"], str)
    assert True in plain and 2 in plain


def test_no_node_is_none():
    assert go_plain(None) is None
