"""The usage dashboard's static page, script and styles."""
