"""riskmon alerts: rules, the alert lifecycle, the durable store and the notifiers.

The flow follows Alertmanager's seams, one module per step:

- ``rules/``: the rule file schema (``spec``), YAML positions for error messages (``positions``),
  the loader (``load_ruleset(name_or_path)``) and the runtime model;
- ``evaluator``: signals in, :class:`~alerts.model.AlertNotice` state changes out (pure);
- ``model``: the one alert shape and the :class:`~alerts.model.Notification` sent to receivers;
- ``dispatch``: store each change, group it per route (``route``), mute (``mute``: silences and
  inhibition as stages) and enqueue notifications in the outbox (``store``);
- ``deliver``: drain each receiver's outbox through its notifier (``notify/``), with retries;
- ``service``: builds all of it from ``settings`` and owns its tasks.
"""

from __future__ import annotations

__all__: list[str] = []
