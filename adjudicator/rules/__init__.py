"""The rule tables (contract section 3) and the rules compiled once per run into what a batch needs.

Modules: ``schemas`` (each table's file name, vocabularies and pandera schema), ``tables`` (loading and the
load-time checks: ``load_rules``, ``RuleSet``), ``payer_aliases`` (the payer-alias table), ``check`` (the helper
process that runs the pandera schemas beside a run), ``tiles`` (the policy and plan tiles and their date lookup),
``decision`` (the decision table) and ``compiled`` (``compile_rules``, ``CompiledRules``: the verdict rows).
"""
