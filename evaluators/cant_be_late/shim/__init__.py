"""Files shipped into the sandbox beside a candidate (see README.md); never imported here.

A package only so that installs carry these files.
"""
