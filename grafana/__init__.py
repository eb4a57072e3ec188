"""riskmon's Grafana folder as code: dashboards (``dashboards``), offline validation (``validate``)
and the layout picture (``layout``). Provisioning files live in ``grafana/provisioning/``."""
