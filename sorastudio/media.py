"""Where downloaded media live on this machine, and the only way to turn a stored path into a file path.

Layout: `<SORASTUDIO_HOME>/media/<generation id>/<files as the provider named them>`. An `Asset.path`
in the database is relative to the media root (`<generation id>/<file>`), so the home folder can move
and nothing outside it can ever be named: `resolve()` refuses absolute paths, `..` and symlinks that
leave the root. Web routes serve media by asset id and call `resolve()`; they never take a path from
a request.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sorastudio.errors import ValidationError
from sorastudio.images import fit_image
from sorastudio.store.db import data_home

MEDIA_DIR_NAME = "media"
# Generation ids are ULIDs (store.models.new_id): 26 Crockford base-32 characters.
_GENERATION_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
_IMAGE_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def media_root(home: Path | None = None) -> Path:
    root = (home or data_home()) / MEDIA_DIR_NAME
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def _check_id(generation_id: str) -> str:
    if not isinstance(generation_id, str) or not _GENERATION_ID.fullmatch(generation_id):
        raise ValidationError(
            f"generation id {generation_id!r} is not valid: 26 characters of 0-9 and A-Z (a ULID)",
            field="generation_id",
            value=generation_id,
        )
    return generation_id


def generation_dir(generation_id: str, home: Path | None = None) -> Path:
    """The folder for one generation's files (not created: the downloader creates it)."""
    return media_root(home) / _check_id(generation_id)


def relative(path: Path, home: Path | None = None) -> str:
    """The stored form of a file under the media root (POSIX separators)."""
    root = media_root(home).resolve()
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        raise ValidationError(
            f"{path} is outside the media folder {root}", field="path", value=str(path)
        ) from None


def resolve(stored: str, home: Path | None = None) -> Path:
    """The absolute file path for a stored asset path; refuses anything that leaves the media root."""
    root = media_root(home).resolve()
    candidate = Path(stored)
    if candidate.is_absolute() or ".." in candidate.parts or not stored.strip():
        raise ValidationError(
            f"asset path {stored!r} is not allowed: it must be relative to the media folder",
            field="path",
            value=stored,
        )
    full = (root / candidate).resolve()
    if not full.is_relative_to(root):
        raise ValidationError(
            f"asset path {stored!r} is not allowed: it leads outside the media folder",
            field="path",
            value=stored,
        )
    return full


def store_input_image(generation_id: str, data: bytes, width: int, height: int, fit: str) -> str:
    """Fit a reference image to the video size (`images.fit_image`) and keep it with the generation,
    so the job can be sent (or sent again) later; returns its stored path."""
    fitted = fit_image(data, width, height, fit)  # type: ignore[arg-type]  # checked by VideoRequest
    folder = generation_dir(generation_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"input.{_IMAGE_EXT.get(fitted.mime_type, 'png')}"
    path.write_bytes(fitted.data)
    return relative(path)


def copy_out(paths: list[Path], dest: Path) -> list[Path]:
    """Copy files out of the media folder: into `dest` if it is a folder (or there are several),
    else to the file name `dest`."""
    target = dest.expanduser()
    copies = []
    for path in paths:
        out = target / path.name if target.is_dir() or len(paths) > 1 else target
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        copies.append(out)
    return copies


def remove_generation(generation_id: str, home: Path | None = None) -> bool:
    """Delete one generation's media folder; True if there was one. Only called on an explicit delete."""
    folder = generation_dir(generation_id, home)
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True


__all__ = [
    "MEDIA_DIR_NAME",
    "copy_out",
    "generation_dir",
    "media_root",
    "relative",
    "remove_generation",
    "resolve",
    "store_input_image",
]
