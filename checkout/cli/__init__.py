"""The `digitaldock` command: thin click commands over library functions (`main.py` is the group)."""
