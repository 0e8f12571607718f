"""The dashboard in a real headless Chromium (Debian's, driven by Playwright; scripts/ensure-browser
installs it): sign in, see the clinic's schedule, watch a hot lead from a Vapi end-of-call-report
appear without a reload, open its transcript; then sign in as another clinic and see none of it.
Screenshots are saved under tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from clinic_helpers import new_clinic
from dashboard_helpers import book, dashboard_token, end_of_call_report, post_report, tomorrow
from playwright.sync_api import sync_playwright

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("no chromium for the browser test: run scripts/ensure-browser (make test does)")
    return path


def test_dashboard_in_a_real_browser(live_server, db):
    base = live_server.base_url
    org_a, phone_a = new_clinic(db, "Smile Bright Dental")
    org_b, phone_b = new_clinic(db, "Other Town Dental")
    db.execute("UPDATE voxbook.organizations SET reminder_hours = 1 WHERE id = %s", [org_a])
    day = tomorrow(db, org_a)
    book(db, org_a, "cal-a", f"{day} 09:30", "Grace Hopper", "+15557655101", service="cleaning")
    book(db, org_a, "cal-a", f"{day} 11:00", "Alan Turing", "+15557655102", service="teeth-whitening")
    cancelled = book(db, org_a, "cal-b", f"{day} 10:00", "Ada Lovelace", "+15557655103")
    db.execute("SELECT api.cancel_appointment(%s, %s, 'patient called')", [cancelled["appointment_id"], org_a])
    delivered = book(db, org_a, "cal-b", f"{day} 13:30", "Edsger Dijkstra", "+15557655104", service="consultation")
    db.execute("UPDATE voxbook.sms_outbox SET status = 'delivered', delivered_at = now() "
               "WHERE org_id = %s AND appointment_id = %s AND kind = 'confirmation'", [org_a, delivered["appointment_id"]])
    hold = book(db, org_a, "cal-b", f"{day} 16:00", "Barbara Liskov", "+15557655105", confirm=False)
    book(db, org_b, "cal-a", f"{day} 09:30", "Zed Otherclinic", "+15557655201")
    token_a, token_b = dashboard_token(db, org_a), dashboard_token(db, org_b)

    ARTIFACTS.mkdir(exist_ok=True)
    shots = {name: ARTIFACTS / f"dashboard-{name}.png" for name in ("overview", "transcript", "other-clinic")}
    problems: list[str] = []
    call_a = f"browser-a-{uuid.uuid4()}"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)

            page.goto(f"{base}/dashboard")
            page.fill("#token", token_a)
            page.click("button[type=submit]")
            page.wait_for_selector("h1:has-text('Smile Bright Dental')")
            page.wait_for_selector("#live.on")   # the event stream is open

            schedule = page.inner_text("#schedule").lower()   # provider headings are upper-cased by CSS
            for name in ("Dr. Able", "Dr. Baker", "Grace Hopper", "Alan Turing", "Ada Lovelace", "Edsger Dijkstra",
                         "Barbara Liskov"):
                assert name.lower() in schedule, name
            lovelace = page.locator("#schedule tr.entry", has_text="Ada Lovelace")
            assert lovelace.get_attribute("data-status") == "cancelled"
            dijkstra = page.locator("#schedule tr.entry", has_text="Edsger Dijkstra")
            assert "delivered" in dijkstra.locator("[data-sms=confirmation]").inner_text()
            assert "queued" in dijkstra.locator("[data-sms=reminder]").inner_text()
            countdown = page.inner_text(f'li.hold[data-hold-id="{hold["hold_id"]}"] .countdown')
            assert re.fullmatch(r"\d{1,2}:\d\d", countdown), countdown
            assert "Zed Otherclinic" not in page.content()
            assert "+15557655101" not in page.content()   # numbers are masked until revealed

            # A hot lead through the Vapi webhook shows up in this very page, without a reload.
            page.evaluate("window.__sameDocument = true")
            post_report(base, end_of_call_report(
                phone_a, call_a, caller="+15557655199", name="Margaret Hamilton",
                transcript=("AI: Thank you for calling Smile Bright Dental, how can I help?\n"
                            "User: I'd like teeth whitening before my wedding. How much does it cost?\n"
                            "AI: Whitening starts at $600. Would you like to book a consultation?\n"
                            "User: Maybe. Is it covered by insurance? I'll call back after checking."),
                summary="Interested in whitening before a wedding; asked about price and insurance."))
            lead = page.wait_for_selector(f'li.lead[data-call-id="{call_a}"]')
            assert page.evaluate("window.__sameDocument") is True
            text = lead.inner_text()
            assert "Margaret Hamilton" in text and "(***) ***-5199" in text and "Not booked" in text
            assert "asked about insurance" in text

            lead.query_selector("button.reveal").click()
            page.wait_for_selector(f'li.lead[data-call-id="{call_a}"] a[href="tel:+15557655199"]')
            assert "(555) 765-5199" in lead.inner_text()
            page.screenshot(path=str(shots["overview"]), full_page=True)

            lead.query_selector("button.lead-open").click()
            page.wait_for_selector("#lead-dialog[open] pre.transcript")
            transcript = page.inner_text("#lead-dialog pre.transcript")
            assert "Is it covered by insurance?" in transcript and "before my wedding" in transcript
            assert "asked about price and insurance" in page.inner_text("#lead-dialog .summary")
            page.screenshot(path=str(shots["transcript"]))
            page.click("#lead-dialog button.close")

            # Another clinic in the same browser sees none of it, now or live.
            page.click("text=Sign out")
            page.wait_for_selector("#token")
            page.fill("#token", token_b)
            page.click("button[type=submit]")
            page.wait_for_selector("h1:has-text('Other Town Dental')")
            page.wait_for_selector("#live.on")
            html = page.content()
            for secret in ("Smile Bright", "Grace Hopper", "Barbara Liskov", "Margaret Hamilton", call_a, "5199"):
                assert secret not in html, secret
            assert "Zed Otherclinic" in page.inner_text("#schedule")

            call_a2, call_b = f"browser-a2-{uuid.uuid4()}", f"browser-b-{uuid.uuid4()}"
            post_report(base, end_of_call_report(phone_a, call_a2, caller="+15557655198", name="Katherine Johnson",
                                                 transcript="User: what is the price?", summary="A's second lead"))
            post_report(base, end_of_call_report(phone_b, call_b, caller="+15557655298", name="Otto Owner-B",
                                                 transcript="User: is this covered?", summary="B's lead"))
            # The one listener handles notifications in order: once B's lead is shown, A's has been passed over.
            page.wait_for_selector(f'li.lead[data-call-id="{call_b}"]')
            assert page.query_selector(f'li.lead[data-call-id="{call_a2}"]') is None
            assert "Katherine Johnson" not in page.content()
            page.screenshot(path=str(shots["other-clinic"]), full_page=True)
        finally:
            browser.close()

    assert problems == []
    for path in shots.values():
        assert path.stat().st_size > 10_000
        print(f"dashboard screenshot: {path}")
