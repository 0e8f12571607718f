import sys

from voxbook.cli import main

sys.exit(main())
