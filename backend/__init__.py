"""GeoFuse's PyTorch backend: models, data, training, inference. Never imports qgis."""
