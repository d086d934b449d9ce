"""Datasets: readers for the real benchmark formats, Wald-protocol simulation, embedded defaults.

Importing this package is cheap on purpose (no h5py, scipy, torch): the plugin module
:mod:`fusionbench.components.datasets` lives here and is imported by ``fusionbench plugins list``.
Readers are imported only when a dataset's lazy factory is called.

Modules, one job each:

- :mod:`.paths` – where the data root is (``root`` argument > ``$FUSIONBENCH_DATA``).
- :mod:`.catalog` – the known real datasets: expected layout under the root, how to get them.
- :mod:`.synthetic_catalog` – the embedded ``synthetic-*`` datasets: sizes, seeds.
- :mod:`.cards` – data cards from the sensor table (:mod:`fusionbench.sensors`).
- :mod:`.locate`, :mod:`.located` – finding a catalog entry's files; "where I looked" messages.
- :mod:`.base` – the dataset base class (splits, items, random access, hashes, check).
- :mod:`.checks` – item validation, with messages naming file and problem.
- :mod:`.builders` – FusionItem construction per task (dtype, layout, missing ``lms``).
- :mod:`.hashing` – cheap content hashes of files and generator parameters.
- :mod:`.h5stack` – lazy N×C×H×W HDF5 stacks (shared by PanCollection and CAVE/Harvard).
- :mod:`.pancollection`, :mod:`.hsi`, :mod:`.pairs`, :mod:`.scenes` – the readers;
  :mod:`.matfiles` (.mat v5/v7.3), :mod:`.rasters` (GeoTIFF), :mod:`.images` (luminance + CbCr).
- :mod:`.simulate` – Wald protocol (MTF-matched degradation) for reduced-resolution pairs.
- :mod:`.synthetic` (+ :mod:`.synth_fields`, :mod:`.synth_spectral`, :mod:`.synth_pairs`) – generators.
- :mod:`.writers` – the same layouts written back (HDF5 stacks, .mat scenes, pair folders).
- :mod:`.plugin` – the registration hooks and the ``fusionbench datasets`` command.
"""
