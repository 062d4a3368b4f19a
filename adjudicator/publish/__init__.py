"""OUT's lifecycle: what a run may replace, its temporary folders and locks, the inputs watched while read,
checksums, the manifest, and the atomic publish."""
