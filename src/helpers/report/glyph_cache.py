"""An Agg renderer that lays out each text and renders each glyph once per process, not once per chart.

Matplotlib's Agg renderer shapes every string (FreeType and HarfBuzz, `FT2Font._layout`) and renders every
glyph (`FT2Font._render_glyph`) each time it draws a text: a worker draws the same tick labels, titles and
legend entries on every LEA's charts, and that was about a third of drawing a chart. `CachedTextRenderer` keeps
both, keyed by everything they depend on, and draws the same pixels (tests/test_report.py compares them with
Matplotlib's own renderer):

- a layout depends on the string, the font properties, the dpi, the hinting flag and the text's font
  features and language;
- a glyph's bitmap depends on the font file, size, dpi, glyph, the rotation matrix, the hinting flag,
  antialiasing and the glyph origin's position within a pixel (1/64 px, FreeType's 26.6 fixed point): moving
  the origin by whole pixels moves the bitmap by the same pixels and changes none of them.

The renderer also answers `Text._get_layout`'s question for a font's line metrics (ascent, descent and line
gap from its OS/2 or hhea table, scaled to the size and dpi), which Matplotlib otherwise reads from the font file's
tables each time it measures or draws a text; they depend on the font properties and the dpi.

Layouts are kept per thread (they hold the thread's own font objects), bitmaps and line metrics per process.
This follows `RendererAgg.draw_text`, `_draw_text_glyphs_and_boxes` and `Text._get_layout` of the pinned
Matplotlib (3.11), whose private font API it calls; mathtext and anything else goes to Matplotlib's own code.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.font_manager import fontManager, get_font
from matplotlib.ft2font import RenderMode

MAX_ENTRIES = 50_000  # layouts (a thread's) or glyph bitmaps kept (about 10 MB); then that cache starts again
# Layouts hold Matplotlib's font objects, which are per thread (matplotlib.font_manager.get_font); bitmaps are
# only read once made
_THREAD = threading.local()
_GLYPHS: dict[tuple, tuple[np.ndarray, int, int]] = {}
_METRICS: dict[tuple, tuple] = {}  # (font properties, dpi) → (min ascent, min descent, line gap) in pixels


def _layouts() -> dict[tuple, list[tuple]]:
    return _THREAD.__dict__.setdefault("layouts", {})


def clear() -> None:
    """Forget every glyph bitmap and this thread's layouts."""
    _GLYPHS.clear()
    _METRICS.clear()
    _layouts().clear()


def sizes() -> tuple[int, int]:
    """(this thread's layouts, glyph bitmaps) kept."""
    return len(_layouts()), len(_GLYPHS)


class CachedTextRenderer(RendererAgg):
    """`RendererAgg` with layouts and glyph bitmaps kept across figures (module docstring)."""

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        flags = get_hinting_flag()
        key = (s, prop, self.dpi, flags, None if features is None else tuple(features), language)
        layouts = _layouts()
        items = layouts.get(key)
        if items is None:
            font = self._prepare_font(prop)
            items = [(i.ft_object, i.glyph_index, i.x, i.y)
                     for i in font._layout(s, flags=flags, features=features, language=language)]
            _keep(layouts, (s, prop.copy(), *key[2:]), items)  # a copy: a text may change its properties later
        size = prop.get_size_in_points()
        self._draw_glyphs(gc, x, y, angle, flags, [(font, size, glyph, dx, dy) for font, glyph, dx, dy in items])

    def _get_font_height_metrics(self, prop) -> tuple:
        """The font's line metrics as `Text._get_layout` reads them when a renderer has no such method."""
        key = (prop, self.dpi)
        metrics = _METRICS.get(key)
        if metrics is None:
            metrics = _height_metrics(prop, self.dpi)
            _keep(_METRICS, (prop.copy(), self.dpi), metrics)
        return metrics

    def _draw_glyphs(self, gc, x, y, angle, flags, glyphs) -> None:
        """`_draw_text_glyphs_and_boxes` without boxes (a plain text has none), each bitmap from the cache."""
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
        rotation = tuple(matrix.ravel().tolist())
        antialiased = bool(gc.get_antialiased())
        for font, size, glyph, dx, dy in glyphs:  # dy is upwards, as FreeType's y
            (px, fx), (py, fy) = (divmod(round(0x40 * v), 0x40) for v in (
                x + dx * cos - dy * sin, self.height - y + dx * sin + dy * cos))
            key = (font.fname, size, self.dpi, glyph, rotation, fx, fy, flags, antialiased)
            cached = _GLYPHS.get(key)
            if cached is None:
                cached = _render(font, size, self.dpi, glyph, matrix, fx, fy, flags, antialiased)
                _keep(_GLYPHS, key, cached)
            bitmap, left, top = cached
            # draw_text_image's y is downwards and the bitmap's bottom side
            self._renderer.draw_text_image(bitmap, left + px, int(self.height) - (top + py) + bitmap.shape[0], 0, gc)


def _height_metrics(prop, dpi: float) -> tuple:
    """(min ascent, min descent, line gap) from the first font's OS/2 or hhea table, in Matplotlib's own
    arithmetic (the same floats); (None, None, None) lets Matplotlib measure "lp" instead."""
    font = get_font(fontManager._find_fonts_by_props(prop))
    for table_name, gap_key, ascent_key, descent_key in (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                                                         ("hhea", "lineGap", "ascent", "descent")):
        table = font.get_sfnt_table(table_name)
        if table is None:
            continue
        scale = 1 / font.get_sfnt_table("head")["unitsPerEm"] * prop.get_size_in_points() * dpi / 72
        return table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale
    return None, None, None


def _render(font, size: float, dpi: float, glyph: int, matrix: np.ndarray, fx: int, fy: int, flags,
            antialiased: bool) -> tuple[np.ndarray, int, int]:
    """The glyph's bitmap with its origin at (fx, fy)/64 px, and its left and top pixel."""
    font.set_size(size, dpi)
    font._set_transform(matrix, [fx, fy])
    bitmap = font._render_glyph(glyph, flags, RenderMode.NORMAL if antialiased else RenderMode.MONO)
    pixels = np.array(bitmap.buffer, copy=True)
    if not antialiased:
        pixels *= 0xff
    return pixels, bitmap.left, bitmap.top


def _keep(cache: dict, key: tuple, value) -> None:
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    cache[key] = value
