"""Cells and CSV text, the one way every table of the package reads and writes them (results.csv,
the plots' data, the studies' tables), so that the same value is the same text everywhere."""
import csv
import io

from .common import UserError


def number(text):
    """int or float of a cell's text, None when it is not a number (true, a name, empty)."""
    if text is None or text == "" or text in ("true", "false"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None


def fmt(value):
    """A cell's text: empty for None, Python's repr of a float (the shortest that reads back
    exactly), str of anything else."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_text(header, rows):
    """CSV text with '\\n' line ends (byte-identical on every platform)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue()


def dict_rows_text(header, rows):
    """CSV text of dict rows, the cells of `header` in its order (fmt: None is empty)."""
    return csv_text(header, [[fmt(r.get(k)) for k in header] for r in rows])


def read_dicts(path, hint=""):
    """(header, rows as dicts) of a CSV file; a file that cannot be read is a UserError naming
    it (and `hint`: what to do about it)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            return reader.fieldnames or [], rows
    except OSError as e:
        raise UserError(f"{path}: {e.strerror}{hint}")
