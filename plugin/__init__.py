"""The QGIS side of GeoFuse: thin glue over the backend. Imports qgis; Qt only through qgis.PyQt."""
