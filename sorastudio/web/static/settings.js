// Settings: add, test and remove profiles. The key field is cleared as soon as it has been sent.
"use strict";

(() => {
  const form = document.getElementById("profile-form");
  const errorBox = document.getElementById("profile-error");

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(form).entries());
    data.running_cap = Number(data.running_cap || 2);
    for (const key of Object.keys(data)) if (data[key] === "") data[key] = null;
    form.elements.api_key.value = "";
    try {
      await studio.api("POST", "/api/profiles", data);
      window.location.reload();
    } catch (err) {
      errorBox.textContent = err.message;
      errorBox.hidden = false;
    }
  });

  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-profile-action]");
    if (!button) return;
    const name = button.dataset.name;
    const out = document.querySelector(`[data-result="${CSS.escape(name)}"]`);
    try {
      if (button.dataset.profileAction === "test") {
        out.textContent = "testing…";
        const result = await studio.api("POST", `/api/profiles/${encodeURIComponent(name)}/test`);
        out.textContent = result.message;
        out.classList.toggle("error", !result.ok);
        out.classList.toggle("ok", result.ok);
      } else if (window.confirm(`Remove profile ${name}? Its key is deleted.`)) {
        await studio.api("DELETE", `/api/profiles/${encodeURIComponent(name)}`);
        window.location.reload();
      }
    } catch (err) {
      out.textContent = err.message;
      out.classList.add("error");
    }
  });
})();
