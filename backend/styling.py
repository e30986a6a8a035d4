"""How a class raster shows its classes: GDAL colour table and category names, QGIS ``.qml`` style.

The classified GeoTIFF carries its colour table inside the file (every GIS reads it); GDAL keeps category
names of a GeoTIFF in the PAM sidecar ``<file>.aux.xml`` (the TIFF format has no place for them), which
GDAL, QGIS and ArcGIS read; and the ``<file>.qml`` sidecar is the QGIS style that QGIS applies on its own
when the raster is added, a paletted renderer with the class names as labels. The backend never imports
qgis, so the QML is written here as the XML that QGIS 3 itself writes for a paletted renderer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

from .classes import IGNORE_INDEX, ClassInfo

QGIS_VERSION = "3.22.16-Białowieża"
"""The QGIS version stamped into the XML (the oldest QGIS the plugin supports reads it)."""


def colour_table(classes: Sequence[ClassInfo]) -> dict[int, tuple[int, int, int, int]]:
    """Colour map for ``rasterio``'s ``write_colormap``: each class's colour, nodata transparent."""
    table = {info.index: (*info.colour, 255) for info in classes}
    table[IGNORE_INDEX] = (0, 0, 0, 0)
    return table


def hex_colour(colour: tuple[int, int, int]) -> str:
    """``(r, g, b)`` as ``#rrggbb``."""
    return "#{:02x}{:02x}{:02x}".format(*colour)


def pam_xml(classes: Sequence[ClassInfo], band_description: str = "land-cover class") -> str:
    """The GDAL PAM sidecar (``.aux.xml``) naming each class value of band 1.

    GDAL lists category names by value from 0; values without a class (up to the nodata 255) get no name.
    """
    root = ET.Element("PAMDataset")
    band = ET.SubElement(root, "PAMRasterBand", band="1")
    ET.SubElement(band, "Description").text = band_description
    names = ET.SubElement(band, "CategoryNames")
    for info in sorted(classes, key=lambda item: item.index):
        ET.SubElement(names, "Category").text = info.name
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def paletted_renderer(classes: Sequence[ClassInfo], band: int = 1) -> ET.Element:
    """A QGIS ``<rasterrenderer type="paletted">`` element: one palette entry per class, labelled."""
    renderer = ET.Element(
        "rasterrenderer", type="paletted", band=str(band), opacity="1", alphaBand="-1", nodataColor=""
    )
    ET.SubElement(renderer, "rasterTransparency")
    origin = ET.SubElement(renderer, "minMaxOrigin")
    for tag, text in (
        ("limits", "None"),
        ("extent", "WholeRaster"),
        ("statAccuracy", "Estimated"),
        ("cumulativeCutLower", "0.02"),
        ("cumulativeCutUpper", "0.98"),
        ("stdDevFactor", "2"),
    ):
        ET.SubElement(origin, tag).text = text
    palette = ET.SubElement(renderer, "colorPalette")
    for info in sorted(classes, key=lambda item: item.index):
        ET.SubElement(
            palette,
            "paletteEntry",
            value=str(info.index),
            color=hex_colour(info.colour),
            alpha="255",
            label=info.name,
        )
    return renderer


def raster_pipe(renderer: ET.Element, resampling: str = "nearestNeighbour") -> ET.Element:
    """A QGIS raster ``<pipe>`` around ``renderer`` (class maps must not be resampled smoothly)."""
    pipe = ET.Element("pipe")
    provider = ET.SubElement(pipe, "provider")
    ET.SubElement(
        provider,
        "resampling",
        enabled="false",
        zoomedInResamplingMethod=resampling,
        zoomedOutResamplingMethod=resampling,
        maxOversampling="2",
    )
    pipe.append(renderer)
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(
        pipe,
        "huesaturation",
        saturation="0",
        grayscaleMode="0",
        invertColors="0",
        colorizeOn="0",
        colorizeRed="255",
        colorizeGreen="128",
        colorizeBlue="128",
        colorizeStrength="100",
    )
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(pipe, "resamplingStage").text = "resamplingFilter"
    return pipe


def qml_text(classes: Sequence[ClassInfo]) -> str:
    """A QGIS layer style (``.qml``) for a class raster: paletted renderer with the class names."""
    root = ET.Element(
        "qgis",
        version=QGIS_VERSION,
        styleCategories="AllStyleCategories",
        hasScaleBasedVisibilityFlag="0",
        minScale="1e+08",
        maxScale="0",
    )
    flags = ET.SubElement(root, "flags")
    for tag, text in (("Identifiable", "1"), ("Removable", "1"), ("Searchable", "1")):
        ET.SubElement(flags, tag).text = text
    root.append(raster_pipe(paletted_renderer(classes)))
    ET.SubElement(root, "blendMode").text = "0"
    ET.indent(root)
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, "unicode") + "\n"
    )


def write_qml(path: str | Path, classes: Sequence[ClassInfo]) -> Path:
    """Write :func:`qml_text` to ``path`` and return it."""
    path = Path(path)
    path.write_text(qml_text(classes), encoding="utf-8")
    return path


def sidecar_paths(raster: str | Path) -> tuple[Path, Path]:
    """``(<raster>.aux.xml, <raster stem>.qml)``: where GDAL and QGIS look for a raster's sidecars."""
    raster = Path(raster)
    return raster.with_name(raster.name + ".aux.xml"), raster.with_suffix(".qml")
