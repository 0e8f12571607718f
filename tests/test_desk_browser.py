"""The front desk walked in a real headless Chromium (Debian's, driven by Playwright; scripts/ensure-browser
installs it), on a desktop (1280 px) and a phone (390 px): sign in, book a patient, move it, cancel it, block an
afternoon, answer a callback request -- each checked in the database and in the SMS outbox. Every page, at both
sizes, fits the screen (no horizontal scrolling) and is saved as a screenshot: in $VOXBOOK_SCREENSHOTS when set
(e.g. tests/artifacts/screenshots, git-ignored), else in pytest's temporary directory; the path is printed."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from clinic_helpers import new_clinic, unique_phone
from dashboard_helpers import book, create_staff, tomorrow
from playwright.sync_api import Page, sync_playwright

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("no chromium for the browser test: run scripts/ensure-browser (make test does)")
    return path


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    where = os.environ.get("VOXBOOK_SCREENSHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def fits(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def shoot(page: Page, where: Path, name: str, size: str, problems: list[str]) -> None:
    """A screenshot of the whole page; at phone size the page must not scroll sideways."""
    page.wait_for_load_state("networkidle")
    width, inner = fits(page)
    if size == "phone" and width > inner:
        problems.append(f"{name}: {width} px wide on a {inner} px screen")
    page.screenshot(path=str(where / f"desk-{name}-{size}.png"), full_page=True)


def outbox(db, org: str, appointment_id: str) -> list[tuple[str, str]]:
    return [(r["kind"], r["status"]) for r in db.execute(
        "SELECT kind, status FROM voxbook.sms_outbox WHERE org_id = %s AND appointment_id = %s ORDER BY created_at, kind",
        [org, appointment_id]).fetchall()]


@pytest.mark.parametrize("size", list(SIZES))
def test_front_desk_walk(size, live_server, db, screenshots):
    base = live_server.base_url
    org, _ = new_clinic(db, f"Walk Dental {size}")
    day = tomorrow(db, org)
    book(db, org, "cal-b", f"{day} 09:00", "Grace Existing", unique_phone(), service="cleaning")
    hold = book(db, org, "cal-b", f"{day} 16:00", "Hal Holding", unique_phone(), confirm=False)
    callback = db.execute("SELECT api.record_transfer_failure(%s, %s, %s, 'call.in-progress.error-transfer-failed') AS r",
                          [org, f"walk-{uuid.uuid4()}", unique_phone()]).fetchone()["r"]["callback_request"]
    desk = create_staff(db, org, "front_desk", name=f"Dana {size.title()}")
    owner = create_staff(db, org, "owner", name=f"Olga {size.title()}")
    who = f"{desk.name} <{desk.email}>"
    patient_phone = unique_phone()
    problems: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport=SIZES[size], is_mobile=size == "phone",
                                          has_touch=size == "phone")
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)

            # sign in
            page.goto(f"{base}/dashboard")
            shoot(page, screenshots, "sign-in", size, problems)
            page.fill("#email", desk.email)
            page.fill("#password", desk.password)
            page.click("button[type=submit]")
            page.wait_for_selector("header.top")
            shoot(page, screenshots, "home", size, problems)

            # the schedule of tomorrow: the booked patient, the live hold counting down
            page.goto(f"{base}/dashboard/schedule?date={day}")
            page.wait_for_selector("#live.on")
            assert "Grace Existing" in page.inner_text("#board")
            countdown = page.inner_text(f'li.entry[data-hold-id="{hold["hold_id"]}"] .countdown')
            assert ":" in countdown, countdown
            shoot(page, screenshots, "schedule-day", size, problems)

            # live: a booking made elsewhere (the assistant, another desk) appears without a reload
            page.evaluate("window.__sameDocument = true")
            db.execute("SELECT api.book_for_patient(%s, 'cal-b', tests.at(%s, %s::timestamp), NULL, 'Lou Live', %s,"
                       " staff_user => 'phone desk')", [org, org, f"{day} 11:00", unique_phone()])
            page.wait_for_selector("#board li.entry:has-text('Lou Live')")
            assert page.evaluate("window.__sameDocument") is True

            # book a patient: free times as the assistant finds them
            page.click("#book-link")
            page.select_option("select[name=calendar]", "cal-a")
            page.select_option("select[name=service]", "cleaning")
            page.click("[data-action=find-times]")
            page.wait_for_selector("#slots label.slot")
            shoot(page, screenshots, "book", size, problems)
            chosen = page.locator("#slots input[name=slot]").nth(1)
            chosen.check()
            slot_time = chosen.get_attribute("value").split("|")[0]
            page.fill("input[name=patient_name]", "Mia Walker")
            page.fill("input[name=patient_phone]", patient_phone)
            page.click("[data-action=book]")
            page.wait_for_selector("p.flash[data-done=booked]")
            appt = db.execute("SELECT a.id::text, a.booked_by, h.starts_at, h.calendar_id FROM voxbook.appointments AS a"
                              " JOIN voxbook.holds AS h ON h.org_id = a.org_id AND h.id = a.hold_id"
                              " WHERE a.org_id = %s AND a.patient_name = 'Mia Walker'", [org]).fetchone()
            assert appt["booked_by"] == who and appt["calendar_id"] == "cal-a"
            assert appt["starts_at"].isoformat().replace("+00:00", "Z") == slot_time
            assert outbox(db, org, appt["id"])[0] == ("confirmation", "queued")
            entry = page.locator(f'li.entry[data-appointment-id="{appt["id"]}"]')
            assert "Mia Walker" in entry.inner_text()

            # move it to another time
            entry.locator("[data-action=move]").click()
            page.wait_for_selector("#move-form")
            shoot(page, screenshots, "move", size, problems)
            target = page.locator("#move-form input[name=slot]").last
            target.check()
            new_time = target.get_attribute("value").split("|")[0]
            page.click("#move-form [data-action=move]")
            page.wait_for_selector("p.flash[data-done=moved]")
            moved = db.execute("SELECT h.starts_at FROM voxbook.appointments AS a JOIN voxbook.holds AS h"
                               " ON h.org_id = a.org_id AND h.id = a.hold_id WHERE a.org_id = %s AND a.id = %s",
                               [org, appt["id"]]).fetchone()
            assert moved["starts_at"].isoformat().replace("+00:00", "Z") == new_time != slot_time
            assert ("reschedule", "queued") in outbox(db, org, appt["id"])

            # cancel it with a reason: the patient is texted
            entry = page.locator(f'li.entry[data-appointment-id="{appt["id"]}"]')
            entry.locator("summary[data-action=cancel]").click()
            entry.locator("input[name=reason]").fill("patient moved away")
            shoot(page, screenshots, "cancel", size, problems)
            entry.locator("[data-action=confirm-cancel]").click()
            page.wait_for_selector("p.flash[data-done=cancelled]")
            row = db.execute("SELECT status, cancelled_by, cancel_reason FROM voxbook.appointments WHERE org_id = %s"
                             " AND id = %s", [org, appt["id"]]).fetchone()
            assert (row["status"], row["cancelled_by"], row["cancel_reason"]) == ("cancelled", who, "patient moved away")
            texts = outbox(db, org, appt["id"])
            assert ("cancellation", "queued") in texts and ("reminder", "queued") not in texts
            assert page.locator(f'li.entry[data-appointment-id="{appt["id"]}"]').get_attribute("data-status") == "cancelled"

            # block an afternoon of Dr. Able's
            page.click("details.block-form summary")
            page.select_option("#block-form select[name=calendar_id]", "cal-a")
            page.fill("#block-form input[name=date]", day)
            page.fill("#block-form input[name=from_time]", "13:00")
            page.fill("#block-form input[name=to_time]", "17:00")
            page.fill("#block-form input[name=reason]", "dentist's afternoon off")
            shoot(page, screenshots, "block", size, problems)
            page.click("#block-form [data-action=block]")
            page.wait_for_selector("p.flash[data-done=blocked]")
            block = db.execute("SELECT calendar_id, created_by, lower(during) AT TIME ZONE 'America/New_York' AS lo,"
                               " upper(during) AT TIME ZONE 'America/New_York' AS hi FROM voxbook.blocked_periods"
                               " WHERE org_id = %s", [org]).fetchone()
            assert (block["calendar_id"], block["created_by"], str(block["lo"]), str(block["hi"])) == \
                   ("cal-a", who, f"{day} 13:00:00", f"{day} 17:00:00")
            assert "dentist's afternoon off" in page.inner_text("#board")
            page.goto(f"{base}/dashboard/schedule?date={day}&view=week&calendar=cal-a")
            shoot(page, screenshots, "schedule-week", size, problems)

            # answer a callback request
            page.click('nav a[href="/dashboard/queues"]')
            item = page.locator(f'li[data-callback-id="{callback["id"]}"]')
            shoot(page, screenshots, "queues", size, problems)
            item.locator("input[name=note]").fill("called back, booked Friday")
            item.locator("[data-action=resolve-callback]").click()
            page.wait_for_selector("p.flash[data-done=callback]")
            done = db.execute("SELECT status, done_by, note FROM voxbook.callback_requests WHERE org_id = %s AND id = %s",
                              [org, callback["id"]]).fetchone()
            assert (done["status"], done["done_by"], done["note"]) == ("done", who, "called back, booked Friday")
            assert page.locator(f'li[data-callback-id="{callback["id"]}"]').count() == 0

            page.click('nav a[href="/dashboard/clinic"]')
            page.wait_for_selector("#clinic-page")
            shoot(page, screenshots, "clinic-front-desk", size, problems)

            # the owner's clinic page, with the edit forms
            page.click("form.signout button")
            page.wait_for_selector("#email")
            page.fill("#email", owner.email)
            page.fill("#password", owner.password)
            page.click("button[type=submit]")
            page.wait_for_selector("header.top")
            page.goto(f"{base}/dashboard/clinic")
            page.wait_for_selector("form.hours")
            shoot(page, screenshots, "clinic-owner", size, problems)
        finally:
            browser.close()

    assert problems == []
    shots = sorted(screenshots.glob(f"desk-*-{size}.png"))
    assert len(shots) >= 11 and all(s.stat().st_size > 5_000 for s in shots)
    print(f"front desk screenshots ({size}): {screenshots}")


def test_schedule_falls_back_to_polling_without_the_stream(live_server, db):
    """A proxy that refuses the event stream: the page polls the change markers and still updates by itself."""
    base = live_server.base_url
    org, _ = new_clinic(db, "Polling Dental")
    day = tomorrow(db, org)
    desk = create_staff(db, org, "front_desk")
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=SIZES["desktop"])
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.route("**/dashboard/events", lambda route: route.fulfill(status=503, body="no streams here"))
            page.goto(f"{base}/dashboard")
            page.fill("#email", desk.email)
            page.fill("#password", desk.password)
            page.click("button[type=submit]")
            page.wait_for_selector("header.top")
            page.goto(f"{base}/dashboard/schedule?date={day}")
            page.wait_for_selector("#live:has-text('updating every 5 s')")
            page.wait_for_timeout(1_000)   # the first poll has noted the markers
            page.evaluate("window.__sameDocument = true")
            db.execute("SELECT api.book_for_patient(%s, 'cal-a', tests.at(%s, %s::timestamp), NULL, 'Polly Polled', %s,"
                       " staff_user => 'phone desk')", [org, org, f"{day} 10:00", unique_phone()])
            page.wait_for_selector("#board li.entry:has-text('Polly Polled')")
            assert page.evaluate("window.__sameDocument") is True
        finally:
            browser.close()
    assert problems == []


def test_drag_an_appointment_to_another_provider_opens_its_move(live_server, db):
    base = live_server.base_url
    org, _ = new_clinic(db, "Drag Dental")
    day = tomorrow(db, org)
    appt = book(db, org, "cal-a", f"{day} 10:00", "Dora Dragged", unique_phone())
    desk = create_staff(db, org, "front_desk")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=SIZES["desktop"])
            page.set_default_timeout(15_000)
            page.goto(f"{base}/dashboard")
            page.fill("#email", desk.email)
            page.fill("#password", desk.password)
            page.click("button[type=submit]")
            page.wait_for_selector("header.top")
            page.goto(f"{base}/dashboard/schedule?date={day}")
            entry = page.locator(f'li.entry[data-appointment-id="{appt["appointment_id"]}"]')
            page.wait_for_selector("body[data-refreshed]")   # the board as of the stream's opening: it stays
            entry.drag_to(page.locator('#board section.provider[data-calendar-id="cal-b"]'))
            page.wait_for_selector("#move-form")
            assert page.url.endswith(f"/move?date={day}&calendar=cal-b")
            assert page.locator("#move-form input[name=slot]").first.get_attribute("value").endswith("|cal-b")
        finally:
            browser.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_calendars_page_and_revealed_queue_numbers(size, app_database_url, db, screenshots):
    """The Calendars page (a healthy calendar, a failing one, a conflict, the owner's connect form) fits both screens;
    on the queues page a masked number is shown in full on request, with a working tel: link."""
    from psycopg.types.json import Jsonb
    from test_desk_calendars import BOX, SECRETS_KEY, serve   # a server with VOXBOOK_SECRETS_KEY (the owner's form)
    from voxbook.settings import Settings

    org, _ = new_clinic(db, f"Calendar Dental {size}")
    day = tomorrow(db, org)
    appt = book(db, org, "cal-a", f"{day} 10:00", "Pat Conflict", unique_phone())
    caller = unique_phone()
    callback = db.execute("SELECT api.record_transfer_failure(%s, %s, %s, 'call.in-progress.error-transfer-failed') AS r",
                          [org, f"cal-walk-{uuid.uuid4()}", caller]).fetchone()["r"]["callback_request"]
    # Two calendars as the sync worker would have left them (api calls only): one synced with busy time over the
    # appointment, one failing.
    conns = {}
    for cal, user in (("cal-a", "able"), ("cal-b", "baker")):
        conns[cal] = db.execute("SELECT api.connect_calendar(%s, %s, %s, %s, %s, %s) #>> '{connection,connection_id}' AS c",
                                [org, cal, f"https://cloud.example.com/remote.php/dav/calendars/{user}/personal/", user,
                                 BOX.encrypt("x"), BOX.key_id]).fetchone()["c"]
        db.execute("SELECT api.claim_calendar_sync(%s, %s, 'browser-test')", [org, conns[cal]])
    busy = [{"href": "/golf.ics", "etag": '"1"', "uid": "golf", "occurrences": [{
        "starts_at": db.execute("SELECT tests.at(%s, %s::timestamp)::text AS t", [org, f"{day} 10:15"]).fetchone()["t"],
        "ends_at": db.execute("SELECT tests.at(%s, %s::timestamp)::text AS t", [org, f"{day} 11:15"]).fetchone()["t"]}]}]
    imported = db.execute("SELECT api.apply_calendar_import(%s, %s, 'browser-test', %s) AS r",
                          [org, conns["cal-a"], Jsonb(busy)]).fetchone()["r"]
    assert imported["success"] and imported["conflicts"], imported
    db.execute("SELECT api.finish_calendar_sync(%s, %s, 'browser-test', next_seconds => 86400)", [org, conns["cal-a"]])
    db.execute("SELECT api.finish_calendar_sync(%s, %s, 'browser-test', 'bad_credentials', 'the server refused the"
               " username or password (401): check them; iCloud and Fastmail need an app-specific password',"
               " retry_base_seconds => 3600)", [org, conns["cal-b"]])
    owner = create_staff(db, org, "owner", name=f"Olga {size.title()}")
    problems: list[str] = []

    try:
        with serve(Settings(database_url=app_database_url, vapi_secret="s", secrets_key=SECRETS_KEY)) as server, \
                sync_playwright() as p:
            base = server.base_url
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
            try:
                context = browser.new_context(viewport=SIZES[size], is_mobile=size == "phone", has_touch=size == "phone")
                page = context.new_page()
                page.set_default_timeout(15_000)
                page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
                page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
                page.goto(f"{base}/dashboard")
                page.fill("#email", owner.email)
                page.fill("#password", owner.password)
                page.click("button[type=submit]")
                page.wait_for_selector("header.top")

                page.goto(f"{base}/dashboard/clinic")
                page.click("#calendars-link")
                page.wait_for_selector("#calendars-page #connect-form")
                assert page.get_attribute('li[data-calendar-id="cal-a"]', "data-state") == "ok"
                assert "bad credentials" in page.inner_text('li[data-calendar-id="cal-b"]')
                assert "Pat Conflict" in page.inner_text(f'li.conflict[data-appointment-id="{appt["appointment_id"]}"]')
                shoot(page, screenshots, "calendars", size, problems)
                width, inner = fits(page)
                assert width <= inner, f"the calendars page is {width} px wide on a {inner} px screen"

                # the queues: the number masked, then shown in full with a tel: link that dials it
                page.goto(f"{base}/dashboard/queues")
                item = page.locator(f'li[data-callback-id="{callback["id"]}"]')
                assert caller[-4:] in item.inner_text() and caller[2:] not in page.content()
                item.locator("button.reveal").click()
                item.locator('a[href^="tel:"]').wait_for()
                assert item.locator('a[href^="tel:"]').get_attribute("href") == f"tel:{caller}"
                assert item.locator(".phone-value").inner_text() == f"({caller[2:5]}) {caller[5:8]}-{caller[8:]}"
                shoot(page, screenshots, "queues-revealed", size, problems)
            finally:
                browser.close()
    finally:
        db.execute("DELETE FROM voxbook.calendar_connections WHERE org_id = %s", [org])
    assert problems == []
    print(f"calendars screenshots ({size}): {screenshots}")
