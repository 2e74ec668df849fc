"""Soundtrack for emulated Sora 2 clips: a soft chord pad plus an arpeggio, both chosen by the prompt.

Deterministic per (prompt, variant): the SHA-256 of the prompt picks root, scale and tempo; the variant
reorders the arpeggio. Stereo float32 at 48 kHz, peak 0.5, with short fades so it never clicks.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 48_000


def _hz(midi: float) -> float:
    return float(440.0 * 2.0 ** ((midi - 69.0) / 12.0))


def synthesize(prompt: str, variant: int, n_samples: int, rate: int = SAMPLE_RATE) -> NDArray[np.float32]:
    """(2, n_samples) float32 planar stereo."""
    seed = hashlib.sha256(f"sorastudio-emulator-audio\x00{prompt}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(seed[:8], "big"))
    t = np.arange(n_samples, dtype=np.float64) / rate
    root = 45 + int(rng.integers(12))  # A2 .. G#3
    third = 4 if rng.random() < 0.5 else 3  # major or minor
    chord = [root, root + third, root + 7, root + 12]
    out = np.zeros((2, n_samples), dtype=np.float64)

    # Pad: detuned sines per channel with a slow swell.
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * (0.15 + 0.1 * rng.random()) * t)
    for note in chord[:3]:
        for ch, detune in enumerate((-0.08, 0.08)):
            out[ch] += np.sin(2 * np.pi * _hz(note + detune) * t) * swell * 0.18

    # Arpeggio: one plucked note per beat, pattern order depends on the variant.
    bpm = 84 + int(rng.integers(45))
    beat = 60.0 / bpm / 2  # eighth notes
    pattern = np.array([*chord[1:], chord[0] + 19, chord[0] + 24], dtype=np.float64) + 12
    pattern = np.roll(rng.permutation(pattern), variant)
    index = (t // beat).astype(np.int64)
    local = t - index * beat
    freq = 440.0 * 2.0 ** ((pattern[index % len(pattern)] - 69.0) / 12.0)
    envelope = (1.0 - np.exp(-local * 400.0)) * np.exp(-local * 7.0)
    pluck = (np.sin(2 * np.pi * freq * local) + 0.3 * np.sin(4 * np.pi * freq * local)) * envelope * 0.22
    pan = 0.5 + 0.35 * np.sin(2 * np.pi * 0.2 * t + variant)
    out[0] += pluck * (1.0 - pan)
    out[1] += pluck * pan

    peak = float(np.max(np.abs(out))) if n_samples else 0.0
    if peak > 0:
        out *= 0.5 / peak
    fade = min(n_samples // 2, int(0.02 * rate))
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade)
        out[:, :fade] *= ramp
        out[:, n_samples - fade :] *= ramp[::-1]
    return out.astype(np.float32)
