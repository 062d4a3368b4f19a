"""The pure engine: no files, no threads, no writers (``adjudicator.embedded`` and ``adjudicator.spark`` run it).

Modules: ``checks`` (the row checks), ``facts`` (the batch-wide facts a verdict needs: ``BatchFacts``,
``Supersede``), ``edits`` (the edit rules), ``batch`` (the batch function, ``adjudicate_batch``), ``summary`` (the
summary's partial tables), ``totals`` (the run's totals added up batch by batch) and ``schemas`` (the outputs'
contract as pandera schemas, for the tests).
"""
