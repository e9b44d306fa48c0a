"""``python -m srcgrad show package.module:function``."""

from .cli import main

raise SystemExit(main())
