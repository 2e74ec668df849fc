// Shared helpers for every page: API calls with the CSRF token, toasts, money, live events.
"use strict";

const studio = (() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  async function api(method, url, body) {
    const init = { method, headers: { "X-CSRF-Token": csrf(), Accept: "application/json" } };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`;
      try {
        const data = await response.json();
        if (data.detail) message = data.detail;
      } catch (_) { /* not JSON: keep the status line */ }
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    const type = response.headers.get("content-type") || "";
    return type.includes("application/json") ? response.json() : response;
  }

  let toastTimer = null;
  function toast(message, isError = false) {
    const el = document.getElementById("toast");
    el.textContent = message;
    el.classList.toggle("error", isError);
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 5000);
  }

  // "1.2000" -> "$1.20"; keeps extra places when they matter ("0.3375" -> "$0.3375").
  function money(value) {
    if (value === null || value === undefined) return "–";
    const [whole, frac = ""] = String(value).split(".");
    const trimmed = frac.replace(/0+$/, "");
    return `$${whole}.${trimmed.padEnd(2, "0")}`;
  }

  function elapsed(fromIso) {
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(fromIso)) / 1000));
    const m = Math.floor(seconds / 60);
    const s = String(seconds % 60).padStart(2, "0");
    return `${m}:${s}`;
  }

  // One EventSource; `onEvent(event)` gets each generation event (status, progress, message).
  function events(params, onEvent) {
    const query = new URLSearchParams(params).toString();
    const source = new EventSource(`/api/events${query ? "?" + query : ""}`);
    source.addEventListener("generation", (e) => onEvent(JSON.parse(e.data)));
    return source;
  }

  const TERMINAL = new Set(["completed", "failed", "cancelled", "expired"]);

  return { api, toast, money, elapsed, events, TERMINAL };
})();

// Resolves to null (keep), false (local only) or true (local and the provider's copy).
function confirmDelete() {
  const dialog = document.getElementById("delete-dialog");
  document.getElementById("delete-remote").checked = false;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "delete" ? document.getElementById("delete-remote").checked : null);
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

// Buttons with data-action work the same on every page (gallery cards, detail page, queue rows).
document.addEventListener("click", async (e) => {
  const button = e.target.closest("button[data-action]");
  if (!button) return;
  const id = button.dataset.id;
  const action = button.dataset.action;
  try {
    if (action === "cancel") {
      await studio.api("POST", `/api/generations/${id}/cancel`);
      studio.toast("Cancelled.");
    } else if (action === "retry") {
      const g = await studio.api("POST", `/api/generations/${id}/retry`);
      studio.toast(g.id === id ? "Queued again." : "Queued as a new generation.");
    } else if (action === "delete") {
      const remote = await confirmDelete();
      if (remote === null) return;
      await studio.api("DELETE", `/api/generations/${id}?remote=${remote}`);
      document.querySelectorAll(`[data-generation="${id}"]`).forEach((el) => el.remove());
      studio.toast("Deleted.");
      if (document.body.dataset.page === "generation") window.location.assign("/gallery");
    } else {
      return;
    }
    button.dispatchEvent(new CustomEvent("studio:done", { bubbles: true, detail: { id, action } }));
  } catch (err) {
    studio.toast(err.message, true);
  }
});
