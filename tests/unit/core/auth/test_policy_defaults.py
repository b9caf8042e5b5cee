"""Every service's default rules go into one policy engine per process, so a base rule
name two services define must mean the same in both: otherwise the service loaded last
silently changes the other's rules."""

from __future__ import annotations

from nubo.cli.launcher import KNOWN_SERVICES, load_specs


def test_no_rule_name_has_two_meanings() -> None:
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for spec in load_specs(list(KNOWN_SERVICES)):
        for name, rule in spec.policy_defaults.items():
            first = seen.setdefault(name, (spec.name, rule))
            if first[1] != rule:
                clashes.append(f"{name}: {first[0]} {first[1]!r} / {spec.name} {rule!r}")
    assert clashes == []
