//! print plugin: csv, json, formatted, to stdout or a file.
