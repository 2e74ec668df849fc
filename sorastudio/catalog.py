"""The model catalog: what each model offers and what it costs.

An entry is one model *as served by one provider kind*, because the same model name means different
things in different places: OpenAI's native `sora-2` retires with OpenAI's Sora API on 2026-09-24
(spec §2), while Azure's `sora-2` deployment has no announced date. So every entry carries a `provider`
(`azure`, `openai` or `compatible`) next to its `model`, and its `id` is `"<provider>/<model>"`
(`"openai/sora-2"`). `Catalog.resolve()` accepts an id, or a bare model name plus the provider the
caller is configured for, or a bare name that only one provider offers.

`model` is the base model, not an Azure deployment name: mapping a deployment ("my-sora2") to its
model is the provider configuration's job.

Entries are immutable; configuration produces a modified copy of the catalog:
`DEFAULT_CATALOG.with_prices({...}).with_retirements({...}).with_entries(compatible_entry(...))`.

Capabilities follow the seed guide and the spec: Sora 1 (Azure jobs API) has 9 sizes, 1–20 s and
up to 4/2/1 variants by resolution; Sora 2 (`/videos`) has fixed sizes, "4"/"8"/"12" s, audio and
one variant per job; `sora-2-pro` adds 1024x1792 / 1792x1024. Azure entries have no retirement
date (set one with `with_retirements` when Microsoft announces it). Azure `sora-2-pro` is listed with
the same four sizes as OpenAI's; Azure docs only confirm 720p, so a deployment may refuse the others.
Sora 1 defaults (1280x720, 5 s) are ours / the jobs API's: that API has no default size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from sorastudio.domain import Mode, join_choices, parse_size, whole_number
from sorastudio.errors import ValidationError


class Provider(StrEnum):
    """Who serves the model; decides retirement dates and which catalog entry a name resolves to."""

    AZURE = "azure"
    OPENAI = "openai"
    COMPATIBLE = "compatible"


class ApiFamily(StrEnum):
    """Which wire format a model speaks (picks the provider client)."""

    SORA1_JOBS = "sora1-jobs"  # Azure /video/generations/jobs: width/height, n_seconds, n_variants
    VIDEOS = "videos"  # /v1/videos: size "WxH", seconds as a string, one video per job


REFERENCE_PIXELS = 1280 * 720  # Sora 1 prices scale with pixel count relative to 720p (seed guide)


@dataclass(frozen=True)
class PriceRule:
    """Dollars per generated second per variant, optionally per size and scaled by pixel count.

    `rate(size)` is `by_size[size]` if present, else `per_second`. With `scale_by_pixels` (Sora 1)
    the cost is further multiplied by `width×height / reference_pixels`.
    """

    per_second: Decimal
    by_size: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    scale_by_pixels: bool = False
    reference_pixels: int = REFERENCE_PIXELS

    def rate(self, size: str) -> Decimal:
        return self.by_size.get(size, self.per_second)


@dataclass(frozen=True)
class ModelEntry:
    """One model as offered by one provider kind."""

    provider: Provider
    model: str
    display_name: str
    api: ApiFamily
    modes: frozenset[Mode]
    sizes: tuple[str, ...]
    seconds: tuple[int, ...]
    default_size: str
    default_seconds: int
    max_variants_by_size: Mapping[str, int]  # sizes not listed allow 1 variant
    audio: bool
    price: PriceRule
    retires_on: date | None = None
    aliases: tuple[str, ...] = ()  # dated snapshots that behave like `model`

    @property
    def id(self) -> str:
        return f"{self.provider}/{self.model}"

    def max_variants(self, size: str) -> int:
        return self.max_variants_by_size.get(size, 1)

    def is_retired(self, today: date) -> bool:
        return self.retires_on is not None and today >= self.retires_on

    def names(self) -> tuple[str, ...]:
        return (self.model, *self.aliases)

    def mode_choices(self) -> list[str]:
        return [mode.value for mode in Mode if mode in self.modes]  # in Mode's order: text, image, remix

    def describe_seconds(self) -> str:
        return describe_seconds(self.seconds)


def describe_seconds(seconds: Iterable[int]) -> str:
    """A contiguous run reads "1 to 20"; a short set reads "4, 8 or 12"."""
    values = sorted(seconds)
    if len(values) > 3 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]} to {values[-1]}"
    return join_choices(values)


_LABELS = {Provider.AZURE: "Azure", Provider.OPENAI: "OpenAI", Provider.COMPATIBLE: "compatible"}


# --- built-in entries -------------------------------------------------------------------------------

# Sora 1: up to 4 variants, 2 at 720p, 1 at 1080p (seed guide's support matrix)
_SORA1_VARIANTS = MappingProxyType(
    {"480x480": 4, "480x854": 4, "854x480": 4, "720x720": 4, "720x1280": 2, "1280x720": 2}
    | {"1080x1080": 1, "1080x1920": 1, "1920x1080": 1}
)
_SORA2_SIZES = ("720x1280", "1280x720")
_SORA2_PRO_SIZES = (*_SORA2_SIZES, "1024x1792", "1792x1024")
_SORA2_SECONDS = (4, 8, 12)
_TEXT_IMAGE_REMIX = frozenset({Mode.TEXT, Mode.IMAGE, Mode.REMIX})

# Announced shutdown of OpenAI's Sora API (SDK deprecation notice, spec §2).
OPENAI_SORA_SHUTDOWN = date(2026, 9, 24)


def _sora1(provider: Provider) -> ModelEntry:
    return ModelEntry(
        provider=provider,
        model="sora",
        display_name=f"Sora 1 ({_LABELS[provider]})",
        api=ApiFamily.SORA1_JOBS,
        modes=frozenset({Mode.TEXT, Mode.IMAGE}),  # image via inpaint_items
        sizes=tuple(_SORA1_VARIANTS),
        seconds=tuple(range(1, 21)),
        default_size="1280x720",
        default_seconds=5,  # the jobs API's own default n_seconds (spec §4.2)
        max_variants_by_size=_SORA1_VARIANTS,
        audio=False,
        price=PriceRule(per_second=Decimal("0.05"), scale_by_pixels=True),
    )


def _sora2(provider: Provider, retires_on: date | None, aliases: tuple[str, ...] = ()) -> ModelEntry:
    return ModelEntry(
        provider=provider,
        model="sora-2",
        display_name=f"Sora 2 ({_LABELS[provider]})",
        api=ApiFamily.VIDEOS,
        modes=_TEXT_IMAGE_REMIX,
        sizes=_SORA2_SIZES,
        seconds=_SORA2_SECONDS,
        default_size="720x1280",
        default_seconds=4,
        max_variants_by_size=MappingProxyType({}),
        audio=True,
        price=PriceRule(per_second=Decimal("0.10")),
        retires_on=retires_on,
        aliases=aliases,
    )


def _sora2_pro(provider: Provider, retires_on: date | None, aliases: tuple[str, ...] = ()) -> ModelEntry:
    return replace(
        _sora2(provider, retires_on, aliases),
        model="sora-2-pro",
        display_name=f"Sora 2 Pro ({_LABELS[provider]})",
        sizes=_SORA2_PRO_SIZES,
        price=PriceRule(
            per_second=Decimal("0.30"),
            by_size=MappingProxyType({"1024x1792": Decimal("0.50"), "1792x1024": Decimal("0.50")}),
        ),
    )


def compatible_entry(
    model: str,
    *,
    sizes: Iterable[str],
    seconds: Iterable[int | str],
    modes: Iterable[Mode | str] = (Mode.TEXT,),
    audio: bool = False,
    price_per_second: Decimal | str | int = 0,
    default_size: str | None = None,
    default_seconds: int | str | None = None,
    display_name: str | None = None,
    retires_on: date | None = None,
) -> ModelEntry:
    """An entry for a server speaking the `/v1/videos` shape whose capabilities the user declares.

    Defaults are the first declared size/duration; price 0 is allowed (a local server costs nothing).
    """
    modes = list(modes)
    if not model.strip():
        raise ValidationError(
            "model is empty: give the model name the server expects", field="model", value=model
        )
    size_list = tuple(dict.fromkeys("{}x{}".format(*parse_size(size)) for size in sizes))
    if not size_list:
        raise ValidationError("sizes is empty: declare at least one WIDTHxHEIGHT", field="sizes", value=[])
    second_list = tuple(sorted({whole_number("seconds", value, "seconds") for value in seconds}))
    if not second_list:
        raise ValidationError("seconds is empty: declare at least one duration", field="seconds", value=[])
    try:
        mode_set = frozenset(Mode(mode) for mode in modes)
    except ValueError:
        raise ValidationError(
            f"modes={modes} contains an unknown mode: choose from {join_choices(Mode)}",
            field="modes",
            value=modes,
            allowed=[mode.value for mode in Mode],
        ) from None
    if not mode_set:
        raise ValidationError("modes is empty: declare at least text", field="modes", value=[])
    size = "{}x{}".format(*parse_size(default_size)) if default_size else size_list[0]
    if size not in size_list:
        raise ValidationError(
            f"default_size={default_size} is not among the declared sizes: choose {join_choices(size_list)}",
            field="default_size",
            value=default_size,
            allowed=size_list,
        )
    secs = (
        whole_number("default_seconds", default_seconds, "seconds")
        if default_seconds is not None
        else second_list[0]
    )
    if secs not in second_list:
        raise ValidationError(
            f"default_seconds={default_seconds} is not among the declared durations: "
            f"choose {describe_seconds(second_list)}",
            field="default_seconds",
            value=default_seconds,
            allowed=[str(s) for s in second_list],
        )
    return ModelEntry(
        provider=Provider.COMPATIBLE,
        model=model.strip(),
        display_name=display_name or model.strip(),
        api=ApiFamily.VIDEOS,
        modes=mode_set,
        sizes=size_list,
        seconds=second_list,
        default_size=size,
        default_seconds=secs,
        max_variants_by_size=MappingProxyType({}),
        audio=audio,
        price=PriceRule(per_second=to_money("price_per_second", price_per_second)),
        retires_on=retires_on,
    )


def to_money(name: str, value: object) -> Decimal:
    """A non-negative Decimal from a config value; floats go through `str` so 0.1 stays 0.1."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if isinstance(value, bool) or not amount.is_finite() or amount < 0:
        raise ValidationError(
            f"{name}={value} is not a price: write a non-negative amount in dollars, e.g. 0.10",
            field=name,
            value=value,
        )
    return amount


# --- the catalog ------------------------------------------------------------------------------------


class Catalog(Mapping[str, ModelEntry]):
    """An immutable mapping of entry id → entry, with resolution and configuration helpers."""

    def __init__(self, entries: Iterable[ModelEntry]) -> None:
        self._entries: dict[str, ModelEntry] = {}
        for entry in entries:
            self._entries[entry.id] = entry

    def __getitem__(self, key: str) -> ModelEntry:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Catalog({list(self._entries)})"

    def resolve(self, model: str, provider: Provider | str | None = None) -> ModelEntry:
        """Find the entry for `model` ("openai/sora-2", or "sora-2" with/without a provider)."""
        name = model.strip()
        if "/" in name and provider is None:
            provider, _, name = name.partition("/")
        matches = [
            entry
            for entry in self._entries.values()
            if name in entry.names() and (provider is None or entry.provider == provider)
        ]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = [entry.id for entry in matches]
            raise ValidationError(
                f"model={model} is offered by several providers: choose {join_choices(ids)}",
                field="model",
                value=model,
                allowed=ids,
            )
        candidates = [e.id for e in self._entries.values() if provider is None or e.provider == provider]
        where = f" for provider {provider}" if provider is not None else ""
        raise ValidationError(
            f"model={model} is not in the catalog{where}: choose {join_choices(candidates) or 'nothing'}",
            field="model",
            value=model,
            allowed=candidates,
        )

    def available(self, today: date) -> list[ModelEntry]:
        """Entries not retired on `today`."""
        return [entry for entry in self._entries.values() if not entry.is_retired(today)]

    def with_entries(self, *entries: ModelEntry) -> Catalog:
        """A copy with `entries` added (replacing any with the same id)."""
        return Catalog([*self._entries.values(), *entries])

    def with_prices(self, overrides: Mapping[str, object]) -> Catalog:
        """A copy with prices replaced from configuration.

        Keys are entry ids ("openai/sora-2-pro") or bare model names ("sora-2": every provider).
        A value is either a per-second rate, which then applies to every size, or a mapping of size →
        rate with an optional "default" key, which updates only what it names. Amounts may be
        Decimal, int, str or float (floats are read through `str`).
        """
        return self._updated(
            "prices", overrides, lambda entry, key, value: replace(entry, price=_price(entry, key, value))
        )

    def with_retirements(self, dates: Mapping[str, date | str | None]) -> Catalog:
        """A copy with retirement dates set (ISO strings accepted; None clears a date).
        Keys as in `with_prices`."""
        return self._updated(
            "retirements", dates, lambda entry, key, value: replace(entry, retires_on=_date(key, value))
        )

    def _updated(
        self, section: str, overrides: Mapping[str, Any], change: Callable[[ModelEntry, str, Any], ModelEntry]
    ) -> Catalog:
        updated = dict(self._entries)
        for key, value in overrides.items():
            targets = [eid for eid, entry in self._entries.items() if key in (eid, entry.model)]
            if not targets:
                raise ValidationError(
                    f"{section} names unknown model {key}: choose {join_choices(self._entries)}",
                    field=section,
                    value=key,
                    allowed=list(self._entries),
                )
            for eid in targets:
                updated[eid] = change(updated[eid], key, value)
        return Catalog(updated.values())


def _date(key: str, value: date | str | None) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        raise ValidationError(
            f"retirements.{key}={value} is not a date: write YYYY-MM-DD",
            field=f"retirements.{key}",
            value=value,
        ) from None


def _price(entry: ModelEntry, key: str, value: object) -> PriceRule:
    if not isinstance(value, Mapping):
        return replace(entry.price, per_second=to_money(f"prices.{key}", value), by_size=MappingProxyType({}))
    per_second = entry.price.per_second
    by_size = dict(entry.price.by_size)
    for size_key, amount in value.items():
        money = to_money(f"prices.{key}.{size_key}", amount)
        if size_key == "default":
            per_second = money
            continue
        size = "{}x{}".format(*parse_size(str(size_key)))
        if size not in entry.sizes:
            raise ValidationError(
                f"prices.{key} names size {size_key}, which {entry.model} does not offer: "
                f"choose default, {join_choices(entry.sizes)}",
                field=f"prices.{key}",
                value=size_key,
                allowed=["default", *entry.sizes],
            )
        by_size[size] = money
    return replace(entry.price, per_second=per_second, by_size=MappingProxyType(by_size))


DEFAULT_CATALOG = Catalog(
    [
        _sora1(Provider.AZURE),
        _sora2(Provider.AZURE, None),
        _sora2_pro(Provider.AZURE, None),
        _sora2(Provider.OPENAI, OPENAI_SORA_SHUTDOWN, ("sora-2-2025-10-06", "sora-2-2025-12-08")),
        _sora2_pro(Provider.OPENAI, OPENAI_SORA_SHUTDOWN, ("sora-2-pro-2025-10-06",)),
    ]
)
