// voxbook dashboard: live hot leads, schedule and holds over Server-Sent Events, hold countdowns.
// The server renders every fragment; this script only fetches and places them.
"use strict";
(function () {
  const live = document.getElementById("live");
  // Countdowns follow the server's clock, not the browser's, which may be minutes off.
  let clockOffset = Date.parse(document.body.dataset.serverTime || "") - Date.now();
  if (!Number.isFinite(clockOffset)) clockOffset = 0;

  async function fragment(path) {
    const resp = await fetch(path, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (resp.status === 401) { window.location.assign("/dashboard"); throw new Error("signed out"); }
    if (!resp.ok) throw new Error(path + ": HTTP " + resp.status);
    return resp.text();
  }

  function replace(id, html) {
    const old = document.getElementById(id);
    if (!old) return;
    const box = document.createElement("div");
    box.innerHTML = html;
    const fresh = box.firstElementChild;
    if (fresh) old.replaceWith(fresh);
  }

  async function refreshLeads() { replace("leads", await fragment("/dashboard/fragments/leads")); }
  let lastBoard = Date.now();
  async function refreshBoard() {
    lastBoard = Date.now();
    const [holds, schedule] = await Promise.all([fragment("/dashboard/fragments/holds"), fragment("/dashboard/fragments/schedule")]);
    replace("holds", holds);
    replace("schedule", schedule);
    const h = document.getElementById("holds");
    const t = Date.parse((h && h.dataset.serverTime) || "");
    if (Number.isFinite(t)) clockOffset = t - Date.now();
    tick();
  }

  function addLead(msg) {
    const list = document.getElementById("leads");
    if (!list || list.querySelector('[data-alert-id="' + CSS.escape(msg.alert_id) + '"]')) return;
    const box = document.createElement("ul");
    box.innerHTML = msg.html;
    const item = box.firstElementChild;
    if (!item) return;
    list.querySelectorAll(".empty").forEach((x) => x.remove());
    item.classList.add("new");
    list.prepend(item);
  }

  function tick() {
    const now = Date.now() + clockOffset;
    document.querySelectorAll(".countdown[data-expires]").forEach((el) => {
      const left = Math.max(0, Math.round((Date.parse(el.dataset.expires) - now) / 1000));
      el.textContent = left > 0 ? Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") : "expired";
      el.classList.toggle("expired", left === 0);
    });
  }

  // -- the event stream: EventSource reconnects by itself after a network error; after a
  // reconnect (or a "resync" from the server, whose own listener reconnected) we may have missed
  // leads, so the list is fetched again.
  let source = null;
  let opened = false;
  function setLive(on, text) { live.textContent = text; live.classList.toggle("on", on); live.classList.toggle("off", !on); }
  function connect() {
    source = new EventSource("/dashboard/events");
    source.addEventListener("hello", () => {
      setLive(true, "live");
      if (opened) refreshLeads().catch(() => {});
      opened = true;
    });
    source.addEventListener("hot_lead", (ev) => { try { addLead(JSON.parse(ev.data)); } catch (e) { refreshLeads().catch(() => {}); } });
    source.addEventListener("resync", () => { refreshLeads().catch(() => {}); refreshBoard().catch(() => {}); });
    // The hub polls each open clinic's change marker (api.dashboard_changes): a booking or a hold
    // that changed is on the board within ~2 s, with no NOTIFY on the booking path.
    source.addEventListener("schedule", () => { refreshBoard().catch(() => {}); });
    source.addEventListener("holds", () => { refreshBoard().catch(() => {}); });
    source.addEventListener("signed_out", () => { source.close(); window.location.assign("/dashboard"); });
    source.onerror = () => {
      setLive(false, "reconnecting…");
      if (source.readyState === EventSource.CLOSED) {
        // The server refused the stream (signed out?) or the browser gave up: check, then retry ourselves.
        setTimeout(() => { fragment("/dashboard/fragments/leads").then(() => connect()).catch(() => {}); }, 2000);
      }
    };
  }
  connect();

  // -- clicks: open a lead's transcript (a masked number: reveal.js).
  const dialog = document.getElementById("lead-dialog");
  document.addEventListener("click", async (ev) => {
    const open = ev.target.closest("button.lead-open");
    if (open) {
      const html = await fragment("/dashboard/lead?call_id=" + encodeURIComponent(open.dataset.callId));
      document.getElementById("lead-content").innerHTML = html;
      if (!dialog.open) dialog.showModal();
    }
  });

  tick();
  setInterval(tick, 1000);
  // Polling is the fallback while the stream is down; while it is up, a slow refresh still catches
  // what no marker moves (a patient's C reply, a delivery status).
  setInterval(() => {
    if (!live.classList.contains("on") || Date.now() - lastBoard > 60000) refreshBoard().catch(() => {});
  }, 10000);
})();
