"""The root of every error the shared modules raise, so a caller can catch them in one place.

Each error stays in the module that raises it (and keeps its name, which other code catches);
this module only gives them a common ancestor. The messages are one line for a person and say
what to fix.
"""


class DigitalDockError(Exception):
    """Something the shared modules (`digitaldock.*`) refused or could not do.

    - `digitaldock.money.MoneyError` (also a ValueError): an amount or a currency does not
      parse (not a decimal string, negative, too many decimal places, unknown currency), or
      two currencies are mixed in one comparison or sum.
    - `digitaldock.frontmatter.FrontMatterError` (also a ValueError): a file does not start
      with front matter, its YAML does not parse, or it is not a mapping; carries the line.
    - `digitaldock.schema.ContentError`: the content tree does not load (a strict
      `load_catalog`, or an image the build cannot open); carries every problem found, each
      with its file, line and field.
    - `digitaldock.tree.Unreadable`: a content file is not read as content: a symbolic link,
      a folder, a device or pipe, over its size limit, or not UTF-8 (the line is carried).
    - `digitaldock.images.ImageRefused` (also a ValueError): a file is not a usable content
      image: not PNG, JPEG, GIF or WebP (SVG is refused), misnamed, too big, too many pixels,
      broken, or not a regular file.
    - `digitaldock.storage.StorageError`: a storage operation failed: an invalid key, no
      bucket or no credentials, an endpoint that cannot be reached, access denied, a local
      file that cannot be read or written, an unknown STORAGE_BACKEND.
    - `digitaldock.storage.NotFound` (a StorageError): the key is not in the storage.
    - `digitaldock.storage.NotRegular` (a StorageError): local storage holds a symbolic link,
      a device or a pipe at (or on the way to) the key; it is refused, never followed.
    - `digitaldock.published.PublishedError` (also a ValueError): a catalog.json entry does not
      have the published shape; the message names the field.
    - `digitaldock.stats.StatsError` (also a ValueError): the edge's exported stats file
      (ratings, popularity) does not have the shape `dump_stats` writes; the message names
      the place.
    - `digitaldock.taxrates.TaxRatesError` (also a ValueError): `content/tax_rates.yml` is
      not the expected mapping of country codes to names and whole basis points; the message
      names the field (and the line, for YAML that does not parse).
    """
