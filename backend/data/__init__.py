"""Datasets: ISPRS Vaihingen/Potsdam, a generic folder of GeoTIFFs, and the synthetic scene generator."""
