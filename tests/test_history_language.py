"""``between history`` in the clinic's operator language (``[clinic] operator_language``):
each event's sentence in Spanish, the next step of a protocol too, while ``--json`` keeps
the English text; and ``notify --status`` counts in Spanish."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import cli, library_clinic, run_installed


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A client whose protocol homework was agreed and reviewed with a step-up."""
    environment = library_clinic(tmp_path)
    cli(environment, "client", "consent", "C-104", "--channel", "console")
    return environment


@pytest.fixture
def spanish(tmp_path: Path) -> str:
    config = tmp_path / "clinic.toml"
    config.write_text('[clinic]\noperator_language = "es"\n', encoding="utf-8")
    return str(config)


def installed(env: dict[str, str], *args: str) -> str:
    return run_installed(env, *args, check=True).stdout


def test_history_is_told_in_spanish_and_its_json_stays_english(env, spanish):
    made = installed(env, "assign", "C-104", "--protocol", "relaxation-ladder", "--json")
    ident = json.loads(made)["result"][:8]
    installed(env, "agree", ident, "--confidence", "7")
    review = ["review", ident, "--quantity", "3", "--quality", "3", "--difficulty", "2"]
    installed(env, *review, "--next-step", "step-up")

    told = [
        line[18:] for line in installed(env, "--config", spanish, "history", "C-104").splitlines()
    ]
    assert told[0] == "dr.lee registró al cliente C-104 (terapeuta dr.lee)"
    assert told[1] == "dr.lee registró que el cliente ya puede recibir mensajes por console"
    assert told[2].startswith(f"dr.lee propuso la tarea relaxation {ident} para C-104 (")
    assert "paso 1 del protocolo relaxation-ladder)" in told[2]
    assert told[3] == f"el cliente aceptó {ident}, confianza 7/10 (registrado por dr.lee)"
    assert told[4] == (
        f"dr.lee revisó {ident}: cantidad 3/4, calidad 3/4, dificultad 2/4, siguiente paso "
        "step-up; siguiente en relaxation-ladder: paso 2 relaxation-2-muscle-relaxation "
        f"('between assign C-104 --next {ident}')"
    )
    assert "registered" not in "\n".join(told)

    english = installed(env, "history", "C-104", "--json")
    assert installed(env, "--config", spanish, "history", "C-104", "--json") == english
    texts = [line["text"] for line in json.loads(english)]
    assert texts[0] == "dr.lee registered client C-104 (therapist dr.lee)"
    assert texts[4].endswith(
        "next in relaxation-ladder: step 2 relaxation-2-muscle-relaxation "
        f"('between assign C-104 --next {ident}')"
    )


def test_notify_status_counts_in_spanish(env, spanish):
    counts = installed(env, "--config", spanish, "notify", "--status").splitlines()[0]
    assert counts == "pendientes: 0, retenidas: 0, enviadas: 0, fallidas: 0, canceladas: 0"
    english = installed(env, "notify", "--status").splitlines()[0]
    assert english == "0 pending, 0 held, 0 sent, 0 failed, 0 cancelled"
