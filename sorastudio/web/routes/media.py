"""`/media/{generation_id}/{kind}/{variant}`: a generation's stored files, by id only.

The file path comes from the database row (resolved under the media folder by `media.resolve`); no
part of the request is ever joined onto a filesystem path.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse

from sorastudio.errors import NotFound
from sorastudio.web.deps import StudioDep

router = APIRouter(tags=["media"])
_EXTENSIONS = {"video/mp4": "mp4", "image/webp": "webp", "image/jpeg": "jpg", "image/png": "png"}


@router.get("/media/{generation_id}/{kind}/{variant}", response_class=FileResponse)
async def media(
    studio: StudioDep,
    generation_id: str,
    kind: Literal["video", "thumbnail", "spritesheet"],
    variant: Annotated[int, Path(ge=0, le=16)],
    download: Annotated[bool, Query(description="as an attachment")] = False,
) -> FileResponse:
    info = await studio.get(generation_id)
    asset = next((a for a in info.assets if a.kind == kind and a.variant == variant), None)
    if asset is None or not asset.path.is_file():
        kinds = sorted({f"{a.kind}/{a.variant}" for a in info.assets})
        raise NotFound(
            f"generation {generation_id} has no {kind}/{variant} "
            f"({'it has ' + ', '.join(kinds) if kinds else 'it has no files'}; status {info.status.value})"
        )
    name = f"{generation_id}-{kind}-{variant}.{_EXTENSIONS.get(asset.content_type, 'bin')}"
    return FileResponse(
        asset.path,
        media_type=asset.content_type,
        filename=name if download else None,
        content_disposition_type="attachment" if download else "inline",
    )
