"""The policy engine: decides whether a caller may perform an API operation.

Rules are written in the oslo.policy language, so operators can reuse the
``policy.yaml`` files they already have::

    role:admin or (project_id:%(target.project.id)s and not role:dunce)

Grammar, loosest first: ``or``, ``and``, ``not``, parentheses. The checks are

- ``@`` always passes, ``!`` never does; an empty rule always passes;
- ``role:NAME`` passes when ``NAME`` is among ``creds["roles"]``, ignoring case;
- ``rule:NAME`` evaluates another rule; a rule that does not exist fails;
- ``KEY:VALUE`` (a generic check) compares ``creds[KEY]`` with ``VALUE``. A
  dotted ``KEY`` walks nested credentials; a list on the way matches when any
  element does. A ``KEY`` that is a Python literal (``True``, ``None``, ``20``,
  ``'text'``) is compared as a constant instead.

In ``VALUE`` (and a role name), ``%(a.b)s`` is replaced by the target's
``a.b`` key, or else by ``target["a"]["b"]``. A check whose substitution is
missing from the target fails. Values compare as text, as in oslo.policy.

Two deliberate departures from oslo.policy, both failing closed or loudly:
a credential that is ``None`` never matches (so an unscoped token's
``project_id`` does not equal a target's missing ``project_id``), and a rule
that does not parse, or rules that refer to each other in a cycle, raise
``ConfigError`` at load instead of being silently denied. A quoted constant on
the right (``project_id:'abc'``) is compared without its quotes, as the
oslo.policy documentation describes. ``http:`` checks are not supported.

Each rule is compiled once into nested closures; enforcing a rule is a dict
lookup plus calls, with no parsing or regular expressions per request.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, Protocol

import yaml

from nubo.core.errors import ConfigError, PolicyNotAuthorized

__all__ = [
    "Credentials",
    "PolicyEngine",
    "PolicyRuleNotRegistered",
    "Target",
]

logger = logging.getLogger(__name__)

Target = Mapping[str, Any]
"""Attributes of the object acted on; nested dicts, or flat dotted keys."""

Credentials = Mapping[str, Any]
"""The caller, as oslo.context's ``to_policy_values()`` describes it."""


class PolicyRuleNotRegistered(Exception):
    """Code asked to enforce a rule that no service registered: a programming error."""

    def __init__(self, rule: str) -> None:
        super().__init__(f"policy rule {rule!r} is not registered")
        self.rule = rule


class _Check(Protocol):
    def __call__(
        self, target: Target, creds: Credentials, rules: Mapping[str, _Check], /
    ) -> bool: ...


_Render = Callable[[Target], str | None]
"""Produces a check's right-hand side from the target, or None if a key is missing."""


class _ParseError(ValueError):
    """A rule expression is not valid; the engine adds the rule's name."""


# --- evaluating -----------------------------------------------------------------------

_MISSING: Any = object()


def _always(target: Target, creds: Credentials, rules: Mapping[str, _Check], /) -> bool:
    return True


def _never(target: Target, creds: Credentials, rules: Mapping[str, _Check], /) -> bool:
    return False


def _all_of(checks: tuple[_Check, ...]) -> _Check:
    def check(target: Target, creds: Credentials, rules: Mapping[str, _Check], /) -> bool:
        for operand in checks:
            if not operand(target, creds, rules):
                return False
        return True

    return check


def _any_of(checks: tuple[_Check, ...]) -> _Check:
    def check(target: Target, creds: Credentials, rules: Mapping[str, _Check], /) -> bool:
        for operand in checks:
            if operand(target, creds, rules):
                return True
        return False

    return check


def _negation(operand: _Check) -> _Check:
    def check(target: Target, creds: Credentials, rules: Mapping[str, _Check], /) -> bool:
        return not operand(target, creds, rules)

    return check


def _rule_check(name: str) -> _Check:
    def check(target: Target, creds: Credentials, rules: Mapping[str, _Check], /) -> bool:
        referenced = rules.get(name)
        return referenced is not None and referenced(target, creds, rules)

    return check


def _role_check(render: _Render) -> _Check:
    def check(target: Target, creds: Credentials, rules: Mapping[str, _Check], /) -> bool:
        wanted = render(target)
        roles = creds.get("roles")
        if wanted is None or not roles:
            return False
        if isinstance(roles, str):
            roles = (roles,)
        wanted = wanted.lower()
        for role in roles:
            if role.lower() == wanted:
                return True
        return False

    return check


def _constant_check(constant: str, render: _Render) -> _Check:
    def check(target: Target, creds: Credentials, rules: Mapping[str, _Check], /) -> bool:
        return render(target) == constant

    return check


def _credential_check(path: tuple[str, ...], render: _Render) -> _Check:
    if len(path) == 1:
        return _top_credential_check(path[0], render)

    def check(target: Target, creds: Credentials, rules: Mapping[str, _Check], /) -> bool:
        wanted = render(target)
        return wanted is not None and _credential_matches(creds, path, wanted)

    return check


def _top_credential_check(key: str, render: _Render) -> _Check:
    """The common case, ``project_id:...``: one key, a string value, no walk."""

    def check(target: Target, creds: Credentials, rules: Mapping[str, _Check], /) -> bool:
        wanted = render(target)
        if wanted is None:
            return False
        value = creds.get(key)
        if isinstance(value, str):
            return value == wanted
        return _credential_matches(value, (), wanted)

    return check


def _credential_matches(node: Any, path: tuple[str, ...], wanted: str) -> bool:
    """Walk ``path`` into the credentials; a list on the way matches if any element does."""
    if isinstance(node, list | tuple | set | frozenset):
        return any(_credential_matches(item, path, wanted) for item in node)
    if not path:
        if node is None:
            return False
        return str(node) == wanted
    try:
        child = node[path[0]]
    except (LookupError, TypeError):
        return False
    return _credential_matches(child, path[1:], wanted)


def _target_value(target: Target, key: str, path: tuple[str, ...]) -> Any:
    """``target[key]`` if the target is flat, else the walk of ``path`` through nested dicts."""
    value = target.get(key, _MISSING)
    if value is not _MISSING or len(path) == 1:
        return value
    node: Any = target
    try:
        for part in path:
            node = node[part]
    except (LookupError, TypeError):
        return _MISSING
    return node


# --- compiling the right-hand side ----------------------------------------------------

_SUBSTITUTION = re.compile(r"%\((?P<key>[^()]*)\)s|%%|%")
_QUOTES = "'\""


def _compile_render(text: str) -> _Render:
    """Compile ``text``, with its ``%(key)s`` substitutions, into a function of the target."""
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] == text[0]:
        constant = text[1:-1]
        return lambda target: constant
    parts = _template_parts(text)
    if len(parts) == 1 and isinstance(parts[0], str):
        literal = parts[0]
        return lambda target: literal
    if len(parts) == 1 and isinstance(parts[0], tuple):
        return _lookup_render(*parts[0])
    return _join_render(tuple(parts))


_Part = str | tuple[str, tuple[str, ...]]


def _template_parts(text: str) -> list[_Part]:
    """Split ``text`` into literal strings and (key, path) substitutions."""
    parts: list[_Part] = []
    literal: list[str] = []
    position = 0
    for found in _SUBSTITUTION.finditer(text):
        literal.append(text[position : found.start()])
        position = found.end()
        key = found.group("key")
        if found.group() == "%%":
            literal.append("%")
        elif not key:
            raise _ParseError(f"unsupported '%' in {text!r}; use %(key)s or %%")
        else:
            parts.extend([*_nonempty("".join(literal)), (key, tuple(key.split(".")))])
            literal = []
    literal.append(text[position:])
    parts.extend(_nonempty("".join(literal)))
    return parts


def _nonempty(text: str) -> list[_Part]:
    return [text] if text else []


def _lookup_render(key: str, path: tuple[str, ...]) -> _Render:
    def render(target: Target) -> str | None:
        value = _target_value(target, key, path)
        return None if value is _MISSING else str(value)

    return render


def _join_render(parts: tuple[_Part, ...]) -> _Render:
    def render(target: Target) -> str | None:
        pieces: list[str] = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = _target_value(target, *part)
            if value is _MISSING:
                return None
            pieces.append(str(value))
        return "".join(pieces)

    return render


# --- parsing ---------------------------------------------------------------------------

_TokenKind = Literal["(", ")", "and", "or", "not", "check"]

_SPECIAL_TOKENS: Mapping[str, _TokenKind] = {
    "(": "(",
    ")": ")",
    "and": "and",
    "or": "or",
    "not": "not",
}


class _Token(NamedTuple):
    kind: _TokenKind
    text: str


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        char = expression[position]
        if char.isspace():
            position += 1
        else:
            end = position + 1 if char in "()" else _word_end(expression, position)
            word = expression[position:end]
            tokens.append(_Token(_SPECIAL_TOKENS.get(word.lower(), "check"), word))
            position = end
    return tokens


def _word_end(text: str, start: int) -> int:
    """Where the check starting at ``start`` ends: at a space or a bare parenthesis.

    A quote opening the check or its value, and a ``%(key)s``, may hold either.
    """
    position = start
    while position < len(text):
        char = text[position]
        if char.isspace() or char == "(" or char == ")":
            return position
        if char in _QUOTES and (position == start or text[position - 1] == ":"):
            position = _closing(text, position + 1, char, "quote")
        elif text.startswith("%(", position):
            position = _closing(text, position + 2, ")", "%(")
        else:
            position += 1
    return position


def _closing(text: str, start: int, char: str, opened: str) -> int:
    found = text.find(char, start)
    if found < 0:
        raise _ParseError(f"unterminated {opened} in {text[start - 1 :]!r}")
    return found + 1


class _Parser:
    """Recursive descent: ``or`` of ``and`` of ``not`` of a check or a parenthesised rule."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._position = 0
        self.references: set[str] = set()

    def parse(self) -> _Check:
        if not self._tokens:
            return _always
        check = self._or()
        if self._position < len(self._tokens):
            raise _ParseError(f"unexpected {self._tokens[self._position].text!r}")
        return check

    def _or(self) -> _Check:
        operands = [self._and()]
        while self._accept("or"):
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else _any_of(tuple(operands))

    def _and(self) -> _Check:
        operands = [self._not()]
        while self._accept("and"):
            operands.append(self._not())
        return operands[0] if len(operands) == 1 else _all_of(tuple(operands))

    def _not(self) -> _Check:
        if self._accept("not"):
            return _negation(self._not())
        return self._atom()

    def _atom(self) -> _Check:
        if self._position >= len(self._tokens):
            raise _ParseError("expression ends where a check was expected")
        token = self._tokens[self._position]
        self._position += 1
        if token.kind == "(":
            check = self._or()
            if not self._accept(")"):
                raise _ParseError("'(' is never closed")
            return check
        if token.kind == "check":
            return self._check(token.text)
        raise _ParseError(f"expected a check, found {token.text!r}")

    def _accept(self, kind: _TokenKind) -> bool:
        if self._position < len(self._tokens) and self._tokens[self._position].kind == kind:
            self._position += 1
            return True
        return False

    def _check(self, word: str) -> _Check:
        if word == "@":
            return _always
        if word == "!":
            return _never
        kind, match = _split_check(word)
        if kind == "rule":
            self.references.add(match)
            return _rule_check(match)
        if kind == "role":
            return _role_check(_compile_render(match))
        if kind in ("http", "https"):
            raise _ParseError(f"{kind}: checks are not supported")
        constant = _python_literal(kind)
        if constant is not None:
            return _constant_check(constant, _compile_render(match))
        return _credential_check(tuple(kind.split(".")), _compile_render(match))


def _split_check(word: str) -> tuple[str, str]:
    """``kind:match``; a quoted kind may itself contain ':'."""
    if word[0] in _QUOTES:
        colon = word.find(word[0], 1) + 1
    else:
        colon = word.find(":")
    if colon <= 0 or colon >= len(word) - 1 or word[colon] != ":":
        raise _ParseError(f"{word!r} is not a check: expected '@', '!' or 'kind:value'")
    return word[:colon], word[colon + 1 :]


def _python_literal(kind: str) -> str | None:
    """The text of ``kind`` if it is a Python literal (``True``, ``'x'``, ``20``), else None."""
    try:
        value = ast.literal_eval(kind)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return str(value)


@dataclass(frozen=True, slots=True)
class _Compiled:
    check: _Check
    references: frozenset[str]


def _compile_expression(expression: str) -> _Compiled:
    """Compile one expression; raises _ParseError."""
    parser = _Parser(_tokenize(expression))
    check = parser.parse()
    return _Compiled(check, frozenset(parser.references))


# --- loading ---------------------------------------------------------------------------


def _read_override_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
        loaded: object = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read policy file {path}: {error}", path=str(path)) from error
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"policy file {path} must map rule names to rules", path=str(path))
    for name, expression in loaded.items():
        if not isinstance(name, str) or not isinstance(expression, str):
            raise ConfigError(
                f"policy file {path}: rule {name!r} must be a string, got {expression!r}",
                path=str(path),
                rule=str(name),
            )
    return loaded


def _find_cycle(references: Mapping[str, frozenset[str]]) -> list[str] | None:
    """A list of rule names that lead back to the first one, or None."""
    finished: set[str] = set()
    trail: list[str] = []

    def visit(name: str) -> list[str] | None:
        trail.append(name)
        for referenced in sorted(references[name]):
            if referenced in trail:
                return [*trail[trail.index(referenced) :], referenced]
            if referenced in references and referenced not in finished:
                cycle = visit(referenced)
                if cycle:
                    return cycle
        trail.pop()
        finished.add(name)
        return None

    for name in references:
        if name not in finished:
            cycle = visit(name)
            if cycle:
                return cycle
    return None


@dataclass(frozen=True, slots=True)
class _RuleSet:
    """One consistent generation of rules, swapped in whole on reload."""

    expressions: Mapping[str, str]
    checks: Mapping[str, _Check]


class PolicyEngine:
    """Holds the rules services register, with an operator's overrides on top."""

    def __init__(self, defaults: Mapping[str, str], override_file: Path | None = None) -> None:
        self._override_file = override_file
        self._defaults: dict[str, str] = dict(defaults)
        self._overrides: dict[str, str] = {}
        self._compiled: dict[str, _Compiled] = {}
        self._ruleset = _RuleSet({}, {})
        self.reload()

    @property
    def rules(self) -> Mapping[str, str]:
        """Every rule in force, name to expression, overrides applied (read only)."""
        return MappingProxyType(self._ruleset.expressions)

    def register_defaults(self, defaults: Mapping[str, str]) -> None:
        """Add a service's default rules; the override file still wins over them."""
        for name, expression in defaults.items():
            existing = self._defaults.get(name, expression)
            if existing != expression:
                raise ValueError(
                    f"policy rule {name!r} registered twice: {existing!r} and {expression!r}"
                )
        merged = {**self._defaults, **defaults}
        self._ruleset = self._build(merged, self._overrides)
        self._defaults = merged

    def reload(self) -> None:
        """Re-read the override file; on error the rules in force stay as they were."""
        overrides: dict[str, str] = {}
        if self._override_file is not None:
            overrides = _read_override_file(self._override_file)
        self._ruleset = self._build(self._defaults, overrides)
        self._overrides = overrides
        self._warn_unknown(overrides)

    def enforce(self, rule_name: str, target: Target, creds: Credentials) -> bool:
        """Whether ``creds`` may do what ``rule_name`` guards to ``target``."""
        checks = self._ruleset.checks
        try:
            check = checks[rule_name]
        except KeyError:
            raise PolicyRuleNotRegistered(rule_name) from None
        return check(target, creds, checks)

    def authorize(self, rule_name: str, target: Target, creds: Credentials) -> None:
        """Like ``enforce``, but raises ``PolicyNotAuthorized`` (HTTP 403) on refusal."""
        if not self.enforce(rule_name, target, creds):
            raise PolicyNotAuthorized(rule_name)

    def _build(self, defaults: Mapping[str, str], overrides: Mapping[str, str]) -> _RuleSet:
        expressions = {**defaults, **overrides}
        compiled = {
            name: self._compile(name, expression, name in overrides)
            for name, expression in expressions.items()
        }
        cycle = _find_cycle({name: rule.references for name, rule in compiled.items()})
        if cycle:
            raise ConfigError(
                f"policy rules refer to each other in a cycle: {' -> '.join(cycle)}",
                rule=cycle[0],
            )
        return _RuleSet(expressions, {name: rule.check for name, rule in compiled.items()})

    def _compile(self, name: str, expression: str, overridden: bool) -> _Compiled:
        compiled = self._compiled.get(expression)
        if compiled is not None:
            return compiled
        try:
            compiled = _compile_expression(expression)
        except _ParseError as error:
            source = f"policy file {self._override_file}" if overridden else "default policy"
            raise ConfigError(
                f"{source}: rule {name!r} is not valid: {error}: {expression!r}", rule=name
            ) from error
        self._compiled[expression] = compiled
        return compiled

    def _warn_unknown(self, overrides: Iterable[str]) -> None:
        referenced: set[str] = set()
        for expression in self._ruleset.expressions.values():
            referenced |= self._compiled[expression].references
        for name in overrides:
            if name not in self._defaults and name not in referenced:
                logger.warning(
                    "policy file %s defines rule %r, which no service registered "
                    "and no rule refers to",
                    self._override_file,
                    name,
                )
