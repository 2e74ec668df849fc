"""`/api/catalog`, `/api/estimate` and `/api/images/preview`: what the Create form shows before submit."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from sorastudio.web import services
from sorastudio.web.deps import StudioDep
from sorastudio.web.schemas import EstimateIn
from sorastudio.web.security import require_csrf

router = APIRouter(prefix="/api", tags=["create"], dependencies=[Depends(require_csrf)])


@router.get("/catalog")
async def catalog(studio: StudioDep) -> dict[str, Any]:
    """Per profile, the models it can use and exactly what each offers (sizes, seconds, variants, modes)."""
    await services.ensure_default_profile(studio)
    profiles = await services.call(studio.profiles.list)
    return {
        "default_profile": services.default_profile_name(profiles),
        "profiles": services.profile_catalog(studio, profiles),
    }


@router.post("/estimate")
async def estimate(studio: StudioDep, body: EstimateIn) -> dict[str, Any]:
    """The cost `POST /api/generations` would reserve for these settings, with warnings and any budget
    refusal (`budget_message`); 422 with the reason if the settings are not valid for the model."""
    request = services.EstimateRequest(**body.model_dump())
    return await services.estimate(studio, request)


@router.post(
    "/images/preview",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the fitted frame, scaled down"}},
)
async def preview(
    image: Annotated[UploadFile, File()],
    size: Annotated[str, Form(description="the video size, e.g. 1280x720")],
    fit: Annotated[Literal["cover", "contain", "stretch"], Form()] = "cover",
) -> Response:
    """The exact frame that image → video will send (cover crops, contain letterboxes, stretch distorts)."""
    result = await services.preview(await image.read(), size, fit)
    headers = {"X-Frame-Size": result.size, "X-Original-Size": result.original, "X-Fit": result.fit}
    return Response(result.data, media_type=result.mime_type, headers=headers)
