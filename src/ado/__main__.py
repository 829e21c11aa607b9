import sys

from ado.startup import main

sys.exit(main())
