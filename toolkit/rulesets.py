"""Token rule sets: dated TOML files in `toolkit/rules/`, loaded, validated and looked up.

A rule set file (`kind = "token-rules"`) has an `id`, `provider`, `as_of` date, `sources`,
`notes`, `[settings]` (rounding choices the docs leave open), `[aliases]` (snapshot id ->
model) and `[[groups]]`: models that share one sizing table. A group gives a `scheme`, shared
`params`, one table per detail level (`detail.<level>`, which may override the scheme) and
`models` (name -> per-model params such as `multiplier` or `base`). `auto` names the level that
`detail="auto"` resolves to; without it, `auto` must be a level of its own. `[[observed]]`
tables hold public measurements of what the provider billed (`toolkit.observed`).

Numbers become exact `Fraction`s (1.62 -> 81/50), so no float rounding leaks into counts.
"""

import datetime as dt
import difflib
import functools
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TypeVar

from toolkit.errors import RulesError, UnknownModelError, UnsupportedDetailError
from toolkit.files import MAX_SETTINGS_BYTES, open_regular
from toolkit.observed import Observation, find_observation, parse_observation
from toolkit.paths import RULES_DIR

# The data format: scheme -> (required params, optional params). The algorithms live in
# `toolkit.tokens`, one function per scheme name.
SCHEME_PARAMS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "tile": (
        frozenset({"base", "per_tile", "tile_size", "max_side", "short_side"}),
        frozenset({"base_only"}),
    ),
    "patch": (frozenset({"patch_size", "multiplier"}), frozenset({"max_side", "budget"})),
    "patch_fit": (frozenset({"patch_size", "max_side", "budget"}), frozenset()),
    "area_fit": (frozenset({"divisor", "patch_size", "max_side", "budget"}), frozenset()),
    "crop_tile": (
        frozenset({"tokens_per_tile", "small_side", "crop_divisor"}),
        frozenset({"crop_unit_min", "crop_unit_max"}),
    ),
    "fixed": (frozenset({"tokens"}), frozenset()),
}
ROUNDINGS = ("nearest", "floor", "ceil")
# The detail level estimates and requests use unless told otherwise, everywhere (image_tokens,
# prices, ImagePart, video, the CLI): `auto`, because it is what the API does when a request
# names no level, so an estimate made without one prices what such a request is billed; it is
# the one level every model of every rule set accepts (Claude and Gemini 2.0 have no other);
# and it is never silent: each rule set says which level `auto` stands for per model, and every
# estimate reports the resolved level (`TokenEstimate.detail`).
DEFAULT_DETAIL = "auto"
# The seed recipe's level (the brief sends every image at `high`): the baseline
# recommendations are priced against, and the level a sweep grid uses unless told otherwise.
SEED_DETAIL = "high"
LIMITS = (
    "reject_above_patches",
    "reject_above_side",
    "many_images",
    "many_images_reject_above_side",
)
RULES_KIND = "token-rules"
# What a rule file may hold; anything else is a typo that would otherwise be ignored.
RULES_KEYS = frozenset(
    {
        "kind",
        "id",
        "provider",
        "as_of",
        "title",
        "sources",
        "notes",
        "settings",
        "aliases",
        "groups",
        "observed",
    }
)
GROUP_KEYS = frozenset({"name", "scheme", "params", "detail", "auto", "models"})
# Params that are token counts (whole numbers >= 0) or switches; every other param is a size,
# divisor or factor and must be positive (a zero tile or patch size would divide by zero).
COUNT_PARAMS = frozenset({"base", "per_tile", "tokens", "tokens_per_tile"})
FLAG_PARAMS = frozenset({"base_only"})


@dataclass(frozen=True)
class Settings:
    """Rounding choices where the docs are silent, and the sizes the API rejects (see each
    file's comments for evidence)."""

    fit_rounding: str = "nearest"  # fitting into a pixel limit
    short_side_rounding: str = "floor"  # tile step 2: "round down the other dimension"
    product_rounding: str = "ceil"  # patches x multiplier, or area / divisor
    reject_above_patches: int | None = None  # per-image patch limit (None: no limit)
    reject_above_side: int | None = None  # per-image pixel limit on either side
    many_images: int | None = None  # a request with more images than this ...
    many_images_reject_above_side: int | None = None  # ... has this lower side limit


@dataclass(frozen=True)
class DetailRule:
    scheme: str
    params: Mapping[str, int | Fraction | bool]


@dataclass(frozen=True)
class ModelRule:
    name: str
    group: str
    details: Mapping[str, DetailRule]
    auto: str | None  # the level `auto` resolves to; None when `auto` is a level itself

    @property
    def supported_details(self) -> tuple[str, ...]:
        return tuple(self.details) + (("auto",) if self.auto else ())

    def resolve_detail(self, detail: str | None) -> str:
        """The level `detail` stands for; None (omitted) is `auto`, as in the APIs."""
        level = DEFAULT_DETAIL if detail is None else detail.strip().lower()
        if level == "auto" and self.auto:
            return self.auto
        if level not in self.details:
            raise UnsupportedDetailError(
                f"model {self.name!r} does not support detail {detail!r}"
                f"{_suggestion(level, self.supported_details)}; "
                f"supported: {', '.join(self.supported_details)}"
            )
        return level


@dataclass(frozen=True)
class RuleSet:
    id: str
    provider: str
    as_of: dt.date
    title: str
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    settings: Settings
    models: Mapping[str, ModelRule]
    aliases: Mapping[str, str]
    observed: tuple[Observation, ...] = ()
    path: Path | None = field(default=None, compare=False)

    def canonical(self, model: str) -> str | None:
        """The model name this set knows `model` by (alias resolved), or None."""
        name = model.strip().lower()
        name = self.aliases.get(name, name)
        return name if name in self.models else None

    def model(self, model: str) -> ModelRule:
        name = self.canonical(model)
        if name is None:
            raise UnknownModelError(
                f"unknown model {model!r} in rule set {self.id}{_suggestion(model, self.models)}"
                f"; known models: {', '.join(sorted(self.models))}"
            )
        return self.models[name]

    def observation(self, model: str, requested: str | None) -> Observation | None:
        """The public measurement of `model`'s bill at the requested level (None: `auto`)."""
        name = self.canonical(model)
        level = DEFAULT_DETAIL if requested is None else requested.strip().lower()
        return None if name is None else find_observation(self.observed, name, level)


RulesSpec = str | Path | RuleSet | None  # a rule-set id, a TOML path, a loaded set, or default


def _number(value: object, where: str) -> int | Fraction | bool:
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return Fraction(str(value))  # the decimal as written: 1.62 -> 81/50
    raise RulesError(f"{where}: expected a number, got {value!r}")


def _params(table: object, where: str) -> dict[str, int | Fraction | bool]:
    if not isinstance(table, dict):
        raise RulesError(f"{where}: expected a table")
    return {k: _number(v, f"{where}.{k}") for k, v in table.items() if k != "scheme"}


def _detail_rule(scheme: str, params: dict, where: str) -> DetailRule:
    if scheme not in SCHEME_PARAMS:
        raise RulesError(f"{where}: unknown scheme {scheme!r}; known: {', '.join(SCHEME_PARAMS)}")
    required, optional = SCHEME_PARAMS[scheme]
    missing = required - params.keys()
    if "base_only" in params:  # a base-only tile level needs no tile constants
        missing -= {"per_tile", "tile_size", "short_side"}
    extra = params.keys() - required - optional
    if missing or extra:
        raise RulesError(
            f"{where}: scheme {scheme!r} "
            + (f"is missing {sorted(missing)} " if missing else "")
            + (f"does not take {sorted(extra)}" if extra else "")
        )
    for key, value in params.items():
        _check_param(key, value, where)
    return DetailRule(scheme, params)


def _check_param(key: str, value: int | Fraction | bool, where: str) -> None:
    if key in FLAG_PARAMS:
        valid, wanted = isinstance(value, bool), "true or false"
    elif key in COUNT_PARAMS:
        valid, wanted = type(value) is int and value >= 0, "a whole number >= 0"
    else:
        valid, wanted = not isinstance(value, bool) and value > 0, "a positive number"
    if not valid:
        raise RulesError(f"{where}: {key} = {value} must be {wanted}")


def check_keys(table: dict, known: frozenset[str], where: str) -> None:
    """`RulesError` naming the keys of `table` that are not in `known` (shared with prices)."""
    unknown = sorted(set(table) - known)
    if unknown:
        raise RulesError(f"{where}: unknown keys {unknown}; known: {', '.join(sorted(known))}")


def _tables(value: object, where: str) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise RulesError(f"{where}: expected an array of tables ([[...]])")
    return value


def _group_models(group: dict, index: int, source: str) -> dict[str, ModelRule]:
    where = f"{source}: groups[{index}]"
    check_keys(group, GROUP_KEYS, where)
    name = str(group.get("name", where))
    shared = _params(group.get("params", {}), f"{where}.params")
    levels = group.get("detail")
    if not isinstance(levels, dict) or not levels:
        raise RulesError(f"{where}: needs at least one detail.<level> table")
    auto = group.get("auto")
    if auto is not None and auto not in levels:
        raise RulesError(f"{where}: auto = {auto!r} is not one of its levels {sorted(levels)}")
    if auto is None and "auto" not in levels:
        raise RulesError(f"{where}: set `auto = <level>` or define detail.auto")
    models = group.get("models")
    if not isinstance(models, dict) or not models:
        raise RulesError(f"{where}: needs a non-empty models table")
    out = {}
    for model, own in models.items():
        per_model = _params(own, f"{where}.models.{model}")
        details = {}
        for level, table in levels.items():
            spot = f"{where}.detail.{level} ({model})"
            scheme = table.get("scheme", group.get("scheme")) if isinstance(table, dict) else None
            params = {**shared, **per_model, **_params(table, spot)}
            details[level.lower()] = _detail_rule(str(scheme), params, spot)
        out[model.lower()] = ModelRule(model.lower(), name, details, auto)
    return out


def _settings(table: object, where: str) -> Settings:
    if not isinstance(table, dict):
        raise RulesError(f"{where}: [settings] must be a table")
    unknown = table.keys() - Settings.__dataclass_fields__.keys()
    if unknown:
        raise RulesError(f"{where}: unknown settings {sorted(unknown)}")
    settings = Settings(**table)
    for name in ("fit_rounding", "short_side_rounding", "product_rounding"):
        if getattr(settings, name) not in ROUNDINGS:
            raise RulesError(f"{where}: {name} must be one of {ROUNDINGS}")
    for name in LIMITS:
        limit = getattr(settings, name)
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise RulesError(f"{where}: {name} must be a positive integer")
    if (settings.many_images is None) != (settings.many_images_reject_above_side is None):
        raise RulesError(f"{where}: many_images and many_images_reject_above_side go together")
    return settings


def parse_rules(data: dict, path: Path | None = None) -> RuleSet:
    """Build a `RuleSet` from a parsed TOML document; `RulesError` names what is wrong."""
    where = str(path or data.get("id", "<rules>"))
    if data.get("kind") != RULES_KIND:
        raise RulesError(f"{where}: not a token rule set (kind = {data.get('kind')!r})")
    check_keys(data, RULES_KEYS, where)
    try:
        as_of = dt.date.fromisoformat(str(data["as_of"]))
        ident, provider = str(data["id"]), str(data["provider"])
    except (KeyError, ValueError) as exc:
        raise RulesError(f"{where}: needs id, provider and an ISO as_of date ({exc})") from exc
    models: dict[str, ModelRule] = {}
    for index, group in enumerate(_tables(data.get("groups", []), f"{where}: groups")):
        for name, rule in _group_models(group, index, where).items():
            if name in models:
                raise RulesError(f"{where}: model {name!r} is in more than one group")
            models[name] = rule
    aliases = data.get("aliases", {})
    if not isinstance(aliases, dict):
        raise RulesError(f"{where}: [aliases] must be a table")
    aliases = {str(k).lower(): str(v).lower() for k, v in aliases.items()}
    dangling = sorted(a for a, m in aliases.items() if m not in models)
    if dangling:
        raise RulesError(f"{where}: aliases point to unknown models: {dangling}")
    observed = tuple(
        parse_observation(table, f"{where}: observed[{i}]", models)
        for i, table in enumerate(_tables(data.get("observed", []), f"{where}: observed"))
    )
    return RuleSet(
        id=ident,
        provider=provider,
        as_of=as_of,
        title=str(data.get("title", "")),
        sources=tuple(data.get("sources", ())),
        notes=tuple(data.get("notes", ())),
        settings=_settings(data.get("settings", {}), where),
        models=models,
        aliases=aliases,
        observed=observed,
        path=path,
    )


def read_toml(path: Path) -> dict:
    """A TOML file (a regular file, UTF-8) parsed; `RulesError` naming it otherwise."""
    try:
        with open_regular(path, MAX_SETTINGS_BYTES) as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise RulesError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise RulesError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: {exc}") from exc


def builtin_files(kind: str) -> list[Path]:
    """The package's TOML files of one `kind`."""
    return [p for p in sorted(RULES_DIR.glob("*.toml")) if read_toml(p).get("kind") == kind]


T = TypeVar("T")


def builtin_or_file(
    spec: str | Path, builtin: Mapping[str, T], parse: Callable[[dict, Path], T], what: str
) -> T:
    """The built-in table with id `spec`, else the TOML file at `spec` parsed; `RulesError`
    naming the built-in ids when it is neither."""
    if isinstance(spec, str) and spec in builtin:
        return builtin[spec]
    path = Path(spec)
    if path.suffix == ".toml" or path.exists():
        return parse(read_toml(path), path)
    raise RulesError(f"unknown {what} {str(spec)!r}; known: {', '.join(builtin)}")


@functools.cache
def _builtin() -> dict[str, RuleSet]:
    sets: dict[str, RuleSet] = {}
    for path in builtin_files(RULES_KIND):
        rules = parse_rules(read_toml(path), path)
        if rules.id in sets:
            raise RulesError(f"{path}: duplicate rule set id {rules.id!r}")
        sets[rules.id] = rules
    return sets


def rule_sets() -> tuple[RuleSet, ...]:
    """Every built-in rule set, by provider then date."""
    return tuple(sorted(_builtin().values(), key=lambda r: (r.provider, r.as_of)))


def default_rule_sets() -> tuple[RuleSet, ...]:
    """The newest rule set of each provider."""
    newest: dict[str, RuleSet] = {}
    for rules in rule_sets():
        newest[rules.provider] = rules  # sorted by date, so the last one wins
    return tuple(newest.values())


def load_rules(spec: RulesSpec = None) -> RuleSet:
    """A rule set by id, by path to a TOML file, or as given; None is the newest OpenAI set."""
    if isinstance(spec, RuleSet):
        return spec
    if spec is None:
        return next(r for r in default_rule_sets() if r.provider == "openai")
    return builtin_or_file(spec, _builtin(), parse_rules, "rule set")


def find_model(model: str, rules: RulesSpec = None) -> tuple[RuleSet, ModelRule]:
    """The rule set and rule for `model`: in `rules`, or in the newest set that knows it."""
    if rules is not None:
        ruleset = load_rules(rules)
        return ruleset, ruleset.model(model)
    defaults = default_rule_sets()
    for ruleset in defaults:
        if ruleset.canonical(model):
            return ruleset, ruleset.model(model)
    older = [r.id for r in rule_sets() if r not in defaults and r.canonical(model)]
    hint = f" (older rule sets know it: {', '.join(older)}; pass rules=<id>)" if older else ""
    known = known_models()
    raise UnknownModelError(
        f"unknown model {model!r}{hint or _suggestion(model, known)}; "
        f"known models: {', '.join(known)}"
    )


def _suggestion(model: str, known: Iterable[str]) -> str:
    """` (did you mean 'gpt-4o'?)` for the closest known names, or nothing."""
    close = difflib.get_close_matches(model.strip().lower(), known, n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""


def known_models(rules: RulesSpec = None) -> list[str]:
    """Model names (aliases excluded) of one rule set, or of every provider's newest set."""
    sets = [load_rules(rules)] if rules is not None else default_rule_sets()
    return sorted(name for r in sets for name in r.models)


def canonical_model(model: str) -> str:
    """`model` with any snapshot alias from any built-in rule set resolved."""
    name = model.strip().lower()
    for rules in rule_sets():
        if name in rules.aliases:
            return rules.aliases[name]
    return name


def check_detail(model: str, detail: str | None, rules: RulesSpec = None) -> str:
    """The level `detail` stands for on `model`; `RulesError` when the rule sets do not know
    the model or it has no such level (a whole run's settings, checked once before any work)."""
    return find_model(model, rules)[1].resolve_detail(detail)
