"""How a class raster shows its classes: GDAL colour table and category names, QGIS styles and projects.

The classified GeoTIFF carries its colour table inside the file (every GIS reads it); GDAL keeps category
names of a GeoTIFF in the PAM sidecar ``<file>.aux.xml`` (the TIFF format has no place for them), which
GDAL, QGIS and ArcGIS read; and the ``<file>.qml`` sidecar is the QGIS style that QGIS applies on its own
when the raster is added, a paletted renderer with the class names as labels. The backend never imports
qgis, so the QML is written here as the XML that QGIS 3 itself writes for a paletted renderer, and so is
the demo's QGIS project (``.qgz``: a zipped ``.qgs``) with styled raster layers and relative paths.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
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


CLASS_BAND_DESCRIPTION = "land-cover class"
"""The class raster's band description unless the caller gives its own (a translation)."""


def pam_xml(classes: Sequence[ClassInfo], band_description: str = CLASS_BAND_DESCRIPTION) -> str:
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


def multiband_renderer(bands: tuple[int, int, int] = (1, 2, 3)) -> ET.Element:
    """A QGIS RGB renderer showing 8-bit bands as they are (no stretch)."""
    red, green, blue = (str(band) for band in bands)
    renderer = ET.Element(
        "rasterrenderer",
        type="multibandcolor",
        redBand=red,
        greenBand=green,
        blueBand=blue,
        opacity="1",
        alphaBand="-1",
        nodataColor="",
    )
    ET.SubElement(renderer, "rasterTransparency")
    for colour in ("red", "green", "blue"):
        enhancement = ET.SubElement(renderer, f"{colour}ContrastEnhancement")
        ET.SubElement(enhancement, "minValue").text = "0"
        ET.SubElement(enhancement, "maxValue").text = "255"
        ET.SubElement(enhancement, "algorithm").text = "NoEnhancement"
    return renderer


def gray_renderer(minimum: float, maximum: float) -> ET.Element:
    """A QGIS single-band grey renderer stretched between ``minimum`` and ``maximum`` (e.g. a DSM)."""
    renderer = ET.Element(
        "rasterrenderer",
        type="singlebandgray",
        grayBand="1",
        gradient="BlackToWhite",
        opacity="1",
        alphaBand="-1",
        nodataColor="",
    )
    ET.SubElement(renderer, "rasterTransparency")
    enhancement = ET.SubElement(renderer, "contrastEnhancement")
    ET.SubElement(enhancement, "minValue").text = repr(float(minimum))
    ET.SubElement(enhancement, "maxValue").text = repr(float(maximum))
    ET.SubElement(enhancement, "algorithm").text = "StretchToMinimumMaximum"
    return renderer


@dataclass(frozen=True)
class ProjectLayer:
    """One raster layer of a QGIS project.

    Attributes:
        name: Name shown in the layers panel.
        source: Path of the raster relative to the project file.
        renderer: Its ``<rasterrenderer>`` (see the ``*_renderer`` functions).
        visible: Whether the layer starts switched on.
    """

    name: str
    source: str
    renderer: ET.Element
    visible: bool = True


def qgis_layer_id(layer: ProjectLayer) -> str:
    """A layer id of the form QGIS gives (``QgsMapLayer::generateId``: name, ``_``, a UUID with every
    non-word character as ``_``), derived from the name and source so the file is reproducible."""
    key = uuid.uuid5(uuid.NAMESPACE_URL, f"{layer.name}|{layer.source}")
    return re.sub(r"\W", "_", f"{layer.name}_{key}")


def _spatial_ref(parent: ET.Element, wkt: str, authid: str) -> None:
    srs = ET.SubElement(parent, "spatialrefsys")
    ET.SubElement(srs, "wkt").text = wkt
    ET.SubElement(srs, "authid").text = authid


def _extent(parent: ET.Element, tag: str, bounds: Sequence[float]) -> None:
    extent = ET.SubElement(parent, tag)
    for key, value in zip(("xmin", "ymin", "xmax", "ymax"), bounds, strict=True):
        ET.SubElement(extent, key).text = repr(float(value))


def qgis_project_xml(
    layers: Sequence[ProjectLayer], crs_wkt: str, authid: str, bounds: Sequence[float], title: str = ""
) -> str:
    """A QGIS 3 project (``.qgs``) with raster layers, top of ``layers`` drawn on top, relative paths.

    Args:
        layers: The layers, first on top.
        crs_wkt: WKT of the project CRS (the layers' CRS).
        authid: Its authority id, e.g. ``"EPSG:32632"``.
        bounds: ``(xmin, ymin, xmax, ymax)`` the map opens on.
        title: Project title.
    """
    root = ET.Element("qgis", version=QGIS_VERSION, projectname=title)
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    _spatial_ref(ET.SubElement(root, "projectCrs"), crs_wkt, authid)
    ids = [qgis_layer_id(layer) for layer in layers]
    tree = ET.SubElement(root, "layer-tree-group")
    for layer, layer_id in zip(layers, ids, strict=True):
        ET.SubElement(
            tree,
            "layer-tree-layer",
            id=layer_id,
            name=layer.name,
            source=layer.source,
            providerKey="gdal",
            checked="Qt::Checked" if layer.visible else "Qt::Unchecked",
            expanded="1",
        )
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    ET.SubElement(canvas, "units").text = "meters"
    _extent(canvas, "extent", bounds)
    _spatial_ref(ET.SubElement(canvas, "destinationsrs"), crs_wkt, authid)
    project_layers = ET.SubElement(root, "projectlayers")
    for layer, layer_id in zip(layers, ids, strict=True):
        element = ET.SubElement(
            project_layers,
            "maplayer",
            type="raster",
            styleCategories="AllStyleCategories",
            hasScaleBasedVisibilityFlag="0",
            minScale="1e+08",
            maxScale="0",
        )
        _extent(element, "extent", bounds)
        ET.SubElement(element, "id").text = layer_id
        ET.SubElement(element, "datasource").text = layer.source
        ET.SubElement(element, "layername").text = layer.name
        _spatial_ref(ET.SubElement(element, "srs"), crs_wkt, authid)
        ET.SubElement(element, "provider").text = "gdal"
        element.append(raster_pipe(layer.renderer))
        ET.SubElement(element, "blendMode").text = "0"
    order = ET.SubElement(root, "layerorder")
    for layer_id in ids:
        ET.SubElement(order, "layer", id=layer_id)
    properties = ET.SubElement(root, "properties")
    paths = ET.SubElement(properties, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    # QGIS reads <projectCrs> only when the project says it uses a CRS (3.22 and earlier).
    spatial = ET.SubElement(properties, "SpatialRefSys")
    ET.SubElement(spatial, "ProjectionsEnabled", type="int").text = "1"
    ET.indent(root)
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, "unicode") + "\n"
    )


def write_qgz(
    path: str | Path,
    layers: Sequence[ProjectLayer],
    crs_wkt: str,
    authid: str,
    bounds: Sequence[float],
    title: str = "",
) -> Path:
    """Write a zipped QGIS project (``.qgz``: the ``.qgs`` inside a zip) next to its layers."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(path.stem + ".qgs", qgis_project_xml(layers, crs_wkt, authid, bounds, title))
    return path
