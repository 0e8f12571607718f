// voxbook front desk: live schedule and queue counts (server-sent events from /dashboard/events, else polling
// /dashboard/changes), hold countdowns on the server's clock, and revealing a masked number. Every action is a
// plain form (it works without this script); the server renders every fragment, this only fetches and places it.
"use strict";
(function () {
  const body = document.body;
  const live = document.getElementById("live");
  const schedulePage = document.getElementById("schedule-page");
  let clockOffset = Date.parse(body.dataset.serverTime || "") - Date.now();
  if (!Number.isFinite(clockOffset)) clockOffset = 0;

  function tick() {
    const now = Date.now() + clockOffset;
    document.querySelectorAll(".countdown[data-expires]").forEach((el) => {
      const left = Math.max(0, Math.round((Date.parse(el.dataset.expires) - now) / 1000));
      el.textContent = left > 0 ? Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") : "expired";
      el.classList.toggle("expired", left === 0);
    });
  }

  // A form open in the board (a cancel reason being typed) is not swept away by a refresh.
  function busy() {
    const board = document.getElementById("board");
    return !!(board && (board.querySelector("details[open]") || board.contains(document.activeElement)));
  }

  let pending = false;
  async function refreshBoard() {
    if (!schedulePage) return;
    if (busy()) { pending = true; return; }
    pending = false;
    const resp = await fetch(schedulePage.dataset.fragment, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (resp.status === 401) { window.location.assign("/dashboard"); return; }
    if (!resp.ok) return;
    const box = document.createElement("div");
    box.innerHTML = await resp.text();
    const fresh = box.querySelector("#board");
    const old = document.getElementById("board");
    if (busy()) { pending = true; return; }   // a form was opened while the fragment was on its way
    if (fresh && old) {
      old.replaceWith(fresh);
      const t = Date.parse(fresh.dataset.serverTime || "");
      if (Number.isFinite(t)) clockOffset = t - Date.now();
      body.dataset.refreshed = String(Number(body.dataset.refreshed || 0) + 1);   // tests wait on this
      tick();
    }
  }
  document.addEventListener("toggle", () => { if (pending && !busy()) refreshBoard().catch(() => {}); }, true);

  function showCounts(counts) {
    if (!counts) return;
    Object.keys(counts).forEach((key) => {
      document.querySelectorAll('[data-count="' + key + '"]').forEach((el) => { el.textContent = counts[key]; });
    });
    const link = document.querySelector('nav a[href="/dashboard/queues"]');
    if (link) {
      let badge = link.querySelector(".nav-count");
      if (!badge) { badge = document.createElement("span"); badge.className = "nav-count"; link.append(" ", badge); }
      const open = (counts.callbacks || 0) + (counts.sms_inbox || 0) + (counts.failed_sms || 0);
      badge.textContent = open;
      badge.hidden = open === 0;
    }
  }

  function setLive(on, text) {
    if (!live) return;
    live.textContent = text; live.classList.toggle("on", on); live.classList.toggle("off", !on);
  }

  // -- polling: when the stream cannot be had, the same markers every few seconds.
  let last = null;
  let pollTimer = null;
  async function poll() {
    const resp = await fetch("/dashboard/changes", { credentials: "same-origin" });
    if (resp.status === 401) { window.location.assign("/dashboard"); return; }
    if (!resp.ok) return;
    const now = await resp.json();
    showCounts(now.counts);
    if (last && (now.schedule !== last.schedule || now.holds !== last.holds)) await refreshBoard();
    last = now;
  }
  function startPolling() {
    if (pollTimer) return;
    setLive(false, "updating every 5 s");
    pollTimer = setInterval(() => { poll().catch(() => {}); }, 5000);
    poll().catch(() => {});
  }
  function stopPolling() { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } }

  // -- the stream: "schedule" / "holds" when the clinic's board changed, "queues" with the counts.
  function connect() {
    if (!window.EventSource) { startPolling(); return; }
    const source = new EventSource("/dashboard/events");
    source.addEventListener("hello", () => {
      stopPolling();
      setLive(true, "live");
      // Once the stream is open (and after every reconnect): whatever changed since the page was rendered.
      refreshBoard().catch(() => {});
    });
    source.addEventListener("schedule", () => { refreshBoard().catch(() => {}); });
    source.addEventListener("holds", () => { refreshBoard().catch(() => {}); });
    source.addEventListener("resync", () => { refreshBoard().catch(() => {}); });
    source.addEventListener("queues", (ev) => { try { showCounts(JSON.parse(ev.data).counts); } catch (e) { /* ignore */ } });
    source.addEventListener("signed_out", () => { source.close(); window.location.assign("/dashboard"); });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) { startPolling(); setTimeout(connect, 15000); }
      else setLive(false, "reconnecting…");
    };
  }
  if (live) connect();
  poll().catch(() => {});   // the queue badges at once, and the markers polling would start from

  // A masked number is shown on request by reveal.js (every page).

  // -- drag an appointment onto another provider or day: the move page opens with that provider and date, to
  // pick the time (a drop picks no time by itself: the free times are the server's to offer).
  document.addEventListener("dragstart", (ev) => {
    const entry = ev.target.closest && ev.target.closest("li.entry[draggable=true]");
    if (!entry) return;
    ev.dataTransfer.setData("text/plain", entry.dataset.appointmentId);
    ev.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", (ev) => {
    if (ev.target.closest && ev.target.closest("#board section.provider")) ev.preventDefault();
  });
  document.addEventListener("drop", (ev) => {
    const target = ev.target.closest && ev.target.closest("#board section.provider");
    const id = ev.dataTransfer.getData("text/plain");
    if (!target || !/^[0-9a-f-]{36}$/.test(id)) return;
    ev.preventDefault();
    const params = new URLSearchParams({ date: target.dataset.date, calendar: target.dataset.calendarId });
    window.location.assign("/dashboard/appointments/" + id + "/move?" + params);
  });

  tick();
  setInterval(tick, 1000);
  // A backstop for what no marker covers (an SMS delivered, a patient's C reply): the board once a minute.
  setInterval(() => { refreshBoard().catch(() => {}); }, 60000);
})();
