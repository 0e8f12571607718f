// voxbook dashboard: a masked number, shown on request (every page loads this; base.html).
// A schedule, hold or lead row's number comes from /dashboard/phone, a queue item's from /dashboard/queues/phone;
// both answer only for the signed-in clinic's own rows.
"use strict";
(function () {
  const QUEUE_KEYS = ["callbackRequestId", "inboxId", "waitlistId"];
  document.addEventListener("click", async (ev) => {
    const reveal = ev.target.closest("button.reveal");
    if (!reveal) return;
    ev.preventDefault();
    const params = new URLSearchParams();
    let path = "/dashboard/phone?";
    for (const key of ["callId", "appointmentId", "holdId", ...QUEUE_KEYS]) {
      if (!reveal.dataset[key]) continue;
      params.set(key.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase()), reveal.dataset[key]);
      if (QUEUE_KEYS.includes(key)) path = "/dashboard/queues/phone?";
    }
    const resp = await fetch(path + params, { credentials: "same-origin" });
    if (!resp.ok) return;
    const data = await resp.json();
    reveal.parentElement.querySelector(".phone-value").textContent = data.display;
    const link = document.createElement("a");
    link.href = "tel:" + data.phone; link.textContent = "call";
    reveal.replaceWith(link);
  });
})();
