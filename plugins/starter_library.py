"""The starter library: ready-made homework templates in plain words, one for each kind of
homework Between knows, and three ladders (relaxation, assertiveness, graded exposure) whose
steps are numbered in the order they are meant to be taken (``starter_ladders``), each
registered as a protocol too (``PROTOCOLS``).

A clinic's library file with the same name replaces a starter template (docs/library.md).
"""

from __future__ import annotations

from between import Protocol, Template, TemplateRegistry, hookimpl
from between.plugins.starter_ladders import (
    ASSERTIVENESS_LADDER,
    EXPOSURE_LADDER,
    RELAXATION_LADDER,
)

SINGLES = (
    Template(
        "self-monitoring-baseline",
        "self-monitoring",
        title="Noticing how you feel",
        summary="For one week, jot down a few words each time you feel anxious or low.",
        instructions=(
            "Each time you notice yourself feeling anxious or low, write a few words: where "
            "you were, what went through your mind, what you felt, how strong it was from 0 "
            "to 100, and what you did. There are no right or wrong answers, and you don't "
            "need to change anything yet. Just noticing is the whole task."
        ),
        rationale=(
            "Seeing when and where difficult feelings come up gives us both a starting point, "
            "so later we can tell what is helping."
        ),
        stage="baseline",
        difficulty=1,
        expected_entries=7,
        parameters={"target": "moments of feeling anxious or low", "per_day": 1},
    ),
    Template(
        "thought-record-week",
        "thought-record",
        title="Looking again at a worrying thought",
        summary=(
            "When your mood drops, write down what happened and what went through your mind, "
            "then look for a kinder, more balanced way to see it."
        ),
        instructions=(
            "When you notice your mood change, write down the situation and name each feeling "
            "with how strong it is, from 0 (not at all) to 100 (as strong as it gets). Write "
            "the thought that went through your mind. Then note what supports the thought and "
            "what doesn't, write a more balanced thought, and rate your feelings again. "
            "Three times this week is plenty."
        ),
        rationale=(
            "Writing thoughts down lets you step back from them and test them, instead of "
            "taking them as facts."
        ),
        stage="practice",
        difficulty=4,
        expected_entries=3,
        parameters={"focus": "moments your mood drops"},
    ),
    Template(
        "reflective-writing-week",
        "reflective-writing",
        title="A few minutes of writing",
        summary="Three times this week, write freely for ten minutes about what is on your mind.",
        instructions=(
            "Find a quiet ten minutes. Write about a person, a moment or an event from your "
            "week that stayed with you: what happened, how you felt, and what you make of it "
            "now. Spelling and neatness don't matter, and nobody grades it."
        ),
        rationale=(
            "Putting feelings into words helps you understand them and often makes them "
            "lighter to carry."
        ),
        stage="practice",
        difficulty=2,
        expected_entries=3,
        parameters={"prompt": "What stayed with you this week, and how did it feel?"},
    ),
    Template(
        "reading-or-film",
        "bibliotherapy",
        title="A book or film to talk about",
        summary=(
            "Read the chapter or watch the film we chose, then note how it made you feel and "
            "one thing to bring to our next session."
        ),
        instructions=(
            "Read or watch at a calm moment, when you can give it your attention. Afterwards, "
            "write how it made you feel and what you thought, and one thing you took from it "
            "that we can talk about next time."
        ),
        rationale=(
            "Seeing your own struggles in someone else's story can bring new ideas and the "
            "comfort of knowing you are not alone."
        ),
        stage="practice",
        difficulty=2,
        due_days=14,
        parameters={"medium": "book", "title": "the one we chose together"},
    ),
)

#: Every starter template, in the order they are listed in docs/library.md.
STARTER = (*SINGLES, *RELAXATION_LADDER, *ASSERTIVENESS_LADDER, *EXPOSURE_LADDER)

#: The three ladders as protocols: their steps, in order (docs/library.md).
PROTOCOLS = (
    Protocol(
        "relaxation-ladder",
        [t.name for t in RELAXATION_LADDER],
        title="Relaxation, step by step",
        description="From slow breathing at calm times to calming down when stress builds.",
    ),
    Protocol(
        "assertiveness-ladder",
        [t.name for t in ASSERTIVENESS_LADDER],
        title="Assertiveness, step by step",
        description="From small requests to saying no and saying how you feel.",
    ),
    Protocol(
        "graded-exposure-ladder",
        [t.name for t in EXPOSURE_LADDER],
        title="Graded exposure, step by step",
        description="Six steps from a first look at the fear list to relapse prevention.",
    ),
)


@hookimpl
def between_register_templates(registry: TemplateRegistry) -> None:
    for template in STARTER:
        registry.add(template)
    for protocol in PROTOCOLS:
        registry.add_protocol(protocol)
