"""riskmon's Grafana folder as code: dashboards (``dashboards``, built in ``markets`` and
``operations`` from ``panels``), offline validation (``validate``)
and the layout picture (``layout``). Provisioning files live in ``grafana/provisioning/``."""
