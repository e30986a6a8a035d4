"""The ``geofuse`` sub-commands, one module each (see ``geofuse.backend.cli``)."""
