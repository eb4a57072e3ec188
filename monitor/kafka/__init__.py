"""Kafka scale-out: feeds produce, faust workers run the processors, one alerter delivers.

See ``docs/scale-out.md``. Modules: :mod:`.settings` (the ``bus: {kind: kafka}`` section),
:mod:`.codec` (record schemas), :mod:`.topics`, :mod:`.publisher` (events producer),
:mod:`.feeds` (``riskmon run`` feeds-only), :mod:`.partition` (per-partition processors, pure),
:mod:`.worker_runtime` and :mod:`.worker` (``riskmon worker``; the only faust module),
:mod:`.alerter_core` (pure) and :mod:`.alerter` (``riskmon alerter``), :mod:`.replay`,
:mod:`.cli`, and :mod:`.local_broker` (Tansu, for tests and benchmarks).
"""
