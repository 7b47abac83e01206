"""Draw the demo's product pictures into static/img/products/<sku>.png (small, generated, committed)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from .seed_demo import PRODUCTS

FONT_CANDIDATES = ["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"]
CATEGORY_COLOURS = {
    "apparel": (196, 69, 54), "shoes": (142, 68, 173), "accessories": (211, 84, 0), "underwear": (192, 57, 120),
    "custom_made": (39, 122, 97), "electronics": (41, 98, 155), "virtual": (90, 90, 110), "periodical": (120, 96, 60),
    "fresh": (46, 139, 87), "snacks": (176, 118, 23), "kitchen": (96, 110, 120),
}
SIZE = 128


def image_path(sku: str) -> str:
    return f"img/products/{sku.lower()}.png"


def draw(name: str, category: str, sku: str) -> Any:
    from PIL import Image, ImageDraw, ImageFont

    base = CATEGORY_COLOURS.get(category, (110, 110, 120))
    shade = int(hashlib.sha1(sku.encode()).hexdigest()[:2], 16) % 40 - 20
    colour = tuple(max(0, min(255, c + shade)) for c in base)
    image = Image.new("RGB", (SIZE, SIZE), (246, 246, 248))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((8, 8, SIZE - 8, SIZE - 8), radius=22, fill=colour)
    pen.ellipse((SIZE - 52, 14, SIZE - 18, 48), fill=tuple(min(255, c + 60) for c in colour))
    glyph = next((ch for ch in name if not ch.isspace() and not ch.isdigit()), name[:1])
    font = None
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            font = ImageFont.truetype(candidate, 64)
            break
    if font is not None:
        pen.text((SIZE / 2, SIZE / 2 + 4), glyph, fill=(255, 255, 255), font=font, anchor="mm")
    return image.quantize(colors=32)


class Command(BaseCommand):
    help = "Generate the demo products' pictures (static/img/products/)."

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(settings.BASE_DIR) / "static"
        (target / "img" / "products").mkdir(parents=True, exist_ok=True)
        for sku, _shop, name, category, *_rest in PRODUCTS:
            draw(name, category, sku).save(target / image_path(sku), optimize=True)
        self.stdout.write(f"{len(PRODUCTS)} pictures in {target / 'img' / 'products'}")
