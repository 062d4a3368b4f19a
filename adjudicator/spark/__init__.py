"""The Spark engine: the package's own readers, prepass functions and batch function, run inside Spark tasks
(needs the 'spark' extra; imported only when a run asks for it)."""
