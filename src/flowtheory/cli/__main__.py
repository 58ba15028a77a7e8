import sys

from flowtheory.cli import main

sys.exit(main())
