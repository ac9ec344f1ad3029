"""YAML as plain data: what a preset shared by a colleague may hold, and nothing else.

`yaml.safe_load` still builds bytes (`!!binary`), sets (`!!set`), dates (`!!timestamp`) and
ordered pairs, and expands aliases without limit: an alias bomb (9 levels of 9 aliases) is a
few lines that stand for 387 million values, and a recursive alias is an endless one. Here
only the JSON types load (mappings with text keys, lists, text, integers, floats, booleans,
null); any other tag, a key that is not text, a recursive alias, or a document standing for
more than `MAX_VALUES` values once its aliases are expanded is a `SettingsError`, raised
before anything is built.
"""

import yaml

from toolkit.errors import SettingsError

MAX_VALUES = 10_000  # values a document may stand for (the largest preset holds about 100)
YAML_TAGS = "tag:yaml.org,2002:"
PLAIN_TAGS = {YAML_TAGS + name for name in ("map", "seq", "str", "int", "float", "bool", "null")}
TEXT = YAML_TAGS + "str"


def _where(node: yaml.Node) -> str:
    return f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"


def _expanded(node: yaml.Node, seen: dict[int, int], open_: set[int]) -> int:
    """Values `node` stands for with its aliases expanded (checked on the way)."""
    key = id(node)
    if key in seen:
        return seen[key]
    if key in open_:
        raise SettingsError(f"a recursive alias ({_where(node)})")
    if node.tag not in PLAIN_TAGS:
        tag = node.tag.removeprefix(YAML_TAGS)
        raise SettingsError(f"{tag} is not plain data ({_where(node)})")
    open_.add(key)
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            if name.tag != TEXT:
                raise SettingsError(f"a mapping key that is not text ({_where(name)})")
            children += [name, value]
    count = 1
    for child in children:
        count += _expanded(child, seen, open_)
        if count > MAX_VALUES:
            raise SettingsError(
                f"stands for more than {MAX_VALUES} values once its aliases are expanded"
            )
    open_.discard(key)
    seen[key] = count
    return count


def load(text: str) -> object:
    """The one YAML document in `text` as plain data (see the module); `SettingsError` for
    anything else, `yaml.YAMLError` for text that is not YAML."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded(node, {}, set())
        return loader.construct_document(node)
    except RecursionError:
        raise SettingsError("nested too deeply") from None
    finally:
        loader.dispose()
