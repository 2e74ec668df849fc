// Gallery: hover scrubs the spritesheet (a 5×5 grid of frames), click plays in a modal.
"use strict";

(() => {
  const COLUMNS = 5;
  const ROWS = 5;

  for (const thumb of document.querySelectorAll(".thumb[data-sprite]")) {
    const sprite = thumb.dataset.sprite;
    if (!sprite || !thumb.querySelector(".sprite")) continue;
    const layer = thumb.querySelector(".sprite");
    const [vw, vh] = (thumb.dataset.size || "16x9").split("x").map(Number);
    thumb.addEventListener("mousemove", (e) => {
      const box = thumb.getBoundingClientRect();
      const frames = COLUMNS * ROWS;
      const k = Math.min(frames - 1, Math.max(0, Math.floor(((e.clientX - box.left) / box.width) * frames)));
      // The frame keeps the video's aspect inside the card's box, like the thumbnail does.
      const scale = Math.min(box.width / vw, box.height / vh);
      Object.assign(layer.style, {
        width: `${vw * scale}px`,
        height: `${vh * scale}px`,
        left: `${(box.width - vw * scale) / 2}px`,
        top: `${(box.height - vh * scale) / 2}px`,
        backgroundImage: `url("${sprite}")`,
        backgroundSize: `${COLUMNS * 100}% ${ROWS * 100}%`,
        backgroundPosition: `${((k % COLUMNS) / (COLUMNS - 1)) * 100}% ${(Math.floor(k / COLUMNS) / (ROWS - 1)) * 100}%`,
      });
      thumb.classList.add("scrubbing");
      thumb.dataset.frame = String(k);
    });
    thumb.addEventListener("mouseleave", () => {
      thumb.classList.remove("scrubbing");
      delete thumb.dataset.frame;
    });
  }

  const dialog = document.getElementById("player");
  if (dialog) {
    const video = document.getElementById("player-video");
    document.addEventListener("click", (e) => {
      const thumb = e.target.closest(".thumb[data-play]");
      if (!thumb || !thumb.dataset.play) return;
      video.src = thumb.dataset.play;
      video.poster = thumb.dataset.thumb || "";
      document.getElementById("player-prompt").textContent = thumb.dataset.prompt;
      dialog.showModal();
      video.play().catch(() => { /* autoplay may be refused; the controls are there */ });
    });
    dialog.addEventListener("close", () => { video.pause(); video.removeAttribute("src"); video.load(); });
  }

  document.addEventListener("studio:done", (e) => {
    if (e.detail.action === "retry" || e.detail.action === "cancel") setTimeout(() => window.location.reload(), 600);
  });
})();
