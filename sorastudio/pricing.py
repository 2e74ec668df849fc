"""Cost estimates, with the seed guide's formulas and the catalog's (configurable) prices.

    Sora 1        rate × seconds × variants × (width × height) / (1280 × 720),  rate $0.05
    Sora 2        rate × seconds × variants,                                    rate $0.10
    sora-2-pro    rate × seconds × variants, rate $0.30 at 720p, $0.50 at 1024x1792 / 1792x1024

Money is `Decimal`, never float. The product is computed exactly and the division by the reference
pixel count comes last, then the total is rounded half-up to 4 decimal places (`Estimate.total`):
some Sora 1 sizes give non-terminating fractions (480x854 is 0.44479166… of 720p), so "exact" has to
stop somewhere, and 1/100 of a cent is far below any price step. Budgets and ledgers use `total`;
`Estimate.display` rounds half-up to cents for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sorastudio.catalog import ModelEntry
from sorastudio.domain import ValidatedRequest, VideoRequest, parse_size

TOTAL_PLACES = Decimal("0.0001")
CENTS = Decimal("0.01")
CURRENCY = "USD"


@dataclass(frozen=True)
class Estimate:
    """A cost estimate and how it was reached."""

    model_id: str
    size: str
    seconds: int
    variants: int
    rate_per_second: Decimal  # dollars per second per variant, before pixel scaling
    pixel_factor: Decimal | None  # Sora 1 only: width×height / 1280×720 (rounded to 6 places for display)
    per_variant: Decimal  # total / variants, 4 places
    total: Decimal  # 4 places, half-up
    currency: str = CURRENCY

    @property
    def display(self) -> str:
        """`"$1.35"`: the total rounded half-up to cents."""
        return f"${self.total.quantize(CENTS, rounding=ROUND_HALF_UP)}"

    def describe(self) -> str:
        """One line showing the formula with its numbers, for CLI `cost` and the web form."""
        factor = (
            f" × {self.pixel_factor.normalize()} (pixels vs 720p)" if self.pixel_factor is not None else ""
        )
        return (
            f"{self.model_id} {self.size}: ${_rate(self.rate_per_second)}/s × {self.seconds} s × "
            f"{self.variants} variant{'s' if self.variants != 1 else ''}{factor} = {self.display}"
        )


def _rate(rate: Decimal) -> Decimal:
    """At least cents ("0.4" → "0.40"), more places only when the rate has them ("0.00005")."""
    return rate.quantize(CENTS) if rate == rate.quantize(CENTS) else rate.normalize()


def estimate(request: VideoRequest | ValidatedRequest, entry: ModelEntry | None = None) -> Estimate:
    """Estimate what `request` will cost on `entry` (taken from a ValidatedRequest when omitted).

    Size and seconds left unset fall back to the entry's defaults, so an unvalidated request can be
    priced too; the estimate does not check capabilities — `validate_request` does.
    """
    if isinstance(request, ValidatedRequest):
        entry = entry or request.entry
        request = request.request
    if entry is None:
        raise TypeError("estimate() needs a catalog entry unless given a ValidatedRequest")
    size = request.size or entry.default_size
    seconds = request.seconds if request.seconds is not None else entry.default_seconds
    return price(entry, size=size, seconds=seconds, variants=request.variants)


def price(entry: ModelEntry, *, size: str, seconds: int, variants: int = 1) -> Estimate:
    """The cost of `variants` videos of `seconds` at `size` on `entry`."""
    width, height = parse_size(size)
    size = f"{width}x{height}"
    rule = entry.price
    rate = rule.rate(size)
    amount = rate * seconds * variants
    factor: Decimal | None = None
    if rule.scale_by_pixels:
        amount = amount * width * height / rule.reference_pixels
        factor = (Decimal(width * height) / rule.reference_pixels).quantize(Decimal("0.000001"))
    total = amount.quantize(TOTAL_PLACES, rounding=ROUND_HALF_UP)
    return Estimate(
        model_id=entry.id,
        size=size,
        seconds=seconds,
        variants=variants,
        rate_per_second=rate,
        pixel_factor=factor,
        per_variant=(amount / variants).quantize(TOTAL_PLACES, rounding=ROUND_HALF_UP),
        total=total,
    )
