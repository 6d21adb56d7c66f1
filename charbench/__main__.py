from charbench.cli.main import main

raise SystemExit(main())
