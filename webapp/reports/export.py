"""A report's tables as CSV (one table; UTF-8 with a BOM so Excel reads the Chinese) and as an Excel
workbook (openpyxl; a sheet per table). Both write the cells the page shows: numbers stay numbers
in Excel, text is guarded against formula injection in both."""
import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from ..history import csv_cell
from .tables import Table


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, (int, Decimal)):
        return str(value)
    return csv_cell(value)


CHUNK_ROWS = 500


def csv_chunks(table: Table):
    """The CSV in pieces of CHUNK_ROWS rows, for a streamed response: a table's rows may be an
    iterator over the database (every car of a month), never all held at once."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow([csv_cell(c) for c in table.columns])
    for i, row in enumerate(table.rows, start=1):
        w.writerow([_csv_value(v) for v in row])
        if i % CHUNK_ROWS == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def csv_text(table: Table) -> str:
    return "".join(csv_chunks(table))


def _xlsx_value(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        return csv_cell(value)
    return value


def xlsx_bytes(tables: list[Table], title_row: str) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.key[:31])
        sheet.append([title_row])
        sheet.append([csv_cell(c) for c in table.columns])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        first = []                   # the rows that size the columns (rows may be an iterator)
        for row in table.rows:
            if len(first) < 200:
                first.append(row)
            sheet.append([_xlsx_value(v) for v in row])
        for i, column in enumerate(table.columns, start=1):
            width = max([len(str(column))] + [len(str(r[i - 1] or "")) for r in first]) + 4
            sheet.column_dimensions[sheet.cell(row=2, column=i).column_letter].width = min(width * 1.3, 60)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
