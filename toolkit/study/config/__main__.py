"""`python -m toolkit.study.config > docs/config.md`: write the key reference."""
import sys

from .docs import config_reference_markdown

sys.stdout.write(config_reference_markdown())
