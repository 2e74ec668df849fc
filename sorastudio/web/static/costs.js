// Costs page: set or remove a budget.
"use strict";

document.getElementById("budget-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = new FormData(e.target);
  const limit = String(data.get("limit") || "").trim().replace(/^\$/, "");
  try {
    await studio.api("PUT", "/api/budgets", {
      scope: data.get("scope"),
      profile: data.get("profile") || null,
      limit: limit === "" ? null : limit,
    });
    window.location.reload();
  } catch (err) {
    studio.toast(err.message, true);
  }
});
