"""The builder calls a spec becomes: settings, the calls as data, and their Python and command-line
renderings."""
