"""GeoFuse's Processing algorithms; each runs its work in the GeoFuse worker process."""
