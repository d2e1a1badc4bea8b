"""The few HTML pages the device writes itself (the login page, the Wi-Fi setup page).

    from camdot.html import escape, page
    page('porch - log in', '<h1>%s</h1>' % escape(name))   # a whole page; the title is escaped

The device page (camdot/www/) is a file; these are the pages made on the fly from a template.
"""

_PAGE = ('<!doctype html><html lang="en"><head><meta charset="utf-8">\n'
         '<meta name="viewport" content="width=device-width, initial-scale=1"><title>%s</title>'
         '%s</head>\n<body>%s</body></html>\n')


def escape(text):
    """`text` with &, <, > and " as entities: safe between tags and in a "quoted" attribute."""
    return (text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
            .replace('"', '&quot;'))


def page(title, body, style=''):
    """A whole page: `title` (plain text: escaped here), `body` (HTML, as given), and an
    optional style sheet (CSS)."""
    return _PAGE % (escape(title), '<style>%s</style>' % style if style else '', body)
