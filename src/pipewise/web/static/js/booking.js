// Public booking pages: pick a day and a time in the visitor's zone, book, reschedule or
// cancel from a signed link; and the editor's live preview. Talks to the /book/... JSON
// addresses; no inline script (the pages' content security policy forbids it).
(function () {
  "use strict";
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

  function zones(select) {
    const all = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [here];
    for (const name of all.includes(here) ? all : [here, ...all]) {
      const option = document.createElement("option");
      option.value = option.textContent = name;
      option.selected = name === here;
      select.append(option);
    }
  }

  function label(iso, zone, options) {
    return new Intl.DateTimeFormat(undefined, { timeZone: zone, ...options }).format(new Date(iso));
  }

  async function send(url, body) {
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const fields = (data.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
      throw new Error(fields || data.detail || "Something went wrong; please try again.");
    }
    return data;
  }

  // The day strip and slot buttons; ``onPick(iso, zone)`` when a time is chosen.
  function picker(root, onPick) {
    const slug = root.dataset.bookingPage;
    const tzSelect = root.querySelector("[data-tz]");
    const daysBox = root.querySelector("[data-days]");
    const slotsBox = root.querySelector("[data-slots]");
    let from = null;
    zones(tzSelect);

    async function load() {
      const params = new URLSearchParams({ tz: tzSelect.value, days: "14" });
      if (from) params.set("start", from);
      slotsBox.textContent = "Loading free times…";
      const response = await fetch(`/book/${encodeURIComponent(slug)}/slots?${params}`);
      const data = await response.json();
      const days = Object.keys(data.days || {});
      daysBox.replaceChildren();
      slotsBox.replaceChildren();
      if (!days.length) {
        slotsBox.textContent = "No free times in these two weeks.";
        return;
      }
      const show = (day) => {
        for (const b of daysBox.children) b.setAttribute("aria-selected", String(b.dataset.day === day));
        slotsBox.replaceChildren(...data.days[day].map((iso) => {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "bk-slot";
          button.dataset.start = iso;
          button.textContent = label(iso, tzSelect.value, { hour: "2-digit", minute: "2-digit" });
          button.addEventListener("click", () => onPick(iso, tzSelect.value));
          return button;
        }));
      };
      for (const day of days) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "bk-day";
        button.dataset.day = day;
        button.setAttribute("role", "tab");
        button.textContent = label(day + "T12:00:00Z", "UTC", { weekday: "short", day: "numeric", month: "short" });
        button.addEventListener("click", () => show(day));
        daysBox.append(button);
      }
      show(days[0]);
    }
    tzSelect.addEventListener("change", load);
    root.querySelector("[data-later]").addEventListener("click", () => {
      const last = daysBox.lastElementChild;
      const next = last ? new Date(last.dataset.day + "T12:00:00Z") : new Date();
      next.setUTCDate(next.getUTCDate() + 1);
      from = next.toISOString().slice(0, 10);
      load();
    });
    load();
  }

  function bookingPage(root) {
    const form = document.querySelector("[data-book-form]");
    const done = document.querySelector("[data-done]");
    const error = form.querySelector("[data-error]");
    let chosen = null;
    picker(root, (iso, zone) => {
      chosen = { iso, zone };
      form.querySelector("[data-chosen]").textContent = label(iso, zone, { dateStyle: "full", timeStyle: "short" }) + ` (${zone})`;
      root.hidden = true;
      form.hidden = false;
      error.textContent = "";
    });
    form.querySelector("[data-back]").addEventListener("click", () => { form.hidden = true; root.hidden = false; });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const fields = new FormData(form);
      const answers = {};
      for (const [key, value] of fields) if (key.startsWith("answer:")) answers[key.slice(7)] = value;
      try {
        const data = await send(`/book/${encodeURIComponent(root.dataset.bookingPage)}/bookings`, {
          start: chosen.iso, timezone: chosen.zone, name: fields.get("name"), email: fields.get("email"),
          website: fields.get("website") || "", answers,
        });
        form.hidden = true;
        done.hidden = false;
        done.querySelector("[data-done-when]").textContent = label(data.start || chosen.iso, chosen.zone, { dateStyle: "full", timeStyle: "short" }) + ` (${chosen.zone})`;
        // The same link as in the e-mail, on this site (the e-mail's may name the public address).
        if (data.manage_url) done.querySelector("[data-manage-link]").href = new URL(data.manage_url).pathname;
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
  }

  function managePage(root) {
    let token = root.dataset.manage;
    const error = root.querySelector("[data-error]");
    const done = root.querySelector("[data-done]");
    const current = root.querySelector("[data-current]");
    current.textContent = label(root.dataset.start, here, { dateStyle: "full", timeStyle: "short" }) + ` (${here})`;
    const chooser = root.querySelector("[data-reschedule]");
    if (chooser && chooser.dataset.bookingPage) {
      picker(chooser, async (iso, zone) => {
        try {
          const data = await send(`/book/manage/${token}/reschedule`, { start: iso, timezone: zone });
          chooser.hidden = true;
          done.hidden = false;
          done.textContent = "Moved to " + label(data.start, zone, { dateStyle: "full", timeStyle: "short" }) + ". An updated invitation is on its way.";
          if (data.manage_url) {
            token = data.manage_url.split("/").pop();  // the old link died with the change
            history.replaceState(null, "", "/book/manage/" + token);
          }
        } catch (failure) {
          error.textContent = failure.message;
        }
      });
    }
    const cancel = root.querySelector("[data-cancel]");
    if (cancel) cancel.addEventListener("click", async () => {
      try {
        await send(`/book/manage/${token}/cancel`, {});
        if (chooser) chooser.hidden = true;
        cancel.hidden = true;
        done.hidden = false;
        done.textContent = "The meeting is cancelled.";
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
  }

  function preview(form) {
    const face = document.querySelector(".bk-preview");
    form.querySelectorAll("[data-preview]").forEach((input) => {
      input.addEventListener("input", () => {
        const target = face.querySelector(`[data-face="${input.dataset.preview}"]`);
        target.textContent = input.dataset.preview === "location" && input.value ? " · " + input.value : input.value;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const manage = document.querySelector("[data-manage]");
    if (manage) managePage(manage);
    else {
      const page = document.querySelector("[data-booking-page]");
      if (page) bookingPage(page);
    }
    const editor = document.querySelector("[data-preview-form]");
    if (editor) preview(editor);
  });
})();
