"""Datasets: ISPRS Vaihingen/Potsdam, a generic folder of GeoTIFFs, training polygons, the synthetic scene
generator, and the dispatch from a dataset kind to its tiles (:mod:`~geofuse.backend.data.kinds`)."""
