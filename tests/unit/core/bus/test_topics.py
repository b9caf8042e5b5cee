"""Topic pattern matching follows AMQP topic exchanges: ``*`` one word, ``#`` zero or more."""

from __future__ import annotations

import pytest

from nubo.core.bus import check_pattern, check_topic, topic_matches
from nubo.core.bus.base import check_queue


@pytest.mark.parametrize(
    ("pattern", "topic"),
    [
        ("compute.instance.build", "compute.instance.build"),
        ("compute.instance.*", "compute.instance.build"),
        ("compute.*.build", "compute.instance.build"),
        ("*.*.*", "compute.instance.build"),
        ("compute.#", "compute.instance.build"),
        ("compute.#", "compute"),
        ("#", "compute.instance.build"),
        ("#", "compute"),
        ("#.build", "compute.instance.build"),
        ("#.build", "build"),
        ("compute.#.end", "compute.instance.create.end"),
        ("compute.#.end", "compute.end"),
        ("compute.#.#", "compute"),
        ("#.instance.#", "compute.instance.create.end"),
        ("*.instance.#", "compute.instance"),
        ("compute.*.#", "compute.instance.build.now"),
    ],
)
def test_pattern_matches(pattern: str, topic: str) -> None:
    assert topic_matches(pattern, topic)


@pytest.mark.parametrize(
    ("pattern", "topic"),
    [
        ("compute.instance.build", "compute.instance.delete"),
        ("compute.instance.*", "compute.instance"),
        ("compute.instance.*", "compute.instance.create.end"),
        ("compute.*", "compute"),
        ("*.*.*", "compute.instance"),
        ("compute.#", "computer.instance"),
        ("compute.#", "network.compute"),
        ("#.build", "compute.instance.builder"),
        ("compute.#.end", "compute.instance.start"),
        ("*.instance.#", "instance"),
        ("identity.revocation.created", "identity.revocation.created.x"),
        ("identity.revocation.created", "x.identity.revocation.created"),
        ("a-b.c", "a.b.c"),
    ],
)
def test_pattern_does_not_match(pattern: str, topic: str) -> None:
    assert not topic_matches(pattern, topic)


def test_dots_are_word_separators_not_wildcards() -> None:
    assert not topic_matches("compute.instance", "computeXinstance")
    assert not topic_matches("compute.*", "computeXinstance")


def test_matching_an_invalid_pattern_is_an_error() -> None:
    with pytest.raises(ValueError, match="invalid topic pattern"):
        topic_matches("compute.in*", "compute.instance")


@pytest.mark.parametrize(
    "topic",
    ["", "compute..build", ".compute", "compute.", "compute.*", "compute.#", "a b.c", "x" * 256],
)
def test_invalid_topics_are_rejected(topic: str) -> None:
    with pytest.raises(ValueError, match="invalid topic"):
        check_topic(topic)


@pytest.mark.parametrize("pattern", ["", "compute..*", "compute.in*", "compute.##", "a b"])
def test_invalid_patterns_are_rejected(pattern: str) -> None:
    with pytest.raises(ValueError, match="invalid topic pattern"):
        check_pattern(pattern)


@pytest.mark.parametrize("name", ["", "amq.gen-1", "nubo.bus.dead-letter", "q" * 256])
def test_reserved_or_bad_queue_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="invalid queue name"):
        check_queue(name)


def test_ordinary_names_are_accepted() -> None:
    assert check_topic("compute.instance.create.end") == "compute.instance.create.end"
    assert check_topic("audit.identity.create_user") == "audit.identity.create_user"
    assert check_pattern("#.instance.*") == "#.instance.*"
    assert check_queue("compute.host-1.example.org") == "compute.host-1.example.org"
