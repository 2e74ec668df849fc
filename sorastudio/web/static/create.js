// Create page: controls limited to what the chosen model offers, a live estimate, the fitted-image
// preview, submit, then live progress until the video plays.
"use strict";

(() => {
  const catalog = JSON.parse(document.getElementById("catalog-data").textContent);
  const form = document.getElementById("create-form");
  const $ = (id) => document.getElementById(id);
  const select = { profile: $("profile"), model: $("model"), size: $("size"), seconds: $("seconds"), variants: $("variants") };

  // Replace a select's options; keep the first of `preferred` that is still offered.
  function options(el, values, preferred, label = (v) => v) {
    const offered = values.map(String);
    const keep = preferred.map((v) => (v === null || v === undefined ? "" : String(v))).find((v) => offered.includes(v));
    el.replaceChildren(...values.map((v) => new Option(label(v), v)));
    if (keep !== undefined) el.value = keep;
  }

  const mode = () => $("mode").value;
  const profile = () => catalog.profiles.find((p) => p.name === select.profile.value);
  const entry = () => (profile() ? profile().models.find((m) => m.model === select.model.value) : undefined);

  function setMode(value) {
    $("mode").value = value;
    document.querySelectorAll('[role="tab"]').forEach((tab) => tab.setAttribute("aria-selected", String(tab.dataset.mode === value)));
    document.querySelectorAll("[data-show-in]").forEach((el) => { el.hidden = el.dataset.showIn !== value; });
    document.querySelectorAll("[data-hide-in]").forEach((el) => { el.hidden = el.dataset.hideIn === value; });
    fillModels();
  }

  function fillProfiles() {
    options(select.profile, catalog.profiles.map((p) => p.name), [catalog.default_profile]);
  }

  function fillModels() {
    const p = profile();
    if (!p) return;
    // Only models that offer the current mode (remix keeps the source's model).
    const usable = p.models.filter((m) => mode() === "remix" || m.modes.includes(mode()));
    options(select.model, usable.map((m) => m.model), [select.model.value, p.default_model], (v) => usable.find((m) => m.model === v).name);
    document.querySelectorAll('[role="tab"]').forEach((tab) => {
      tab.disabled = !p.models.some((m) => m.modes.includes(tab.dataset.mode));
    });
    if (!usable.length) showError(`No model of profile ${p.name} offers ${mode()} → video.`);
    fillShape();
  }

  function fillShape() {
    const m = entry();
    if (!m) return;
    options(select.size, m.sizes, [select.size.value, m.default_size], (v) => v.replace("x", "×"));
    options(select.seconds, m.seconds, [select.seconds.value, m.default_seconds], (v) => `${v} s`);
    fillVariants();
    $("audio-note").textContent = m.audio
      ? "Audio: generated with the video (dialogue, sound effects, ambience)."
      : "Audio: none — this model makes silent videos.";
    showWarnings(m.warnings);
  }

  function fillVariants() {
    const m = entry();
    if (!m) return;
    const most = m.max_variants[select.size.value] || 1;
    options(select.variants, Array.from({ length: most }, (_, i) => i + 1), [select.variants.value, 1]);
    select.variants.disabled = most === 1;
    refresh();
  }

  function showWarnings(list) {
    $("warnings").hidden = !list || !list.length;
    $("warnings").textContent = (list || []).join(" ");
  }

  function showError(message) {
    $("form-error").hidden = !message;
    $("form-error").textContent = message || "";
  }

  function request() {
    return {
      profile: select.profile.value || null,
      model: select.model.value || null,
      size: select.size.value || null,
      seconds: select.seconds.value ? Number(select.seconds.value) : null,
      variants: Number(select.variants.value || 1),
      mode: mode(),
      remix_of: mode() === "remix" ? $("remix_of").value || null : null,
    };
  }

  // Live estimate: the same validation and price the server will reserve on submit.
  let estimateTimer = null;
  let estimateSeq = 0;
  function refresh() {
    clearTimeout(estimateTimer);
    estimateTimer = setTimeout(updateEstimate, 120);
    updatePreview();
  }

  async function updateEstimate() {
    const seq = ++estimateSeq;
    if (mode() === "remix" && !$("remix_of").value) {
      $("estimate-total").textContent = "–";
      $("estimate-formula").textContent = "Choose a video to remix.";
      return;
    }
    try {
      const est = await studio.api("POST", "/api/estimate", request());
      if (seq !== estimateSeq) return;
      $("estimate-total").textContent = est.display;
      $("estimate-total").dataset.total = est.total;
      $("estimate-formula").textContent = est.formula;
      showWarnings(est.warnings);
      $("budget").hidden = !est.budget_message;
      $("budget").textContent = est.budget_message || "";
      $("submit").disabled = Boolean(est.budget_message);
      showError(null);
    } catch (err) {
      if (seq !== estimateSeq) return;
      $("estimate-total").textContent = "–";
      $("estimate-formula").textContent = "";
      showError(err.message);
    }
  }

  // Preview of exactly the frame that will be sent (server-side fit, same code as the upload).
  let previewSeq = 0;
  async function updatePreview() {
    const file = $("image").files[0];
    if (mode() !== "image" || !file) {
      $("preview-box").hidden = true;
      return;
    }
    const seq = ++previewSeq;
    const body = new FormData();
    const fit = form.querySelector('input[name="fit"]:checked').value;
    body.append("image", file);
    body.append("size", select.size.value);
    body.append("fit", fit);
    try {
      const response = await studio.api("POST", "/api/images/preview", body);
      if (seq !== previewSeq) return;
      const blob = await response.blob();
      const img = $("preview");
      if (img.src) URL.revokeObjectURL(img.src);
      img.src = URL.createObjectURL(blob);
      img.dataset.frame = response.headers.get("X-Frame-Size");
      $("preview-caption").textContent =
        `Sent as ${response.headers.get("X-Frame-Size")} (${fit}) from your ${response.headers.get("X-Original-Size")} image.`;
      $("preview-box").hidden = false;
      showError(null);
    } catch (err) {
      $("preview-box").hidden = true;
      showError(err.message);
    }
  }

  // Submit, then follow the job live until its video plays here.
  let events = null;
  async function submit(e) {
    e.preventDefault();
    showError(null);
    const r = request();
    const body = new FormData();
    body.append("prompt", $("prompt").value);
    body.append("mode", r.mode);
    if (r.profile) body.append("profile", r.profile);
    if (r.mode === "remix") {
      body.append("remix_of", r.remix_of || "");
    } else {
      for (const key of ["model", "size", "seconds", "variants"]) if (r[key] !== null) body.append(key, r[key]);
      if (r.mode === "image") {
        if ($("image").files[0]) body.append("image", $("image").files[0]);
        body.append("fit", form.querySelector('input[name="fit"]:checked').value);
      }
    }
    $("submit").disabled = true;
    try {
      const g = await studio.api("POST", "/api/generations", body);
      follow(g);
    } catch (err) {
      showError(err.message);
    } finally {
      $("submit").disabled = false;
    }
  }

  let ticker = null;
  function follow(g) {
    const result = $("result");
    result.hidden = false;
    result.dataset.generation = g.id;
    $("result-link").href = `/gallery/${g.id}`;
    $("result-video").hidden = true;
    $("result-video").removeAttribute("src");
    show(g);
    if (events) events.close();
    clearInterval(ticker);
    ticker = setInterval(() => { $("result-elapsed").textContent = studio.elapsed(g.created_at); }, 1000);
    events = studio.events({ generation_id: g.id, after: 0 }, async (ev) => {
      $("result-status").textContent = ev.message || ev.status;
      if (ev.progress !== null) $("result-progress").value = ev.progress;
      if (studio.TERMINAL.has(ev.status)) {
        events.close();
        clearInterval(ticker);
        show(await studio.api("GET", `/api/generations/${g.id}`));
      }
    });
  }

  function show(g) {
    $("result-status").textContent = g.error ? `${g.status_message || g.status} ${g.error}` : g.status_message || g.status;
    $("result-progress").value = g.progress;
    $("result").dataset.status = g.status;
    const est = g.estimated_cost === null ? "–" : studio.money(g.estimated_cost);
    $("result-cost").textContent = g.actual_cost === null
      ? `Estimated ${est} (reserved)`
      : `Estimated ${est} · charged ${studio.money(g.actual_cost)}`;
    $("result-cost").dataset.actual = g.actual_cost === null ? "" : g.actual_cost;
    if (g.status === "completed" && g.video_url) {
      const video = $("result-video");
      video.src = g.video_url;
      if (g.thumbnail_url) video.poster = g.thumbnail_url;
      video.hidden = false;
    }
  }

  document.querySelectorAll('[role="tab"]').forEach((tab) => tab.addEventListener("click", () => { setMode(tab.dataset.mode); }));
  select.profile.addEventListener("change", fillModels);
  select.model.addEventListener("change", fillShape);
  select.size.addEventListener("change", fillVariants);
  select.seconds.addEventListener("change", refresh);
  select.variants.addEventListener("change", refresh);
  $("remix_of").addEventListener("change", refresh);
  $("image").addEventListener("change", refresh);
  form.querySelectorAll('input[name="fit"]').forEach((r) => r.addEventListener("change", updatePreview));
  $("use-example").addEventListener("click", () => { $("prompt").value = $("prompt").placeholder; });
  form.addEventListener("submit", submit);

  fillProfiles();
  setMode(mode());
})();
