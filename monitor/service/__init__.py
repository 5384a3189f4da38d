"""`recovery-monitor serve`: the long-running monitor.

- `analysis`: the one switch to the analytics (IDN recommendation per athlete and day);
- `episodes`: recommendation days and acknowledged alerts as stored in the store (`daily`, `alert`);
- `monitor`: one cycle (analysis → alerts → Grafana annotations), the polling loop and the health status;
- `health`: the `/healthz` HTTP endpoint (stdlib server in a thread).
"""
