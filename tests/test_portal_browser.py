"""The portal as a client uses it: headless Chromium, driven by Selenium, against
``between serve`` running as a real process. Screenshots at phone and desktop widths are saved
under tests/artifacts/portal/ to look at."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import Clock
from portal_server import COLLABORATOR, NAME, prepare, serving, six_homework

pytestmark = pytest.mark.slow  # a real browser: seconds a test
ARTIFACTS = Path(__file__).parent / "artifacts" / "portal"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
GONE = "This link no longer works — ask your therapist for a new one."


def chrome(javascript: bool = True):
    """Headless Chromium (Debian's, never a download); skipped without it, except in CI."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = (
            "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " — required in CI")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    return driver


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    return prepare(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def server(clinic):
    with serving(clinic) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    driver = chrome()
    yield driver
    driver.quit()


def open_homework(driver, assignment: str) -> None:
    """From the home, follow the homework's one link to its own page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    link = driver.find_element(By.CSS_SELECTOR, f"#hw-{assignment} a")
    link.click()
    WebDriverWait(driver, 20).until(left_the_page(link))
    assert driver.current_url.split("#")[0].endswith(f"/homework/{assignment}")


def axe_problems(driver) -> list[str]:
    """What axe-core (bundled by axe-core-python: nothing fetched) finds serious or critical
    on the page, as "rule: target" lines."""
    import importlib.util

    spec = importlib.util.find_spec("axe_core_python")
    assert spec and spec.submodule_search_locations, "pip install -e '.[test]' (axe-core-python)"
    source = (Path(spec.submodule_search_locations[0]) / "axe.min.js").read_text()
    driver.set_script_timeout(60)
    found = driver.execute_async_script(
        source + "\n;const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations), e => done([{id: String(e), "
        "impact: 'critical', nodes: []}]));"
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def form_of(driver, assignment: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'form[action="/homework/{assignment}"]')


def fill(form, **values: str) -> None:
    """Type into the form's inputs by field name (radio buttons and lists: click the value)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    for name, value in values.items():
        inputs = form.find_elements(By.NAME, f"field.{name}")
        if inputs[0].get_attribute("type") == "radio":
            next(i for i in inputs if i.get_attribute("value") == value).click()
        elif inputs[0].tag_name == "select":
            Select(inputs[0]).select_by_value(value)
        else:
            inputs[0].clear()
            inputs[0].send_keys(value)


def left_the_page(element):
    """A wait condition: ``element`` is no longer in the document (the next page has come).
    Chromium sometimes says so as "does not belong to the document" rather than as a stale
    element; both mean the same."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def gone(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e.msg):
                return True
            raise
        return False

    return gone


def submit(driver, assignment: str) -> None:
    """Press the form's button, and wait for the next page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    button = form_of(driver, assignment).find_element(By.CSS_SELECTOR, "button[type=submit]")
    button.click()
    WebDriverWait(driver, 20).until(left_the_page(button))


def progress(driver, assignment: str) -> str:
    from selenium.webdriver.common.by import By

    section = driver.find_element(By.ID, f"hw-{assignment}")
    return section.find_element(By.CLASS_NAME, "progress").text


def console(driver) -> list[dict]:
    """The browser's warnings and errors (a CSP violation would be one), except the status
    of a form refused on purpose (422)."""
    return [
        e
        for e in driver.get_log("browser")
        if e["level"] in ("SEVERE", "WARNING")
        and not (e["source"] == "network" and "status of 422" in e["message"])
    ]


def screenshot(driver, name: str, width: int, height: int, whole: bool = False) -> Path:
    """The window at ``width`` × ``height`` — or, ``whole``, the whole page at that width —
    as a PNG in tests/artifacts/portal/."""
    import base64

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(width, height)
    path = ARTIFACTS / f"{name}-{width}x{height}{'-page' if whole else ''}.png"
    if whole:
        size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1}
        shot = {"captureBeyondViewport": True, "clip": clip}
        path.write_bytes(
            base64.b64decode(driver.execute_cdp_cmd("Page.captureScreenshot", shot)["data"])
        )
    else:
        driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def test_a_client_records_entries_in_the_browser(server, clinic, browser):
    from selenium.webdriver.common.by import By

    ids = clinic.homework
    browser.get(f"{server.base}/l/{clinic.link()}")
    assert browser.current_url == f"{server.base}/"  # the token left the address bar
    assert browser.title == "Your homework — Riverside Clinic"
    assert NAME not in browser.title and clinic.code not in browser.title
    assert browser.find_element(By.CLASS_NAME, "clinic").text == "Riverside Clinic"
    assert progress(browser, ids["monitoring"]) == "0 of 5 entries"
    assert not browser.find_elements(By.TAG_NAME, "form")  # the home only links
    screenshot(browser, "client", 360, 740)
    screenshot(browser, "client", 1280, 900)
    assert axe_problems(browser) == []
    open_homework(browser, ids["monitoring"])
    assert browser.find_element(By.TAG_NAME, "h1").text == "Self-monitoring log"
    label = browser.find_element(By.CSS_SELECTOR, 'label[for$="-4"]').text
    assert label.startswith("How strong was that feeling?")
    assert axe_problems(browser) == []

    fill(form_of(browser, ids["monitoring"]), situation="team meeting", intensity="150")
    submit(browser, ids["monitoring"])
    error = browser.find_element(By.CSS_SELECTOR, f"#hw-{ids['monitoring']} .error")
    assert error.text == "Please give a number from 0 to 100."
    intensity = browser.find_element(By.NAME, "field.intensity")
    assert intensity.get_attribute("value") == "150"
    assert intensity.get_attribute("aria-describedby").endswith(error.get_attribute("id"))
    assert browser.find_element(By.NAME, "field.situation").get_attribute("value") == "team meeting"
    assert progress(browser, ids["monitoring"]) == "0 of 5 entries"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", error)
    screenshot(browser, "client-invalid", 360, 740)
    browser.set_window_size(1280, 900)
    assert axe_problems(browser) == []
    fill(form_of(browser, ids["monitoring"]), intensity="60")
    submit(browser, ids["monitoring"])
    assert progress(browser, ids["monitoring"]) == "1 of 5 entries"
    notice = browser.find_element(By.CSS_SELECTOR, f"#hw-{ids['monitoring']} .notice")
    assert notice.text == "Your entry was recorded."

    browser.find_element(By.LINK_TEXT, "All your homework").click()
    open_homework(browser, ids["exposure"])
    exposure = {"suds_before": "35", "suds_peak": "80", "suds_after": "20", "minutes": "25"}
    fill(form_of(browser, ids["exposure"]), **exposure)
    fill(
        form_of(browser, ids["exposure"]),
        safety_behaviours_dropped="sitting by the door\nearphones",
    )
    submit(browser, ids["exposure"])
    assert progress(browser, ids["exposure"]) == "1 of 5 entries"

    for what, expected in [
        ("monitoring", {"situation": "team meeting", "intensity": 60}),
        ("exposure", {"suds_before": 35, "suds_peak": 80, "suds_after": 20, "minutes": 25,
                      "safety_behaviours_dropped": ["sitting by the door", "earphones"]}),
    ]:  # fmt: skip
        (entry,) = clinic.show(what)["entry_list"]
        assert (entry["recorded_by"], entry["via"], entry["by"]) == ("client", "portal", "client")
        assert entry["fields"] == expected
    past = browser.find_element(By.CSS_SELECTOR, f"#hw-{ids['exposure']} ol.entries").text
    assert "How anxious were you at the hardest moment?\n80" in past and "by you" in past
    figure = browser.find_element(By.CSS_SELECTOR, f"#hw-{ids['exposure']} figure svg")
    assert figure.get_attribute("role") == "img"
    assert axe_problems(browser) == []
    screenshot(browser, "homework-after", 360, 740, whole=True)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
    screenshot(browser, "client-after", 1280, 900, whole=True)
    assert console(browser) == []


def test_a_clinic_worksheet_is_a_working_form(server, clinic, browser):
    from selenium.webdriver.common.by import By

    aid = clinic.homework["worksheet"]
    browser.get(f"{server.base}/l/{clinic.link()}")
    open_homework(browser, aid)
    form = form_of(browser, aid)
    kinds = {
        i.get_attribute("name"): (i.tag_name, i.get_attribute("type"))
        for i in form.find_elements(By.CSS_SELECTOR, "input, textarea, select")
    }
    assert kinds["field.highlight"] == ("input", "text")
    assert kinds["field.slept_well"] == kinds["field.energy"] == ("input", "radio")
    assert kinds["field.weekday"][0] == "select"
    assert kinds["field.hours_outside"] == ("input", "number")
    assert kinds["field.planned_for"] == ("input", "datetime-local")
    assert (
        kinds["field.moments"][0]
        == kinds["field.moods"][0]
        == kinds["field.reflection"][0]
        == "textarea"
    )
    for name in kinds:  # every input has a label
        if name.startswith("field.") and kinds[name][1] != "radio":
            input_id = form.find_element(By.NAME, name).get_attribute("id")
            assert form.find_elements(By.CSS_SELECTOR, f'label[for="{input_id}"]'), name
    fill(
        form,
        highlight="a walk by the river",
        slept_well="yes",
        energy="medium",
        weekday="Friday",
        hours_outside="2.5",
        moments="lunch outside\nthe call with my sister",
        moods="calm: 7\nworried: 3",
        reflection="I went out more than I expected this week.",
    )
    submit(browser, aid)
    assert progress(browser, aid) == "1 of 5 entries"
    (entry,) = clinic.show("worksheet")["entry_list"]
    assert entry["fields"] == {
        "highlight": "a walk by the river",
        "slept_well": True,
        "energy": "medium",
        "weekday": "Friday",
        "hours_outside": 2.5,
        "moments": ["lunch outside", "the call with my sister"],
        "moods": {"calm": 7.0, "worried": 3.0},
        "reflection": "I went out more than I expected this week.",
    }
    assert console(browser) == []


def test_the_portal_is_usable_with_the_keyboard_alone(server, clinic, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.wait import WebDriverWait

    aid = clinic.homework["monitoring"]
    browser.get(f"{server.base}/l/{clinic.link()}")
    before = progress(browser, aid)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.text == "Skip to the homework"
    outline = browser.execute_script(
        "const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]"
    )
    assert outline[0] == "solid" and outline[1] != "0px"  # the focus is visible
    for _ in range(30):  # through the cards before it, to the self-monitoring card's link
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if (browser.switch_to.active_element.get_attribute("href") or "").endswith(
            f"/homework/{aid}#record"
        ):
            break
    link = browser.switch_to.active_element
    assert link.text.startswith(("Add today's entry", "Add another entry"))
    link.send_keys(Keys.ENTER)
    WebDriverWait(browser, 20).until(left_the_page(link))
    for _ in range(10):  # the link led to the form: its first field is the next stop
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if browser.switch_to.active_element.get_attribute("name") == "field.situation":
            break
    field = browser.switch_to.active_element
    assert field.get_attribute("name") == "field.situation"
    field.send_keys("typed without a mouse")
    field.send_keys(Keys.TAB)  # to "thought", and on to the button
    while browser.switch_to.active_element.tag_name != "button":
        browser.switch_to.active_element.send_keys(Keys.TAB)
    button = browser.switch_to.active_element
    button.send_keys(Keys.ENTER)
    WebDriverWait(browser, 20).until(left_the_page(button))
    done, total = before.split(" of ")
    assert progress(browser, aid) == f"{int(done) + 1} of {total.split()[0]} entries"
    assert browser.find_element(By.CLASS_NAME, "notice").text == "Your entry was recorded."


def test_the_portal_works_with_javascript_disabled(server, clinic):
    from selenium.webdriver.common.by import By

    driver = chrome(javascript=False)
    try:
        aid = clinic.homework["exposure"]
        driver.get(f"{server.base}/l/{clinic.link()}")
        assert driver.current_url == f"{server.base}/"
        before = progress(driver, aid)
        open_homework(driver, aid)
        fill(form_of(driver, aid), suds_before="50", suds_peak="60", suds_after="30", minutes="15")
        submit(driver, aid)
        assert progress(driver, aid) != before
        assert driver.find_element(By.CSS_SELECTOR, f"#hw-{aid} .notice").text == (
            "Your entry was recorded."
        )
    finally:
        driver.quit()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_refused_entry_on_a_phone_focuses_a_summary_on_the_first_screen(
    server, clinic, javascript
):
    """At 360 × 740, the worksheet's form is screens below the top: after a refused entry the
    page opens on a summary of what to fix, focused, each problem a link to its field."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = chrome(javascript=javascript)
    try:
        driver.set_window_size(360, 740)
        aid = clinic.homework["worksheet"]
        driver.get(f"{server.base}/l/{clinic.link()}")
        before = progress(driver, aid)
        open_homework(driver, aid)
        form = form_of(driver, aid)
        fill(form, highlight="a walk", hours_outside="900", reflection="too short")
        submit(driver, aid)
        summary = driver.find_element(By.ID, "error-summary")
        assert driver.switch_to.active_element == summary  # focused, for screen readers too
        assert summary.get_attribute("role") == "alert"
        assert summary.get_attribute("tabindex") == "-1"
        top, bottom, seen = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return [r.top, r.bottom, window.innerHeight]",
            summary,
        )
        assert top >= 0 and bottom <= seen <= 740  # all of it on the first screen
        assert summary.text.startswith("Your entry was not saved yet")
        links = summary.find_elements(By.TAG_NAME, "a")
        said = "Hours outside: Please give a number from 0 to 100."
        assert said in [a.text for a in links]
        hours = next(a for a in links if a.text == said)
        target = hours.get_attribute("href").split("#", 1)[1]
        field = driver.find_element(By.ID, target)
        typed = field.find_element(By.NAME, "field.hours_outside")
        assert typed.get_attribute("value") == "900" and typed.get_attribute("aria-invalid")
        beside = field.find_element(By.CLASS_NAME, "error").text  # beside it: the message
        assert beside == "Please give a number from 0 to 100." and hours.text.endswith(beside)
        screenshot(driver, f"refused-{'js' if javascript else 'nojs'}", 360, 740)
        if javascript:
            assert axe_problems(driver) == []
        hours.click()  # the link goes to the field: its label, message and input in view
        assert driver.current_url.endswith(f"#{target}")
        shown = driver.execute_script(
            "const f = arguments[0].getBoundingClientRect(), i = arguments[1]"
            ".getBoundingClientRect(); return [f.top, i.bottom, window.innerHeight]",
            field,
            typed,
        )
        assert shown[0] >= -1 and shown[1] <= shown[2]
        ActionChains(driver).send_keys(Keys.TAB).perform()  # and the next Tab, to its input
        assert driver.switch_to.active_element == typed
        driver.find_element(By.LINK_TEXT, "All your homework").click()
        assert progress(driver, aid) == before
    finally:
        driver.quit()


def test_a_collaborator_sees_only_their_homework(server, clinic, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{server.base}/l/{clinic.link(COLLABORATOR)}")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Homework you help with"
    titles = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".card-title")]
    assert titles == ["Self-monitoring log"]
    aid = clinic.homework["monitoring"]
    assert progress(browser, aid) == "You have not added any entries yet"  # not the client's
    open_homework(browser, aid)
    fill(form_of(browser, aid), situation="bit nails watching TV", intensity="30")
    submit(browser, aid)
    assert progress(browser, aid) == "You have added 1 entry"
    entries = browser.find_element(By.CSS_SELECTOR, f"#hw-{aid} ol.entries").text
    assert "bit nails watching TV" in entries and "team meeting" not in entries  # only theirs
    last = clinic.show("monitoring")["entry_list"][-1]
    assert (last["by"], last["recorded_by"], last["via"]) == (
        COLLABORATOR,
        "collaborator",
        "portal",
    )


def test_revoked_expired_and_edited_links_show_the_plain_page_and_record_nothing(
    server, clinic, browser
):
    from selenium.webdriver.common.by import By

    revoked = clinic.link(COLLABORATOR)
    clinic.cli("client", "link", clinic.code, "--person", COLLABORATOR, "--revoke")
    expired = clinic.link(clock=Clock(datetime.now(UTC) - timedelta(days=3)), expires_days=1)
    live = clinic.link()
    edited = live[:-5] + ("a" if live[-5] != "a" else "b") + live[-4:]
    before = clinic.log()
    for token in (revoked, expired, edited, "no-such-link"):
        browser.delete_all_cookies()
        browser.get(f"{server.base}/l/{token}")
        assert browser.find_element(By.CLASS_NAME, "message").text == GONE
        assert not browser.find_elements(By.TAG_NAME, "form")
        browser.get(f"{server.base}/")
        assert not browser.find_elements(By.TAG_NAME, "form")
    assert clinic.log() == before


def test_six_homework_fit_two_phone_screens(server, clinic, browser):
    """At 360 × 740 the home of a client with six homework is at most two screens tall."""
    from selenium.webdriver.common.by import By

    token = six_homework(clinic)
    browser.delete_all_cookies()
    browser.set_window_size(360, 740)
    try:
        browser.get(f"{server.base}/l/{token}")
        assert len(browser.find_elements(By.CSS_SELECTOR, "li.card")) == 6
        lines = [p.text for p in browser.find_elements(By.CSS_SELECTOR, "li.card .card-line")]
        assert len(set(lines)) == 6 and all(t.endswith("…") and len(t) <= 80 for t in lines)
        height = browser.execute_script("return document.body.scrollHeight")
        assert height <= 2 * 740, height
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
        screenshot(browser, "home-six", 360, 740, whole=True)
        assert axe_problems(browser) == []
        browser.get(f"{server.base}/l/no-such-link")  # the message page
        assert axe_problems(browser) == []
    finally:
        browser.set_window_size(1280, 900)
