"""Endpoint normalisation: whatever URL the user pasted becomes the right base (issue 4)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import NamedTuple

import pytest

from sorastudio.errors import ValidationError
from sorastudio.providers.endpoints import ApiHint, Endpoint, EndpointKind, normalize_endpoint

AZ = "https://res.openai.azure.com/openai/v1"


class Case(NamedTuple):
    pasted: str
    api: ApiHint | None
    base_url: str
    kind: EndpointKind
    api_version: str | None
    deployment: str | None
    resolved_api: ApiHint | None
    warns: tuple[str, ...]  # substrings that must appear among the warnings; () = no warnings at all


RES = "https://res.openai.azure.com"
EMU = "http://127.0.0.1:8089"
VIDEOS, SORA1, OPENAI, COMPAT = "azure_videos", "azure_sora1", "openai_videos", "compatible"

# fmt: off
CASES: list[Case] = [
    # pasted, api hint, base_url, kind, api-version, deployment, resolved api, warnings
    Case(RES, None, AZ, "azure", "preview", None, None, ()),
    Case(f"{RES}/", None, AZ, "azure", "preview", None, None, ()),
    Case(f"{RES}/openai/v1/", None, AZ, "azure", "preview", None, None, ()),
    Case(f"{RES}/openai/v1/videos", None, AZ, "azure", None, None, VIDEOS, ()),
    Case(f"{RES}/openai/v1/video/generations/jobs?api-version=preview", None,
         AZ, "azure", "preview", None, SORA1, ()),
    Case(f"{RES}/openai/v1/videos?api-version=v1", None, AZ, "azure", "v1", None, VIDEOS, ()),
    Case(f"{RES}/openai/deployments/sora-2/videos?api-version=2024-12-01", None,
         AZ, "azure", None, "sora-2", VIDEOS,
         ("/openai/deployments/sora-2/… route is not documented", "api-version=2024-12-01")),
    Case(f"{RES}/openai/deployments/sora/video/generations/jobs?api-version=2025-02-15-preview", None,
         AZ, "azure", "preview", "sora", SORA1, ("model='sora'", "api-version=2025-02-15-preview")),
    Case("res.cognitiveservices.azure.com", None,
         "https://res.cognitiveservices.azure.com/openai/v1", "azure", "preview", None, None, ()),
    Case("https://res.services.ai.azure.com/api/projects/my-proj", VIDEOS,
         "https://res.services.ai.azure.com/openai/v1", "azure", None, None, VIDEOS,
         ("ignored the path /api/projects/my-proj",)),
    Case("https://res.services.ai.azure.com/openai/v1/", SORA1,
         "https://res.services.ai.azure.com/openai/v1", "azure", "preview", None, SORA1, ()),
    Case("https://api.openai.com/v1", None, "https://api.openai.com/v1", "openai", None, None, OPENAI, ()),
    Case("https://api.openai.com", None, "https://api.openai.com/v1", "openai", None, None, OPENAI, ()),
    Case("https://api.openai.com/v1/videos/video_123/content", OPENAI,
         "https://api.openai.com/v1", "openai", None, None, OPENAI, ()),
    # The sorastudio emulator serves /v1 and /openai/v1: the hint picks the surface.
    Case(EMU, None, f"{EMU}/v1", "compatible", None, None, COMPAT, ()),
    Case(EMU, SORA1, f"{EMU}/openai/v1", "azure", "preview", None, SORA1, ()),
    Case(f"{EMU}/", VIDEOS, f"{EMU}/openai/v1", "azure", None, None, VIDEOS, ()),
    Case(EMU, OPENAI, f"{EMU}/v1", "compatible", None, None, OPENAI, ()),
    Case("http://localhost:8089/openai/v1/videos?api-version=preview", None,
         "http://localhost:8089/openai/v1", "azure", "preview", None, VIDEOS, ()),
    # vLLM-Omni / SGLang style compatible servers.
    Case("http://localhost:8000/v1", None, "http://localhost:8000/v1", "compatible", None, None, COMPAT, ()),
    Case("localhost:8000", None, "https://localhost:8000/v1", "compatible", None, None, COMPAT, ()),
    Case("http://[::1]:8000/v1/", None, "http://[::1]:8000/v1", "compatible", None, None, COMPAT, ()),
    Case("https://gw.example.com/proxy/v1/videos", COMPAT,
         "https://gw.example.com/proxy/v1", "compatible", None, None, COMPAT, ()),
    Case("http://gpu-box.lan:8000/v1", None,
         "http://gpu-box.lan:8000/v1", "compatible", None, None, COMPAT, ("plain http",)),
    # Whitespace, quotes and upper case from a careless paste.
    Case("  HTTPS://RES.OpenAI.Azure.COM/openai/v1/  \n", None, AZ, "azure", "preview", None, None, ()),
    Case(f'"{RES}/"', None, AZ, "azure", "preview", None, None, ()),
    Case("http://res.openai.azure.com", None, AZ, "azure", "preview", None, None,
         ("switched http:// to https://",)),
    # The AzureOpenAI client's /openai/videos path (spec §3.1) is not a Sora route: use /openai/v1.
    Case(f"{RES}/openai/videos?api-version=2025-04-01-preview", None, AZ, "azure", None, None, VIDEOS,
         ("/openai/videos is not a documented Sora route",)),
    # A hint that contradicts the host or the path is corrected or kept, with a warning.
    Case(RES, OPENAI, AZ, "azure", None, None, VIDEOS, ("Azure endpoint",)),
    Case(f"{RES}/openai/v1/video/generations/jobs", VIDEOS, AZ, "azure", None, None, VIDEOS,
         ("azure_sora1 route",)),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=[f"{c.pasted.strip()}|{c.api}" for c in CASES])
def test_normalize_endpoint_table(case: Case) -> None:
    ep = normalize_endpoint(case.pasted, case.api)
    assert (ep.base_url, ep.kind, ep.api_version, ep.deployment, ep.api) == (
        case.base_url,
        case.kind,
        case.api_version,
        case.deployment,
        case.resolved_api,
    )
    if not case.warns:
        assert ep.warnings == ()
    for fragment in case.warns:
        assert any(fragment in w for w in ep.warnings), (fragment, ep.warnings)
    assert not ep.base_url.endswith("/")


@pytest.mark.parametrize(
    ("pasted", "api", "message"),
    [
        ("", None, "empty"),
        ("   \n", None, "empty"),
        ("ftp://res.openai.azure.com", None, "scheme 'ftp'"),
        ("file:///etc/passwd", None, "scheme 'file'"),
        ("ws://localhost:8000/v1", None, "scheme 'ws'"),
        ("https://user:hunter2@res.openai.azure.com", None, "user name or password"),
        ("https://res.openai.azure.com/openai/v1?api-key=hunter2", None, "key in its query"),
        ("https:///openai/v1", None, "no host"),
        ("https://res.openai.azure.com:99999", None, "invalid port"),
        ("https://res.openai.azure.com/open ai/v1", None, "whitespace"),
        ("https://api.openai.com/v1", "azure_sora1", "only on Azure"),
    ],
)
def test_rejections_name_the_problem(pasted: str, api: ApiHint | None, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_endpoint(pasted, api)
    assert message in str(info.value)
    assert info.value.field == "endpoint"
    assert isinstance(info.value, ValueError)
    # Secrets in the pasted URL must not be echoed back.
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value.value)


def test_unknown_api_hint_is_refused_with_choices() -> None:
    with pytest.raises(ValidationError) as info:
        normalize_endpoint("https://res.openai.azure.com", "sora3")  # type: ignore[arg-type]
    assert info.value.field == "api"
    assert "azure_sora1" in str(info.value)
    assert "azure_videos" in info.value.allowed


def test_non_string_is_refused() -> None:
    with pytest.raises(ValidationError, match="must be a URL string"):
        normalize_endpoint(None)  # type: ignore[arg-type]


def test_url_builder_adds_api_version_and_query() -> None:
    ep = normalize_endpoint("https://res.openai.azure.com", "azure_sora1")
    assert ep.url("/video/generations/gen_1/content/video", quality="high") == (
        f"{AZ}/video/generations/gen_1/content/video?api-version=preview&quality=high"
    )
    assert ep.url("video/generations/jobs", limit=10, after=None) == (
        f"{AZ}/video/generations/jobs?api-version=preview&limit=10"
    )
    assert ep.params == {"api-version": "preview"}


def test_url_builder_without_api_version_and_with_escaping() -> None:
    ep = normalize_endpoint("https://api.openai.com/v1")
    assert ep.url("/videos/abc/content", variant="video") == (
        "https://api.openai.com/v1/videos/abc/content?variant=video"
    )
    assert ep.url("/videos") == "https://api.openai.com/v1/videos"
    # An id can never smuggle in a query string or fragment.
    assert ep.url("/videos/a?b#c") == "https://api.openai.com/v1/videos/a%3Fb%23c"
    assert ep.params == {}


def test_endpoint_is_frozen_and_hashable() -> None:
    ep = normalize_endpoint("https://res.openai.azure.com/openai/deployments/sora-2/videos?api-version=x")
    assert isinstance(ep, Endpoint)
    assert hash(ep) == hash(Endpoint(**_fields(ep)))
    assert ep.deployment == "sora-2"
    with pytest.raises(FrozenInstanceError):
        ep.base_url = "https://elsewhere"  # type: ignore[misc]


def _fields(ep: Endpoint) -> dict[str, object]:
    return {name: getattr(ep, name) for name in Endpoint.__dataclass_fields__}


def test_normalising_twice_is_stable() -> None:
    for case in CASES:
        first = normalize_endpoint(case.pasted, case.api)
        again = normalize_endpoint(first.url("/"), first.api)
        assert again.base_url == first.base_url, case.pasted
        assert again.kind == first.kind, case.pasted
