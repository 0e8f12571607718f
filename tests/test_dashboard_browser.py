"""The dashboard in a real headless Chromium (Debian's, driven by Playwright; scripts/ensure-browser
installs it): sign in, see the clinic's schedule, watch a hot lead from a Vapi end-of-call-report
appear without a reload, open its transcript; then sign in as another clinic and see none of it. The owner's
pages (sign-in, invite, staff accounts) at a phone's width (390 px) without horizontal scrolling.
Screenshots are saved under tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from clinic_helpers import new_clinic
from dashboard_helpers import book, create_staff, dashboard_token, end_of_call_report, post_report, tomorrow
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
            page.fill("#email", token_a.email)
            page.fill("#password", token_a.password)
            page.click("button[type=submit]")
            page.wait_for_selector(".top .clinic:has-text('Smile Bright Dental')")
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
            page.wait_for_selector("#email")
            page.fill("#email", token_b.email)
            page.fill("#password", token_b.password)
            page.click("button[type=submit]")
            page.wait_for_selector(".top .clinic:has-text('Other Town Dental')")
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


def _overflow(page) -> int:
    """How many pixels the page runs past the viewport's width (0: no horizontal scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_sign_in_invite_and_staff_pages_fit_a_phone(live_server, db):
    base = live_server.base_url
    org, _ = new_clinic(db, "Phone Width Dental With A Rather Long Clinic Name")
    owner = create_staff(db, org, "owner", name="Olivia Owner-With-A-Long-Double-Barrelled-Name",
                         email=f"olivia.owner.{uuid.uuid4().hex[:10]}@a-long-clinic-domain-name.example")
    day = tomorrow(db, org)
    book(db, org, "cal-a", f"{day} 09:30", "Grace Hopper-With-A-Very-Long-Surname", "+15557656101", service="cleaning")
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            for width, height in ((390, 844), (1280, 900)):
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                page.set_default_timeout(15_000)
                page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
                # (the wrong password's page itself comes with status 401, which Chromium reports as an error)
                page.on("console", lambda msg: problems.append(f"console: {msg.text} {msg.location}")
                        if msg.type == "error" and not msg.location.get("url", "").endswith("/dashboard/login")
                        else None)
                page.goto(f"{base}/dashboard")
                assert _overflow(page) <= 0, ("sign-in", width, _overflow(page))
                page.screenshot(path=str(ARTIFACTS / f"dashboard-sign-in-{width}.png"), full_page=True)
                page.fill("#email", owner.email)
                page.fill("#password", "not the password")
                page.click("button[type=submit]")
                page.wait_for_selector("p.error:has-text('Wrong email or password')")
                page.fill("#password", owner.password)
                page.click("button[type=submit]")
                page.wait_for_selector(".top .clinic")
                assert _overflow(page) <= 0, ("home", width, _overflow(page))
                page.screenshot(path=str(ARTIFACTS / f"dashboard-home-{width}.png"), full_page=True)

                # The owner invites someone from the Staff page (a real form post: CSRF and Origin as a browser sends).
                page.click("nav >> text=Staff")
                page.wait_for_selector("table.staff-list")
                page.fill("#invite-name", f"Fran Frontdesk {width}")
                page.fill("#invite-email", f"fran-{width}-{uuid.uuid4().hex[:6]}@clinic.example")
                page.click("form.stack button[type=submit]")
                link = page.wait_for_selector("input.invite-link").get_attribute("value")
                assert "/dashboard/invite?token=vbi_" in link
                assert _overflow(page) <= 0, ("staff", width, _overflow(page))
                page.screenshot(path=str(ARTIFACTS / f"dashboard-staff-{width}.png"), full_page=True)
                page.click("text=Sign out")
                page.wait_for_selector("#email")

                # The invited person, in another browser, chooses a password and lands signed in as front desk.
                invited = browser.new_context(viewport={"width": width, "height": height}).new_page()
                invited.goto(link)
                assert _overflow(invited) <= 0, ("invite", width, _overflow(invited))
                invited.screenshot(path=str(ARTIFACTS / f"dashboard-invite-{width}.png"), full_page=True)
                invited.fill("#password", "fran-chose-a-password")
                invited.fill("#password2", "fran-chose-a-password")
                invited.click("button[type=submit]")
                invited.wait_for_selector(f".top .sub:has-text('Fran Frontdesk {width}')")
                assert invited.query_selector("nav >> text=Staff") is None   # front desk: no Staff page
                context.close()
        finally:
            browser.close()
    assert problems == []
