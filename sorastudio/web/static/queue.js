// Queue page: rows update live from the event stream; new jobs appear; elapsed time ticks.
"use strict";

(() => {
  const body = document.getElementById("queue-body");
  const template = document.getElementById("queue-row-template");

  function field(row, name) {
    return row.querySelector(`[data-field="${name}"]`);
  }

  function fill(row, g, place) {
    row.id = `row-${g.id}`;
    row.dataset.generation = g.id;
    row.dataset.status = g.status;
    row.dataset.created = g.created_at;
    field(row, "prompt").textContent = g.prompt.slice(0, 90);
    field(row, "prompt").href = `/gallery/${g.id}`;
    field(row, "model").textContent = `${g.model} ${g.size} ${g.seconds}s`;
    field(row, "message").textContent = g.status_message || g.status;
    field(row, "progress").value = g.progress;
    field(row, "percent").textContent = `${g.progress}%`;
    field(row, "place").textContent = place ? `#${place} to send` : "at provider";
    row.querySelector('[data-action="cancel"]').dataset.id = g.id;
  }

  async function reload() {
    // Places in line shift when any job moves on: re-read them (a bounded list of unfinished jobs).
    const rows = await studio.api("GET", "/api/generations/active");
    const seen = new Set();
    for (const { generation: g, queue_position: place } of rows) {
      seen.add(g.id);
      let row = document.getElementById(`row-${g.id}`);
      if (!row) {
        row = template.content.firstElementChild.cloneNode(true);
        body.appendChild(row);
      }
      fill(row, g, place);
    }
    for (const row of body.querySelectorAll("tr.queue-row")) {
      if (!seen.has(row.dataset.generation) && !row.classList.contains("finished")) finish(row);
    }
    document.getElementById("queue-empty").hidden = body.children.length > 0;
  }

  function finish(row) {
    row.classList.add("finished");
    const cancel = row.querySelector('[data-action="cancel"]');
    if (cancel) cancel.remove();
    setTimeout(() => { row.remove(); document.getElementById("queue-empty").hidden = body.children.length > 0; }, 8000);
  }

  let pending = null;
  studio.events({}, (ev) => {
    const row = document.getElementById(`row-${ev.generation_id}`);
    if (row) {
      field(row, "message").textContent = ev.message || ev.status;
      if (ev.progress !== null) {
        field(row, "progress").value = ev.progress;
        field(row, "percent").textContent = `${ev.progress}%`;
      }
      row.dataset.status = ev.status;
      if (studio.TERMINAL.has(ev.status)) finish(row);
    }
    clearTimeout(pending);
    pending = setTimeout(() => reload().catch((err) => studio.toast(err.message, true)), 300);
  });

  setInterval(() => {
    for (const row of body.querySelectorAll("tr.queue-row")) {
      if (!row.classList.contains("finished")) field(row, "elapsed").textContent = studio.elapsed(row.dataset.created);
    }
  }, 1000);
  document.addEventListener("studio:done", () => reload());
})();
