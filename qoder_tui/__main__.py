from qoder_tui.cli import main

raise SystemExit(main())
