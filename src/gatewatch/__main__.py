import sys

from gatewatch.cli import main

sys.exit(main())
