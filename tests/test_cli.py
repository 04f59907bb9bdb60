"""The command line, through click's CliRunner (and once as a real installed command)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import assign_args, invoke, run_installed


class Between:
    """Runs ``between`` commands against one store, as one operator."""

    def __init__(self, store: str, actor: str = "dr.lee") -> None:
        self.env = {"BETWEEN_STORE": store, "BETWEEN_ACTOR": actor}

    def __call__(self, *args: str, code: int = 0, env: dict | None = None) -> str:
        result = invoke({**self.env, **(env or {})}, *args, code=code)
        output = result.output + (result.stderr if result.stderr_bytes else "")
        assert "Traceback" not in output, output
        return result.output

    def json(self, *args: str) -> object:
        return json.loads(self(*args, "--json"))

    def events(self) -> int:
        from between.engine.app import Homework
        from between.engine.storage.store import Store

        app = Homework(Store.parse(self.env["BETWEEN_STORE"]), read_only=True)
        with app.reading() as c:
            c.execute("SELECT COUNT(*) AS n FROM stored_events")
            n = c.fetchone()["n"]
        app.close()
        return n


@pytest.fixture
def between(store_url: str) -> Between:
    b = Between(store_url)
    b("init")
    return b


def test_a_scripted_week_reads_back_as_json(between: Between):
    between("client", "add", "C-104", "--name", "Alex Rivera", "--therapist", "dr.lee")
    between("client", "collaborator", "C-104", "Sam", "--relationship", "partner")
    proposed = between.json(
        "assign",
        "C-104",
        "self-monitoring",
        "--stage",
        "baseline",
        "--difficulty",
        "2",
        "--entries",
        "5",
        "--due",
        "+7",
        "--instructions",
        "Note each nail-biting moment",
        "--rationale",
        "baseline",
        "--field",
        "target=nail biting",
        "--observer",
        "Sam",
    )
    aid = proposed["result"]
    short = aid[:6]
    between("adjust", short, "--entries", "5", "--field", "per_day=1")
    between("agree", short, "--confidence", "7", "--obstacles", "busy workdays")
    for n, who in enumerate(["client", "client", "Sam", "client", "client"]):
        between(
            "submit",
            short,
            "--by",
            who,
            "--field",
            f"situation=moment {n}",
            "--field",
            f"intensity={40 + n}",
        )
    between(
        "review",
        short,
        "--quantity",
        "4",
        "--quality",
        "3",
        "--difficulty",
        "2",
        "--next-step",
        "step-up",
        "--notes",
        "ready",
    )
    follow = between.json(
        "assign",
        "C-104",
        "graded-exposure",
        "--stage",
        "practice",
        "--difficulty",
        "3",
        "--due",
        "+7",
        "--entries",
        "3",
        "--steps-up-from",
        short,
        "--instructions",
        "Ride the bus",
        "--rationale",
        "step up",
        "--field",
        "hierarchy_item=bus, two stops",
    )["result"]

    shown = between.json("show", short)
    assert shown["status"] == "closed" and shown["entries"] == 5
    assert shown["follow_ups"] == [follow]
    assert shown["summary"]["by"] == {"client": 4, "Sam": 1}
    listed = between.json("list", "--client", "C-104")
    assert [r["id"] for r in listed] == [aid, follow] or [r["id"] for r in listed] == [follow, aid]
    assert between.json("show", follow[:8])["steps_up_from"] == aid
    agenda = between.json("agenda", "C-104")
    assert [r["id"] for r in agenda["awaiting_agreement"]] == [follow]
    text = between("list")
    assert aid[:8] in text and "5/5" in text


def test_refusals_exit_non_zero_with_one_line_and_record_nothing(between: Between):
    between("client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    aid = between.json(
        "assign",
        "C1",
        "relaxation",
        "--stage",
        "practice",
        "--difficulty",
        "1",
        "--due",
        "+3",
        "--instructions",
        "breathe",
        "--rationale",
        "calm",
        "--field",
        "technique=mindfulness",
    )["result"][:8]
    before = between.events()
    cases = [
        (
            (
                "submit",
                aid,
                "--field",
                "minutes=5",
                "--field",
                "tension_before=5",
                "--field",
                "tension_after=2",
            ),
            1,
            "no entries before agreement",
        ),
        (("agree", aid, "--confidence", "12"), 2, "confidence must be from 0 to 10"),
        (("agree", "ffffffff"), 1, "no assignment id starts with 'ffffffff'"),
        (
            (
                "review",
                aid,
                "--quantity",
                "9",
                "--quality",
                "1",
                "--difficulty",
                "1",
                "--next-step",
                "close",
            ),
            2,
            "quantity must be from 0 to 4",
        ),
        (
            (
                "assign",
                "C1",
                "relaxation",
                "--stage",
                "practice",
                "--difficulty",
                "1",
                "--due",
                "+3",
                "--instructions",
                "i",
                "--rationale",
                "r",
                "--field",
                "technique=yoga",
            ),
            2,
            "technique must be one of",
        ),
        (
            (
                "assign",
                "C1",
                "relaxation",
                "--stage",
                "later",
                "--difficulty",
                "1",
                "--due",
                "+3",
                "--instructions",
                "i",
                "--rationale",
                "r",
            ),
            2,
            "Invalid value for '--stage'",
        ),
        (("adjust", aid, "--field", "nonsense"), 2, "must look like name=value"),
        (("client", "add", "C1", "--name", "Dup", "--therapist", "x"), 1, "already registered"),
        (
            ("client", "add", "bad code!", "--name", "X", "--therapist", "x"),
            2,
            "client code 'bad code!' is not valid",
        ),
    ]
    for args, code, message in cases:
        result = invoke(between.env, *args)
        assert result.exit_code == code, (args, result.output)
        assert message in result.output, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        said = result.output  # one line in the project's style, click's usage errors too
        assert said.startswith("error: ") and said.count("\n") == 1, (args, said)
    assert between.events() == before


def test_homework_ends_by_decline_cancel_or_close_each_with_a_reason(between: Between):
    between("client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    declined, cancelled, closed = (
        between.json(*assign_args("C1", "relaxation", "technique=other"))["result"]
        for _ in range(3)
    )
    assert between("decline", declined[:6], "--reason", "busy") == f"declined {declined[:8]}\n"
    between("agree", cancelled[:8])
    between("agree", closed[:8])
    key = ("--idempotency-key", "cancel-1")
    assert (
        between("cancel", cancelled[:8], "--reason", "ill", *key) == f"cancelled {cancelled[:8]}\n"
    )
    again = between.json("cancel", cancelled[:8], "--reason", "ill", *key)
    assert again["repeated"] and again["record"]["status"] == "cancelled"
    assert between.json("close", closed[:8])["record"]["status"] == "closed"
    statuses = {r["id"]: r["status"] for r in between.json("list", "--client", "C1")}
    assert statuses == {declined: "declined", cancelled: "cancelled", closed: "closed"}
    assert "Missing option '--reason'" in between("cancel", closed[:8], code=2)
    assert "[default: done]" in between("close", "--help")


def test_operators_roles_come_from_the_engine(between: Between):
    from between.engine.aggregates.operators import ROLES

    assert (
        between("operators", "add", "dr.lee", "--role", "therapist")
        == "dr.lee is now a therapist\n"
    )
    assert (
        "Invalid value for '--role'"
        in invoke(between.env, "operators", "add", "kim", "--role", "boss").output
    )
    assert f"[{'|'.join(ROLES)}]" in between("operators", "add", "--help")
    between("operators", "require", "on")
    assert between.json("operators") == {
        "required": True,
        "operators": [{"name": "dr.lee", "role": "therapist"}],
    }
    assert "operators required: yes" in between("operators")
    assert between("operators", "add", "aud", "--role", "auditor") == "aud is now an auditor\n"


def test_client_list_orders_codes_by_bytes_and_erased_clients_last_on_every_store(
    between: Between,
):
    """SQLite puts NULL (an erased client's code) first, PostgreSQL last; a collation may
    ignore case and punctuation: the listing is the same on both."""
    for code in ("c0", "C1", "Z", "C-2", "GONE", "B"):
        between("client", "add", code, "--name", "A", "--therapist", "dr.lee")
    between("client", "discharge", "GONE", "--reason", "moved away")
    between("client", "erase", "GONE", "--reason", "asked to be forgotten")
    listed = [row["code"] for row in between.json("client", "list")]
    assert listed == ["B", "C-2", "C1", "Z", "c0", "[erased]"]
    assert "[erased]" in between("client", "list").splitlines()[-1]


def test_writes_need_an_actor(between: Between):
    env = {"BETWEEN_STORE": between.env["BETWEEN_STORE"], "BETWEEN_ACTOR": ""}
    result = invoke(env, "client", "add", "C1", "--name", "A", "--therapist", "t")
    assert result.exit_code == 2
    assert "pass --actor NAME or set BETWEEN_ACTOR" in result.output


def test_a_missing_store_says_how_to_create_one_and_creates_nothing(tmp_path: Path):
    missing = tmp_path / "nowhere" / "between.db"
    b = Between(str(missing))
    b("list", code=1)
    result = invoke(b.env, "list")
    assert f"no store at {missing}; create one with 'between init'" in result.output
    assert not missing.exists() and not missing.parent.exists()
    b("init")
    assert "already initialised" in b("init")


def test_oversized_fields_file_is_refused_before_reading(between: Between, tmp_path: Path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"text": "x" * 5_000_000}))
    result = invoke(between.env, "submit", "abcdef", "--fields-file", str(big))
    assert result.exit_code == 2
    assert "the limit is 262,144 bytes" in result.output


def test_unicode_from_a_fields_file_round_trips(between: Between, tmp_path: Path):
    between("client", "add", "C1", "--name", "Zoë 🌊", "--therapist", "dr.lee")
    aid = between.json(
        "assign",
        "C1",
        "reflective-writing",
        "--stage",
        "baseline",
        "--difficulty",
        "1",
        "--due",
        "+3",
        "--instructions",
        "write",
        "--rationale",
        "insight",
        "--field",
        "prompt=Mother",
    )["result"]
    between("agree", aid[:8])
    text = "Ich fühle mich — 感じる — ✨\r\nline two\u200d"
    entry = tmp_path / "entry.json"
    entry.write_text(json.dumps({"text": text}, ensure_ascii=False), encoding="utf-8")
    between("submit", aid[:8], "--fields-file", str(entry))
    assert between.json("show", aid[:8])["entry_list"][0]["fields"]["text"] == text
    assert between.json("client", "show", "C1")["name"] == "Zoë 🌊"


def test_ambiguous_prefix_asks_for_more_digits(between: Between):
    between("client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    ids = []
    while True:
        ids.append(
            between.json(
                "assign",
                "C1",
                "relaxation",
                "--stage",
                "practice",
                "--difficulty",
                "1",
                "--due",
                "+3",
                "--instructions",
                "i",
                "--rationale",
                "r",
                "--field",
                "technique=other",
            )["result"]
        )
        firsts = [i[0] for i in ids]
        clash = next((c for c in firsts if firsts.count(c) > 1), None)
        if clash:
            break
    result = invoke(between.env, "show", clash)
    assert result.exit_code == 2 and "matches several assignments" in result.output


def test_the_installed_command_runs_as_a_real_process(tmp_path: Path):
    env = {"BETWEEN_STORE": str(tmp_path / "p.db"), "BETWEEN_ACTOR": "dr.lee"}
    assert run_installed(env, "init").returncode == 0
    added = run_installed(env, "client", "add", "C1", "--name", "Ana", "--therapist", "dr.lee")
    assert added.returncode == 0
    listed = run_installed(env, "client", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)[0]["code"] == "C1"
    refused = run_installed(env, "agree", "0000")
    assert refused.returncode == 1
    assert refused.stderr.strip().startswith("error: no assignment id starts with '0000'")
    assert "Traceback" not in refused.stderr
