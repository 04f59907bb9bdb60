"""The starter library's three ladders — relaxation, assertiveness, graded exposure — each a
list of templates numbered in the order they are meant to be taken, difficulty rising at every
step (registered by ``starter_library``; not a plugin of its own)."""

from __future__ import annotations

from between import Template

#: How anxious someone feels, explained wherever the 0–100 rating is asked for.
ANXIETY_SCALE = (
    "how anxious you feel, from 0 (calm) to 100 (the most anxious you can imagine); "
    "the form calls this SUDS"
)
#: How each exposure step's instructions end (written out in full in each, so that the whole
#: text is a literal ``make messages`` finds and a Spanish client reads it translated).
RATE_ANXIETY = f"Before, at the hardest moment and after, rate {ANXIETY_SCALE}."

RELAXATION_LADDER = (
    Template(
        "relaxation-1-breathing",
        "relaxation",
        title="Slow breathing when you are calm",
        summary="Once a day, breathe slowly into your belly for five minutes while you feel calm.",
        instructions=(
            "Sit or lie comfortably, one hand on your belly. Breathe in gently through your "
            "nose so your belly rises, and breathe out slowly. Keep going for five minutes. "
            "Rate how tense you feel from 0 (relaxed) to 10 (very tense) before and after. "
            "Practise while you are calm: that is how the skill grows."
        ),
        rationale=(
            "A calming skill learnt in easy moments is there for you later in the hard ones."
        ),
        stage="baseline",
        difficulty=1,
        expected_entries=7,
        parameters={"technique": "diaphragmatic-breathing", "minutes": 5},
    ),
    Template(
        "relaxation-2-muscle-relaxation",
        "relaxation",
        title="Tense and let go",
        summary="Once a day, spend fifteen minutes gently tensing and relaxing your muscles.",
        instructions=(
            "In a quiet place, work through your body from your feet to your face: tense each "
            "group of muscles gently for about five seconds, then let go and notice the "
            "difference for a few breaths. Rate how tense you feel from 0 (relaxed) to 10 "
            "(very tense) before and after."
        ),
        rationale=(
            "Learning the difference between tense and relaxed muscles helps you notice "
            "tension early and let it go."
        ),
        stage="practice",
        difficulty=3,
        expected_entries=7,
        parameters={"technique": "progressive-muscle-relaxation", "minutes": 15},
    ),
    Template(
        "relaxation-3-everyday-moments",
        "relaxation",
        title="Calm breathing in everyday moments",
        summary=(
            "Use slow breathing for two minutes when you feel stress building, as often as helps."
        ),
        instructions=(
            "When you feel stress starting to build, on a bus, before a call, in a queue, take "
            "two minutes to breathe slowly: in for a count of four, out for a count of six. "
            "Rate how tense you feel from 0 (relaxed) to 10 (very tense) before and after. "
            "Keep your calm-time practice going too."
        ),
        rationale=(
            "Using the skill where it is needed, and keeping it up, helps the calm last after "
            "our sessions end."
        ),
        stage="relapse-prevention",
        difficulty=5,
        expected_entries=5,
        due_days=14,
        parameters={"technique": "paced-breathing", "minutes": 2},
    ),
)

ASSERTIVENESS_LADDER = (
    Template(
        "assertiveness-1-small-requests",
        "assertiveness",
        title="Asking for something small",
        summary="Twice this week, ask clearly and kindly for something small you want.",
        instructions=(
            "Pick small, low-pressure moments: asking a shop assistant for help, asking a "
            "friend to choose another time, asking for the window to be opened. Say what you "
            "want in one clear, friendly sentence. Afterwards, note what happened and rate "
            "how well you did from 0 to 10."
        ),
        rationale=(
            "Starting with easy moments builds the confidence to speak up when more is at stake."
        ),
        stage="baseline",
        difficulty=2,
        expected_entries=2,
        parameters={"skill": "asking for something small", "situations": "shops, cafés, friends"},
    ),
    Template(
        "assertiveness-2-saying-no",
        "assertiveness",
        title="Saying no kindly",
        summary="Twice this week, say no to a request you would rather not take on.",
        instructions=(
            "When someone asks for something you don't want to do, say no calmly and briefly, "
            'without a long excuse: "Thanks for asking, but I can\'t this time." If they ask '
            "again, repeat it gently. Afterwards, note what happened and rate how well you "
            "did from 0 to 10."
        ),
        rationale=(
            "Being able to say no protects your time and energy, and people usually take it "
            "better than we fear."
        ),
        stage="practice",
        difficulty=4,
        expected_entries=2,
        parameters={"skill": "saying no"},
    ),
    Template(
        "assertiveness-3-saying-how-you-feel",
        "assertiveness",
        title="Saying how you feel",
        summary=(
            "Once or twice in the next two weeks, tell someone how something affects you, "
            "starting with 'I'."
        ),
        instructions=(
            "Choose a situation that matters to you. Say how it affects you and what you would "
            'like, starting with "I": "I feel hurt when plans change at the last minute; '
            "I'd like a message the day before.\" Keep your voice calm and steady. Afterwards, "
            "note what happened and rate how well you did from 0 to 10."
        ),
        rationale=(
            "Speaking about your own feelings, rather than blaming, makes it easier for others "
            "to listen, and helps you stand up for what you need."
        ),
        stage="practice",
        difficulty=6,
        expected_entries=2,
        due_days=14,
        parameters={"skill": "I-statements"},
    ),
)


def _exposure(
    step: str,
    *,
    title: str,
    summary: str,
    item: str,
    instructions: str,
    rationale: str,
    stage: str,
    difficulty: int,
    entries: int,
    minutes: int,
    due: int = 7,
) -> Template:
    if not instructions.endswith(f" {RATE_ANXIETY}"):
        raise ValueError(f"exposure step {step}: its instructions must end: {RATE_ANXIETY}")
    return Template(
        f"graded-exposure-{step}",
        "graded-exposure",
        title=title,
        summary=summary,
        instructions=instructions,
        rationale=rationale,
        stage=stage,
        difficulty=difficulty,
        expected_entries=entries,
        due_days=due,
        parameters={"hierarchy_item": item, "target_minutes": minutes},
    )


EXPOSURE_LADDER = (
    _exposure(
        "1-first-look",
        title="A gentle first step",
        summary="Try the easiest step on your list once or twice, and note how anxious you feel.",
        item="the easiest step on your list",
        instructions=(
            "Together we made a list of situations you avoid, from easiest to hardest. This "
            "week, try the easiest one once or twice, for as long as you can. There is no need "
            "to push yourself: this week is about finding out where you are starting from. "
            "Before, at the hardest moment and after, rate how anxious you feel, from 0 "
            "(calm) to 100 (the most anxious you can imagine); the form calls this SUDS."
        ),
        rationale=(
            "Knowing how anxious the easiest step makes you now shows us where to begin, and "
            "lets us see progress later."
        ),
        stage="baseline",
        difficulty=2,
        entries=2,
        minutes=10,
    ),
    _exposure(
        "2-easy-step",
        title="Staying with an easy step",
        summary="Three times this week, stay with the easiest step until your anxiety has eased.",
        item="the easiest step on your list",
        instructions=(
            "Three times this week, go into the easiest situation on your list and stay until "
            "your anxiety has come down by about half, or for 20 minutes. Try not to use the "
            "little things that make you feel safer, like checking your phone or keeping "
            "close to the door. "
            "Before, at the hardest moment and after, rate how anxious you feel, from 0 "
            "(calm) to 100 (the most anxious you can imagine); the form calls this SUDS."
        ),
        rationale=(
            "Staying until anxiety eases teaches your body that the situation is safe and "
            "that the feeling passes on its own."
        ),
        stage="practice",
        difficulty=3,
        entries=3,
        minutes=20,
    ),
    _exposure(
        "3-next-step",
        title="Moving up one step",
        summary=(
            "Three times this week, stay with the next step on your list until it feels easier."
        ),
        item="the next step on your list",
        instructions=(
            "Move up to the next situation on your list. Three times this week, stay with it "
            "until your anxiety has come down by about half, or for 30 minutes. If it feels too "
            "much, go back to the step before for a few days: that is part of the plan, not a "
            "failure. "
            "Before, at the hardest moment and after, rate how anxious you feel, from 0 "
            "(calm) to 100 (the most anxious you can imagine); the form calls this SUDS."
        ),
        rationale=(
            "Taking one step at a time lets your confidence grow steadily, without being "
            "overwhelmed."
        ),
        stage="practice",
        difficulty=4,
        entries=3,
        minutes=30,
    ),
    _exposure(
        "4-middle-step",
        title="A step in the middle of your list",
        summary="Three times this week, stay with a middle step on your list, at your own pace.",
        item="a step in the middle of your list",
        instructions=(
            "Choose a situation from the middle of your list. Three times this week, stay with "
            "it until your anxiety has come down by about half, or for 30 minutes, and let go "
            "of one more of the little things you do to feel safer. "
            "Before, at the hardest moment and after, rate how anxious you feel, from 0 "
            "(calm) to 100 (the most anxious you can imagine); the form calls this SUDS."
        ),
        rationale=(
            "Each step you manage makes the next one feel smaller; dropping the things you do "
            "to feel safer lets you learn that you cope without them."
        ),
        stage="practice",
        difficulty=6,
        entries=3,
        minutes=30,
    ),
    _exposure(
        "5-top-step",
        title="The top of your list",
        summary="When you feel ready, try the hardest step on your list, and stay with it.",
        item="the hardest step on your list",
        instructions=(
            "When the step before feels manageable, try the hardest situation on your list. "
            "Stay with it until your anxiety has come down by about half, or for 45 minutes. "
            "Plan it for a day when you have some time afterwards to rest. "
            "Before, at the hardest moment and after, rate how anxious you feel, from 0 "
            "(calm) to 100 (the most anxious you can imagine); the form calls this SUDS."
        ),
        rationale=(
            "Facing the hardest situation, after the steps that led up to it, shows you how "
            "far you have come."
        ),
        stage="practice",
        difficulty=7,
        entries=3,
        minutes=45,
        due=14,
    ),
    _exposure(
        "6-keep-it-up",
        title="Keeping your progress going",
        summary="Over the next month, repeat a few steps in daily life so your progress lasts.",
        item="steps from your list, mixed into daily life",
        instructions=(
            "Over the next four weeks, go back to steps from your list now and then, including "
            "the harder ones, in everyday places and at different times. If anxiety comes back "
            "on a bad day, that is normal: go back a step and build up again. Note which early "
            "signs tell you to practise more. "
            "Before, at the hardest moment and after, rate how anxious you feel, from 0 "
            "(calm) to 100 (the most anxious you can imagine); the form calls this SUDS."
        ),
        rationale=(
            "Practising on your own, now and then, keeps the gains going and prepares you for "
            "the odd bad day."
        ),
        stage="relapse-prevention",
        difficulty=8,
        entries=4,
        minutes=30,
        due=28,
    ),
)
