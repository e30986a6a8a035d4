"""The GeoFuse dock: the panel (:mod:`.widget`) and the parts it is built from.

:mod:`.bands` maps the optical layer's bands to the model's, :mod:`.card` reads a model's card without torch,
:mod:`.chart` draws the class areas, :mod:`.improve` fine-tunes on the user's polygons, :mod:`.path` shows a
long path elided, :mod:`.runtime_panel` is the runtime line and :mod:`.task` runs a Processing algorithm
in the background for them.
"""
