"""OUT's lifecycle: what a run may replace, its temporary folders and locks, the inputs watched while read,
checksums, the manifest, and the atomic publish.

Modules: ``guards`` (the checks on OUT before a run starts), ``folders`` (scratch and staging folders, stale
ones removed, the publish), ``locks`` (folder locks), ``disk`` (OUT's filesystem and a full disk), ``watch``
(the inputs watched while read), ``hashing`` (the inputs' checksums), ``manifest`` (OUT's file names, the run
id, the manifest), ``gates`` (the data-quality warnings and gates read from a run's counts).
"""
