from lrtui.cli.commands import main

raise SystemExit(main())
