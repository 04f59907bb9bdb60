"""The client's voice in a real browser: telling the therapist "this is too hard", asking a
question, and answering a proposal (agree with a confidence and an obstacle, ask for a change,
decline with a reason) — with the keyboard alone and JavaScript off, at phone and desktop
widths; a mistake opens on a focused error summary; axe-core finds no serious or critical
violation on any of these pages (run in a second browser, with JavaScript). The therapist then
finds each in ``between agenda`` and the report, run as processes of their own.

``between serve`` runs as a real process; screenshots go to tests/artifacts/portal/."""

from __future__ import annotations

import json

import pytest
from helpers import run_installed
from portal_server import prepare, serving
from test_portal_browser import axe_problems, chrome, left_the_page, screenshot

pytestmark = pytest.mark.slow  # a real browser: seconds a test
SIZES = [(360, 740), (1280, 900)]


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    return prepare(tmp_path_factory.mktemp("voice-browser"))


@pytest.fixture(scope="module")
def server(clinic):
    with serving(clinic) as running:
        yield running


@pytest.fixture(scope="module")
def keyboard():
    """A browser with JavaScript off, driven by keys only."""
    driver = chrome(javascript=False)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def checker():
    """A browser with JavaScript, for axe-core."""
    driver = chrome()
    yield driver
    driver.quit()


def proposal(clinic, what: str = "") -> str:
    """New homework proposed to the client; its id."""
    app = clinic.open()
    try:
        return app.propose(
            clinic.code,
            "relaxation",
            instructions="Breathe slowly for ten minutes each evening"
            + (f" ({what})" if what else ""),
            rationale="To calm the body before sleep",
            stage="practice",
            difficulty=2,
            due="+14",
            expected_entries=7,
            parameters={"technique": "other"},
            actor="dr.lee",
        ).result
    finally:
        app.close()


def between(clinic, *args: str) -> str:
    """``between ARGS`` on the clinic's store, as a process of its own; its output."""
    env = {"BETWEEN_ACTOR": "dr.lee", "BETWEEN_CONFIG": str(clinic.config)}
    return run_installed(env, *clinic.options, *args, check=True).stdout


def key(driver, *keys: str) -> None:
    driver.switch_to.active_element.send_keys(*keys)


def tab_to(driver, element_id: str, limit: int = 400) -> None:
    """Tab from where the focus is until the element ``element_id`` has it."""
    from selenium.webdriver.common.keys import Keys

    for _ in range(limit):
        if driver.switch_to.active_element.get_attribute("id") == element_id:
            return
        key(driver, Keys.TAB)
    raise AssertionError(f"the keyboard never reached #{element_id}")


def press_button_after(driver, form_action: str) -> None:
    """Tab on to the submit button of the form posting to ``form_action``, press Enter, and
    wait for the next page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.wait import WebDriverWait

    button = driver.find_element(By.CSS_SELECTOR, f'form[action="{form_action}"] button')
    for _ in range(40):
        if driver.switch_to.active_element == button:
            break
        key(driver, Keys.TAB)
    assert driver.switch_to.active_element == button
    key(driver, Keys.ENTER)
    WebDriverWait(driver, 20).until(left_the_page(button))


def start_at_top(driver, base: str, path: str, token: str | None = None) -> None:
    """Load ``path`` (opening the link first, when given): the focus starts at the top."""
    if token:
        driver.get(f"{base}/l/{token}")
    driver.get(f"{base}{path}")


def axe_clean(checker, base: str, token: str, path: str) -> None:
    """axe-core on the page at ``path`` as the JavaScript browser sees it."""
    checker.get(f"{base}/l/{token}")
    checker.get(f"{base}{path}")
    assert axe_problems(checker) == [], path


def notice(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, ".notice").text


def summary_is_focused(driver, width: int, height: int, name: str) -> str:
    """The error summary has the focus and is on the first screen; its text."""
    from selenium.webdriver.common.by import By

    summary = driver.find_element(By.ID, "error-summary")
    assert driver.switch_to.active_element == summary
    assert summary.get_attribute("role") == "alert"
    assert summary.location["y"] < height
    assert driver.title.startswith("Not sent:")
    screenshot(driver, name, width, height)
    return summary.text


@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_notes_to_the_therapist_with_the_keyboard_alone(server, clinic, keyboard, checker, size):
    from selenium.webdriver.common.keys import Keys

    width, height = size
    aid, base, token = clinic.homework["monitoring"], server.base, clinic.link()
    keyboard.set_window_size(width, height)
    page = f"/homework/{aid}"
    too_hard = f"Too hard at {width}: the evenings are busy"
    start_at_top(keyboard, base, page, token)
    tab_to(keyboard, f"n-{aid}-kind-too-hard")
    key(keyboard, Keys.SPACE)
    tab_to(keyboard, f"n-{aid}-text")
    key(keyboard, too_hard)
    press_button_after(keyboard, f"{page}/note")
    assert notice(keyboard) == "Your message was sent to your therapist."
    assert too_hard in keyboard.page_source

    start_at_top(keyboard, base, page)  # a question with no words: the mistake, at once
    tab_to(keyboard, f"n-{aid}-kind-too-hard")
    key(keyboard, Keys.ARROW_DOWN)  # the next choice: "I have a question"
    press_button_after(keyboard, f"{page}/note")
    said = summary_is_focused(keyboard, width, height, "note-mistake")
    assert "Please write your question." in said
    tab_to(keyboard, f"n-{aid}-text")  # what was chosen is kept; now the words
    question = f"Question at {width}: may I do it in the morning?"
    key(keyboard, question)
    press_button_after(keyboard, f"{page}/note")
    assert notice(keyboard) == "Your message was sent to your therapist."
    screenshot(keyboard, "notes-sent", width, height, whole=True)

    detail = json.loads(between(clinic, "show", aid, "--json"))
    mine = [(n["kind"], n["text"]) for n in detail["client_notes_list"] if n["by"] == "client"]
    assert ("too-hard", too_hard) in mine and ("question", question) in mine
    axe_clean(checker, base, clinic.link(), page)
    agenda = between(clinic, "agenda", clinic.code)
    assert f"the client said {aid[:8]} is too hard: {too_hard}" in agenda
    assert f"the client asked a question about {aid[:8]}: {question}" in agenda
    report = between(clinic, "report", clinic.code, "-o", "-")
    assert too_hard in report and question in report


@pytest.mark.parametrize("size", SIZES, ids=["phone", "desktop"])
def test_answering_a_proposal_with_the_keyboard_alone(server, clinic, keyboard, checker, size):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    width, height = size
    base, token = server.base, clinic.link()
    agreed, changed, declined = (proposal(clinic, f"{w} {width}") for w in ("a", "c", "d"))
    obstacle = f"Late shifts on Thursdays ({width})"
    change = f"Three evenings a week instead of seven ({width})"
    reason = f"I am moving house this month ({width})"
    keyboard.set_window_size(width, height)

    start_at_top(keyboard, base, "/", token)  # from the home, its link under "New homework"
    link = keyboard.find_element(By.CSS_SELECTOR, f"#hw-{agreed} a")
    for _ in range(60):
        if keyboard.switch_to.active_element == link:
            break
        key(keyboard, Keys.TAB)
    key(keyboard, Keys.ENTER)
    keyboard.find_element(By.ID, f"a-{agreed}-title")
    source = keyboard.page_source
    first = [
        "Breathe slowly",
        "To calm the body",
        f"/homework/{agreed}/agree",
        f"/homework/{agreed}/note",
    ]
    assert sorted(first, key=source.index) == first  # what, why, then the answer first
    screenshot(keyboard, "proposal", width, height, whole=True)
    axe_clean(checker, base, clinic.link(), f"/homework/{agreed}")

    tab_to(keyboard, f"a-{agreed}-confidence")  # 0 … 10 on one scale: seven steps right
    key(keyboard, *[Keys.ARROW_RIGHT] * 7)
    tab_to(keyboard, f"a-{agreed}-obstacles")
    key(keyboard, obstacle)
    press_button_after(keyboard, f"/homework/{agreed}/agree")
    assert notice(keyboard) == "You agreed to this homework. Thank you."
    shown = json.loads(between(clinic, "show", agreed, "--json"))
    assert shown["status"] == "agreed"
    said = shown["agreements"][-1]
    assert (said["by"], said["via"]) == ("client", "portal")
    assert said["confidence"] == 7 and obstacle in json.dumps(said)

    start_at_top(keyboard, base, f"/homework/{changed}")
    tab_to(keyboard, f"c-{changed}-text")
    key(keyboard, change)
    press_button_after(keyboard, f"/homework/{changed}/change")
    assert notice(keyboard).startswith("Your therapist will see the change you asked for")
    assert json.loads(between(clinic, "show", changed, "--json"))["status"] == "proposed"

    start_at_top(keyboard, base, f"/homework/{declined}")  # no reason: the mistake, at once
    tab_to(keyboard, f"d-{declined}-reason")
    press_button_after(keyboard, f"/homework/{declined}/decline")
    said = summary_is_focused(keyboard, width, height, "decline-mistake")
    assert "Please write why this is not right for you now" in said
    axe_clean_error(checker, base, clinic.link(), declined)
    tab_to(keyboard, f"d-{declined}-reason")
    key(keyboard, reason)
    press_button_after(keyboard, f"/homework/{declined}/decline")
    assert notice(keyboard) == "You said no to this homework. Your therapist will see why."
    shown = json.loads(between(clinic, "show", declined, "--json"))
    assert (shown["status"], shown["decline_reason"]) == (
        "declined",
        reason,
    )

    agenda = between(clinic, "agenda", clinic.code)
    waiting = agenda.split("Awaiting agreement:", 1)[1].split("Declined since", 1)[0]
    assert f"the client asked for a change to {changed[:8]}: {change}" in waiting
    assert "anticipated when agreeing" in agenda.split(agreed[:8] + " relaxation", 1)[1]
    assert declined[:8] in agenda.split("Declined since the last review:", 1)[1]
    report = between(clinic, "report", clinic.code, "-o", "-")
    for words in (obstacle, change, reason):
        assert words in report


def axe_clean_error(checker, base: str, token: str, aid: str) -> None:
    """axe-core on the page a refused decline answers with (posted by the JavaScript browser
    through the page's own form)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    checker.get(f"{base}/l/{token}")
    checker.get(f"{base}/homework/{aid}")
    button = checker.find_element(By.CSS_SELECTOR, f'form[action="/homework/{aid}/decline"] button')
    button.click()
    WebDriverWait(checker, 20).until(left_the_page(button))
    assert checker.find_element(By.ID, "error-summary")
    assert axe_problems(checker) == []


def test_the_issues_acceptance_from_a_message_to_the_therapists_agenda(tmp_path):
    """From the link in a message: today's homework in under three taps (link → home → "Add
    today's entry"), an entry recorded, a mistake seen at once, the week's progress, "this is
    too hard", and next week's proposal agreed to — and the therapist sees each."""
    import re

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait
    from test_portal_browser import fill, form_of, open_homework, submit

    clinic = prepare(tmp_path / "acceptance")
    between(clinic, "client", "consent", clinic.code, "--channel", "console")
    said = between(clinic, "assign", clinic.code, "self-monitoring", "--instructions",
                   "Note each worry as it comes", "--rationale", "To see the pattern",
                   "--stage", "practice", "--difficulty", "1", "--due", "+7",
                   "--entries", "5", "--field", "target=worry")  # fmt: skip
    short = re.search(r"proposed ([0-9a-f]{8})", said)[1]
    between(clinic, "agree", short)
    today = json.loads(between(clinic, "show", short, "--json"))["id"]
    next_week = proposal(clinic)
    told = between(clinic, "notify")  # the console channel: the client's message, and link
    link = re.findall(r"http://portal\.test(/l/[A-Za-z0-9_-]{43})", told)[-1]

    with serving(clinic) as server:
        driver = chrome()
        try:
            driver.set_window_size(360, 740)
            driver.get(server.base + link)  # tap 1: the link, to the home
            card = driver.find_element(By.ID, f"hw-{today}")
            assert card.find_element(By.TAG_NAME, "a").text.startswith("Add today's entry")
            open_homework(driver, today)  # tap 2: "Add today's entry"
            assert driver.current_url.endswith(f"/homework/{today}#record")
            fill(form_of(driver, today), situation="before the bus", intensity="150")
            submit(driver, today)  # a mistake, seen at once: the summary has the focus
            summary = driver.find_element(By.ID, "error-summary")
            assert driver.switch_to.active_element == summary
            said = "How strong was that feeling? Please give a number from 0 to 100."
            assert said in summary.text
            fill(form_of(driver, today), intensity="70")
            submit(driver, today)
            assert driver.find_element(By.CLASS_NAME, "notice").text == "Your entry was recorded."
            week = driver.find_element(By.CSS_SELECTOR, ".your-progress .week strong").text
            assert re.fullmatch(r"1 of \d+ this week", week)
            driver.find_element(By.ID, f"n-{today}-kind-too-hard").click()
            driver.find_element(By.ID, f"n-{today}-text").send_keys("Writing at work is hard")
            note = driver.find_element(By.CSS_SELECTOR, f'form[action$="{today}/note"] button')
            note.click()
            WebDriverWait(driver, 20).until(left_the_page(note))
            assert "Your message was sent" in driver.find_element(By.CLASS_NAME, "notice").text
            screenshot(driver, "acceptance-note", 360, 740, whole=True)
            back = driver.find_element(By.LINK_TEXT, "All your homework")
            back.click()
            WebDriverWait(driver, 20).until(left_the_page(back))
            open_homework(driver, next_week)  # under "New homework to talk about"
            screenshot(driver, "acceptance-proposal", 360, 740, whole=True)
            driver.find_element(By.CSS_SELECTOR, f'label[for="a-{next_week}-confidence-8"]').click()
            driver.find_element(By.ID, f"a-{next_week}-obstacles").send_keys("Night shifts")
            agree = driver.find_element(
                By.CSS_SELECTOR, f'form[action$="{next_week}/agree"] button'
            )
            agree.click()
            WebDriverWait(driver, 20).until(left_the_page(agree))
            assert driver.find_element(By.CLASS_NAME, "notice").text.startswith("You agreed")
            screenshot(driver, "acceptance-agreed", 360, 740)
        finally:
            driver.quit()

    agenda = between(clinic, "agenda", clinic.code)
    assert f"the client said {today[:8]} is too hard: Writing at work is hard" in agenda
    assert "anticipated when agreeing" in agenda and "Night shifts" in agenda
    assert re.search(today[:8] + r"\s.*\s1/5\s", agenda)  # the entry
    shown = json.loads(between(clinic, "show", today, "--json"))
    (entry,) = shown["entry_list"]
    assert (entry["fields"]["intensity"], entry["via"]) == (70, "portal")
    agreed = json.loads(between(clinic, "show", next_week, "--json"))
    assert agreed["status"] == "agreed" and agreed["agreements"][-1]["confidence"] == 8
    report = between(clinic, "report", clinic.code, "-o", "-")
    assert "Writing at work is hard" in report and "Night shifts" in report
