"""The command line: parsing, and all text formatting of use-case results."""
