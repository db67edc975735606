"""Sphinx extension: drop repeated scripts from each page.

Under Jupyter Book 1, sphinx-thebe's and sphinx-togglebutton's inline settings are registered twice (at two
priorities), so every page declared ``const THEBE_JS_URL`` twice and the browser threw
"Identifier 'THEBE_JS_URL' has already been declared". A script is the same when its file and its
attributes (inline body included) are; the first one is kept.
"""


def _unique_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items()))
        key = (getattr(script, "filename", str(script)) or "", attributes)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
