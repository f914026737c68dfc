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


def csv_text(table: Table) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow([csv_cell(c) for c in table.columns])
    for row in table.rows:
        w.writerow([_csv_value(v) for v in row])
    return buf.getvalue()


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
        for row in table.rows:
            sheet.append([_xlsx_value(v) for v in row])
        for i, column in enumerate(table.columns, start=1):
            width = max([len(str(column))] + [len(str(r[i - 1] or "")) for r in table.rows[:200]]) + 4
            sheet.column_dimensions[sheet.cell(row=2, column=i).column_letter].width = min(width * 1.3, 60)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
