"""`python -m monitor` runs the recovery-monitor command line."""

from monitor.cli.main import main

raise SystemExit(main())
